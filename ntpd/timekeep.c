/*
 * The RTC, the last-known time and the time zone, in the parent.
 *
 * The RTC is kept in UTC and written only while the sources say the
 * clock is right, so that a machine that reboots comes back near the
 * right time even before the network is up; machines without an RTC get
 * the same from the last-known-time file, which can only move the clock
 * forward (a clock that is behind it is certainly wrong; one ahead of it
 * may be right).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auditlog.h"
#include "clock.h"
#include "log.h"
#include "rtc.h"
#include "timekeep.h"
#include "tz.h"

static char	 rtc_path[PATH_MAX];
static char	 lastknown_path[PATH_MAX];
static int	 rtc_said;		/* its absence or failure, once */
static time_t	 last_write = -1;	/* monotonic s; -1: never */

/* The RTC's time, or -1 (absent: said once; failures: said once too). */
static int
read_rtc(time_t *t)
{
	int	 fd, saved;

	if (rtc_path[0] == '\0')
		return -1;
	if ((fd = rtc_open(rtc_path)) == -1) {
		if (!rtc_said && rtc_absent(errno))
			log_info("no RTC at %s: not used", rtc_path);
		else if (!rtc_said)
			log_warn("RTC %s", rtc_path);
		rtc_said = 1;
		return -1;
	}
	if (rtc_read(fd, t) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		if (!rtc_said)
			log_warn("reading the RTC %s", rtc_path);
		rtc_said = 1;
		return -1;
	}
	close(fd);
	return 0;
}

static void
step_at_start(time_t target, time_t now, const char *from)
{
	char	 offset[32];

	snprintf(offset, sizeof(offset), "%+lld", (long long)(target - now));
	if (clock_step_forward((double)(target - now)) == -1) {
		log_warn("cannot step the clock forward to the %s time", from);
		auditlog_event(AUDIT_EV_CLOCK_STEP, AUDIT_WHO_STARTUP,
		    "source", from, "offset", offset, "result", "failed",
		    "error", strerror(errno), NULL);
		return;
	}
	log_info("clock stepped forward by %s s to the %s time", offset,
	    from);
	auditlog_event(AUDIT_EV_CLOCK_STEP, AUDIT_WHO_STARTUP, "source", from,
	    "offset", offset, NULL);
}

static void
set_zone_at_start(const char *name)
{
	char	 msg[256];

	if (name[0] == '\0')
		return;
	if (timekeep_set_timezone(name, AUDIT_WHO_STARTUP, msg,
	    sizeof(msg)) == -1)
		log_warnx("time zone: %s", msg);
}

void
timekeep_start(const struct ntpd_conf *conf)
{
	time_t	 now, rtc_time = 0, lk_time = 0, target;
	int	 have_rtc, have_lk;

	timekeep_reconfigure(conf);
	set_zone_at_start(conf->timezone);
	if (!clock_controlled())
		return;
	have_rtc = read_rtc(&rtc_time) == 0;
	have_lk = lastknown_path[0] != '\0' &&
	    lastknown_read(lastknown_path, &lk_time) == 0;
	if (lastknown_path[0] != '\0' && !have_lk && errno != ENOENT)
		log_warn("last-known time %s: not used", lastknown_path);
	now = time(NULL);
	if (!startup_step(now, have_rtc, rtc_time, have_lk, lk_time, &target))
		return;
	step_at_start(target, now, have_rtc && rtc_time == target ? "rtc" :
	    "lastknown");
}

static void
write_times(void)
{
	time_t	 now = time(NULL);
	int	 fd;

	if (lastknown_path[0] != '\0' &&
	    lastknown_write(lastknown_path, now) == -1)
		log_warn("last-known time %s", lastknown_path);
	if (rtc_path[0] == '\0')
		return;
	if ((fd = rtc_open(rtc_path)) == -1) {
		if (!rtc_said)
			log_info("no RTC at %s: not written", rtc_path);
		rtc_said = 1;
		return;
	}
	if (rtc_write(fd, now) == -1 && !rtc_said) {
		log_warn("writing the RTC %s", rtc_path);
		rtc_said = 1;
	}
	close(fd);
}

void
timekeep_tick(void)
{
	time_t	 now = clock_monotonic_s();

	if (!rtc_due(now, last_write, clock_synced()))
		return;
	last_write = now;
	write_times();
}

void
timekeep_stop(void)
{
	if (lastknown_path[0] != '\0' && clock_synced() &&
	    lastknown_write(lastknown_path, time(NULL)) == -1)
		log_warn("last-known time %s", lastknown_path);
}

void
timekeep_reconfigure(const struct ntpd_conf *conf)
{
	if (strcmp(rtc_path, conf->rtc_path) != 0)
		rtc_said = 0;
	strlcpy(rtc_path, conf->rtc_path, sizeof(rtc_path));
	strlcpy(lastknown_path, conf->lastknown_file, sizeof(lastknown_path));
}

int
timekeep_set_timezone(const char *name, const char *who, char *msg,
    size_t len)
{
	char	 old[TZ_NAME_MAX + 1];

	if (!tz_name_valid(name)) {
		snprintf(msg, len, "not a valid time zone name");
		return -1;
	}
	if (tz_zone_check(TZ_ZONEINFO_DIR, name) == -1) {
		snprintf(msg, len, "%s: %s", name, errno == ENOENT ||
		    errno == ELOOP ? "no such zone in " TZ_ZONEINFO_DIR :
		    strerror(errno));
		return -1;
	}
	if (tz_current(TZ_LOCALTIME, TZ_ZONEINFO_DIR, old, sizeof(old)) == -1)
		strlcpy(old, "", sizeof(old));
	if (strcmp(old, name) == 0) {
		snprintf(msg, len, "the time zone is %s already", name);
		return 0;
	}
	if (tz_install(TZ_ZONEINFO_DIR, name, TZ_LOCALTIME) == -1) {
		snprintf(msg, len, "%s: %s", TZ_LOCALTIME, strerror(errno));
		auditlog_event(AUDIT_EV_TIMEZONE, who, "old", old, "new", name,
		    "result", "failed", "error", strerror(errno), NULL);
		return -1;
	}
	log_info("time zone set to %s (was %s)", name, old[0] != '\0' ? old :
	    "unknown");
	auditlog_event(AUDIT_EV_TIMEZONE, who, "old", old, "new", name, NULL);
	snprintf(msg, len, "time zone set to %s (was %s)", name,
	    old[0] != '\0' ? old : "unknown");
	return 0;
}
