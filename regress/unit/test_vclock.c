/*
 * Unit tests for regress/clock/vclock.c: the model of the virtual clock
 * that clockshim.so's log describes (steps, frequency, singleshot
 * slews) and the strictness of its log parser.
 */

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../clock/vclock.h"

#define S		1000000000LL	/* ns */
#define T0		(1700000000LL * S)
#define TOL		1e-12		/* s: doubles, not the model, limit */

static void
load(struct vclock *vc, const char *text)
{
	ck_assert_msg(vclock_parse(vc, text, strlen(text)) == 0,
	    "line %zu: %s", vc->errline, vc->errstr);
}

static double
at(const struct vclock *vc, int64_t t)
{
	return vclock_correction(vc, t);
}

START_TEST(empty)
{
	struct vclock	vc;

	vclock_init(&vc, 0, T0);
	load(&vc, "");
	ck_assert_uint_eq(vc.nev, 0);
	ck_assert_double_eq_tol(at(&vc, T0 + 100 * S), 0, TOL);
	vclock_free(&vc);
}
END_TEST

START_TEST(step_only)
{
	struct vclock		vc;
	struct vclock_sum	sum;
	char			log[256];

	vclock_init(&vc, 0, T0);
	snprintf(log, sizeof(log), "%lld step 2.000000000\n"
	    "%lld step -0.250000001\n", T0 + S, T0 + 5 * S);
	load(&vc, log);
	ck_assert_uint_eq(vc.nev, 2);
	ck_assert_int_eq(vc.ev[1].value, -250000001);
	ck_assert_double_eq_tol(at(&vc, T0), 0, TOL);
	ck_assert_double_eq_tol(at(&vc, T0 + S - 1), 0, TOL);
	ck_assert_double_eq_tol(at(&vc, T0 + S), 2, TOL);
	ck_assert_double_eq_tol(at(&vc, T0 + 4 * S), 2, TOL);
	vclock_at(&vc, T0 + 6 * S, &sum);
	ck_assert_double_eq_tol(sum.correction, 1.749999999, TOL);
	ck_assert_uint_eq(sum.steps, 2);
	ck_assert_double_eq_tol(sum.stepped, 1.749999999, TOL);
	ck_assert_double_eq_tol(sum.freq, 0, TOL);
	ck_assert_double_eq_tol(sum.slew_left, 0, TOL);
	vclock_free(&vc);
}
END_TEST

START_TEST(freq_only)
{
	struct vclock		vc;
	struct vclock_sum	sum;
	char			log[256];

	vclock_init(&vc, 0, T0);
	snprintf(log, sizeof(log), "%lld freq 10.000000000\n"
	    "%lld freq -2.5\n", T0 + 10 * S, T0 + 110 * S);
	load(&vc, log);
	ck_assert_double_eq_tol(at(&vc, T0 + 10 * S), 0, TOL);
	ck_assert_double_eq_tol(at(&vc, T0 + 11 * S), 10e-6, TOL);
	ck_assert_double_eq_tol(at(&vc, T0 + 110 * S), 1e-3, TOL);
	vclock_at(&vc, T0 + 210 * S, &sum);
	ck_assert_double_eq_tol(sum.correction, 1e-3 - 2.5e-4, TOL);
	ck_assert_double_eq_tol(sum.freq, -2.5, TOL);
	ck_assert_uint_eq(sum.steps, 0);
	vclock_free(&vc);
}
END_TEST

/* The initial frequency counts from origin, never before it. */
START_TEST(freq_initial)
{
	struct vclock	vc;
	char		log[256];

	vclock_init(&vc, 5, T0);
	load(&vc, "");
	ck_assert_double_eq_tol(at(&vc, T0 - 100 * S), 0, TOL);
	ck_assert_double_eq_tol(at(&vc, T0 + 2 * S), 10e-6, TOL);

	/* A change before origin only takes effect from origin on. */
	snprintf(log, sizeof(log), "%lld freq 1\n%lld freq -5\n",
	    T0 - 50 * S, T0 + 10 * S);
	load(&vc, log);
	ck_assert_double_eq_tol(at(&vc, T0 + 10 * S), 10e-6, TOL);
	ck_assert_double_eq_tol(at(&vc, T0 + 12 * S), 0, TOL);
	vclock_free(&vc);
}
END_TEST

