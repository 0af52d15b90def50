/*
 * A source's poll interval, with no I/O.
 *
 * It grows while the source's samples are what the network's noise
 * explains, and shrinks when they are not: the clock's own frequency
 * wanders, and the longer the interval, the further it has gone by the
 * next sample.  So the interval settles where the wander between two
 * samples is about the noise: short on a quiet LAN, long over a noisy
 * path, where a longer interval costs nothing the noise had not already
 * taken.
 *
 * A sample's error is how far the source's estimate moved since its
 * last one, beyond the corrections made to the clock in between (the
 * filter's offsets follow those): what the clock drifted, plus noise.
 * The noise is the filter's (filter_est.noise), made of the delays'
 * spread, which the clock's wander does not inflate as it does the
 * offsets' jitter at long intervals.
 */
#ifndef NTPD_INTERVAL_H
#define NTPD_INTERVAL_H

#define INTERVAL_UP_AFTER	8	/* samples in a row that fit, then
					   twice as long */
#define INTERVAL_KOD_STEP	2	/* log2 s added by a RATE kiss */

struct interval {
	int	poll;		/* log2 s */
	int	fit;		/* samples in a row that fit */
};

/* At minpoll, nothing counted. */
void	interval_init(struct interval *, int minpoll);
/*
 * A sample that moved the source's estimate: error and noise in
 * seconds, as above.  One within the noise counts towards a longer
 * interval (up to maxpoll); one beyond it makes the interval shorter by
 * one step (down to minpoll).
 */
void	interval_sample(struct interval *, int minpoll, int maxpoll,
	    double error, double noise);
/* A sample the estimate did not take (it had more delay): it fits. */
void	interval_kept(struct interval *, int maxpoll);
/* A sample held as a spike, or from an unsynchronised server. */
void	interval_held(struct interval *);
/* A poll unanswered: shorter by one step, down to minpoll. */
void	interval_miss(struct interval *, int minpoll);
/* A RATE kiss: longer at once by INTERVAL_KOD_STEP, up to pollmax. */
void	interval_slow_down(struct interval *, int pollmax);

#endif /* NTPD_INTERVAL_H */
