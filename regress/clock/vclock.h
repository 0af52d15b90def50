/*
 * The virtual clock of the tests: a model of what the clock calls that
 * clockshim.so records would have done to a real kernel clock.  No I/O
 * in the model itself; vclock_parse_file() only reads a log into memory.
 *
 * Three clocks, all read at the same instant t:
 *
 *	real(t)		this machine's CLOCK_REALTIME.  No test ever changes
 *			it; every time in the log and in this model is a
 *			real time in nanoseconds.
 *	local(t)	the clock the daemon would have if its calls had
 *			reached a kernel:
 *			    local(t) = real(t) + drift(t) + V(t)
 *	true(t)		the upstream's time: real(t) + o (fakentp -o o).
 *
 * V(t), the correction, is what the daemon's own calls added: the sum of
 * its steps, the integral of the kernel frequency, and the singleshot
 * slews done so far.  drift(t) = d * 1e-6 * (t - origin) is the natural
 * error of an oscillator running fast by d ppm (fakentp -d d).
 *
 * The daemon measures offset = true - local: positive when the local
 * clock is behind and must go forward.  But it reads real(t), not
 * local(t) (the shim changes no clock), so fakentp -c serves
 *
 *	served(t) = real(t) + o - drift(t) - V(t)
 *
 * and the daemon measures served - real = o - drift - V = true - local.
 * A daemon whose reads the shim shifts by s (NTPD_CLOCKSHIM_SHIFT) lives
 * on another date: real(t) + s for it, and fakentp -o s for its
 * upstream; the log and this model stay in real time.
 *
 * Signs are the kernel's, all positive meaning "local goes forward":
 *	step +x		local jumps forward by x seconds: V += x.
 *	freq +f ppm	local runs fast: V grows by f * 1e-6 s per second.
 *	slew +x		local goes forward by x seconds, at 500 us per
 *			second (2000 * |x| seconds); a new slew replaces
 *			whatever the previous one had not done yet.
 *	drift +d ppm	the oscillator runs fast; a kernel frequency of
 *			-d ppm compensates it exactly.
 * So a daemon that measures +theta corrects with a step or slew of
 * +theta, and for an oscillator fast by d ppm it should end up with a
 * frequency of -d ppm.
 *
 * The log, one event per line, as clockshim.so writes it:
 *	<real ns> <kind> <value>
 *	freq	 ppm now in force, %.9f
 *	slew	 seconds requested (singleshot), %.9f
 *	step	 seconds, %.9f
 *	status	 the kernel status word after the call, 0x%04x
 *	maxerror, esterror	microseconds, decimal
 *	denied	 the name of a call that was refused with EPERM
 *	rtcset	 Unix seconds written to the RTC, decimal
 * Fields are separated by one space.  A last line without its newline is
 * a write in progress and is ignored.
 */
#ifndef NTPD_VCLOCK_H
#define NTPD_VCLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define VCLOCK_MAX_EVENTS	(1 << 20)
#define VCLOCK_NAME_MAX		32	/* a denied call's name, with NUL */

enum vclock_kind {
	VCLOCK_FREQ,
	VCLOCK_SLEW,
	VCLOCK_STEP,
	VCLOCK_STATUS,
	VCLOCK_MAXERROR,
	VCLOCK_ESTERROR,
	VCLOCK_DENIED,
	VCLOCK_RTCSET,
};

struct vclock_event {
	int64_t		 time;		/* real ns */
	enum vclock_kind kind;
	/*
	 * freq: 1e-9 ppm; slew, step: ns; status, maxerror, esterror,
	 * rtcset: as written; denied: 0.
	 */
	int64_t		 value;
	char		 name[VCLOCK_NAME_MAX];	/* denied */
	size_t		 line;
};

struct vclock {
	struct vclock_event	*ev;	/* sorted by time, then line */
	size_t			 nev;
	size_t			 cap;
	double			 freq0;	/* ppm in force from origin on */
	int64_t			 origin; /* real ns: frequency counts from */
	size_t			 errline; /* after a failed parse; 0: none */
	const char		*errstr;
};

/* The state at one instant. */
struct vclock_sum {
	double		 correction;	/* V(t), seconds */
	double		 freq;		/* ppm in force */
	double		 slew_left;	/* seconds the last slew has to go */
	size_t		 steps;		/* how many steps so far */
	double		 stepped;	/* their sum, seconds */
};

/*
 * freq0 is the kernel frequency (ppm) before the first freq event (as
 * NTPD_CLOCKSHIM_FREQ); it and every later frequency count from origin
 * (real ns) on, never before it.
 */
void	vclock_init(struct vclock *, double freq0, int64_t origin);
void	vclock_free(struct vclock *);

/*
 * Replace the events by those of a log.  0, or -1 with errline (the
 * first malformed line; 0 when out of memory) and errstr set and no
 * events kept.
 */
int	vclock_parse(struct vclock *, const char *buf, size_t len);
/* The same from a stream, read to its end. */
int	vclock_parse_file(struct vclock *, FILE *);

/* The state at real time t (ns): only events at or before t count. */
void	vclock_at(const struct vclock *, int64_t t, struct vclock_sum *);
/* V(t) in seconds. */
double	vclock_correction(const struct vclock *, int64_t t);

#endif /* NTPD_VCLOCK_H */
