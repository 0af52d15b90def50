/*
 * Unit tests for the parent's clock policy (ntpd/clock.c): what it lets
 * the engine do to the clock, whatever the engine asks, and the drift
 * file.  No clock is touched: only the pure checks and file I/O run.
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "ntp.h"

/* 2026-06-30 12:00:00 UTC and 2026-06-29 12:00:00 UTC. */
#define LAST_DAY	((time_t)1782820800)
#define NOT_LAST_DAY	(LAST_DAY - 86400)

static struct imsg_clock_adjust
req(uint32_t action, double offset)
{
	struct imsg_clock_adjust	 r;

	memset(&r, 0, sizeof(r));
	r.action = action;
	r.offset = offset;
	r.synced = 1;
	return r;
}

static struct clock_policy
policy(unsigned int step_updates, double tolerance)
{
	struct clock_policy	 p;

	memset(&p, 0, sizeof(p));
	p.step_updates = step_updates;
	p.tolerance = tolerance;
	return p;
}

START_TEST(last_day)
{
	ck_assert_int_eq(clock_last_day_of_month(LAST_DAY), 1);
	ck_assert_int_eq(clock_last_day_of_month(NOT_LAST_DAY), 0);
	/* 2028-02-29, a leap year's February. */
	ck_assert_int_eq(clock_last_day_of_month((time_t)1835438400), 1);
}
END_TEST

START_TEST(one_step_only)
{
	struct clock_policy		 p = policy(3, 0);
	struct imsg_clock_adjust	 r = req(CLOCK_STEP, -5), out;

	ck_assert_int_eq(clock_policy_check(&p, &r, NOT_LAST_DAY, &out),
	    CLOCK_OK);
	ck_assert(out.offset == -5);
	clock_policy_done(&p, &out);
	ck_assert_int_eq(clock_policy_check(&p, &r, NOT_LAST_DAY, &out),
	    CLOCK_REFUSE_STEP);
}
END_TEST

START_TEST(step_too_late)
{
	struct clock_policy		 p = policy(2, 0);
	struct imsg_clock_adjust	 s = req(CLOCK_SLEW, 0.001);
	struct imsg_clock_adjust	 st = req(CLOCK_STEP, 10), out;

	clock_policy_done(&p, &s);
	clock_policy_done(&p, &s);
	ck_assert_int_eq(clock_policy_check(&p, &st, NOT_LAST_DAY, &out),
	    CLOCK_REFUSE_STEP);
	p = policy(0, 0);
	ck_assert_int_eq(clock_policy_check(&p, &st, NOT_LAST_DAY, &out),
	    CLOCK_REFUSE_STEP);
}
END_TEST

START_TEST(tolerance)
{
	struct clock_policy		 p = policy(3, 1.0);
	struct imsg_clock_adjust	 big = req(CLOCK_SLEW, 3600), out;
	struct imsg_clock_adjust	 neg = req(CLOCK_SLEW, -1.5);
	struct imsg_clock_adjust	 ok = req(CLOCK_SLEW, 0.9);

	/* The first update is free: it is the one that sets the clock. */
	ck_assert_int_eq(clock_policy_check(&p, &big, NOT_LAST_DAY, &out),
	    CLOCK_OK);
	clock_policy_done(&p, &out);
	ck_assert_int_eq(clock_policy_check(&p, &big, NOT_LAST_DAY, &out),
	    CLOCK_REFUSE_TOLERANCE);
	ck_assert_int_eq(clock_policy_check(&p, &neg, NOT_LAST_DAY, &out),
	    CLOCK_REFUSE_TOLERANCE);
	ck_assert_int_eq(clock_policy_check(&p, &ok, NOT_LAST_DAY, &out),
	    CLOCK_OK);
}
END_TEST

START_TEST(frequency_clamped)
{
	struct clock_policy		 p = policy(3, 0);
	struct imsg_clock_adjust	 r = req(CLOCK_SLEW, 0), out;

	r.freq = 1e6;
	ck_assert_int_eq(clock_policy_check(&p, &r, NOT_LAST_DAY, &out),
	    CLOCK_OK);
	ck_assert(out.freq == 500);
	r.freq = -501;
	ck_assert_int_eq(clock_policy_check(&p, &r, NOT_LAST_DAY, &out),
	    CLOCK_OK);
	ck_assert(out.freq == -500);
}
END_TEST

