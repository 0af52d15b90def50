/*
 * The simulated world around the engine: the client's clock and its
 * kernel, the parent's hold on them (ntpd/clock.c's clock_adjust(), with
 * its real policy check), and the servers with the paths to them.
 * See sim.h for the clocks and their signs.
 */
#ifndef NTPD_SIM_WORLD_H
#define NTPD_SIM_WORLD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "clock.h"
#include "ntp.h"
#include "ntpd.h"
#include "rng.h"
#include "sim.h"

struct world {
	const struct sim_scenario *sc;
	double		 t;		/* true time, s */
	double		 off;		/* client's reading minus t, s */
	double		 drift;		/* ppm: the oscillator's error now */
	double		 kfreq;		/* ppm: in the kernel, as it keeps it */
	double		 slew;		/* s the singleshot slew has left */
	double		 stepped;	/* s: the steps' sum */
	double		 corr;		/* s: all the kernel did, vclock's V */
	/* The parent (ntpd/clock.c). */
	struct clock_policy policy;
	double		 freq_now;	/* ppm, as clock.c reports it */
	unsigned int	 steps;
	double		 first_step;	/* s, -1: none */
	struct rng	 rng_clock;
	struct rng	 rng_net;
	FILE		*log;		/* clockshim.so's format, or NULL */
	int64_t		 log_origin;	/* ns: t = 0 in the log */
};

void		world_init(struct world *, const struct sim_scenario *,
		    uint64_t seed, FILE *log, int64_t log_origin);
/* Let true time run to t, no further than the next whole second. */
void		world_advance(struct world *, double t);
/* A whole second has passed: the oscillator's random step. */
void		world_wander(struct world *);
/* d(reading)/dt - 1 now, slew included. */
double		world_rate(const struct world *);
/* The engine's CLOCK_MONOTONIC and CLOCK_REALTIME now. */
uint64_t	world_monotonic(const struct world *);
struct ntp_ts	world_realtime(const struct world *);
/* The parent: carry out an adjustment as clock_adjust() does. */
void		world_adjust(struct world *, const struct imsg_clock_adjust *,
		    struct imsg_clock_result *);
/*
 * A request to server i leaves now: *reply (NTP_HEADER_SIZE bytes) is
 * the server's answer.  Returns the true time it reaches the client, or
 * -1 when the request is not one a server would answer.
 */
double		world_exchange(struct world *, unsigned int i,
		    const void *req, size_t len, unsigned char *reply);

#endif /* NTPD_SIM_WORLD_H */
