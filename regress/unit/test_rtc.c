/*
 * Unit tests for ntpd/rtc.c: the startup step decision, the 11-minute
 * cadence, the last-known file and the RTC's time conversions.  The
 * ioctls themselves need a real RTC, which a test cannot count on (and
 * must not set): against a regular file and /dev/null they are shown
 * to fail cleanly with ENOTTY.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rtc.h"

#define TNOW	1763755200	/* 2025-11-21 20:00:00 UTC */

static char	top[PATH_MAX];
static char	lk[PATH_MAX];		/* top/lastknown */

/* buf = a/b */
static void
pathf(char *buf, const char *a, const char *b)
{
	int	 r;

	r = snprintf(buf, PATH_MAX, "%s/%s", a, b);
	ck_assert(r > 0 && r < PATH_MAX);
}

static void
setup(void)
{
	const char	*tmp;

	if ((tmp = getenv("TMPDIR")) == NULL || tmp[0] != '/')
		tmp = "/tmp";
	pathf(top, tmp, "test_rtc.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(top));
	pathf(lk, top, "lastknown");
}

static void
teardown(void)
{
	DIR		*d;
	struct dirent	*de;
	char		 p[PATH_MAX];

	if (top[0] == '\0' || (d = opendir(top)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (snprintf(p, sizeof(p), "%s/%s", top, de->d_name) >=
		    (int)sizeof(p))
			continue;
		if (remove(p) == -1)
			(void)rmdir(p);
	}
	closedir(d);
	rmdir(top);
}

static int
entries(void)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	ck_assert_ptr_nonnull(d = opendir(top));
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
put(const char *path, const char *content, size_t len)
{
	int	 fd;

	ck_assert_int_ge(fd = open(path, O_WRONLY | O_CREAT | O_TRUNC,
	    0644), 0);
	ck_assert_int_eq(write(fd, content, len), (ssize_t)len);
	ck_assert_int_eq(close(fd), 0);
}

/* ---- the startup step ---- */

struct step_case {
	time_t	 now;
	int	 have_rtc;
	time_t	 rtc;
	int	 have_lk;
	time_t	 lk;
	int	 step;
	time_t	 target;
};

static const struct step_case step_cases[] = {
	/* nothing to go by */
	{ TNOW, 0, 0, 0, 0, 0, 0 },
	{ 0, 0, TNOW, 0, TNOW, 0, 0 },	/* have_* say no */
	/* within the margin: quantisation, not a wrong clock */
	{ TNOW, 1, TNOW, 0, 0, 0, 0 },
	{ TNOW, 1, TNOW + 1, 0, 0, 0, 0 },
	{ TNOW, 1, TNOW + STARTUP_STEP_MARGIN, 0, 0, 0, 0 },
	{ TNOW, 0, 0, 1, TNOW + STARTUP_STEP_MARGIN, 0, 0 },
	/* just past it */
	{ TNOW, 1, TNOW + STARTUP_STEP_MARGIN + 1, 0, 0, 1,
	    TNOW + STARTUP_STEP_MARGIN + 1 },
	/* never backwards */
	{ TNOW, 1, TNOW - 3600, 0, 0, 0, 0 },
	{ TNOW, 1, TNOW - 3600, 1, TNOW - 86400, 0, 0 },
	/* a machine without RTC, booted at the epoch */
	{ 0, 0, 0, 1, TNOW, 1, TNOW },
	{ 5, 1, 0, 1, TNOW, 1, TNOW },	/* dead RTC battery */
	/* the later of the two */
	{ 0, 1, TNOW, 1, TNOW - 600, 1, TNOW },
	{ 0, 1, TNOW - 600, 1, TNOW, 1, TNOW },
	{ TNOW - 300, 1, TNOW - 600, 1, TNOW, 1, TNOW },
	{ TNOW - 300, 1, TNOW, 1, TNOW - 600, 1, TNOW },
	/* the later is ahead, the other behind: still forward */
	{ TNOW, 1, TNOW - 600, 1, TNOW + 600, 1, TNOW + 600 },
	/* out of range sources are ignored */
	{ 0, 1, -1, 0, 0, 0, 0 },
	{ 0, 1, (time_t)RTC_TIME_MAX + 1, 0, 0, 0, 0 },
	{ 0, 1, (time_t)RTC_TIME_MAX + 1, 1, TNOW, 1, TNOW },
	{ 0, 1, TNOW, 1, -5, 1, TNOW },
	{ 0, 1, (time_t)RTC_TIME_MAX, 0, 0, 1, (time_t)RTC_TIME_MAX },
	/* a clock before 1970 */
	{ -1000, 1, TNOW, 0, 0, 1, TNOW },
	{ INT64_MIN, 1, TNOW, 0, 0, 1, TNOW },
	{ INT64_MIN, 1, 0, 0, 0, 1, 0 },
	/* a clock far ahead: nothing, and no overflow */
	{ INT64_MAX, 1, TNOW, 1, TNOW, 0, 0 },
};

START_TEST(step_decision)
{
	const struct step_case	*c = &step_cases[_i];
	time_t			 target = 42;
	int			 r;

	r = startup_step(c->now, c->have_rtc, c->rtc, c->have_lk, c->lk,
	    &target);
	ck_assert_msg(r == c->step, "case %d: step %d, want %d", _i, r,
	    c->step);
	if (c->step)
		ck_assert_msg(target == c->target, "case %d: target %lld, "
		    "want %lld", _i, (long long)target, (long long)c->target);
	else
		ck_assert_msg(target == 42, "case %d: target touched", _i);
}
END_TEST

START_TEST(step_null)
{
	ck_assert_int_eq(startup_step(0, 1, TNOW, 1, TNOW, NULL), 0);
}
END_TEST

/* ---- the cadence ---- */

START_TEST(cadence)
{
	/* unsynchronised: never, however long ago */
	ck_assert_int_eq(rtc_due(100000, -1, 0), 0);
	ck_assert_int_eq(rtc_due(100000, 0, 0), 0);
	/* first sync: at once */
	ck_assert_int_eq(rtc_due(5, -1, 1), 1);
	ck_assert_int_eq(rtc_due(0, -1, 1), 1);
	/* then every 11 minutes */
	ck_assert_int_eq(rtc_due(1000, 1000, 1), 0);
	ck_assert_int_eq(rtc_due(1000 + RTC_INTERVAL - 1, 1000, 1), 0);
	ck_assert_int_eq(rtc_due(1000 + RTC_INTERVAL, 1000, 1), 1);
	ck_assert_int_eq(rtc_due(1000 + 10 * RTC_INTERVAL, 1000, 1), 1);
	ck_assert_int_eq(RTC_INTERVAL, 11 * 60);
	/* a last write in the future: write rather than stall for good */
	ck_assert_int_eq(rtc_due(1000, 5000, 1), 1);
	ck_assert_int_eq(rtc_due(INT64_MAX, 0, 1), 1);
}
END_TEST

/* ---- conversions ---- */

struct tm_case {
	int	 year, mon, mday, hour, min, sec;	/* as in struct tm */
	long long t;
};

static const struct tm_case tm_good[] = {
	{ 70, 0, 1, 0, 0, 0, 0 },
	{ 70, 0, 1, 0, 0, 1, 1 },
	{ 100, 1, 29, 12, 0, 0, 951825600 },		/* 2000-02-29 */
	{ 125, 10, 21, 20, 0, 0, TNOW },
	{ 138, 0, 19, 3, 14, 8, 2147483648LL },		/* past 2038 */
	{ 199, 11, 31, 23, 59, 59, RTC_TIME_MAX },
};

START_TEST(tm_roundtrip)
{
	const struct tm_case	*c = &tm_good[_i];
	struct tm		 tm;
	time_t			 t;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = c->year;
	tm.tm_mon = c->mon;
	tm.tm_mday = c->mday;
	tm.tm_hour = c->hour;
	tm.tm_min = c->min;
	tm.tm_sec = c->sec;
	tm.tm_isdst = -1;	/* ignored: UTC */
	tm.tm_wday = 6;		/* ignored */
	ck_assert_int_eq(rtc_tm_to_time(&tm, &t), 0);
	ck_assert_int_eq((long long)t, c->t);

	memset(&tm, 0xff, sizeof(tm));
	ck_assert_int_eq(rtc_time_to_tm((time_t)c->t, &tm), 0);
	ck_assert_int_eq(tm.tm_year, c->year);
	ck_assert_int_eq(tm.tm_mon, c->mon);
	ck_assert_int_eq(tm.tm_mday, c->mday);
	ck_assert_int_eq(tm.tm_hour, c->hour);
	ck_assert_int_eq(tm.tm_min, c->min);
	ck_assert_int_eq(tm.tm_sec, c->sec);
}
END_TEST

START_TEST(tm_sweep)
{
	struct tm	 tm;
	long long	 v;
	time_t		 t;

	/* about every 9.7 days across the whole range, odd seconds */
	for (v = RTC_TIME_MIN; v <= RTC_TIME_MAX; v += 839993) {
		ck_assert_int_eq(rtc_time_to_tm((time_t)v, &tm), 0);
		ck_assert_int_eq(rtc_tm_to_time(&tm, &t), 0);
		ck_assert_int_eq((long long)t, v);
	}
}
END_TEST

static const struct tm_case tm_bad[] = {
	/* t is the errno wanted; out of range: ERANGE */
	{ 69, 11, 31, 23, 59, 59, ERANGE },
	{ 200, 0, 1, 0, 0, 0, ERANGE },
	{ -1900, 0, 1, 0, 0, 0, ERANGE },
	{ 0, 0, 1, 0, 0, 0, ERANGE },		/* 1900 */
	/* no such date or time: EINVAL */
	{ 101, 1, 29, 0, 0, 0, EINVAL },	/* 2001-02-29 */
	{ 200 - 1, 1, 29, 0, 0, 0, EINVAL },	/* 2099: no leap year */
	{ 125, 3, 31, 0, 0, 0, EINVAL },	/* 31 April */
	{ 125, 1, 30, 0, 0, 0, EINVAL },
	{ 125, 12, 1, 0, 0, 0, EINVAL },
	{ 125, -1, 1, 0, 0, 0, EINVAL },
	{ 125, 0, 0, 0, 0, 0, EINVAL },
	{ 125, 0, 32, 0, 0, 0, EINVAL },
	{ 125, 0, 1, 24, 0, 0, EINVAL },
	{ 125, 0, 1, -1, 0, 0, EINVAL },
	{ 125, 0, 1, 0, 60, 0, EINVAL },
	{ 125, 0, 1, 0, 0, 60, EINVAL },	/* no leap second */
	{ 125, 0, 1, 0, 0, -1, EINVAL },
};

START_TEST(tm_refused)
{
	const struct tm_case	*c = &tm_bad[_i];
	struct tm		 tm;
	time_t			 t = 42;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = c->year;
	tm.tm_mon = c->mon;
	tm.tm_mday = c->mday;
	tm.tm_hour = c->hour;
	tm.tm_min = c->min;
	tm.tm_sec = c->sec;
	errno = 0;
	ck_assert_int_eq(rtc_tm_to_time(&tm, &t), -1);
	ck_assert_msg(errno == c->t, "case %d: errno %d, want %lld", _i,
	    errno, c->t);
	ck_assert_int_eq(t, 42);
}
END_TEST

START_TEST(time_refused)
{
	struct tm	 tm;
	time_t		 t = 0;

	errno = 0;
	ck_assert_int_eq(rtc_time_to_tm(-1, &tm), -1);
	ck_assert_int_eq(errno, ERANGE);
	errno = 0;
	ck_assert_int_eq(rtc_time_to_tm((time_t)RTC_TIME_MAX + 1, &tm), -1);
	ck_assert_int_eq(errno, ERANGE);
	errno = 0;
	ck_assert_int_eq(rtc_time_to_tm(INT64_MAX, &tm), -1);
	ck_assert_int_eq(errno, ERANGE);
	errno = 0;
	ck_assert_int_eq(rtc_time_to_tm(0, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(rtc_tm_to_time(NULL, &t), -1);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

/* ---- the device calls, without a device ---- */

START_TEST(rtc_not_a_device)
{
	time_t	 t = 42;
	int	 fd;

	put(lk, "x", 1);
	ck_assert_int_ge(fd = open(lk, O_RDONLY), 0);
	errno = 0;
	ck_assert_int_eq(rtc_read(fd, &t), -1);
	ck_assert_int_eq(errno, ENOTTY);
	ck_assert_int_eq(t, 42);
	errno = 0;
	ck_assert_int_eq(rtc_write(fd, TNOW), -1);
	ck_assert_int_eq(errno, ENOTTY);
	/* the range is checked before the device is asked */
	errno = 0;
	ck_assert_int_eq(rtc_write(fd, (time_t)RTC_TIME_MAX + 1), -1);
	ck_assert_int_eq(errno, ERANGE);
	close(fd);

	errno = 0;
	ck_assert_int_eq(rtc_read(-1, &t), -1);
	ck_assert_int_eq(errno, EBADF);
	errno = 0;
	ck_assert_int_eq(rtc_write(-1, TNOW), -1);
	ck_assert_int_eq(errno, EBADF);

	/* rtc_open wants a character device */
	errno = 0;
	ck_assert_int_eq(rtc_open(lk), -1);
	ck_assert_int_eq(errno, ENOTTY);
	errno = 0;
	ck_assert_int_eq(rtc_open(top), -1);
	ck_assert_int_eq(errno, ENOTTY);
	ck_assert_int_eq(rtc_open("/nonexistent/rtc0"), -1);
	ck_assert(rtc_absent(errno));
	ck_assert(!rtc_absent(ENOTTY));
	ck_assert(!rtc_absent(EACCES));
	ck_assert(!rtc_absent(EBUSY));

	/* /dev/null: a character device, but no RTC */
	if ((fd = rtc_open("/dev/null")) != -1) {
		errno = 0;
		ck_assert_int_eq(rtc_read(fd, &t), -1);
		ck_assert_int_eq(errno, ENOTTY);
		errno = 0;
		ck_assert_int_eq(rtc_write(fd, TNOW), -1);
		ck_assert_int_eq(errno, ENOTTY);
		close(fd);
	}
}
END_TEST

/* ---- the last-known file ---- */

START_TEST(lastknown_roundtrip)
{
	char	 buf[64];
	time_t	 t = 0;
	ssize_t	 n;
	int	 fd;

	ck_assert_int_eq(lastknown_write(lk, TNOW), 0);
	ck_assert_int_eq(lastknown_read(lk, &t), 0);
	ck_assert_int_eq(t, TNOW);
	/* the format, exactly */
	ck_assert_int_ge(fd = open(lk, O_RDONLY), 0);
	ck_assert_int_eq(n = read(fd, buf, sizeof(buf) - 1), 11);
	buf[n] = '\0';
	close(fd);
	ck_assert_str_eq(buf, "1763755200\n");
	ck_assert_int_eq(entries(), 1);

	ck_assert_int_eq(lastknown_write(lk, 0), 0);
	ck_assert_int_eq(lastknown_read(lk, &t), 0);
	ck_assert_int_eq(t, 0);
	ck_assert_int_eq(lastknown_write(lk, (time_t)RTC_TIME_MAX), 0);
	ck_assert_int_eq(lastknown_read(lk, &t), 0);
	ck_assert_int_eq(t, (time_t)RTC_TIME_MAX);
	ck_assert_int_eq(entries(), 1);
}
END_TEST

START_TEST(lastknown_replace)
{
	struct stat	 before, after;
	time_t		 t = 0;

	put(lk, "garbage, soon gone\n", 19);
	ck_assert_int_eq(stat(lk, &before), 0);
	ck_assert_int_eq(lastknown_write(lk, TNOW + 660), 0);
	ck_assert_int_eq(stat(lk, &after), 0);
	/* a new file renamed over the old, not the old rewritten */
	ck_assert(before.st_ino != after.st_ino);
	ck_assert_int_eq(lastknown_read(lk, &t), 0);
	ck_assert_int_eq(t, TNOW + 660);
	ck_assert_int_eq(entries(), 1);
}
END_TEST

START_TEST(lastknown_write_fails_clean)
{
	char	 p[PATH_MAX];
	time_t	 t = 0;

	ck_assert_int_eq(lastknown_write(lk, TNOW), 0);
	/* out of range: refused, the old file stays */
	errno = 0;
	ck_assert_int_eq(lastknown_write(lk, -1), -1);
	ck_assert_int_eq(errno, ERANGE);
	errno = 0;
	ck_assert_int_eq(lastknown_write(lk, (time_t)RTC_TIME_MAX + 1), -1);
	ck_assert_int_eq(errno, ERANGE);
	ck_assert_int_eq(lastknown_read(lk, &t), 0);
	ck_assert_int_eq(t, TNOW);
	ck_assert_int_eq(entries(), 1);

	/* the rename fails over a directory: no temporary left */
	pathf(p, top, "adir");
	ck_assert_int_eq(mkdir(p, 0755), 0);
	errno = 0;
	ck_assert_int_eq(lastknown_write(p, TNOW), -1);
	ck_assert_int_eq(errno, EISDIR);
	ck_assert_int_eq(entries(), 2);

	/* no such directory */
	pathf(p, top, "nodir/lastknown");
	errno = 0;
	ck_assert_int_eq(lastknown_write(p, TNOW), -1);
	ck_assert_int_eq(errno, ENOENT);
	errno = 0;
	ck_assert_int_eq(lastknown_write(NULL, TNOW), -1);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

struct garbage {
	const char	*content;
	size_t		 len;
	int		 err;
};

#define G(s, e)	{ s, sizeof(s) - 1, e }

static const struct garbage garbage[] = {
	G("", EINVAL),
	G("\n", EINVAL),
	G("1763755200", EINVAL),		/* no newline */
	G("1763755200\n\n", EINVAL),
	G("1763755200\nx", EINVAL),
	G("1763755200 \n", EINVAL),
	G(" 1763755200\n", EINVAL),
	G("+1763755200\n", EINVAL),
	G("-1763755200\n", EINVAL),
	G("01763755200\n", EINVAL),		/* leading zero */
	G("00\n", EINVAL),
	G("0x6920c5c0\n", EINVAL),
	G("1763755200.5\n", EINVAL),
	G("1763755200\r\n", EINVAL),
	G("17637\0" "55200\n", EINVAL),
	G("abc\n", EINVAL),
	G("99999999999\n", EINVAL),		/* 11 digits */
	G("99999999999999999999999999\n", EINVAL),
	G("4102444800\n", ERANGE),		/* 2100-01-01 */
	G("9999999999\n", ERANGE),
};

START_TEST(lastknown_garbage)
{
	const struct garbage	*g = &garbage[_i];
	time_t			 t = 42;

	put(lk, g->content, g->len);
	errno = 0;
	ck_assert_int_eq(lastknown_read(lk, &t), -1);
	ck_assert_msg(errno == g->err, "case %d: errno %d, want %d", _i,
	    errno, g->err);
	ck_assert_int_eq(t, 42);
}
END_TEST

START_TEST(lastknown_not_a_file)
{
	char	 big[8192], p[PATH_MAX];
	time_t	 t = 42;

	/* missing: the first boot, not garbage */
	errno = 0;
	ck_assert_int_eq(lastknown_read(lk, &t), -1);
	ck_assert_int_eq(errno, ENOENT);

	/* a long file is refused without being read whole */
	memset(big, '1', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	put(lk, big, sizeof(big));
	errno = 0;
	ck_assert_int_eq(lastknown_read(lk, &t), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(unlink(lk), 0);

	/* a directory, a link (even to a good file), a FIFO */
	ck_assert_int_eq(mkdir(lk, 0755), 0);
	errno = 0;
	ck_assert_int_eq(lastknown_read(lk, &t), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(rmdir(lk), 0);

	pathf(p, top, "good");
	ck_assert_int_eq(lastknown_write(p, TNOW), 0);
	ck_assert_int_eq(symlink(p, lk), 0);
	errno = 0;
	ck_assert_int_eq(lastknown_read(lk, &t), -1);
	ck_assert_int_eq(errno, ELOOP);
	ck_assert_int_eq(unlink(lk), 0);

	ck_assert_int_eq(mkfifo(lk, 0644), 0);
	errno = 0;
	ck_assert_int_eq(lastknown_read(lk, &t), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(t, 42);

	errno = 0;
	ck_assert_int_eq(lastknown_read(NULL, &t), -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(lastknown_read(p, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

static Suite *
rtc_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("rtc");

	tc = tcase_create("step");
	tcase_add_loop_test(tc, step_decision, 0,
	    sizeof(step_cases) / sizeof(step_cases[0]));
	tcase_add_test(tc, step_null);
	tcase_add_test(tc, cadence);
	suite_add_tcase(s, tc);

	tc = tcase_create("convert");
	tcase_add_loop_test(tc, tm_roundtrip, 0,
	    sizeof(tm_good) / sizeof(tm_good[0]));
	tcase_add_test(tc, tm_sweep);
	tcase_add_loop_test(tc, tm_refused, 0,
	    sizeof(tm_bad) / sizeof(tm_bad[0]));
	tcase_add_test(tc, time_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, rtc_not_a_device);
	tcase_add_test(tc, lastknown_roundtrip);
	tcase_add_test(tc, lastknown_replace);
	tcase_add_test(tc, lastknown_write_fails_clean);
	tcase_add_loop_test(tc, lastknown_garbage, 0,
	    sizeof(garbage) / sizeof(garbage[0]));
	tcase_add_test(tc, lastknown_not_a_file);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(rtc_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
