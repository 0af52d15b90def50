/*
 * The clock discipline, with no I/O: from the combined offset of each
 * selection it decides what to ask of the clock (a step, a slew, a
 * frequency), and it keeps the account of every correction made so that
 * it can tell the clock's own drift from its corrections.
 *
 * Signs: an offset is the sources' time minus ours, so a positive offset
 * means our clock is behind and must be advanced by that much.  A
 * frequency is in ppm; a larger one makes the clock run faster.
 *
 * How it steers (chosen over the kernel PLL because each part can be
 * simulated and bounded on its own, and the parent can check each one):
 *   - every update appends (t, offset + corrections so far) to a short
 *     history: the offset the clock would show had nothing been done.
 *     Its slope, by least squares, is the frequency error; the frequency
 *     in force becomes the one at start plus that slope;
 *   - the offset left is handed to the kernel as a slew (adjtime-style,
 *     500 ppm), replacing what was left of the previous one;
 *   - at most one step: in the first step_updates updates, when the
 *     offset is beyond step_threshold.  Never afterwards, so the clock
 *     never goes back once running;
 *   - after the first update, an offset beyond the tolerance is refused:
 *     counted, and nothing is done with it.
 * Times are the caller's monotonic seconds.
 */
#ifndef NTPD_DISCIPLINE_H
#define NTPD_DISCIPLINE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Updates in the frequency fit.  More average more noise away, fewer
 * follow a wandering frequency sooner: in make bench-sim, 16 gave 2.9 us
 * RMS at a fixed poll of 16 s and 7 us on the adaptive poll, 24 gives
 * 2.6 and 11 us, 32 gives 2.6 and 15 us.
 */
#define DISC_HISTORY		24
#define DISC_MAX_FREQ		500.0	/* ppm, the kernel's bound */
#define DISC_SLEW_RATE		500e-6	/* s/s, the kernel's adjtime rate */
#define DISC_SYNC_MAX_OFFSET	0.128	/* s: further is not "synchronised" */

struct discipline_conf {
	double		step_threshold;	/* s; 0.1 */
	unsigned int	step_updates;	/* updates that may step; 3, 0 never */
	double		tolerance;	/* s after the first update; 0: none */
	int		control;	/* 0: compute only (ntpd -x) */
};

enum discipline_action {
	DISC_NONE,		/* nothing to do to the clock */
	DISC_SLEW,		/* slew by offset, set freq */
	DISC_STEP,		/* step by offset, set freq */
	DISC_REFUSE,		/* beyond the tolerance: nothing done */
};

/* What the clock is to be asked, from one update. */
struct discipline_cmd {
	enum discipline_action	action;
	double			offset;	/* s: step or slew by this much */
	double			freq;	/* ppm: the frequency to set */
};

struct discipline_point {
	double		t;		/* s, monotonic */
	double		u;		/* offset plus corrections up to t */
	double		w;		/* weight */
};

struct discipline {
	struct discipline_conf	conf;
	double		freq0;		/* ppm in force at start */
	double		freq;		/* ppm in force now */
	double		skew;		/* ppm: standard error of the fit */
	/* The account of corrections: steps and finished slews in base,
	   the frequency's integral up to base_t, and the slew running. */
	double		base;
	double		base_t;
	double		phase;		/* steps and finished slews */
	double		slew;		/* s asked at slew_t */
	double		slew_t;
	struct discipline_point	hist[DISC_HISTORY];
	size_t		nhist;
	unsigned int	outliers;	/* newest points off the fit in a row */
	uint64_t	updates;	/* accepted updates */
	uint64_t	steps;
	uint64_t	refused;
	double		last_refused;	/* s */
	double		last_offset;	/* s, the last offset corrected */
};

/* Defaults: step 0.1 s in 3 updates, no tolerance, clock control on. */
void	discipline_conf_init(struct discipline_conf *);

/* freq0: the frequency in force at start (kernel, drift file). */
void	discipline_init(struct discipline *, const struct discipline_conf *,
	    double freq0);

/*
 * One update at t: offset is the combined offset of the selection (s),
 * jitter its jitter.  Fills cmd with what to ask of the clock; the
 * caller asks, and reports what was done with discipline_applied().
 * Without clock control cmd is DISC_NONE: the offsets are the clock's
 * own, and freq becomes the frequency the clock would need.  Returns
 * -1 (EINVAL) for a non-finite argument or a negative jitter.
 */
int	discipline_update(struct discipline *, double t, double offset,
	    double jitter, struct discipline_cmd *cmd);

/*
 * What the clock was made to do at t: a step or slew of offset (0 when
 * refused or failed), the frequency in force (ppm).
 */
void	discipline_applied(struct discipline *, double t,
	    enum discipline_action, double offset, double freq);

/*
 * Is the frequency in force measured: do the updates since the start,
 * or since the clock's frequency was last seen to change, span enough
 * for a fit?  Until then the clock runs with the error it had at start.
 */
int	discipline_freq_known(const struct discipline *);

/* Corrections made to the clock from the start up to t (s). */
double	discipline_correction(const struct discipline *, double t);

/*
 * Of those, the steps and slews only: what moved the clock against its
 * sources.  The frequency's part is left out on purpose: it cancels the
 * oscillator's own error, which no sample ever saw, so samples already
 * taken are shifted by this and not by the whole correction.
 */
double	discipline_phase(const struct discipline *, double t);

/* The offset left to slew at t (s): what the clock is still off by. */
double	discipline_residual(const struct discipline *, double t);

#endif /* NTPD_DISCIPLINE_H */
