/*
 * The hardware clock and the last known good time.  The parent writes
 * the system time to the RTC (kept in UTC) every RTC_INTERVAL while
 * synchronised, and refreshes the last-known file; at startup, before
 * any network sync, startup_step() says whether either shows the
 * system clock to be behind, and so where to step it forward to.
 */
#ifndef NTPD_RTC_H
#define NTPD_RTC_H

#include <time.h>

#define RTC_DEFAULT_PATH	"/dev/rtc0"
#define LASTKNOWN_DEFAULT_PATH	"/var/lib/ntpd/lastknown"

/* 11 minutes, the kernel's own cadence for its RTC updates. */
#define RTC_INTERVAL		660

/* What an RTC may hold, and a last-known time may say: 1970..2099 UTC. */
#define RTC_TIME_MIN		0LL
#define RTC_TIME_MAX		4102444799LL	/* 2099-12-31 23:59:59 */

/*
 * A clock is stepped only when it is more than this behind: the RTC and
 * time_t both count whole seconds, so two readings of clocks that agree
 * differ by up to 1 s, and an RTC set at a whole second lags by up to
 * one more.  Errors this small are the network sync's to correct.
 */
#define STARTUP_STEP_MARGIN	2

/*
 * Open an RTC device, read-only (the RTC_SET_TIME ioctl needs
 * CAP_SYS_TIME, not write access).  The device admits one opener at a
 * time, so open, use, close.  -1 with errno: see rtc_absent(); ENOTTY
 * for a path that is not a character device.
 */
int	rtc_open(const char *path);

/* Is this open(2) errno the plain absence of an RTC, not a failure? */
int	rtc_absent(int err);

/*
 * RTC_RD_TIME and RTC_SET_TIME, the RTC in UTC.  0, or -1 with errno:
 * what the ioctl says (ENOTTY: not an RTC; EINVAL: the RTC holds no
 * valid time; EACCES: no CAP_SYS_TIME), ERANGE outside RTC_TIME_MIN..
 * RTC_TIME_MAX, EINVAL for fields that make no date.  The RTC counts
 * whole seconds: rtc_write() stores t as it is, so a caller should pass
 * the nearest second.
 */
int	rtc_read(int fd, time_t *t);
int	rtc_write(int fd, time_t t);

/* UTC broken-down time <-> time_t, with the range checks of the above. */
int	rtc_tm_to_time(const struct tm *tm, time_t *t);
int	rtc_time_to_tm(time_t t, struct tm *tm);

/*
 * The last-known file: one line, the time in decimal seconds since the
 * epoch, "1763755200\n", nothing else.  Read: 0, or -1 with errno
 * (ENOENT, EINVAL for anything but that line, ERANGE, ELOOP for a
 * symbolic link).  Write: replaced as a whole, by a temporary file,
 * fsync(2), rename(2) and an fsync(2) of the directory; -1 if any of
 * these fails, and then the old file is intact unless only that last
 * directory sync failed.
 */
int	lastknown_read(const char *path, time_t *t);
int	lastknown_write(const char *path, time_t t);

/*
 * Sans-IO: given the system time now and what the RTC and the last-known
 * file say (when have_*), 1 and *target set to the later of the two if
 * now is more than STARTUP_STEP_MARGIN behind it; 0 otherwise, *target
 * untouched.  Never backwards; times outside RTC_TIME_MIN..RTC_TIME_MAX
 * are ignored.
 */
int	startup_step(time_t now, int have_rtc, time_t rtc_time,
	    int have_lastknown, time_t lastknown_time, time_t *target);

/*
 * Sans-IO: is an RTC write (and a last-known refresh) due?  Monotonic
 * seconds; last_write < 0 means never.  Only while synced; then at once
 * the first time, and every RTC_INTERVAL after.
 */
int	rtc_due(time_t now_monotonic, time_t last_write_monotonic,
	    int synced);

#endif /* NTPD_RTC_H */
