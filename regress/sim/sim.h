/*
 * An accelerated simulation of the daemon's clock synchronisation: the
 * engine's own modules (exchange, filter, select, discipline, and the
 * parent's clock policy) driven in the order client.c and sync.c drive
 * them, against a simulated client clock and kernel, network and
 * servers.  Nothing sleeps and no real clock is read or touched: a
 * simulated day takes a fraction of a second.
 *
 * Clocks.  t is true time, seconds from the start of the run.  The
 * client's clock reads t + off(t); off grows with the oscillator's
 * error (a fixed frequency error plus a random walk) and with what the
 * kernel is asked to do (frequency, singleshot slew at 500 ppm, step),
 * as ntpd/clock.c asks it.  Signs as in vclock.h: off > 0 means the
 * client's clock is ahead, and the daemon then measures a negative
 * offset.
 *
 * Reproducible: every random number comes from a seeded generator
 * (rng.c), one stream per purpose, so a seed gives the same run on any
 * machine, and a change in one part does not reshuffle the others.
 */
#ifndef NTPD_SIM_H
#define NTPD_SIM_H

#include <stdint.h>
#include <stdio.h>

#define SIM_MAX_SERVERS	8
#define SIM_SETTLE	1000.0	/* s: figures are taken after this */
#define SIM_PRECISION	(-25)	/* log2 s: what engine_clock_precision()
				   finds on a current x86 machine; the
				   servers say the same */

/* The figures chrony 4.3 gave in clknetsim (NAN: not given). */
struct sim_ref {
	double		rms;		/* s */
	double		max;		/* s */
	double		spread;		/* s */
	double		steps;
	double		first_step;	/* s */
	double		after_step;	/* s: |offset| just after */
	double		fts_selected;	/* seeds where a liar was used */
	const char	*note;
};

struct sim_scenario {
	const char	*name;		/* for -S */
	const char	*title;
	/* The client's clock. */
	double		 freq;		/* ppm: the oscillator's error */
	double		 wander;	/* ppm: sigma of its step each second */
	double		 offset0;	/* s: off(0) */
	/* Servers, and the path to each (the same for all). */
	unsigned int	 nservers;
	double		 server_offset[SIM_MAX_SERVERS]; /* s: a liar's */
	double		 delay_out;	/* s: client to server, base */
	double		 delay_back;	/* s: server to client, base */
	double		 jitter;	/* s: mean exponential extra, each way */
	/* The daemon's configuration. */
	int		 minpoll;
	int		 maxpoll;
	int		 iburst;
	double		 step_threshold;	/* makestep */
	unsigned int	 step_updates;
	double		 tolerance;		/* 0: none */
	unsigned int	 min_sources;
	double		 duration;	/* s */
	struct sim_ref	 ref;
};

struct sim_result {
	/* Of off(t) at each second from SIM_SETTLE on. */
	double		 rms;		/* s */
	double		 max;		/* s, of |off| */
	double		 mean;		/* s */
	double		 spread;	/* s: RMS of off - mean */
	double		 freq_rms;	/* ppm: oscillator + kernel, vs true */
	/* From the start. */
	double		 settle_1ms;	/* s: |off| < 1 ms from then on; -1 */
	double		 settle_100us;	/* s: the same for 100 us */
	unsigned int	 steps;
	double		 first_step;	/* s, -1: none */
	double		 after_step;	/* s: |off| the second after; -1 */
	uint64_t	 fts_selected;	/* selections with a liar combined */
	uint64_t	 fts_used;	/* clock updates from such selections */
	uint64_t	 updates;	/* clock updates asked */
	uint64_t	 polls;		/* requests sent */
	double		 final_freq;	/* ppm: the kernel's at the end */
	double		 correction;	/* s: all the kernel did (vclock's V) */
};

/* Optional outputs of a run. */
struct sim_opts {
	FILE		*trace;		/* a line per clock update */
	FILE		*kernel_log;	/* clockshim.so's log format */
	int64_t		 log_origin;	/* ns: true time 0 in that log */
};

/* The scenarios of the benchmark, NULL-name terminated. */
extern const struct sim_scenario sim_scenarios[];

const struct sim_scenario *sim_scenario_find(const char *name);

/* One run; opts may be NULL.  Returns 0, or -1 for a bad scenario. */
int	sim_run(const struct sim_scenario *, uint64_t seed,
	    const struct sim_opts *, struct sim_result *);

#endif /* NTPD_SIM_H */
