/*
 * The engine's sources as decisions: see sources.h.
 */
#include <sys/types.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "config.h"
#include "exchange.h"
#include "filter.h"
#include "interval.h"
#include "ntp.h"
#include "select.h"
#include "sources.h"
#include "sync.h"

#define IBURST_COUNT		4		/* quick exchanges at start */
#define IBURST_SPACING_NS	2000000000ULL
#define IBURST_ENOUGH		3		/* samples for a first update */
#define START_SPREAD_MS		250		/* first requests spread over */
#define FIRST_UPDATE_WAIT_NS	30000000000ULL	/* for bursts, at most */
#define FIRST_MAJORITY_POLLS	8	/* minpolls to wait for a majority */

static uint64_t
poll_ns(int poll)
{
	return (1ULL << poll) * 1000000000ULL;
}

void
sources_init(struct sources *sys, const struct sources_ops *ops,
    double precision, unsigned int min_sources, uint64_t now)
{
	memset(sys, 0, sizeof(*sys));
	sys->ops = *ops;
	select_conf_init(&sys->conf);
	sys->conf.min_sources = min_sources;
	sys->precision = precision;
	sys->started_ns = now;
}

uint64_t
sources_start(struct sources *sys, struct source_core *s,
    const struct source_opts *opts, uint64_t now)
{
	memset(s, 0, sizeof(*s));
	s->opts = *opts;
	interval_init(&s->iv, opts->minpoll);
	s->burst = opts->iburst ? IBURST_COUNT : 0;
	filter_init(&s->filter, sys->precision);
	s->verdict.state = SELECT_UNUSABLE;
	s->verdict.why = SELECT_WHY_UNREACH;
	return now + (uint64_t)sys->ops.uniform(sys->ops.arg,
	    START_SPREAD_MS) * 1000000ULL;
}

/*
 * Bring the samples of every source up to date with the steps and slews
 * made to the clock since they were taken.  A new sample is measured on
 * the clock as it is now: this must come before it joins them, or it
 * would be corrected twice, and judged against stages not yet shifted
 * (the first sample after the startup step would look like a 5 s spike).
 */
static void
catch_up(struct sources *sys, struct source_core *const *all, size_t n,
    uint64_t now)
{
	double	 moved;
	size_t	 i;

	moved = sys->ops.take_correction(sys->ops.arg, now);
	if (moved != 0)
		for (i = 0; i < n; i++)
			filter_adjust(&all[i]->filter, moved);
}

/*
 * The estimate moved to a newer sample: by how much, against the noise,
 * sets the poll interval (interval.h).  The first estimate has nothing
 * to be compared with.
 */
static void
estimate_moved(struct source_core *s, const struct filter_est *before,
    uint64_t now)
{
	struct filter_est	 after;

	if (before == NULL || filter_estimate(&s->filter, now, &after) == -1) {
		interval_kept(&s->iv, s->opts.maxpoll);
		return;
	}
	interval_sample(&s->iv, s->opts.minpoll, s->opts.maxpoll,
	    after.offset - before->offset, after.noise);
}

enum filter_verdict
sources_sample(struct sources *sys, struct source_core *const *all,
    size_t n, struct source_core *s, const struct exchange_sample *es,
    uint64_t now, struct filter_sample *taken)
{
	struct filter_sample	 fs;
	struct filter_est	 before;
	enum filter_verdict	 verdict;
	int			 had;

	memset(&fs, 0, sizeof(fs));
	fs.offset = es->offset;
	fs.delay = es->delay;
	/* What the two clocks' readings may be off by, and the drift. */
	fs.disp = sys->precision + ldexp(1.0, es->precision) +
	    FILTER_PHI * es->delay;
	fs.t_ns = now;
	fs.rootdelay = es->root_delay;
	fs.rootdisp = es->root_dispersion;
	fs.stratum = es->stratum;
	fs.leap = es->leap;
	catch_up(sys, all, n, now);
	/* Until the frequency is known the clock drifts: see filter.c. */
	filter_set_drift(&s->filter, sys->ops.drift(sys->ops.arg));
	had = filter_estimate(&s->filter, now, &before) == 0;
	verdict = filter_add(&s->filter, &fs);
	switch (verdict) {
	case FILTER_UPDATED:
	case FILTER_STEP:
		sys->fresh = 1;
		estimate_moved(s, had ? &before : NULL, now);
		break;
	case FILTER_STORED:
		interval_kept(&s->iv, s->opts.maxpoll);
		break;
	default:
		interval_held(&s->iv);
		break;
	}
	if (taken != NULL)
		*taken = fs;
	return verdict;
}

void
sources_miss(struct source_core *s)
{
	filter_miss(&s->filter);
	interval_miss(&s->iv, s->opts.minpoll);
}

