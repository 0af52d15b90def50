/*
 * The per-source sample filter (RFC 5905, section 10 and A.5.2), with
 * no I/O.
 *
 * Stages.  The last FILTER_NSTAGES replies, newest first; a stage is a
 * real sample, or invalid (empty, or the dummy of a missed poll) and then
 * counts as MAXDISP dispersion and infinite delay.  The estimate is the
 * sample of least rank: its delay plus 2 * FILTER_AGING * its age.  On a
 * path with queueing, the reply that waited least is the one whose two
 * legs were most nearly equal, so its offset was the least wrong when it
 * was taken: by half its delay at most.  Since then the clock has moved
 * away from it, by up to AGING a second, which the rank counts in the
 * same (doubled) units.  RFC 5905's least delay alone kept a sample until
 * seven newer ones had pushed it out, and made a new sample news only
 * when its delay was the least of the eight: on a quiet path one poll in
 * eight reached the discipline, with an offset up to eight polls old (in
 * every scenario of make bench-sim the clock was the worse for it).  With
 * the rank, at the default poll of 64 s a sample must have had about 1 ms
 * less delay for each poll it is older to beat a newer one: on a LAN the
 * newest is news nearly every time, and the averaging is left to the
 * discipline, which fits a line through its last 24 updates; on a WAN the
 * worst of the queueing is still removed.  AGING is half of PHI: a clock
 * may drift at PHI when nobody disciplines it, far less when somebody
 * does, and regress/sim gives the same figures from 1 to 15 ppm.
 * test_filter.c's "lan_noise" measures the price at 16 s polls with
 * 100 us of queueing a leg: the error is 3/4 of the raw samples' (by
 * least delay: a quarter), for an update on 9 polls in 10 (by least
 * delay: 1 in 4).  Eight stages is the RFC's choice and ours.
 *
 * Dispersion.  Each sample's dispersion grows at PHI from the time it was
 * taken; the filter's is the sum of the stages' (sorted by rank, invalid
 * ones last) weighted 1/2, 1/4, ... 1/256, a missed poll's dummy at
 * MAXDISP.  So is a stage never filled while fewer than FILTER_GATE_MIN
 * samples are in (one or two samples say nothing of their jitter), but
 * not after: RFC 5905 counts every empty stage at MAXDISP, which takes
 * four samples to bring the root distance under 1.5 s and leaves nearly
 * a second of it after a burst of four, served to our clients while
 * they are what the clock rests on.  Three samples, two seconds apart in
 * a burst, are what chrony waits for too.  Jitter is the RMS of the
 * other samples' offsets about the chosen one, never below precision.
 *
 * Spikes.  A "popcorn spike" is a sample whose offset is far from the
 * estimate by the estimate's own standards: further than SGATE jitters
 * plus what path asymmetry alone can explain.  A sample's offset is only
 * known to within half its round trip, so two samples may honestly
 * differ by half the sum of their delays; without that allowance a quiet
 * link, whose jitter is a fraction of a microsecond, would take ordinary
 * samples for spikes.  A spike is held rather than used.  The time since
 * the chosen sample is allowed for at the rate the caller sets
 * (filter_set_drift()): PHI while the clock's frequency is unknown, as
 * after the startup step, when a clock 10 ppm off drifts 640 us a poll
 * of 64 s, more than a LAN's gate is wide, and samples would be held
 * until they looked like a step; none once the discipline has measured
 * it, for at PHI the gate would open by 1 ms a poll, wider than any LAN
 * spike, and the wander of a disciplined clock shows in the jitter.  A
 * step of the server's clock (or ours) looks the same at first; held
 * samples confirm it when FILTER_CONFIRM in a row lie on one side of the
 * estimate, closer to each other than to it.  A step could also come
 * with noise too wide to look like one, or as a drift; so FILTER_NSTAGES
 * held in a row are accepted whatever they look like, since by then the
 * estimate is the odd one out.  Server state (stratum, leap, root delay
 * and dispersion) is taken from every reply, held or not: it is what the
 * server says about itself, not our measurement.
 */

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "filter.h"

/* Samples needed before spikes are judged: one difference is no jitter. */
#define FILTER_GATE_MIN	3

#define NS_PER_SEC	1e9

static double	age(uint64_t now_ns, uint64_t t_ns);
static double	rank(const struct filter_stage *, uint64_t);
static void	push(struct filter *, const struct filter_stage *);
static unsigned int sorted(const struct filter *, uint64_t,
		    struct filter_stage *);
static int	estimate(const struct filter *, uint64_t,
		    struct filter_est *);
static int	is_spike(const struct filter *, const struct filter_stage *,
		    double *);
static int	confirmed(const struct filter *, double);
static void	take_held(struct filter *, unsigned int);
static int	sample_ok(const struct filter_sample *);

