/*
 * The parent's clock control: see clock.h.  Every change goes through
 * clock_adjtime(CLOCK_REALTIME): ADJ_FREQUENCY, ADJ_OFFSET_SINGLESHOT (the
 * kernel slews at 500 ppm until done), ADJ_SETOFFSET (one atomic step),
 * and ADJ_STATUS for the leap second and the synchronised flag.
 */
#include <sys/stat.h>
#include <sys/timex.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "discipline.h"
#include "log.h"
#include "ntp.h"
#include "syncdir.h"

#define DRIFT_SAVE_INTERVAL	3600	/* s between saves while running */
#define DRIFT_LINE_MAX		64

static struct clock_policy	 policy;
static struct clock_cfg		 cfg;
static int			 control;
static double			 freq_now;
static int			 freq_known;	/* a frequency to save */
static time_t			 drift_saved;	/* monotonic s */
static int			 last_synced;	/* as the last update said */
static time_t			 last_update;	/* monotonic s; 0: none */

int
clock_last_day_of_month(time_t t)
{
	struct tm	 tm;
	time_t		 tomorrow = t + 86400;

	if (gmtime_r(&tomorrow, &tm) == NULL)
		return 0;
	return tm.tm_mday == 1;
}

const char *
clock_verdict_str(enum clock_verdict v)
{
	switch (v) {
	case CLOCK_OK:
		return "ok";
	case CLOCK_REFUSE_MALFORMED:
		return "malformed";
	case CLOCK_REFUSE_STEP:
		return "no step allowed now";
	case CLOCK_REFUSE_TOLERANCE:
		return "beyond the tolerance";
	}
	return "?";
}

enum clock_verdict
clock_policy_check(const struct clock_policy *p,
    const struct imsg_clock_adjust *req, time_t now,
    struct imsg_clock_adjust *out)
{
	if (!isfinite(req->offset) || !isfinite(req->freq) ||
	    !isfinite(req->esterror) || !isfinite(req->maxerror) ||
	    req->esterror < 0 || req->maxerror < 0 ||
	    (req->action != CLOCK_SLEW && req->action != CLOCK_STEP) ||
	    req->leap > NTP_LEAP_DEL || req->synced > 1 ||
	    fabs(req->offset) > TOLERANCE_MAX)
		return CLOCK_REFUSE_MALFORMED;
	if (req->action == CLOCK_STEP &&
	    (p->stepped || p->updates >= p->step_updates))
		return CLOCK_REFUSE_STEP;
	if (req->action == CLOCK_SLEW && p->updates > 0 &&
	    p->tolerance > 0 && fabs(req->offset) > p->tolerance)
		return CLOCK_REFUSE_TOLERANCE;
	*out = *req;
	if (out->freq > DISC_MAX_FREQ)
		out->freq = DISC_MAX_FREQ;
	if (out->freq < -DISC_MAX_FREQ)
		out->freq = -DISC_MAX_FREQ;
	if (!out->synced || !clock_last_day_of_month(now))
		out->leap = NTP_LEAP_NONE;
	return CLOCK_OK;
}

void
clock_policy_done(struct clock_policy *p, const struct imsg_clock_adjust *a)
{
	p->updates++;
	if (a->action == CLOCK_STEP)
		p->stepped = 1;
}

int
clock_drift_read(const char *path, double *ppm)
{
	char	 line[DRIFT_LINE_MAX], *end;
	FILE	*fp;
	double	 v;

	if ((fp = fopen(path, "re")) == NULL)
		return -1;
	if (fgets(line, sizeof(line), fp) == NULL) {
		fclose(fp);
		errno = EINVAL;
		return -1;
	}
	fclose(fp);
	errno = 0;
	v = strtod(line, &end);
	if (errno != 0 || end == line || (*end != '\n' && *end != '\0') ||
	    !isfinite(v) || fabs(v) > DISC_MAX_FREQ) {
		errno = EINVAL;
		return -1;
	}
	*ppm = v;
	return 0;
}

/* A new file beside the old, synced, then renamed over it. */
int
clock_drift_write(const char *path, double ppm)
{
	char	 tmp[PATH_MAX], line[DRIFT_LINE_MAX];
	int	 fd, len, saved;

	if (snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	len = snprintf(line, sizeof(line), "%.3f\n", ppm);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0644)) == -1)
		return -1;
	if (write(fd, line, (size_t)len) != len || fsync(fd) == -1) {
		saved = errno;
		close(fd);
		unlink(tmp);
		errno = saved == 0 ? EIO : saved;
		return -1;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		return -1;
	}
	return sync_parent_dir(path);
}

