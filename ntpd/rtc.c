/*
 * The RTC through its character device, the last-known-time file, and
 * the two decisions around them, kept free of I/O for the tests.
 */

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/rtc.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rtc.h"
#include "syncdir.h"

/* "4102444799\n" and room to spot a longer file */
#define LASTKNOWN_BUF	32
#define LASTKNOWN_DIGITS 10	/* of RTC_TIME_MAX */

static int	time_in_range(time_t);
static int	write_all(int, const char *, size_t);

static int
time_in_range(time_t t)
{
	return (long long)t >= RTC_TIME_MIN && (long long)t <= RTC_TIME_MAX;
}

int
rtc_open(const char *path)
{
	struct stat	 st;
	int		 fd;

	if (path == NULL) {
		errno = EINVAL;
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISCHR(st.st_mode)) {
		close(fd);
		errno = ENOTTY;
		return -1;
	}
	return fd;
}

int
rtc_absent(int err)
{
	/* no node; a node without a driver or device behind it */
	return err == ENOENT || err == ENODEV || err == ENXIO;
}

int
rtc_tm_to_time(const struct tm *tm, time_t *t)
{
	struct tm	 in, back;
	time_t		 r;

	if (tm == NULL || t == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (tm->tm_year < 70 || tm->tm_year > 199) {
		errno = ERANGE;
		return -1;
	}
	/* an RTC has no leap second: 60 is as wrong as 61 */
	if (tm->tm_mon < 0 || tm->tm_mon > 11 || tm->tm_mday < 1 ||
	    tm->tm_mday > 31 || tm->tm_hour < 0 || tm->tm_hour > 23 ||
	    tm->tm_min < 0 || tm->tm_min > 59 || tm->tm_sec < 0 ||
	    tm->tm_sec > 59) {
		errno = EINVAL;
		return -1;
	}
	memset(&in, 0, sizeof(in));
	in.tm_year = tm->tm_year;
	in.tm_mon = tm->tm_mon;
	in.tm_mday = tm->tm_mday;
	in.tm_hour = tm->tm_hour;
	in.tm_min = tm->tm_min;
	in.tm_sec = tm->tm_sec;
	if ((r = timegm(&in)) == (time_t)-1 || !time_in_range(r)) {
		errno = ERANGE;
		return -1;
	}
	/* timegm() normalises: 30 February comes back as 2 March */
	if (gmtime_r(&r, &back) == NULL || back.tm_year != tm->tm_year ||
	    back.tm_mon != tm->tm_mon || back.tm_mday != tm->tm_mday ||
	    back.tm_hour != tm->tm_hour || back.tm_min != tm->tm_min ||
	    back.tm_sec != tm->tm_sec) {
		errno = EINVAL;
		return -1;
	}
	*t = r;
	return 0;
}

int
rtc_time_to_tm(time_t t, struct tm *tm)
{
	if (tm == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (!time_in_range(t)) {
		errno = ERANGE;
		return -1;
	}
	if (gmtime_r(&t, tm) == NULL) {
		errno = ERANGE;
		return -1;
	}
	return 0;
}

int
rtc_read(int fd, time_t *t)
{
	struct rtc_time	 rt;
	struct tm	 tm;

	if (t == NULL) {
		errno = EINVAL;
		return -1;
	}
	memset(&rt, 0, sizeof(rt));
	if (ioctl(fd, RTC_RD_TIME, &rt) == -1)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = rt.tm_year;
	tm.tm_mon = rt.tm_mon;
	tm.tm_mday = rt.tm_mday;
	tm.tm_hour = rt.tm_hour;
	tm.tm_min = rt.tm_min;
	tm.tm_sec = rt.tm_sec;
	return rtc_tm_to_time(&tm, t);
}

int
rtc_write(int fd, time_t t)
{
	struct rtc_time	 rt;
	struct tm	 tm;

	if (rtc_time_to_tm(t, &tm) == -1)
		return -1;
	memset(&rt, 0, sizeof(rt));
	rt.tm_year = tm.tm_year;
	rt.tm_mon = tm.tm_mon;
	rt.tm_mday = tm.tm_mday;
	rt.tm_hour = tm.tm_hour;
	rt.tm_min = tm.tm_min;
	rt.tm_sec = tm.tm_sec;
	rt.tm_wday = tm.tm_wday;
	rt.tm_yday = tm.tm_yday;
	rt.tm_isdst = 0;
	if (ioctl(fd, RTC_SET_TIME, &rt) == -1)
		return -1;
	return 0;
}

int
lastknown_read(const char *path, time_t *t)
{
	struct stat	 st;
	char		 buf[LASTKNOWN_BUF];
	size_t		 len = 0, i;
	ssize_t		 n;
	long long	 v = 0;
	int		 fd, save;

	if (path == NULL || t == NULL) {
		errno = EINVAL;
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW |
	    O_NONBLOCK)) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	/* to end of file or one byte past anything acceptable */
	while (len < sizeof(buf)) {
		if ((n = read(fd, buf + len, sizeof(buf) - len)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);

	/* canonical decimal only: digits, no sign, no leading zero */
	if (len < 2 || len > LASTKNOWN_DIGITS + 1 || buf[len - 1] != '\n' ||
	    (buf[0] == '0' && len > 2)) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < len - 1; i++) {
		if (buf[i] < '0' || buf[i] > '9') {
			errno = EINVAL;
			return -1;
		}
		v = v * 10 + (buf[i] - '0');
	}
	if (v < RTC_TIME_MIN || v > RTC_TIME_MAX) {
		errno = ERANGE;
		return -1;
	}
	*t = (time_t)v;
	return 0;
 fail:
	save = errno;
	close(fd);
	errno = save;
	return -1;
}

static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int
lastknown_write(const char *path, time_t t)
{
	char	 tmp[PATH_MAX], buf[LASTKNOWN_BUF];
	int	 fd, r, save;

	if (path == NULL || path[0] == '\0') {
		errno = EINVAL;
		return -1;
	}
	if (!time_in_range(t)) {
		errno = ERANGE;
		return -1;
	}
	r = snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	if (r < 0 || (size_t)r >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	r = snprintf(buf, sizeof(buf), "%lld\n", (long long)t);
	if (r < 0 || (size_t)r >= sizeof(buf)) {
		errno = ERANGE;
		return -1;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		return -1;
	if (write_all(fd, buf, (size_t)r) == -1 || fsync(fd) == -1) {
		save = errno;
		close(fd);
		goto fail;
	}
	/* close() can report a delayed write error (NFS) */
	if (close(fd) == -1) {
		save = errno;
		goto fail;
	}
	if (rename(tmp, path) == -1) {
		save = errno;
		goto fail;
	}
	return sync_parent_dir(path);
 fail:
	(void)unlink(tmp);
	errno = save;
	return -1;
}

int
startup_step(time_t now, int have_rtc, time_t rtc_time, int have_lastknown,
    time_t lastknown_time, time_t *target)
{
	time_t	 best = 0;
	int	 have = 0;

	if (target == NULL)
		return 0;
	if (have_rtc && time_in_range(rtc_time)) {
		best = rtc_time;
		have = 1;
	}
	if (have_lastknown && time_in_range(lastknown_time) &&
	    (!have || lastknown_time > best)) {
		best = lastknown_time;
		have = 1;
	}
	if (!have)
		return 0;
	/* best >= 0, so best - margin cannot overflow; now may be anything */
	if (now >= best - STARTUP_STEP_MARGIN)
		return 0;
	*target = best;
	return 1;
}

int
rtc_due(time_t now_monotonic, time_t last_write_monotonic, int synced)
{
	if (!synced)
		return 0;
	if (last_write_monotonic < 0)
		return 1;
	/* cannot happen with a monotonic clock; write rather than stall */
	if (now_monotonic < last_write_monotonic)
		return 1;
	return now_monotonic - last_write_monotonic >= RTC_INTERVAL;
}
