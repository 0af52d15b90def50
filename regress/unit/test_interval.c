/*
 * Unit tests for ntpd/interval.c: the poll interval lengthens after a
 * run of samples within the noise, shortens on one beyond it or a miss,
 * stays within minpoll and maxpoll, and a RATE kiss goes beyond maxpoll
 * but not POLL_MAX; and a clock that wanders settles it where the
 * wander over one interval is about the noise.
 */

#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "interval.h"

#define US	1e-6

START_TEST(lengthen)
{
	struct interval	iv;
	int		i;

	interval_init(&iv, 6);
	ck_assert_int_eq(iv.poll, 6);
	for (i = 1; i < INTERVAL_UP_AFTER; i++)
		interval_sample(&iv, 6, 10, 5 * US, 10 * US);
	ck_assert_int_eq(iv.poll, 6);
	interval_sample(&iv, 6, 10, -10 * US, 10 * US);	/* on the edge */
	ck_assert_int_eq(iv.poll, 7);
	/* Samples the estimate did not take count as well. */
	for (i = 0; i < INTERVAL_UP_AFTER; i++)
		interval_kept(&iv, 10);
	ck_assert_int_eq(iv.poll, 8);
	/* Never beyond maxpoll. */
	for (i = 0; i < 10 * INTERVAL_UP_AFTER; i++)
		interval_sample(&iv, 6, 10, 0, 10 * US);
	ck_assert_int_eq(iv.poll, 10);
}
END_TEST

START_TEST(shorten)
{
	struct interval	iv;
	int		i;

	interval_init(&iv, 6);
	iv.poll = 9;
	/* Beyond the noise: one step at once, and the run starts over. */
	for (i = 0; i < INTERVAL_UP_AFTER - 1; i++)
		interval_sample(&iv, 6, 10, 0, 10 * US);
	interval_sample(&iv, 6, 10, 11 * US, 10 * US);
	ck_assert_int_eq(iv.poll, 8);
	interval_sample(&iv, 6, 10, 0, 10 * US);
	ck_assert_int_eq(iv.poll, 8);
	ck_assert_int_eq(iv.fit, 1);
	/* A spike held resets the run, and nothing more. */
	interval_held(&iv);
	ck_assert_int_eq(iv.fit, 0);
	ck_assert_int_eq(iv.poll, 8);
	/* Misses shorten, down to minpoll. */
	for (i = 0; i < 5; i++)
		interval_miss(&iv, 6);
	ck_assert_int_eq(iv.poll, 6);
	interval_sample(&iv, 6, 10, 1, 10 * US);
	ck_assert_int_eq(iv.poll, 6);
}
END_TEST

START_TEST(bad_numbers)
{
	struct interval	iv;
	int		i;

	/* Nothing to compare: counted as fitting, never a shortening. */
	interval_init(&iv, 6);
	iv.poll = 8;
	for (i = 0; i < INTERVAL_UP_AFTER; i++)
		interval_sample(&iv, 6, 10, (double[]){ NAN, INFINITY, 1,
		    1 }[i % 4], (double[]){ 1, 1, 0, NAN }[i % 4]);
	ck_assert_int_eq(iv.poll, 9);
}
END_TEST

START_TEST(rate_kiss)
{
	struct interval	iv;

	interval_init(&iv, 6);
	interval_slow_down(&iv, 17);
	ck_assert_int_eq(iv.poll, 6 + INTERVAL_KOD_STEP);
	iv.poll = 16;
	interval_slow_down(&iv, 17);
	ck_assert_int_eq(iv.poll, 17);
	ck_assert_int_eq(iv.fit, 0);
}
END_TEST

static double
gauss(void)
{
	double	u = (random() + 1.0) / (RAND_MAX + 2.0);
	double	v = (random() + 1.0) / (RAND_MAX + 2.0);

	return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/*
 * A clock whose frequency error is a random walk of 1e-9 per sqrt(s),
 * set right at every sample; samples whose noise is 10 us, the filter's
 * estimate of which errs by 3 us (it keeps the least delayed): the
 * drift over 2^p s is about 1e-9 * 2^(1.5 p) / sqrt(3), which passes
 * 10 us near 2^9.4 s.  The interval must settle a little short of it
 * (one sample beyond the noise in eight keeps it from growing), neither
 * at minpoll nor at maxpoll, whatever the start.
 */
START_TEST(settles)
{
	struct interval	iv;
	double		freq, err, sum;
	int		start, i, k, n;

	srandom(7);
	for (start = 4; start <= 12; start += 8) {
		interval_init(&iv, 4);
		iv.poll = start;
		freq = 0;
		sum = 0;
		n = 0;
		for (i = 0; i < 4000; i++) {
			/* The wander over one interval, second by second
			   in steps of 2^(poll/2) s. */
			err = 0;
			for (k = 0; k < 1 << (iv.poll / 2); k++) {
				freq += 1e-9 * gauss() *
				    sqrt((double)(1 << (iv.poll -
				    iv.poll / 2)));
				err += freq * (1 << (iv.poll - iv.poll / 2));
			}
			freq = 0;	/* corrected */
			interval_sample(&iv, 4, 12, err + 3 * US * gauss(),
			    10 * US);
			if (i >= 1000) {
				sum += iv.poll;
				n++;
			}
		}
		ck_assert_msg(sum / n > 7.5 && sum / n < 9.5,
		    "start %d: mean poll %g", start, sum / n);
	}
}
END_TEST

static Suite *
interval_suite(void)
{
	Suite	*s = suite_create("interval");
	TCase	*tc = tcase_create("interval");

	tcase_add_test(tc, lengthen);
	tcase_add_test(tc, shorten);
	tcase_add_test(tc, bad_numbers);
	tcase_add_test(tc, rate_kiss);
	tcase_add_test(tc, settles);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(interval_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
