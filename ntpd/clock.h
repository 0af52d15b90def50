/*
 * The parent's hold on the clock: the only code of the daemon that
 * changes it.  The engine asks (struct imsg_clock_adjust); the checks
 * here hold whatever the engine asks: at most one step, and only in the
 * first updates; no slew beyond the tolerance after the first update;
 * a frequency within the kernel's 500 ppm; a leap second armed only on
 * the last day of a month.  The checks are a function of their own, with
 * no I/O, so that they can be tested.
 */
#ifndef NTPD_CLOCK_H
#define NTPD_CLOCK_H

#include <stdint.h>
#include <time.h>

#include "config.h"
#include "ntpd.h"

struct clock_policy {
	unsigned int	 step_updates;	/* the first updates may step */
	double		 tolerance;	/* s after the first; 0: none */
	unsigned int	 updates;	/* adjustments done so far */
	int		 stepped;
};

enum clock_verdict {
	CLOCK_OK,
	CLOCK_REFUSE_MALFORMED,	/* not a number, bad action or leap */
	CLOCK_REFUSE_STEP,	/* a second step, or too late for one */
	CLOCK_REFUSE_TOLERANCE,	/* a slew beyond the tolerance */
};

/*
 * Judge an adjustment asked at now (UTC seconds).  On CLOCK_OK, *out is
 * what to do: the same, with the frequency clamped to 500 ppm and a leap
 * second kept only on the last day of a month.  The policy's counters
 * move only when clock_policy_done() says it was done.
 */
enum clock_verdict clock_policy_check(const struct clock_policy *,
		    const struct imsg_clock_adjust *, time_t now,
		    struct imsg_clock_adjust *out);
void		clock_policy_done(struct clock_policy *,
		    const struct imsg_clock_adjust *);
const char	*clock_verdict_str(enum clock_verdict);

/* Is the UTC day of t the last of its month? */
int		clock_last_day_of_month(time_t t);

/*
 * Start: read the kernel's frequency, or set it from the drift file.
 * control 0 (ntpd -x): read only, touch nothing.
 */
void		clock_start(const struct clock_cfg *, int control,
		    struct imsg_clock_init *);

/* Carry out an adjustment from the engine; fills the result. */
void		clock_adjust(const struct imsg_clock_adjust *,
		    struct imsg_clock_result *);

/*
 * The updates come every poll interval, 1024 s at most by default: a
 * synchronised state older than this is not relied on (RTC writes).
 */
#define CLOCK_SYNC_FRESH	3000	/* s */

/* CLOCK_MONOTONIC in whole seconds: the parent's timers. */
time_t		clock_monotonic_s(void);

/* Step forward by seconds at start (RTC, last-known time).  0 or -1. */
int		clock_step_forward(double seconds);
/* Does the daemon control the clock (not -x)? */
int		clock_controlled(void);
/* Did a recent update say the clock is synchronised? */
int		clock_synced(void);
/* A reload's new policy: the updates and step made so far still count. */
void		clock_reconfigure(const struct clock_cfg *);

/* Write the frequency in force to the drift file, if due or forced. */
void		clock_save_drift(int force);

/* Drift file: one line, the frequency in ppm. */
int		clock_drift_read(const char *path, double *ppm);
int		clock_drift_write(const char *path, double ppm);

#endif /* NTPD_CLOCK_H */