START_TEST(slew_progress)
{
	struct vclock		vc;
	struct vclock_sum	sum;
	char			log[256];

	vclock_init(&vc, 0, T0);
	snprintf(log, sizeof(log), "%lld slew 0.001000000\n", T0 + S);
	load(&vc, log);
	ck_assert_double_eq_tol(at(&vc, T0), 0, TOL);
	vclock_at(&vc, T0 + S, &sum);
	ck_assert_double_eq_tol(sum.correction, 0, TOL);
	ck_assert_double_eq_tol(sum.slew_left, 0.001, TOL);
	/* 500 us a second. */
	vclock_at(&vc, T0 + 2 * S, &sum);
	ck_assert_double_eq_tol(sum.correction, 0.0005, TOL);
	ck_assert_double_eq_tol(sum.slew_left, 0.0005, TOL);
	vclock_at(&vc, T0 + S + S / 4, &sum);
	ck_assert_double_eq_tol(sum.correction, 0.000125, TOL);
	/* Done after 2 s, and no further. */
	vclock_at(&vc, T0 + 3 * S, &sum);
	ck_assert_double_eq_tol(sum.correction, 0.001, TOL);
	ck_assert_double_eq_tol(sum.slew_left, 0, TOL);
	ck_assert_double_eq_tol(at(&vc, T0 + 1000 * S), 0.001, TOL);
	vclock_free(&vc);
}
END_TEST

START_TEST(slew_replaced)
{
	struct vclock		vc;
	struct vclock_sum	sum;
	char			log[256];

	vclock_init(&vc, 0, T0);
	/* 1 ms asked, half done after 1 s; then 0.2 ms replaces the rest. */
	snprintf(log, sizeof(log), "%lld slew 0.001\n%lld slew 0.0002\n",
	    T0, T0 + S);
	load(&vc, log);
	vclock_at(&vc, T0 + S, &sum);
	ck_assert_double_eq_tol(sum.correction, 0.0005, TOL);
	ck_assert_double_eq_tol(sum.slew_left, 0.0002, TOL);
	vclock_at(&vc, T0 + S + S / 5, &sum);
	ck_assert_double_eq_tol(sum.correction, 0.0006, TOL);
	ck_assert_double_eq_tol(sum.slew_left, 0.0001, TOL);
	ck_assert_double_eq_tol(at(&vc, T0 + 100 * S), 0.0007, TOL);

	/* A zero slew cancels what is left. */
	snprintf(log, sizeof(log), "%lld slew 0.001\n%lld slew 0\n",
	    T0, T0 + S);
	load(&vc, log);
	ck_assert_double_eq_tol(at(&vc, T0 + 100 * S), 0.0005, TOL);
	vclock_free(&vc);
}
END_TEST

START_TEST(slew_negative)
{
	struct vclock		vc;
	struct vclock_sum	sum;
	char			log[256];

	vclock_init(&vc, 0, T0);
	snprintf(log, sizeof(log), "%lld slew -0.002000000\n", T0);
	load(&vc, log);
	vclock_at(&vc, T0 + S, &sum);
	ck_assert_double_eq_tol(sum.correction, -0.0005, TOL);
	ck_assert_double_eq_tol(sum.slew_left, -0.0015, TOL);
	ck_assert_double_eq_tol(at(&vc, T0 + 4 * S), -0.002, TOL);
	ck_assert_double_eq_tol(at(&vc, T0 + 400 * S), -0.002, TOL);

	/* Negative, then replaced by a positive one. */
	snprintf(log, sizeof(log), "%lld slew -0.002\n%lld slew 0.0001\n",
	    T0, T0 + 2 * S);
	load(&vc, log);
	ck_assert_double_eq_tol(at(&vc, T0 + 2 * S), -0.001, TOL);
	ck_assert_double_eq_tol(at(&vc, T0 + 100 * S), -0.0009, TOL);
	vclock_free(&vc);
}
END_TEST

