/*
 * One simulated run: the world (world.c) and the engine (glue.c) in an
 * event loop on true time, as engine_main() runs the daemon's: replies
 * that have arrived are dispatched first, then the timers (client_run).
 * The client's clock is looked at every whole second for the figures.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "glue.h"
#include "ntp.h"
#include "select.h"
#include "sim.h"
#include "world.h"

#define MIN_STEP	1e-9	/* s: the loop always moves on */

/* A reply on its way to the client. */
struct flight {
	int		 busy;
	double		 arrive;	/* true time */
	unsigned char	 buf[NTP_HEADER_SIZE];
};

struct run {
	const struct sim_scenario *sc;
	FILE			*trace;
	struct world		 w;
	struct glue		 g;
	struct flight		 fl[SIM_MAX_SERVERS];
	/* The figures. */
	double			 n, sum, sumsq, max, fsumsq;
	double			 bad_1ms, bad_100us;	/* last time, -1 */
	double			 after_step;		/* -1: not yet */
	uint64_t		 fts, fts_used, updates, polls;
	int			 liar;		/* in the last selection */
};

static struct ntp_ts
op_realtime(void *arg)
{
	struct run	*r = arg;

	return world_realtime(&r->w);
}

static void
op_send(void *arg, size_t i, const void *buf, size_t len)
{
	struct run	*r = arg;
	struct flight	*f = &r->fl[i];

	/* A new socket: whatever was on its way to the old one is lost. */
	f->arrive = world_exchange(&r->w, (unsigned int)i, buf, len, f->buf);
	f->busy = f->arrive >= 0;
	r->polls++;
}

static void
op_adjust(void *arg, const struct imsg_clock_adjust *req,
    struct imsg_clock_result *res)
{
	struct run	*r = arg;

	world_adjust(&r->w, req, res);
}

/* Was a liar in the combination (as select.c says)? */
static void
op_selected(void *arg, const struct select_verdict *v, size_t n,
    const struct select_result *res)
{
	struct run	*r = arg;
	size_t		 i;

	r->liar = 0;
	if (res->status != SELECT_OK)
		return;
	for (i = 0; i < n; i++)
		if (r->sc->server_offset[i] != 0 &&
		    (v[i].state == SELECT_COMBINED ||
		    v[i].state == SELECT_SYSPEER)) {
			r->fts++;
			r->liar = 1;
			return;
		}
}

static void
op_updated(void *arg, double offset, double jitter,
    const struct discipline_cmd *cmd)
{
	static const char *const actions[] = { "none", "slew", "step",
	    "refuse" };
	struct run	*r = arg;

	r->updates++;
	/* client_select() updates the clock from the selection just run. */
	if (r->liar)
		r->fts_used++;
	if (r->trace == NULL)
		return;
	/* The daemon's offset against the truth (-off), both in us. */
	fprintf(r->trace, "%s %10.3f off %+12.3f true %+12.3f jit %9.3f "
	    "%-6s %+12.3f freq %+9.4f err %+8.4f\n", r->sc->name, r->w.t,
	    offset * 1e6, -r->w.off * 1e6, jitter * 1e6,
	    actions[cmd->action], cmd->offset * 1e6, cmd->freq,
	    r->w.drift + r->w.kfreq);
}

/* The clock at a whole second. */
static void
sample(struct run *r)
{
	double	off = r->w.off, a = fabs(off), f;

	if (a >= 1e-3)
		r->bad_1ms = r->w.t;
	if (a >= 1e-4)
		r->bad_100us = r->w.t;
	if (r->w.steps > 0 && r->after_step < 0)
		r->after_step = a;
	if (r->w.t < SIM_SETTLE)
		return;
	f = r->w.drift + r->w.kfreq;
	r->n++;
	r->sum += off;
	r->sumsq += off * off;
	r->fsumsq += f * f;
	if (a > r->max)
		r->max = a;
}

/* From the last second it was out: -1 when it still is at the end. */
static double
settled(const struct run *r, double last_bad)
{
	if (last_bad < 0)
		return 0;
	if (last_bad >= r->w.t)
		return -1;
	return last_bad + 1;
}