void
sources_slow_down(struct source_core *s)
{
	s->burst = 0;
	filter_miss(&s->filter);
	interval_slow_down(&s->iv, POLL_MAX);
}

/*
 * Up to a tenth of the interval at random, so sources do not march: in
 * microseconds, or in milliseconds when a tenth is more microseconds
 * than 32 bits hold (polls of 16 and 17).
 */
static uint64_t
poll_jitter_ns(struct sources *sys, uint64_t interval)
{
	uint64_t	 tenth_us = interval / 10 / 1000;

	if (tenth_us <= UINT32_MAX)
		return (uint64_t)sys->ops.uniform(sys->ops.arg,
		    (uint32_t)tenth_us) * 1000;
	return (uint64_t)sys->ops.uniform(sys->ops.arg,
	    (uint32_t)(tenth_us / 1000)) * 1000000;
}

uint64_t
sources_next_poll(struct sources *sys, const struct source_core *s,
    uint64_t now)
{
	uint64_t	 interval;

	if (s->burst > 0)
		return now + IBURST_SPACING_NS;
	interval = poll_ns(s->iv.poll);
	return now + interval - poll_jitter_ns(sys, interval);
}

uint64_t
sources_polled(struct sources *sys, struct source_core *s, uint64_t now)
{
	if (s->burst > 0)
		s->burst--;
	return sources_next_poll(sys, s, now);
}

/*
 * Without iburst each source becomes usable at its third sample, the
 * sources some seconds apart: the first update, which may step the
 * clock, would rest on whichever came first, a liar as well as another.
 * So until then a source that answers, but is too far yet because its
 * filter holds few samples, is pending (SELECT_F_PENDING): selection
 * waits until the sources that agree are a majority of the usable and
 * the pending ones.  Not after FIRST_MAJORITY_POLLS of the longest
 * minpoll: then what there is will do.
 */
static int
wait_majority(struct sources *sys, struct source_core *const *all,
    size_t n, uint64_t now)
{
	size_t	 i;
	int	 minpoll = POLL_MIN;

	if (sys->ops.updated(sys->ops.arg))
		return 0;
	for (i = 0; i < n; i++)
		if (all[i]->active && all[i]->opts.minpoll > minpoll)
			minpoll = all[i]->opts.minpoll;
	return now - sys->started_ns < FIRST_MAJORITY_POLLS * poll_ns(minpoll);
}

/* Source i's input to the selection, and whether it is refused. */
static void
judge(struct sources *sys, struct source_core *s, size_t i, int wait,
    uint64_t now)
{
	struct select_source	*in = &s->input;
	struct filter_est	 est;
	int			 refused = 0;

	memset(in, 0, sizeof(*in));
	in->reach = filter_reach(&s->filter);
	in->stratum = NTP_MAX_STRATUM;
	in->leap = NTP_LEAP_UNSYNC;
	in->rootdist = FILTER_MAXDISP;
	if (filter_estimate(&s->filter, now, &est) == 0) {
		in->offset = est.offset;
		in->rootdist = est.rootdist;
		in->jitter = est.jitter;
		in->stratum = est.stratum;
		in->leap = est.leap;
		/* Once the clock is set, no source may drag it. */
		if (sys->tolerance > 0 && fabs(est.offset) > sys->tolerance)
			refused = 1;
	}
	s->newly_refused = refused && !s->refused;
	s->refused = refused;
	if (s->opts.prefer)
		in->flags |= SELECT_F_PREFER;
	if (s->opts.noselect || s->refused)
		in->flags |= SELECT_F_NOSELECT;
	if (s->opts.trusted)
		in->flags |= SELECT_F_TRUSTED;
	if (sys->have_result && sys->result.syspeer == i)
		in->flags |= SELECT_F_SYSPEER;
	if (wait && in->reach != 0 && s->active)
		in->flags |= SELECT_F_PENDING;
}

int
sources_select(struct sources *sys, struct source_core *const *all,
    size_t n, uint64_t now)
{
	struct select_source	 in[SELECT_MAX_SOURCES];
	struct select_verdict	 v[SELECT_MAX_SOURCES];
	size_t			 i;
	int			 wait;

	if (n > SELECT_MAX_SOURCES) {
		errno = EINVAL;
		return -1;
	}
	catch_up(sys, all, n, now);
	sys->tolerance = sys->ops.tolerance(sys->ops.arg);
	wait = wait_majority(sys, all, n, now);
	for (i = 0; i < n; i++) {
		judge(sys, all[i], i, wait, now);
		in[i] = all[i]->input;
	}
	if (select_run(&sys->conf, in, n, v, &sys->result) == -1)
		return -1;
	for (i = 0; i < n; i++)
		all[i]->verdict = v[i];
	sys->have_result = sys->result.status == SELECT_OK;
	sys->selected_ns = now;
	return 0;
}