START_TEST(combined)
{
	struct vclock		vc;
	struct vclock_sum	sum;
	char			log[512];

	/*
	 * An oscillator's kernel frequency of 20 ppm from origin, one
	 * startup step of +5 s, then a slew and a frequency change; the
	 * other kinds change nothing.
	 */
	vclock_init(&vc, 20, T0);
	snprintf(log, sizeof(log),
	    "%lld step 5.000000000\n"
	    "%lld status 0x2001\n"
	    "%lld maxerror 1000\n"
	    "%lld esterror 20\n"
	    "%lld denied clock_settime\n"
	    "%lld rtcset 1700000000\n"
	    "%lld slew -0.000500000\n"
	    "%lld freq -10.000000000\n",
	    T0 + 2 * S, T0 + 2 * S, T0 + 2 * S, T0 + 2 * S, T0 + 3 * S,
	    T0 + 3 * S, T0 + 4 * S, T0 + 6 * S);
	load(&vc, log);
	ck_assert_uint_eq(vc.nev, 8);
	ck_assert_int_eq(vc.ev[1].kind, VCLOCK_STATUS);
	ck_assert_int_eq(vc.ev[1].value, 0x2001);
	ck_assert_int_eq(vc.ev[2].value, 1000);
	ck_assert_str_eq(vc.ev[4].name, "clock_settime");
	ck_assert_int_eq(vc.ev[5].value, 1700000000);

	ck_assert_double_eq_tol(at(&vc, T0 + 2 * S), 5 + 40e-6, TOL);
	/* slew: half a ms over 1 s; freq: 20 ppm for 6 s, -10 for 4 s. */
	vclock_at(&vc, T0 + 10 * S, &sum);
	ck_assert_double_eq_tol(sum.correction,
	    5 - 0.0005 + 120e-6 - 40e-6, TOL);
	ck_assert_double_eq_tol(sum.freq, -10, TOL);
	ck_assert_uint_eq(sum.steps, 1);
	ck_assert_double_eq_tol(sum.stepped, 5, TOL);
	ck_assert_double_eq_tol(sum.slew_left, 0, TOL);
	vclock_free(&vc);
}
END_TEST

/* The real clock may move back between two lines: time order wins. */
START_TEST(out_of_order)
{
	struct vclock	vc;
	char		log[256];

	vclock_init(&vc, 0, T0);
	snprintf(log, sizeof(log), "%lld step 1\n%lld step 2\n%lld freq 1\n"
	    "%lld freq 3\n", T0 + 5 * S, T0 + S, T0 + 2 * S, T0 + 2 * S);
	load(&vc, log);
	ck_assert_int_eq(vc.ev[0].time, T0 + S);
	ck_assert_uint_eq(vc.ev[1].line, 3);
	ck_assert_uint_eq(vc.ev[2].line, 4);
	ck_assert_double_eq_tol(at(&vc, T0 + 3 * S), 2 + 3e-6, TOL);
	ck_assert_double_eq_tol(at(&vc, T0 + 5 * S), 3 + 9e-6, TOL);
	vclock_free(&vc);
}
END_TEST

/* A line still being written (no newline yet) is not an event yet. */
START_TEST(partial_line)
{
	struct vclock	vc;
	char		log[256];

	vclock_init(&vc, 0, T0);
	snprintf(log, sizeof(log), "%lld step 1\n%lld step 2.5", T0, T0);
	load(&vc, log);
	ck_assert_uint_eq(vc.nev, 1);
	ck_assert_double_eq_tol(at(&vc, T0 + S), 1, TOL);
	/* Not even a kind yet. */
	load(&vc, "17");
	ck_assert_uint_eq(vc.nev, 0);
	vclock_free(&vc);
}
END_TEST

START_TEST(parse_file)
{
	struct vclock	 vc;
	char		 log[256];
	FILE		*fp;

	vclock_init(&vc, 0, T0);
	snprintf(log, sizeof(log), "%lld step -3\n%lld slew 0.5\n", T0, T0);
	ck_assert_ptr_nonnull(fp = fmemopen(log, strlen(log), "r"));
	ck_assert_int_eq(vclock_parse_file(&vc, fp), 0);
	fclose(fp);
	ck_assert_uint_eq(vc.nev, 2);
	ck_assert_double_eq_tol(at(&vc, T0 + 10 * S), -3 + 0.005, TOL);

	snprintf(log, sizeof(log), "%lld step -3\n%lld slew 0.5s\n", T0, T0);
	ck_assert_ptr_nonnull(fp = fmemopen(log, strlen(log), "r"));
	ck_assert_int_eq(vclock_parse_file(&vc, fp), -1);
	fclose(fp);
	ck_assert_uint_eq(vc.errline, 2);
	ck_assert_uint_eq(vc.nev, 0);
	vclock_free(&vc);
}
END_TEST

