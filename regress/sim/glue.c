/*
 * The engine's glue between the pure modules, mirrored from
 * ntpd/client.c and ntpd/sync.c: see glue.h.  Left out, as they do not
 * move the clock: logging, statistics, names and resolution, kisses
 * (the simulated servers send none), the leap indicator (none is
 * announced), the state served to clients, and sync_tick().
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "discipline.h"
#include "exchange.h"
#include "filter.h"
#include "glue.h"
#include "ntp.h"
#include "ntpd.h"
#include "rng.h"
#include "select.h"

/* client.c's, private to it there. */
#define REPLY_TIMEOUT_NS	2000000000ULL
#define IBURST_COUNT		4
#define IBURST_SPACING_NS	2000000000ULL
#define IBURST_ENOUGH		3
#define START_SPREAD_MS		250
#define FIRST_UPDATE_WAIT_NS	30000000000ULL
#define FIRST_MAJORITY_POLLS	8

#define RNG_ENGINE		3	/* rng_seed() stream */

static double
seconds(uint64_t ns)
{
	return (double)ns / 1e9;
}

static uint64_t
poll_ns(int poll)
{
	return (1ULL << poll) * 1000000000ULL;
}

/* client.c: jitter_ns() */
static uint64_t
jitter_ns(struct glue *g, uint64_t interval)
{
	return interval / 10 == 0 ? 0 :
	    (uint64_t)rng_below(&g->rng, (uint32_t)(interval / 10 / 1000)) *
	    1000;
}

/* client.c: client_init(); sync.c: sync_init(), sync_clock_init() */
void
glue_init(struct glue *g, const struct sim_scenario *sc, uint64_t seed,
    const struct glue_ops *ops, uint64_t now)
{
	struct discipline_conf	 dc;
	struct glue_source	*s;
	size_t			 i;

	memset(g, 0, sizeof(*g));
	g->sc = sc;
	g->ops = *ops;
	rng_seed(&g->rng, seed, RNG_ENGINE);
	g->started_ns = now;
	select_conf_init(&g->sel_conf);
	g->sel_conf.min_sources = sc->min_sources;
	g->precision_s = ldexp(1.0, SIM_PRECISION);
	g->nsources = sc->nservers;
	for (i = 0; i < g->nsources; i++) {
		s = &g->src[i];
		interval_init(&s->iv, sc->minpoll);
		s->burst = sc->iburst ? IBURST_COUNT : 0;
		filter_init(&s->filter, g->precision_s);
		s->verdict.state = SELECT_UNUSABLE;
		s->verdict.why = SELECT_WHY_UNREACH;
		s->next_ns = now + (uint64_t)rng_below(&g->rng,
		    START_SPREAD_MS) * 1000000ULL;
	}
	g->tolerance = sc->tolerance;
	discipline_conf_init(&dc);
	dc.step_threshold = sc->step_threshold;
	dc.step_updates = sc->step_updates;
	dc.tolerance = sc->tolerance;
	dc.control = 1;
	/* The parent found the kernel at 0 ppm, and no drift file. */
	discipline_init(&g->disc, &dc, 0);
}

/* sync.c: sync_updated() */
static int
sync_updated(const struct glue *g)
{
	return g->disc.updates > 0;
}

/* sync.c: sync_take_correction() */
static double
sync_take_correction(struct glue *g, uint64_t now)
{
	double	c = discipline_phase(&g->disc, seconds(now)), d;

	d = c - g->taken;
	g->taken = c;
	return d;
}

/* sync.c: sync_drift() */
static double
sync_drift(const struct glue *g)
{
	return g->disc.conf.control && discipline_freq_known(&g->disc) ? 0 :
	    FILTER_PHI;
}

/* sync.c: sync_tolerance() */
static double
sync_tolerance(const struct glue *g)
{
	return g->disc.updates > 0 ? g->tolerance : 0;
}

/*
 * sync.c: sync_update(), with the parent's answer at once, so
 * sync_clock_result() follows in the same instant.
 */