void
filter_init(struct filter *f, double precision)
{
	memset(f, 0, sizeof(*f));
	/* Written this way so that NaN gets the default too. */
	if (!(precision > 0 && precision < FILTER_MAXDISP))
		precision = 1e-9;
	f->precision = precision;
	f->leap = 3;
	f->stratum = 16;
	f->rootdelay = 0;
	f->rootdisp = FILTER_MAXDISP;
}

/* Seconds from t_ns to now_ns; none when now_ns is earlier. */
static double
age(uint64_t now_ns, uint64_t t_ns)
{
	return now_ns > t_ns ? (double)(now_ns - t_ns) / NS_PER_SEC : 0;
}

/*
 * What a stage's offset may be wrong by, doubled: half its delay for
 * the asymmetry, and the clock's drift since it was taken.
 */
static double
rank(const struct filter_stage *st, uint64_t now_ns)
{
	return st->delay + 2 * FILTER_AGING * age(now_ns, st->t_ns);
}

/* Shift st in as the newest stage; the oldest falls out. */
static void
push(struct filter *f, const struct filter_stage *st)
{
	memmove(&f->stage[1], &f->stage[0],
	    (FILTER_NSTAGES - 1) * sizeof(f->stage[0]));
	f->stage[0] = *st;
}

/*
 * The valid stages into out, by increasing rank (the newer first among
 * equals), their dispersion grown to now and capped at MAXDISP.  Returns
 * how many.  An insertion sort: eight elements, and no libc qsort, which
 * may allocate.
 */
static unsigned int
sorted(const struct filter *f, uint64_t now_ns, struct filter_stage *out)
{
	struct filter_stage	st;
	double			r[FILTER_NSTAGES], rs;
	unsigned int		i, j, n = 0;

	for (i = 0; i < FILTER_NSTAGES; i++) {
		if (!f->stage[i].valid)
			continue;
		st = f->stage[i];
		rs = rank(&st, now_ns);
		st.disp += FILTER_PHI * age(now_ns, st.t_ns);
		if (st.disp > FILTER_MAXDISP)
			st.disp = FILTER_MAXDISP;
		/* Stages come newest first: strict < keeps that order. */
		for (j = n; j > 0 && rs < r[j - 1]; j--) {
			out[j] = out[j - 1];
			r[j] = r[j - 1];
		}
		out[j] = st;
		r[j] = rs;
		n++;
	}
	return n;
}

static int
estimate(const struct filter *f, uint64_t now_ns, struct filter_est *est)
{
	struct filter_stage	s[FILTER_NSTAGES];
	unsigned int		n, i, missed;
	double			disp, sum, w, d, dmin;

	if ((n = sorted(f, now_ns, s)) == 0)
		return -1;
	for (i = missed = 0; i < FILTER_NSTAGES; i++)
		if (!f->stage[i].valid && f->stage[i].missed)
			missed++;

	disp = 0;
	w = 0.5;
	for (i = 0; i < FILTER_NSTAGES; i++, w /= 2) {
		if (i < n)
			disp += w * s[i].disp;
		else if (i < n + missed || n < FILTER_GATE_MIN)
			disp += w * FILTER_MAXDISP;
	}

	sum = 0;
	for (i = 1; i < n; i++) {
		d = s[i].offset - s[0].offset;
		sum += d * d;
	}
	est->jitter = n > 1 ? sqrt(sum / (n - 1)) : 0;
	if (est->jitter < f->precision)
		est->jitter = f->precision;

	/* The delays above the least, which no clock's wander makes. */
	dmin = s[0].delay;
	for (i = 1; i < n; i++)
		if (s[i].delay < dmin)
			dmin = s[i].delay;
	sum = 0;
	for (i = 0; i < n; i++) {
		d = s[i].delay - dmin;
		sum += d * d;
	}
	est->noise = sqrt(sum / n) / 2;
	if (est->noise < f->precision)
		est->noise = f->precision;

	est->offset = s[0].offset;
	est->delay = s[0].delay;
	est->disp = disp;
	est->t_ns = s[0].t_ns;
	est->rootdelay = f->rootdelay;
	est->rootdisp = f->rootdisp;
	est->rootdist = est->delay / 2 + est->disp + est->rootdelay / 2 +
	    est->rootdisp + est->jitter;
	est->nsamples = n;
	est->stratum = f->stratum;
	est->leap = f->leap;
	est->reach = f->reach;
	return 0;
}

int
filter_estimate(const struct filter *f, uint64_t now_ns,
    struct filter_est *est)
{
	if (f == NULL || est == NULL)
		return -1;
	return estimate(f, now_ns, est);
}

/*
 * Too far from the estimate to be believed at once; *offset is then the
 * estimate's offset.
 */
static int
is_spike(const struct filter *f, const struct filter_stage *st,
    double *offset)
{
	struct filter_est	e;
	double			gate;

	if (estimate(f, st->t_ns, &e) == -1 || e.nsamples < FILTER_GATE_MIN)
		return 0;
	gate = FILTER_SGATE * e.jitter + (st->delay + e.delay) / 2 +
	    f->drift * age(st->t_ns, e.t_ns);
	*offset = e.offset;
	return fabs(st->offset - e.offset) > gate;
}