/* Each bad line comes after two good ones: it is line 3. */
static const char *bad_lines[] = {
	"",
	"1",
	"1 step",
	"1 step ",
	"1  step 1",
	"1 step 1 ",
	"1 step 1 2",
	" 1 step 1",
	"1\tstep 1",
	"1 step 1\r",
	"-1 step 1",
	"+1 step 1",
	"x step 1",
	"99999999999999999999 step 1",
	"1 stp 1",
	"1 STEP 1",
	"1 step +1",
	"1 step .5",
	"1 step 1.",
	"1 step -",
	"1 step --1",
	"1 step 1.0000000001",
	"1 step 1e3",
	"1 step 0x10",
	"1 step 1.5x",
	"1 step 9999999999",
	"1 freq abc",
	"1 slew nan",
	"1 status 40",
	"1 status 0x",
	"1 status 0x123456789",
	"1 status 0xg",
	"1 maxerror 1.5",
	"1 maxerror -",
	"1 esterror 99999999999999999999",
	"1 rtcset x",
	"1 denied clock-settime",
	"1 denied aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	"1 step 111111111111111111111111111111111111111111111111111111111111"
	    "1111111111111111111111111111111111111111111111111111111111111111"
	    "1111111111111111111",
};

START_TEST(malformed)
{
	struct vclock	vc;
	char		log[512];

	vclock_init(&vc, 0, T0);
	snprintf(log, sizeof(log), "5 step 1\n6 denied settimeofday\n%s\n"
	    "7 step 1\n", bad_lines[_i]);
	ck_assert_int_eq(vclock_parse(&vc, log, strlen(log)), -1);
	ck_assert_msg(vc.errline == 3, "\"%s\": line %zu", bad_lines[_i],
	    vc.errline);
	ck_assert_ptr_nonnull(vc.errstr);
	/* Nothing half-parsed is left behind. */
	ck_assert_uint_eq(vc.nev, 0);
	ck_assert_double_eq_tol(at(&vc, T0), 0, TOL);
	vclock_free(&vc);
}
END_TEST

START_TEST(nul_in_line)
{
	struct vclock	vc;
	static const char log[] = "5 step 1\n6 step 1\0junk\n";

	vclock_init(&vc, 0, T0);
	ck_assert_int_eq(vclock_parse(&vc, log, sizeof(log) - 1), -1);
	ck_assert_uint_eq(vc.errline, 2);
	vclock_free(&vc);
}
END_TEST

/* What the shim writes at the extremes still parses. */
START_TEST(extremes)
{
	struct vclock	vc;

	vclock_init(&vc, 0, 0);
	load(&vc, "9223372036854775807 step -9223372035.999999999\n"
	    "0 freq -500.000000000\n"
	    "0 status 0xffffffff\n"
	    "0 maxerror -16000000\n"
	    "0 denied aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n");
	ck_assert_int_eq(vc.ev[4].time, INT64_MAX);
	ck_assert_int_eq(vc.ev[4].value, -9223372035999999999LL);
	ck_assert_int_eq(vc.ev[0].value, -500000000000LL);
	ck_assert_int_eq(vc.ev[1].value, 0xffffffffLL);
	ck_assert_int_eq(vc.ev[2].value, -16000000);
	ck_assert_uint_eq(strlen(vc.ev[3].name), VCLOCK_NAME_MAX - 1);
	vclock_free(&vc);
}
END_TEST

START_TEST(reparse)
{
	struct vclock	vc;

	vclock_init(&vc, 0, 0);
	load(&vc, "1 step 1\n2 step 1\n");
	ck_assert_uint_eq(vc.nev, 2);
	/* A new parse replaces, never appends. */
	load(&vc, "1 step 4\n");
	ck_assert_uint_eq(vc.nev, 1);
	ck_assert_double_eq_tol(at(&vc, 10), 4, TOL);
	vclock_free(&vc);
	ck_assert_ptr_null(vc.ev);
}
END_TEST

static Suite *
vclock_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("vclock");

	tc = tcase_create("model");
	tcase_add_test(tc, empty);
	tcase_add_test(tc, step_only);
	tcase_add_test(tc, freq_only);
	tcase_add_test(tc, freq_initial);
	tcase_add_test(tc, slew_progress);
	tcase_add_test(tc, slew_replaced);
	tcase_add_test(tc, slew_negative);
	tcase_add_test(tc, combined);
	tcase_add_test(tc, out_of_order);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_test(tc, partial_line);
	tcase_add_test(tc, parse_file);
	tcase_add_loop_test(tc, malformed, 0,
	    sizeof(bad_lines) / sizeof(bad_lines[0]));
	tcase_add_test(tc, nul_in_line);
	tcase_add_test(tc, extremes);
	tcase_add_test(tc, reparse);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(vclock_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