static void
sync_update(struct glue *g, double offset, double jitter, double rootdelay,
    double rootdisp, uint64_t now)
{
	struct discipline_cmd		 cmd;
	struct imsg_clock_adjust	 req;
	struct imsg_clock_result	 r;
	enum discipline_action		 done = DISC_NONE;

	if (discipline_update(&g->disc, seconds(now), offset, jitter,
	    &cmd) == -1)
		return;
	if (g->ops.updated != NULL)
		g->ops.updated(g->ops.arg, offset, jitter, &cmd);
	if (cmd.action == DISC_REFUSE || cmd.action == DISC_NONE)
		return;
	memset(&req, 0, sizeof(req));
	req.action = cmd.action == DISC_STEP ? CLOCK_STEP : CLOCK_SLEW;
	req.offset = cmd.offset;
	req.freq = cmd.freq;
	req.leap = NTP_LEAP_NONE;
	req.synced = fabs(cmd.action == DISC_STEP ? 0 : offset) <=
	    DISC_SYNC_MAX_OFFSET;
	req.esterror = jitter;
	/* sync.c: root_distance() at the update, its age 0. */
	req.maxerror = rootdelay / 2 + rootdisp + jitter + fabs(offset);
	g->ops.adjust(g->ops.arg, &req, &r);

	/* sync.c: sync_clock_result() */
	if (r.action == CLOCK_STEP)
		done = DISC_STEP;
	else if (r.action == CLOCK_SLEW)
		done = DISC_SLEW;
	discipline_applied(&g->disc, seconds(now), done,
	    done == DISC_NONE ? 0 : r.offset, r.freq);
}

/* client.c: client_schedule() */
static void
client_schedule(struct glue *g, struct glue_source *s, uint64_t now)
{
	uint64_t	interval;

	if (s->burst > 0) {
		s->next_ns = now + IBURST_SPACING_NS;
		return;
	}
	interval = poll_ns(s->iv.poll);
	s->next_ns = now + interval - jitter_ns(g, interval);
}

/* client.c: client_send() */
static void
client_send(struct glue *g, size_t i, uint64_t now)
{
	struct glue_source	*s = &g->src[i];
	unsigned char		 buf[NTP_HEADER_SIZE];
	struct ntp_ts		 nonce;
	size_t			 len;

	nonce.sec = (uint32_t)rng_next(&g->rng);
	nonce.frac = (uint32_t)rng_next(&g->rng);
	len = exchange_request(&s->ex, nonce, buf, sizeof(buf));
	s->t1 = g->ops.realtime(g->ops.arg);
	g->ops.send(g->ops.arg, i, buf, len);
	s->waiting = 1;
	s->sent++;
	s->sent_ns = now;
	if (s->burst > 0)
		s->burst--;
	client_schedule(g, s, now);
}