static void
results(const struct run *r, struct sim_result *res)
{
	memset(res, 0, sizeof(*res));
	if (r->n > 0) {
		res->mean = r->sum / r->n;
		res->rms = sqrt(r->sumsq / r->n);
		res->spread = sqrt(fmax(0, r->sumsq / r->n -
		    res->mean * res->mean));
		res->freq_rms = sqrt(r->fsumsq / r->n);
		res->max = r->max;
	}
	res->settle_1ms = settled(r, r->bad_1ms);
	res->settle_100us = settled(r, r->bad_100us);
	res->steps = r->w.steps;
	res->first_step = r->w.first_step;
	res->after_step = r->after_step;
	res->fts_selected = r->fts;
	res->fts_used = r->fts_used;
	res->updates = r->updates;
	res->polls = r->polls;
	res->final_freq = r->w.kfreq;
	res->correction = r->w.corr;
}

static int
scenario_ok(const struct sim_scenario *sc)
{
	return sc != NULL && sc->nservers >= 1 &&
	    sc->nservers <= SIM_MAX_SERVERS && sc->minpoll >= POLL_MIN &&
	    sc->minpoll <= sc->maxpoll && sc->maxpoll <= POLL_MAX &&
	    sc->duration > 0 && sc->duration < 1e7 && sc->jitter >= 0 &&
	    sc->delay_out >= 0 && sc->delay_back >= 0 && sc->wander >= 0;
}

/* The true time of the engine's next timer, or of the next second. */
static double
next_event(const struct run *r, double next_sec)
{
	uint64_t	timer = glue_next(&r->g), mono;
	double		next = next_sec, dt;
	size_t		i;

	for (i = 0; i < r->sc->nservers; i++)
		if (r->fl[i].busy && r->fl[i].arrive < next)
			next = r->fl[i].arrive;
	if (timer == UINT64_MAX)
		return next;
	/* Monotonic time runs at the clock's rate, not at true time's. */
	mono = world_monotonic(&r->w);
	dt = 0;
	if (timer > mono)
		dt = fmax((double)(timer - mono) * 1e-9 /
		    (1 + world_rate(&r->w)), MIN_STEP);
	return fmin(next, r->w.t + dt);
}

/* engine_main(): replies first, then the timers. */
static void
engine_turn(struct run *r)
{
	uint64_t	now = world_monotonic(&r->w);
	size_t		i;

	for (i = 0; i < r->sc->nservers; i++)
		if (r->fl[i].busy && r->fl[i].arrive <= r->w.t) {
			r->fl[i].busy = 0;
			glue_receive(&r->g, i, r->fl[i].buf, NTP_HEADER_SIZE,
			    world_realtime(&r->w), now);
		}
	glue_run(&r->g, now);
}

int
sim_run(const struct sim_scenario *sc, uint64_t seed,
    const struct sim_opts *opts, struct sim_result *res)
{
	struct run		 r;
	struct glue_ops		 ops;
	double			 next_sec = 1, next;

	if (!scenario_ok(sc) || res == NULL)
		return -1;
	memset(&r, 0, sizeof(r));
	r.sc = sc;
	r.trace = opts != NULL ? opts->trace : NULL;
	r.bad_1ms = r.bad_100us = r.after_step = -1;
	world_init(&r.w, sc, seed, opts != NULL ? opts->kernel_log : NULL,
	    opts != NULL ? opts->log_origin : 0);
	memset(&ops, 0, sizeof(ops));
	ops.arg = &r;
	ops.realtime = op_realtime;
	ops.send = op_send;
	ops.adjust = op_adjust;
	ops.selected = op_selected;
	ops.updated = op_updated;
	glue_init(&r.g, sc, seed, &ops, world_monotonic(&r.w));

	sample(&r);
	while (r.w.t < sc->duration) {
		next = next_event(&r, next_sec);
		world_advance(&r.w, next);
		if (next >= next_sec) {
			world_wander(&r.w);
			sample(&r);
			next_sec += 1;
		}
		engine_turn(&r);
	}
	results(&r, res);
	return 0;
}
