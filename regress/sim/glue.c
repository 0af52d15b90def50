/*
 * The engine as the simulator runs it: see glue.h.  Left out, as they
 * do not move the clock: logging, statistics, names and resolution,
 * kisses (the simulated servers send none), the state served to
 * clients, and sync_tick().
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
#include "sources.h"
#include "sync.h"

#define RNG_ENGINE		3	/* rng_seed() stream */

static double
seconds(uint64_t ns)
{
	return (double)ns / 1e9;
}

/* sync.c: sync_updated() */
static int
glue_sync_updated(void *arg)
{
	const struct glue	*g = arg;

	return g->disc.updates > 0;
}

/* sync.c: sync_take_correction() */
static double
glue_sync_take_correction(void *arg, uint64_t now)
{
	struct glue	*g = arg;
	double		 c = discipline_phase(&g->disc, seconds(now)), d;

	d = c - g->taken;
	g->taken = c;
	return d;
}

/* sync.c: sync_drift() */
static double
glue_sync_drift(void *arg)
{
	const struct glue	*g = arg;

	return g->disc.conf.control && discipline_freq_known(&g->disc) ? 0 :
	    FILTER_PHI;
}

/* sync.c: sync_tolerance() */
static double
glue_sync_tolerance(void *arg)
{
	const struct glue	*g = arg;

	return g->disc.updates > 0 ? g->tolerance : 0;
}

/*
 * sync.c: sync_update(), with the parent's answer at once, so
 * sync_clock_result() follows in the same instant.
 */
static void
glue_sync_update(void *arg, const struct sync_input *in, uint64_t now)
{
	struct glue			*g = arg;
	struct discipline_cmd		 cmd;
	struct imsg_clock_adjust	 req;
	struct imsg_clock_result	 r;
	enum discipline_action		 done = DISC_NONE;

	if (discipline_update(&g->disc, seconds(now), in->offset, in->jitter,
	    &cmd) == -1)
		return;
	if (g->ops.updated != NULL)
		g->ops.updated(g->ops.arg, in->offset, in->jitter, &cmd);
	if (cmd.action == DISC_REFUSE || cmd.action == DISC_NONE)
		return;
	memset(&req, 0, sizeof(req));
	req.action = cmd.action == DISC_STEP ? CLOCK_STEP : CLOCK_SLEW;
	req.offset = cmd.offset;
	req.freq = cmd.freq;
	req.leap = in->leap == NTP_LEAP_UNSYNC ? NTP_LEAP_NONE : in->leap;
	req.synced = fabs(cmd.action == DISC_STEP ? 0 : in->offset) <=
	    DISC_SYNC_MAX_OFFSET;
	req.esterror = in->jitter;
	/* sync.c: root_distance() at the update, its age 0. */
	req.maxerror = in->rootdelay / 2 + in->rootdisp + in->jitter +
	    fabs(in->offset);
	g->ops.adjust(g->ops.arg, &req, &r);

	/* sync.c: sync_clock_result() */
	if (r.action == CLOCK_STEP)
		done = DISC_STEP;
	else if (r.action == CLOCK_SLEW)
		done = DISC_SLEW;
	discipline_applied(&g->disc, seconds(now), done,
	    done == DISC_NONE ? 0 : r.offset, r.freq);
}

/* sync.c: sync_refuse(), less the log and the audit trail */
static void
glue_sync_refuse(void *arg, double offset, uint64_t now)
{
	struct glue	*g = arg;

	(void)offset;
	(void)now;
	g->refused++;
}

/* arc4random_uniform() */
static uint32_t
glue_uniform(void *arg, uint32_t upper)
{
	struct glue	*g = arg;

	return rng_below(&g->rng, upper);
}

static const struct sources_ops glue_sources_ops = {
	.updated = glue_sync_updated,
	.take_correction = glue_sync_take_correction,
	.tolerance = glue_sync_tolerance,
	.drift = glue_sync_drift,
	.update = glue_sync_update,
	.refuse = glue_sync_refuse,
	.uniform = glue_uniform,
};

/* client.c: client_init(); sync.c: sync_init(), sync_clock_init() */
void
glue_init(struct glue *g, const struct sim_scenario *sc, uint64_t seed,
    const struct glue_ops *ops, uint64_t now)
{
	struct discipline_conf	 dc;
	struct sources_ops	 sops = glue_sources_ops;
	struct source_opts	 opts;
	struct glue_source	*s;
	size_t			 i;

	memset(g, 0, sizeof(*g));
	g->sc = sc;
	g->ops = *ops;
	rng_seed(&g->rng, seed, RNG_ENGINE);
	sops.arg = g;
	sources_init(&g->sources, &sops, ldexp(1.0, SIM_PRECISION),
	    sc->min_sources, now);
	memset(&opts, 0, sizeof(opts));
	opts.minpoll = sc->minpoll;
	opts.maxpoll = sc->maxpoll;
	opts.iburst = sc->iburst;
	g->nsources = sc->nservers;
	for (i = 0; i < g->nsources; i++) {
		s = &g->src[i];
		g->cores[i] = &s->core;
		s->next_ns = sources_start(&g->sources, &s->core, &opts, now);
		/* Every server has its address from the start. */
		s->core.active = 1;
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

/* client.c: client_send(), on a socket that never fails */
static void
glue_send(struct glue *g, size_t i, uint64_t now)
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
	s->next_ns = sources_polled(&g->sources, &s->core, now);
}

/* client.c: client_select(), less its log */
static void
glue_select(struct glue *g, uint64_t now)
{
	struct select_verdict	 v[SIM_MAX_SERVERS];
	size_t			 i;

	if (sources_select(&g->sources, g->cores, g->nsources, now) == -1)
		return;
	if (g->ops.selected != NULL) {
		for (i = 0; i < g->nsources; i++)
			v[i] = g->src[i].core.verdict;
		g->ops.selected(g->ops.arg, v, g->nsources,
		    &g->sources.result);
	}
	sources_update_clock(&g->sources, g->cores, g->nsources, now);
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
	if (!exchange_answered(r))
		return;
	s->waiting = 0;
	if (r == EXCHANGE_SAMPLE)
		(void)sources_sample(&g->sources, g->cores, g->nsources,
		    &s->core, &es, now, NULL);
	else
		sources_miss(&s->core);
	glue_select(g, now);
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
		if (s->waiting &&
		    now - s->sent_ns >= SOURCES_REPLY_TIMEOUT_NS) {
			s->waiting = 0;
			sources_miss(&s->core);
			changed = 1;
		}
		if (now >= s->next_ns)
			glue_send(g, i, now);
	}
	if (changed)
		glue_select(g, now);
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
		    g->src[i].sent_ns + SOURCES_REPLY_TIMEOUT_NS < t)
			t = g->src[i].sent_ns + SOURCES_REPLY_TIMEOUT_NS;
		if (t < next)
			next = t;
	}
	return next;
}