/* client.c: median() */
static double
median(double *v, size_t n)
{
	double	t;
	size_t	i, j;

	for (i = 1; i < n; i++)
		for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
			t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* client.c: client_refuse(), sync.c: sync_refuse(), less the log */
static void
client_refuse(struct glue *g)
{
	size_t	i;

	for (i = 0; i < g->nsources; i++)
		if (g->src[i].refused) {
			g->refused++;
			return;
		}
}

static int
combined(const struct glue_source *s)
{
	return s->verdict.state == SELECT_COMBINED ||
	    s->verdict.state == SELECT_SYSPEER;
}

/* client.c: client_first_offset() */
static double
client_first_offset(const struct glue *g, const struct select_source *in)
{
	double	off[SIM_MAX_SERVERS];
	size_t	i, n = 0;

	for (i = 0; i < g->nsources; i++)
		if (combined(&g->src[i]))
			off[n++] = in[i].offset;
	return n > 0 ? median(off, n) : g->result.offset;
}

/* client.c: client_bursting() */
static int
client_bursting(const struct glue *g, uint64_t now)
{
	struct filter_est	est;
	size_t			i;

	if (now - g->started_ns >= FIRST_UPDATE_WAIT_NS)
		return 0;

	for (i = 0; i < g->nsources; i++) {
		if (g->src[i].burst == 0)
			continue;
		if (filter_estimate(&g->src[i].filter, now, &est) == -1 ||
		    est.nsamples < IBURST_ENOUGH)
			return 1;
	}
	return 0;
}

/* client.c: client_wait_majority(); every source resolved, none stopped */
static int
client_wait_majority(const struct glue *g, uint64_t now)
{
	if (sync_updated(g))
		return 0;
	return now - g->started_ns < FIRST_MAJORITY_POLLS *
	    poll_ns(g->sc->minpoll);
}

/* client.c: client_update_clock() */
static void
client_update_clock(struct glue *g, const struct select_source *in,
    uint64_t now)
{
	struct glue_source	*peer = &g->src[g->result.syspeer];
	struct filter_est	 est;
	double			 offset;

	if (filter_estimate(&peer->filter, now, &est) == -1)
		return;
	offset = sync_updated(g) ? g->result.offset :
	    client_first_offset(g, in);
	sync_update(g, offset, g->result.jitter, est.rootdelay + est.delay,
	    est.rootdisp + est.disp, now);
}

/* client.c: the inputs of client_select() for source i */
static void
client_select_input(struct glue *g, size_t i, double tolerance,
    int wait, uint64_t now, struct select_source *in)
{
	struct glue_source	*s = &g->src[i];
	struct filter_est	 est;

	memset(in, 0, sizeof(*in));
	in->reach = filter_reach(&s->filter);
	in->stratum = NTP_MAX_STRATUM;
	in->leap = NTP_LEAP_UNSYNC;
	in->rootdist = FILTER_MAXDISP;
	s->refused = 0;
	if (filter_estimate(&s->filter, now, &est) == 0) {
		in->offset = est.offset;
		in->rootdist = est.rootdist;
		in->jitter = est.jitter;
		in->stratum = est.stratum;
		in->leap = est.leap;
		if (tolerance > 0 && fabs(est.offset) > tolerance)
			s->refused = 1;
	}
	if (s->refused)
		in->flags |= SELECT_F_NOSELECT;
	if (g->have_result && g->result.syspeer == i)
		in->flags |= SELECT_F_SYSPEER;
	if (wait && in->reach != 0)
		in->flags |= SELECT_F_PENDING;
}

/* client.c: client_catch_up() */
static void
client_catch_up(struct glue *g, uint64_t now)
{
	double	moved;
	size_t	i;

	moved = sync_take_correction(g, now);
	if (moved != 0)
		for (i = 0; i < g->nsources; i++)
			filter_adjust(&g->src[i].filter, moved);
}

/* client.c: client_select() */
static void
client_select(struct glue *g, uint64_t now)
{
	struct select_source	 in[SIM_MAX_SERVERS];
	struct select_verdict	 v[SIM_MAX_SERVERS];
	double			 tolerance;
	size_t			 i;
	int			 wait;

	client_catch_up(g, now);
	tolerance = sync_tolerance(g);
	wait = client_wait_majority(g, now);
	for (i = 0; i < g->nsources; i++)
		client_select_input(g, i, tolerance, wait, now, &in[i]);
	if (select_run(&g->sel_conf, in, g->nsources, v, &g->result) == -1)
		return;
	for (i = 0; i < g->nsources; i++)
		g->src[i].verdict = v[i];
	if (g->ops.selected != NULL)
		g->ops.selected(g->ops.arg, v, g->nsources, &g->result);
	g->have_result = g->result.status == SELECT_OK;
	if (g->have_result && (g->fresh || !sync_updated(g))) {
		if (sync_updated(g) || !client_bursting(g, now))
			client_update_clock(g, in, now);
	} else if (g->fresh)
		client_refuse(g);
	g->fresh = 0;
}

/* client.c: client_miss() */
static void
client_miss(struct glue *g, struct glue_source *s)
{
	filter_miss(&s->filter);
	interval_miss(&s->iv, g->sc->minpoll);
}

/* client.c: client_interval() */
static void
client_interval(struct glue *g, struct glue_source *s,
    const struct filter_est *before, uint64_t now)
{
	struct filter_est	after;

	if (before == NULL || filter_estimate(&s->filter, now, &after) == -1) {
		interval_kept(&s->iv, g->sc->maxpoll);
		return;
	}
	interval_sample(&s->iv, g->sc->minpoll, g->sc->maxpoll,
	    after.offset - before->offset, after.noise);
}

/* client.c: client_sample() */
static void
client_sample(struct glue *g, struct glue_source *s,
    const struct exchange_sample *es, uint64_t now)
{
	struct filter_sample	fs;
	struct filter_est	before;
	int			had;

	memset(&fs, 0, sizeof(fs));
	fs.offset = es->offset;
	fs.delay = es->delay;
	fs.disp = g->precision_s + ldexp(1.0, es->precision) +
	    FILTER_PHI * es->delay;
	fs.t_ns = now;
	fs.rootdelay = es->root_delay;
	fs.rootdisp = es->root_dispersion;
	fs.stratum = es->stratum;
	fs.leap = es->leap;
	client_catch_up(g, now);
	filter_set_drift(&s->filter, sync_drift(g));
	had = filter_estimate(&s->filter, now, &before) == 0;
	switch (filter_add(&s->filter, &fs)) {
	case FILTER_UPDATED:
	case FILTER_STEP:
		g->fresh = 1;
		client_interval(g, s, had ? &before : NULL, now);
		break;
	case FILTER_STORED:
		interval_kept(&s->iv, g->sc->maxpoll);
		break;
	default:
		interval_held(&s->iv);
		break;
	}
}

/* client.c: client_receive(), from exchange_reply() on */
void
glue_receive(struct glue *g, size_t i, const void *buf, size_t len,
    struct ntp_ts t4, uint64_t now)
{
	struct glue_source	*s;
	struct exchange_sample	 es;
	enum exchange_result	 r;

	if (i >= g->nsources || !g->src[i].waiting)
		return;
	s = &g->src[i];
	r = exchange_reply(&s->ex, buf, len, s->t1, t4, &es);
	switch (r) {
	case EXCHANGE_SAMPLE:
		s->waiting = 0;
		client_sample(g, s, &es, now);
		break;
	case EXCHANGE_BAD_ORIGIN:
	case EXCHANGE_BAD_LENGTH:
	case EXCHANGE_BAD_MODE:
	case EXCHANGE_BAD_VERSION:
		return;
	default:
		s->waiting = 0;
		client_miss(g, s);
		break;
	}
	client_select(g, now);
}

/* client.c: client_run() */
void
glue_run(struct glue *g, uint64_t now)
{
	struct glue_source	*s;
	size_t			 i;
	int			 changed = 0;

	for (i = 0; i < g->nsources; i++) {
		s = &g->src[i];
		if (s->waiting && now - s->sent_ns >= REPLY_TIMEOUT_NS) {
			s->waiting = 0;
			client_miss(g, s);
			changed = 1;
		}
		if (now >= s->next_ns)
			client_send(g, i, now);
	}
	if (changed)
		client_select(g, now);
}

/* client.c: client_timeout() */
uint64_t
glue_next(const struct glue *g)
{
	uint64_t	next = UINT64_MAX, t;
	size_t		i;

	for (i = 0; i < g->nsources; i++) {
		t = g->src[i].next_ns;
		if (g->src[i].waiting &&
		    g->src[i].sent_ns + REPLY_TIMEOUT_NS < t)
			t = g->src[i].sent_ns + REPLY_TIMEOUT_NS;
		if (t < next)
			next = t;
	}
	return next;
}
