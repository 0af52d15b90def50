/*
 * The per-source sample filter, with no I/O: the RFC 5905 clock filter
 * (the last eight replies, the one of least delay chosen, though a newer
 * one may win by its freshness: see filter.c), its dispersion, jitter
 * and root distance, the 8-bit reach register, and a popcorn spike
 * suppressor that still lets a real step through.
 *
 * Units.  Offsets, delays and dispersions are double seconds; offset is
 * server minus local, as RFC 5905's theta.  Times are the caller's
 * monotonic clock in nanoseconds (never the clock being disciplined):
 * dispersion grows with it.  A time that goes backwards counts as no
 * time passing.
 *
 * Memory.  A struct filter is plain data of fixed size: the caller holds
 * it (one per source), nothing is allocated, nothing is read from the
 * system.  Its members are private to filter.c, but for the two counters
 * at the end, which the caller may read for statistics.
 */
#ifndef NTPD_FILTER_H
#define NTPD_FILTER_H

#include <stdint.h>

#define FILTER_NSTAGES	8		/* samples kept */
#define FILTER_PHI	15e-6		/* frequency tolerance, s/s */
#define FILTER_AGING	(FILTER_PHI / 2) /* s/s: a stage's rank grows at
					   twice this (filter.c) */
#define FILTER_MAXDISP	16.0		/* dispersion of a missing sample, s */
#define FILTER_SGATE	3.0		/* spike gate, in jitters */
#define FILTER_CONFIRM	3		/* consistent spikes that make a step */

/* One reply, as the engine measured it. */
struct filter_sample {
	double		offset;		/* theta, s */
	double		delay;		/* round-trip delay, s */
	double		disp;		/* epsilon: precisions + PHI * rtt */
	uint64_t	t_ns;		/* local monotonic time of the sample */
	double		rootdelay;	/* the server's, s */
	double		rootdisp;	/* the server's, s */
	unsigned int	stratum;	/* the server's; 0 or >= 16: unsynced */
	unsigned int	leap;		/* the server's, enum ntp_leap */
};

/* What the filter makes of a reply. */
enum filter_verdict {
	FILTER_INVALID,		/* bad numbers: nothing changed, nor reach */
	FILTER_UNSYNC,		/* server unsynchronised: reach only */
	FILTER_HELD,		/* a spike: held until confirmed */
	FILTER_STORED,		/* kept; the estimate has no newer sample */
	FILTER_UPDATED,		/* kept; the estimate rests on a newer sample */
	FILTER_STEP,		/* spikes confirmed: the filter starts over */
};

/* The filtered state of a source, as of some time now. */
struct filter_est {
	double		offset;		/* of the sample chosen */
	double		delay;		/* its delay */
	double		disp;		/* filter dispersion, grown to now */
	double		jitter;		/* RMS offset difference, >= prec. */
	double		noise;		/* the network's part of a sample's
					   offset error: RMS of the delays
					   above the least, halved, >= prec. */
	double		rootdelay;	/* the server's, latest reply */
	double		rootdisp;	/* the server's, latest reply */
	double		rootdist;	/* delay/2 + disp + rootdelay/2 +
					   rootdisp + jitter */
	uint64_t	t_ns;		/* when the chosen sample was taken */
	unsigned int	nsamples;	/* real samples in the filter */
	unsigned int	stratum;	/* the server's, latest reply */
	unsigned int	leap;		/* the server's, latest reply */
	uint8_t		reach;
};

struct filter_stage {
	double		offset;
	double		delay;
	double		disp;
	uint64_t	t_ns;
	int		valid;		/* 0: empty, or a missed-poll dummy */
	int		missed;		/* the dummy of a missed poll */
};

struct filter {
	struct filter_stage	stage[FILTER_NSTAGES];	/* newest first */
	struct filter_stage	held[FILTER_NSTAGES];	/* oldest first */
	unsigned int		nheld;
	double			precision;
	double			rootdelay;
	double			rootdisp;
	double			drift;		/* s/s, filter_set_drift() */
	uint64_t		used_ns;	/* last update's sample */
	int			used;
	unsigned int		stratum;
	unsigned int		leap;
	uint8_t			reach;
	uint64_t		spikes;		/* replies held as spikes */
	uint64_t		steps;		/* steps taken (valve too) */
};

/*
 * An empty filter: no samples, reach 0, server unsynchronised.
 * precision is the local clock's, in seconds (e.g. 2^-20); it is the
 * floor of jitter and of delay.  A precision that is not a positive
 * number is taken as 1 ns.
 */
void			filter_init(struct filter *, double precision);

/*
 * A poll was answered.  Shifts a 1 into reach, takes the server's state
 * (stratum, leap, root delay and dispersion) and, unless the server is
 * unsynchronised or the sample a spike, keeps the sample, pushing out the
 * oldest.  A delay below precision (clock resolution) is taken as
 * precision.  FILTER_INVALID for a NULL pointer, a number that is not
 * finite, a negative dispersion or root value, a delay of MAXDISP or
 * more or below -MAXDISP, or leap above 3.
 *
 * Spikes.  Once the filter holds 3 samples, a sample whose offset is
 * further from the estimate than SGATE jitters (plus half the delay it
 * has over the chosen sample) is held, not used.  FILTER_CONFIRM held samples
 * in a row that agree (on one side, spread narrower than their distance
 * from the estimate) are a step; so are FILTER_NSTAGES held in a row,
 * agreeing or not, for then it is the old estimate that has gone stale.
 * A step replaces the filter's samples with the held ones.  A sample that
 * is no spike drops what was held.
 *
 * FILTER_UPDATED and FILTER_STEP mean the estimate now rests on a sample
 * later than the one of the last such verdict: new information for the
 * clock discipline.  FILTER_STORED means it does not (the new sample had
 * more delay than one already there, by more than the newer one's
 * freshness makes up for: 2 * FILTER_AGING a second).
 */
enum filter_verdict	filter_add(struct filter *,
			    const struct filter_sample *);

/*
 * A poll went unanswered (or the answer was refused).  Shifts a 0 into
 * reach; from the third miss in a row on, each miss also pushes a dummy
 * of MAXDISP dispersion into the filter (RFC 5905), so a silent source's
 * samples age out with its reach.
 */
void			filter_miss(struct filter *);

/*
 * The local clock was moved by doffset seconds (positive: forward), by
 * a slew or a step: every kept and held offset was measured against the
 * clock before, and becomes doffset smaller.
 */
void			filter_adjust(struct filter *, double doffset);

/*
 * How fast the local clock may drift from the source's between samples,
 * in s/s: the spike gate widens by that much for each second from the
 * chosen sample to the new one.  0 from filter_init(), for a clock whose
 * frequency is measured: what wander is left shows in the jitter.
 * FILTER_PHI while it is not (after the start, or a change of
 * frequency), when the clock may drift by more between two polls than
 * the gate is wide, and samples would be held as spikes until they
 * looked like a step.  A rate that is not a finite number >= 0 is taken
 * as 0.
 */
void			filter_set_drift(struct filter *, double rate);

/* Forget the samples and what was held; reach and server state stay. */
void			filter_reset(struct filter *);

/*
 * The estimate as of now_ns, into est.  -1 (est untouched) when the
 * filter has no sample.  The server's stratum and leap are reported as
 * they are: judging them is the selection's business.
 */
int			filter_estimate(const struct filter *, uint64_t now_ns,
			    struct filter_est *est);

uint8_t			filter_reach(const struct filter *);

/* Any of the last 8 polls answered. */
int			filter_reachable(const struct filter *);

#endif /* NTPD_FILTER_H */