time_t
clock_monotonic_s(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static int
kernel_set_freq(double ppm)
{
	struct timex	 tx;

	memset(&tx, 0, sizeof(tx));
	tx.modes = ADJ_FREQUENCY;
	tx.freq = lround(ppm * 65536.0);
	return clock_adjtime(CLOCK_REALTIME, &tx) == -1 ? -1 : 0;
}

void
clock_start(const struct clock_cfg *c, int ctl, struct imsg_clock_init *ci)
{
	struct timex	 tx;
	double		 ppm;

	cfg = *c;
	control = ctl;
	memset(&policy, 0, sizeof(policy));
	policy.step_updates = c->step_updates;
	policy.tolerance = c->tolerance;
	memset(ci, 0, sizeof(*ci));
	ci->control = (uint32_t)control;

	memset(&tx, 0, sizeof(tx));
	if (clock_adjtime(CLOCK_REALTIME, &tx) == -1)
		log_warn("reading the kernel clock state");
	else
		ci->freq = (double)tx.freq / 65536.0;
	if (!control) {
		log_info("not controlling the clock (-x): measuring only");
		return;
	}
	if (c->drift_file[0] != '\0') {
		if (clock_drift_read(c->drift_file, &ppm) == 0) {
			if (kernel_set_freq(ppm) == -1)
				log_warn("setting the frequency from %s",
				    c->drift_file);
			else {
				ci->freq = ppm;
				ci->from_drift_file = 1;
				log_info("frequency %.3f ppm from %s", ppm,
				    c->drift_file);
			}
		} else if (errno != ENOENT)
			log_warn("drift file %s: not used", c->drift_file);
	}
	freq_now = ci->freq;
	drift_saved = clock_monotonic_s();
}

/* ADJ_SETOFFSET of offset seconds, in nanoseconds. */
static void
step_timex(struct timex *tx, double offset)
{
	double	 whole;

	tx->modes = ADJ_SETOFFSET | ADJ_NANO;
	whole = floor(offset);
	tx->time.tv_sec = (time_t)whole;
	tx->time.tv_usec = lround((offset - whole) * 1e9);
	if (tx->time.tv_usec >= 1000000000L) {
		tx->time.tv_sec++;
		tx->time.tv_usec -= 1000000000L;
	}
}

static void
fill_failed(struct imsg_clock_result *res, int error)
{
	res->action = 0;
	res->offset = 0;
	res->error = error;
}

void
clock_adjust(const struct imsg_clock_adjust *req,
    struct imsg_clock_result *res)
{
	struct imsg_clock_adjust	 a;
	enum clock_verdict		 v;
	struct timex			 tx;

	memset(res, 0, sizeof(*res));
	res->freq = freq_now;
	if (!control) {
		res->refused = 1;
		return;
	}
	if ((v = clock_policy_check(&policy, req, time(NULL), &a)) !=
	    CLOCK_OK) {
		log_warnx("clock: refused %s of %.6f s: %s",
		    req->action == CLOCK_STEP ? "a step" : "a slew",
		    req->offset, clock_verdict_str(v));
		res->refused = 1;
		return;
	}

	/* The frequency first: the offset is corrected on top of it. */
	if (kernel_set_freq(a.freq) == -1) {
		fill_failed(res, errno);
		return;
	}
	freq_now = a.freq;
	freq_known = 1;
	res->freq = a.freq;

	memset(&tx, 0, sizeof(tx));
	if (a.action == CLOCK_STEP) {
		step_timex(&tx, a.offset);
	} else {
		/* Alone: the kernel takes no other mode with it. */
		tx.modes = ADJ_OFFSET_SINGLESHOT;
		tx.offset = lround(a.offset * 1e6);
	}
	if (clock_adjtime(CLOCK_REALTIME, &tx) == -1) {
		fill_failed(res, errno);
		return;
	}
	clock_policy_done(&policy, &a);
	last_synced = a.synced != 0;
	last_update = clock_monotonic_s();
	res->action = a.action;
	res->offset = a.action == CLOCK_STEP ? a.offset :
	    (double)lround(a.offset * 1e6) / 1e6;
	if (a.action == CLOCK_STEP)
		log_info("clock stepped by %+.6f s", a.offset);

	memset(&tx, 0, sizeof(tx));
	tx.modes = ADJ_STATUS | ADJ_ESTERROR | ADJ_MAXERROR;
	tx.status = a.synced ? 0 : STA_UNSYNC;
	if (a.leap == NTP_LEAP_ADD)
		tx.status |= STA_INS;
	else if (a.leap == NTP_LEAP_DEL)
		tx.status |= STA_DEL;
	tx.esterror = lround(fmin(a.esterror, 16.0) * 1e6);
	tx.maxerror = lround(fmin(a.maxerror, 16.0) * 1e6);
	if (clock_adjtime(CLOCK_REALTIME, &tx) == -1)
		res->error = errno;
	else
		res->leap = a.leap;
	clock_save_drift(0);
}

void
clock_save_drift(int force)
{
	time_t	 now;

	if (!control || !freq_known || cfg.drift_file[0] == '\0')
		return;
	now = clock_monotonic_s();
	if (!force && now - drift_saved < DRIFT_SAVE_INTERVAL)
		return;
	drift_saved = now;
	if (clock_drift_write(cfg.drift_file, freq_now) == -1)
		log_warn("drift file %s", cfg.drift_file);
}

/*
 * The step at start from the RTC or the last-known time: forward only,
 * and outside the policy's one step, which is the sources' to use.
 */
int
clock_step_forward(double seconds)
{
	struct timex	 tx;

	if (!control || !(seconds > 0) || seconds > TOLERANCE_MAX) {
		errno = EINVAL;
		return -1;
	}
	memset(&tx, 0, sizeof(tx));
	step_timex(&tx, seconds);
	return clock_adjtime(CLOCK_REALTIME, &tx) == -1 ? -1 : 0;
}

int
clock_controlled(void)
{
	return control;
}

int
clock_synced(void)
{
	if (!control || !last_synced || last_update == 0)
		return 0;
	return clock_monotonic_s() - last_update <= CLOCK_SYNC_FRESH;
}

void
clock_reconfigure(const struct clock_cfg *c)
{
	cfg = *c;
	policy.step_updates = c->step_updates;
	policy.tolerance = c->tolerance;
}
