/*
 * A source's poll interval: see interval.h.
 */
#include <math.h>

#include "interval.h"

void
interval_init(struct interval *iv, int minpoll)
{
	iv->poll = minpoll;
	iv->fit = 0;
}

static void
count_fit(struct interval *iv, int maxpoll)
{
	if (++iv->fit < INTERVAL_UP_AFTER)
		return;
	iv->fit = 0;
	if (iv->poll < maxpoll)
		iv->poll++;
}

static void
shorten(struct interval *iv, int minpoll)
{
	iv->fit = 0;
	if (iv->poll > minpoll)
		iv->poll--;
}

void
interval_sample(struct interval *iv, int minpoll, int maxpoll,
    double error, double noise)
{
	/* Nothing to compare: as a sample kept. */
	if (!isfinite(error) || !isfinite(noise) || !(noise > 0)) {
		count_fit(iv, maxpoll);
		return;
	}
	if (fabs(error) <= noise)
		count_fit(iv, maxpoll);
	else
		shorten(iv, minpoll);
}

void
interval_kept(struct interval *iv, int maxpoll)
{
	count_fit(iv, maxpoll);
}

void
interval_held(struct interval *iv)
{
	iv->fit = 0;
}

void
interval_miss(struct interval *iv, int minpoll)
{
	shorten(iv, minpoll);
}

void
interval_slow_down(struct interval *iv, int pollmax)
{
	iv->fit = 0;
	iv->poll += INTERVAL_KOD_STEP;
	if (iv->poll > pollmax)
		iv->poll = pollmax;
}