/*
 * The last FILTER_CONFIRM held samples are a step away from the estimate
 * at offset: all on one side, and nearer each other than it.
 */
static int
confirmed(const struct filter *f, double offset)
{
	const struct filter_stage	*h;
	double				 lo, hi, gap;
	unsigned int			 i;

	if (f->nheld < FILTER_CONFIRM)
		return 0;
	h = &f->held[f->nheld - FILTER_CONFIRM];
	lo = hi = h[0].offset;
	for (i = 1; i < FILTER_CONFIRM; i++) {
		if (h[i].offset < lo)
			lo = h[i].offset;
		if (h[i].offset > hi)
			hi = h[i].offset;
	}
	if (lo > offset)
		gap = lo - offset;
	else if (hi < offset)
		gap = offset - hi;
	else
		return 0;
	return hi - lo < gap;
}

/* A step: the filter starts over with the last n held samples. */
static void
take_held(struct filter *f, unsigned int n)
{
	unsigned int	i;

	memset(f->stage, 0, sizeof(f->stage));
	for (i = f->nheld - n; i < f->nheld; i++)
		push(f, &f->held[i]);
	f->nheld = 0;
	f->steps++;
}

static int
sample_ok(const struct filter_sample *s)
{
	return s != NULL && isfinite(s->offset) && isfinite(s->delay) &&
	    isfinite(s->disp) && isfinite(s->rootdelay) &&
	    isfinite(s->rootdisp) && s->disp >= 0 && s->rootdelay >= 0 &&
	    s->rootdisp >= 0 && s->delay < FILTER_MAXDISP &&
	    s->delay > -FILTER_MAXDISP && s->leap <= 3;
}

enum filter_verdict
filter_add(struct filter *f, const struct filter_sample *s)
{
	struct filter_stage	st;
	struct filter_est	e;
	enum filter_verdict	v;
	double			old;

	if (f == NULL || !sample_ok(s))
		return FILTER_INVALID;

	f->reach = (uint8_t)(f->reach << 1 | 1);
	f->stratum = s->stratum;
	f->leap = s->leap;
	f->rootdelay = s->rootdelay;
	f->rootdisp = s->rootdisp;
	if (s->leap == 3 || s->stratum == 0 || s->stratum >= 16)
		return FILTER_UNSYNC;

	memset(&st, 0, sizeof(st));
	st.offset = s->offset;
	st.delay = s->delay < f->precision ? f->precision : s->delay;
	st.disp = s->disp;
	st.t_ns = s->t_ns;
	st.valid = 1;

	if (is_spike(f, &st, &old)) {
		f->spikes++;
		f->held[f->nheld++] = st;
		if (confirmed(f, old))
			take_held(f, FILTER_CONFIRM);
		else if (f->nheld == FILTER_NSTAGES)
			take_held(f, FILTER_NSTAGES);
		else
			return FILTER_HELD;
		v = FILTER_STEP;
	} else {
		f->nheld = 0;
		push(f, &st);
		v = FILTER_UPDATED;
	}

	/* Only a sample later than the last one used is news. */
	(void)estimate(f, st.t_ns, &e);
	if (f->used && e.t_ns <= f->used_ns && v != FILTER_STEP)
		return FILTER_STORED;
	f->used = 1;
	f->used_ns = e.t_ns;
	return v;
}

void
filter_miss(struct filter *f)
{
	struct filter_stage	dummy;

	if (f == NULL)
		return;
	f->reach = (uint8_t)(f->reach << 1);
	if ((f->reach & 0x7) != 0)
		return;
	memset(&dummy, 0, sizeof(dummy));
	dummy.missed = 1;
	push(f, &dummy);
}

void
filter_adjust(struct filter *f, double doffset)
{
	unsigned int	i;

	if (f == NULL || !isfinite(doffset))
		return;
	for (i = 0; i < FILTER_NSTAGES; i++)
		f->stage[i].offset -= doffset;
	for (i = 0; i < f->nheld; i++)
		f->held[i].offset -= doffset;
}

void
filter_set_drift(struct filter *f, double rate)
{
	if (f == NULL)
		return;
	/* Written this way so that NaN is taken as 0 too. */
	f->drift = rate >= 0 && isfinite(rate) ? rate : 0;
}

void
filter_reset(struct filter *f)
{
	unsigned int	i;

	if (f == NULL)
		return;
	for (i = 0; i < FILTER_NSTAGES; i++)
		memset(&f->stage[i], 0, sizeof(f->stage[i]));
	f->nheld = 0;
	f->used = 0;
	f->used_ns = 0;
}

uint8_t
filter_reach(const struct filter *f)
{
	return f == NULL ? 0 : f->reach;
}

int
filter_reachable(const struct filter *f)
{
	return f != NULL && f->reach != 0;
}
