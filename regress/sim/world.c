/*
 * The simulated world: see world.h.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "ntp.h"
#include "ntpd.h"
#include "rng.h"
#include "sim.h"
#include "world.h"

#define EPOCH		1700000000LL	/* Unix time at t = 0 */
#define MONO_START	1000.0		/* s: CLOCK_MONOTONIC at t = 0 */
#define SLEW_RATE	500e-6		/* s/s: the kernel's singleshot rate */
#define RNG_CLOCK	1		/* streams of rng_seed() */
#define RNG_NET		2

void
world_init(struct world *w, const struct sim_scenario *sc, uint64_t seed,
    FILE *log, int64_t log_origin)
{
	memset(w, 0, sizeof(*w));
	w->sc = sc;
	w->off = sc->offset0;
	w->drift = sc->freq;
	w->first_step = -1;
	w->policy.step_updates = sc->step_updates;
	w->policy.tolerance = sc->tolerance;
	w->log = log;
	w->log_origin = log_origin;
	rng_seed(&w->rng_clock, seed, RNG_CLOCK);
	rng_seed(&w->rng_net, seed, RNG_NET);
}

/*
 * The oscillator's error is constant between whole seconds, so this is
 * exact over any span within one; the slew runs at its rate until done.
 */
void
world_advance(struct world *w, double t)
{
	double	dt = t - w->t, s;

	if (dt <= 0)
		return;
	w->off += (w->drift + w->kfreq) * 1e-6 * dt;
	w->corr += w->kfreq * 1e-6 * dt;
	s = fmin(fabs(w->slew), SLEW_RATE * dt);
	s = w->slew < 0 ? -s : s;
	w->off += s;
	w->corr += s;
	w->slew -= s;
	w->t = t;
}

void
world_wander(struct world *w)
{
	w->drift += w->sc->wander * rng_normal(&w->rng_clock);
}

double
world_rate(const struct world *w)
{
	double	r = (w->drift + w->kfreq) * 1e-6;

	if (w->slew > 0)
		r += SLEW_RATE;
	else if (w->slew < 0)
		r -= SLEW_RATE;
	return r;
}

uint64_t
world_monotonic(const struct world *w)
{
	/* Linux: slewed with the realtime clock, but never stepped. */
	return (uint64_t)llround((MONO_START + w->t + w->off - w->sc->offset0 -
	    w->stepped) * 1e9);
}

/* A clock reading x (s from t = 0) as the kernel gives it: whole ns. */
static struct ntp_ts
ntp_time(double x)
{
	struct timespec	ts;
	double		whole = floor(x);
	long		ns = lround((x - whole) * 1e9);

	ts.tv_sec = (time_t)(EPOCH + (long long)whole);
	if (ns >= 1000000000L) {
		ts.tv_sec++;
		ns -= 1000000000L;
	}
	ts.tv_nsec = ns;
	return ntp_ts_from_timespec(&ts);
}

struct ntp_ts
world_realtime(const struct world *w)
{
	return ntp_time(w->t + w->off);
}

static void
world_log(const struct world *w, const char *kind, double value)
{
	if (w->log == NULL)
		return;
	fprintf(w->log, "%lld %s %.9f\n", (long long)(w->log_origin +
	    llround(w->t * 1e9)), kind, value);
}

/* clock.c's kernel_set_freq(): the kernel keeps ppm in 16.16. */
static void
kernel_set_freq(struct world *w, double ppm)
{
	w->kfreq = (double)lround(ppm * 65536.0) / 65536.0;
	world_log(w, "freq", w->kfreq);
}

/* ADJ_SETOFFSET | ADJ_NANO: whole nanoseconds. */
static double
kernel_step(struct world *w, double offset)
{
	double	whole = floor(offset), step;

	step = whole + (double)lround((offset - whole) * 1e9) / 1e9;
	w->off += step;
	w->corr += step;
	w->stepped += step;
	if (w->steps++ == 0)
		w->first_step = w->t;
	world_log(w, "step", step);
	return step;
}

/* ADJ_OFFSET_SINGLESHOT: microseconds; replaces what was left. */
static double
kernel_slew(struct world *w, double offset)
{
	w->slew = (double)lround(offset * 1e6) / 1e6;
	world_log(w, "slew", w->slew);
	return w->slew;
}

/*
 * clock.c's clock_adjust() with clock control on: the same policy
 * check, then the kernel calls in its order.  The status word, esterror
 * and maxerror have no part in the clock's time and are left out.
 */
void
world_adjust(struct world *w, const struct imsg_clock_adjust *req,
    struct imsg_clock_result *res)
{
	struct imsg_clock_adjust	a;

	memset(res, 0, sizeof(*res));
	res->freq = w->freq_now;
	/* A day that is not the last of its month: no leap is armed. */
	if (clock_policy_check(&w->policy, req, (time_t)EPOCH, &a) !=
	    CLOCK_OK) {
		res->refused = 1;
		return;
	}
	kernel_set_freq(w, a.freq);
	w->freq_now = a.freq;
	res->freq = a.freq;
	if (a.action == CLOCK_STEP) {
		(void)kernel_step(w, a.offset);
		res->offset = a.offset;
	} else
		res->offset = kernel_slew(w, a.offset);
	clock_policy_done(&w->policy, &a);
	res->action = a.action;
	res->leap = a.leap;
}

double
world_exchange(struct world *w, unsigned int i, const void *req,
    size_t len, unsigned char *reply)
{
	const struct sim_scenario	*sc = w->sc;
	struct ntp_packet		 q, p;
	double				 arrive, back;

	if (i >= sc->nservers || ntp_decode(req, len, &q) == -1 ||
	    q.mode != NTP_MODE_CLIENT)
		return -1;
	arrive = w->t + sc->delay_out + rng_exp(&w->rng_net, sc->jitter);
	back = sc->delay_back + rng_exp(&w->rng_net, sc->jitter);

	/* A stratum 1 server with a perfect clock (but a liar's offset). */
	memset(&p, 0, sizeof(p));
	p.leap = NTP_LEAP_NONE;
	p.version = q.version;
	p.mode = NTP_MODE_SERVER;
	p.stratum = 1;
	p.poll = q.poll;
	p.precision = SIM_PRECISION;
	p.root_delay = ntp_short_from_double(0);
	p.root_dispersion = ntp_short_from_double(10e-6);
	memcpy(p.refid, "GPS", 4);
	p.reference = ntp_time(arrive + sc->server_offset[i] - 8);
	p.origin = q.transmit;
	p.receive = ntp_time(arrive + sc->server_offset[i]);
	p.transmit = p.receive;
	if (ntp_encode(&p, reply, NTP_HEADER_SIZE) == -1)
		return -1;
	return arrive + back;
}