START_TEST(malformed)
{
	struct clock_policy		 p = policy(3, 0);
	struct imsg_clock_adjust	 r, out;

	r = req(CLOCK_SLEW, NAN);
	ck_assert_int_eq(clock_policy_check(&p, &r, NOT_LAST_DAY, &out),
	    CLOCK_REFUSE_MALFORMED);
	r = req(CLOCK_SLEW, 0);
	r.freq = INFINITY;
	ck_assert_int_eq(clock_policy_check(&p, &r, NOT_LAST_DAY, &out),
	    CLOCK_REFUSE_MALFORMED);
	r = req(7, 0);
	ck_assert_int_eq(clock_policy_check(&p, &r, NOT_LAST_DAY, &out),
	    CLOCK_REFUSE_MALFORMED);
	r = req(CLOCK_SLEW, 0);
	r.leap = NTP_LEAP_UNSYNC;
	ck_assert_int_eq(clock_policy_check(&p, &r, NOT_LAST_DAY, &out),
	    CLOCK_REFUSE_MALFORMED);
	r = req(CLOCK_SLEW, 0);
	r.esterror = -1;
	ck_assert_int_eq(clock_policy_check(&p, &r, NOT_LAST_DAY, &out),
	    CLOCK_REFUSE_MALFORMED);
	r = req(CLOCK_STEP, 2e9);
	ck_assert_int_eq(clock_policy_check(&p, &r, NOT_LAST_DAY, &out),
	    CLOCK_REFUSE_MALFORMED);
}
END_TEST

/* A leap second is armed only on the day it happens, and when synced. */
START_TEST(leap_only_last_day)
{
	struct clock_policy		 p = policy(3, 0);
	struct imsg_clock_adjust	 r = req(CLOCK_SLEW, 0), out;

	r.leap = NTP_LEAP_ADD;
	ck_assert_int_eq(clock_policy_check(&p, &r, NOT_LAST_DAY, &out),
	    CLOCK_OK);
	ck_assert_uint_eq(out.leap, NTP_LEAP_NONE);
	ck_assert_int_eq(clock_policy_check(&p, &r, LAST_DAY, &out),
	    CLOCK_OK);
	ck_assert_uint_eq(out.leap, NTP_LEAP_ADD);
	r.leap = NTP_LEAP_DEL;
	ck_assert_int_eq(clock_policy_check(&p, &r, LAST_DAY, &out),
	    CLOCK_OK);
	ck_assert_uint_eq(out.leap, NTP_LEAP_DEL);
	r.synced = 0;
	ck_assert_int_eq(clock_policy_check(&p, &r, LAST_DAY, &out),
	    CLOCK_OK);
	ck_assert_uint_eq(out.leap, NTP_LEAP_NONE);
}
END_TEST

START_TEST(drift_file)
{
	char	 dir[] = "/tmp/test_clock.XXXXXX", path[64], tmp[80];
	double	 v = 0;
	FILE	*fp;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/drift", dir);
	errno = 0;
	ck_assert_int_eq(clock_drift_read(path, &v), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(clock_drift_write(path, -12.3456), 0);
	ck_assert_int_eq(clock_drift_read(path, &v), 0);
	ck_assert(fabs(v + 12.346) < 1e-9);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	ck_assert_int_eq(access(tmp, F_OK), -1);

	/* Garbage and figures out of range are refused. */
	fp = fopen(path, "w");
	fputs("12.5 ppm\n", fp);
	fclose(fp);
	ck_assert_int_eq(clock_drift_read(path, &v), -1);
	ck_assert_int_eq(errno, EINVAL);
	fp = fopen(path, "w");
	fputs("900\n", fp);
	fclose(fp);
	ck_assert_int_eq(clock_drift_read(path, &v), -1);
	fp = fopen(path, "w");
	fputs("nan\n", fp);
	fclose(fp);
	ck_assert_int_eq(clock_drift_read(path, &v), -1);
	fp = fopen(path, "w");
	fclose(fp);
	ck_assert_int_eq(clock_drift_read(path, &v), -1);
	unlink(path);
	rmdir(dir);
}
END_TEST

static Suite *
clock_suite(void)
{
	Suite	*s = suite_create("clock");
	TCase	*tc = tcase_create("policy");

	tcase_add_test(tc, last_day);
	tcase_add_test(tc, one_step_only);
	tcase_add_test(tc, step_too_late);
	tcase_add_test(tc, tolerance);
	tcase_add_test(tc, frequency_clamped);
	tcase_add_test(tc, malformed);
	tcase_add_test(tc, leap_only_last_day);
	tcase_add_test(tc, drift_file);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(clock_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