static int
combined(const struct source_core *s)
{
	return s->verdict.state == SELECT_COMBINED ||
	    s->verdict.state == SELECT_SYSPEER;
}

static double
median(double *v, size_t n)
{
	double	 t;
	size_t	 i, j;

	for (i = 1; i < n; i++)
		for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
			t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The majority's leap indicator among the sources in the combination. */
static unsigned int
majority_leap(struct source_core *const *all, size_t n)
{
	size_t	 i, ncombined = 0, add = 0, del = 0;

	for (i = 0; i < n; i++) {
		if (!combined(all[i]))
			continue;
		ncombined++;
		if (all[i]->input.leap == NTP_LEAP_ADD)
			add++;
		else if (all[i]->input.leap == NTP_LEAP_DEL)
			del++;
	}
	if (add * 2 > ncombined)
		return NTP_LEAP_ADD;
	if (del * 2 > ncombined)
		return NTP_LEAP_DEL;
	return NTP_LEAP_NONE;
}

/*
 * The first update may step the clock, and comes when the filters hold
 * few samples: their intervals are then wide enough for a liar close to
 * the others to pass for one of them, and pull a weighted mean.  The
 * median of the combined sources does not move for one liar among three.
 */
static double
first_offset(const struct sources *sys, struct source_core *const *all,
    size_t n)
{
	double	 off[SELECT_MAX_SOURCES];
	size_t	 i, noff = 0;

	for (i = 0; i < n; i++)
		if (combined(all[i]))
			off[noff++] = all[i]->input.offset;
	return noff > 0 ? median(off, noff) : sys->result.offset;
}

/*
 * The first update, which may step the clock, waits until every source
 * in its quick start exchanges has IBURST_ENOUGH samples, so that all
 * of them have a say (two sources are no majority against a liar); for
 * FIRST_UPDATE_WAIT_NS at most.
 */
static int
bursting(const struct sources *sys, struct source_core *const *all,
    size_t n, uint64_t now)
{
	struct filter_est	 est;
	size_t			 i;

	if (now - sys->started_ns >= FIRST_UPDATE_WAIT_NS)
		return 0;
	for (i = 0; i < n; i++) {
		if (!all[i]->active || all[i]->burst == 0)
			continue;
		if (filter_estimate(&all[i]->filter, now, &est) == -1 ||
		    est.nsamples < IBURST_ENOUGH)
			return 1;
	}
	return 0;
}

/* The outcome, to the clock. */
static void
update(struct sources *sys, struct source_core *const *all, size_t n,
    uint64_t now)
{
	struct sync_input	 si;
	struct filter_est	 est;
	struct source_core	*peer = all[sys->result.syspeer];

	if (filter_estimate(&peer->filter, now, &est) == -1)
		return;
	memset(&si, 0, sizeof(si));
	si.offset = sys->ops.updated(sys->ops.arg) ? sys->result.offset :
	    first_offset(sys, all, n);
	si.jitter = sys->result.jitter;
	si.stratum = est.stratum;
	si.rootdelay = est.rootdelay + est.delay;
	si.rootdisp = est.rootdisp + est.disp;
	si.leap = majority_leap(all, n);
	sys->ops.update(sys->ops.arg, &si, now);
}

/*
 * Sources beyond the tolerance were left out and nothing else agreed:
 * what they asked for is a refused correction.  Their median offset is
 * what a selection among them would have roughly given.
 */
static void
refuse(struct sources *sys, struct source_core *const *all, size_t n,
    uint64_t now)
{
	double		 off[SELECT_MAX_SOURCES];
	size_t		 i, noff = 0;

	for (i = 0; i < n; i++)
		if (all[i]->refused)
			off[noff++] = all[i]->input.offset;
	if (noff > 0)
		sys->ops.refuse(sys->ops.arg, median(off, noff), now);
}

void
sources_update_clock(struct sources *sys, struct source_core *const *all,
    size_t n, uint64_t now)
{
	int	 updated = sys->ops.updated(sys->ops.arg);

	if (n > SELECT_MAX_SOURCES)
		return;
	/* Until the first update, an outcome waits for the bursts. */
	if (sys->have_result && (sys->fresh || !updated)) {
		if (updated || !bursting(sys, all, n, now))
			update(sys, all, n, now);
	} else if (sys->fresh)
		refuse(sys, all, n, now);
	sys->fresh = 0;
}

void
sources_moved(struct sources *sys, size_t at, int delta)
{
	if (!sys->have_result)
		return;
	if (delta < 0 && sys->result.syspeer == at)
		sys->have_result = 0;
	else if (sys->result.syspeer >= at)
		sys->result.syspeer = (size_t)((ssize_t)sys->result.syspeer +
		    delta);
}

void
sources_forget(struct sources *sys, size_t i)
{
	if (sys->have_result && sys->result.syspeer == i)
		sys->have_result = 0;
}
