/*
 * Unit tests for ntpd/sources.c, through a clock of its own (struct
 * fake): the first update waits for the bursting sources' third sample,
 * for 30 s at most, and takes the median of the combined offsets; the
 * sources still measuring vote before it, so a liar alone is not taken;
 * after it, a source beyond the tolerance is left out, said once, and
 * its correction refused; the clock's corrections reach every filter,
 * before a new sample joins its own; the poll interval and schedule;
 * the system peer's index as the caller's array changes.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exchange.h"
#include "filter.h"
#include "ntp.h"
#include "select.h"
#include "sources.h"
#include "sync.h"

#define SEC	1000000000ULL
#define T0	(1000 * SEC)
#define NSRC	3

/* The clock's side (sync.h), as a test can see it. */
struct fake {
	int			 updated;
	double			 correction;	/* taken at the next ask */
	double			 tolerance;	/* once updated */
	unsigned int		 nupdates;
	struct sync_input	 last;
	unsigned int		 nrefused;
	double			 refused;
	uint32_t		 upper;		/* of the last uniform() */
};

static int
fake_updated(void *arg)
{
	struct fake	*f = arg;

	return f->updated;
}

static double
fake_take_correction(void *arg, uint64_t now)
{
	struct fake	*f = arg;
	double		 c = f->correction;

	(void)now;
	f->correction = 0;
	return c;
}

static double
fake_tolerance(void *arg)
{
	struct fake	*f = arg;

	return f->updated ? f->tolerance : 0;
}

static double
fake_drift(void *arg)
{
	(void)arg;
	return FILTER_PHI;
}

static void
fake_update(void *arg, const struct sync_input *in, uint64_t now)
{
	struct fake	*f = arg;

	(void)now;
	f->nupdates++;
	f->last = *in;
	f->updated = 1;
}

static void
fake_refuse(void *arg, double offset, uint64_t now)
{
	struct fake	*f = arg;

	(void)now;
	f->nrefused++;
	f->refused = offset;
}

/* Always the largest: the jitter shows in full. */
static uint32_t
fake_uniform(void *arg, uint32_t upper)
{
	struct fake	*f = arg;

	f->upper = upper;
	return upper == 0 ? 0 : upper - 1;
}

/* NSRC sources, all active, and their clock. */
struct bench {
	struct fake		 f;
	struct sources		 sys;
	struct source_core	 src[NSRC];
	struct source_core	*all[NSRC];
	uint64_t		 now;
};

static void
bench_init(struct bench *b, int iburst, unsigned int min_sources)
{
	struct sources_ops	 ops;
	struct source_opts	 opts;
	size_t			 i;

	memset(b, 0, sizeof(*b));
	memset(&ops, 0, sizeof(ops));
	ops.arg = &b->f;
	ops.updated = fake_updated;
	ops.take_correction = fake_take_correction;
	ops.tolerance = fake_tolerance;
	ops.drift = fake_drift;
	ops.update = fake_update;
	ops.refuse = fake_refuse;
	ops.uniform = fake_uniform;
	b->now = T0;
	sources_init(&b->sys, &ops, ldexp(1.0, -20), min_sources, b->now);
	memset(&opts, 0, sizeof(opts));
	opts.minpoll = 6;
	opts.maxpoll = 10;
	opts.iburst = iburst;
	for (i = 0; i < NSRC; i++) {
		b->all[i] = &b->src[i];
		(void)sources_start(&b->sys, &b->src[i], &opts, b->now);
		b->src[i].active = 1;
	}
}

/* What the daemon does after a reply or a miss. */
static void
select_now(struct bench *b)
{
	ck_assert_int_eq(sources_select(&b->sys, b->all, NSRC, b->now), 0);
	sources_update_clock(&b->sys, b->all, NSRC, b->now);
}

/* A poll of source i, its reply offset s from us, 1 s later. */
static void
reply_leap(struct bench *b, size_t i, double offset, unsigned int leap)
{
	struct exchange_sample	 es;

	b->now += SEC;
	(void)sources_polled(&b->sys, &b->src[i], b->now);
	memset(&es, 0, sizeof(es));
	es.offset = offset;
	es.delay = 0.001;
	es.leap = (uint8_t)leap;
	es.stratum = 2;
	es.precision = -20;
	es.root_delay = 0.001;
	es.root_dispersion = 0.001;
	(void)sources_sample(&b->sys, b->all, NSRC, &b->src[i], &es, b->now,
	    NULL);
	select_now(b);
}

static void
replies(struct bench *b, size_t i, double offset, int count)
{
	while (count-- > 0)
		reply_leap(b, i, offset, NTP_LEAP_NONE);
}

/* Sources 0 and 1 through their bursts, 10 ms off, in turn. */
static void
two_bursts(struct bench *b)
{
	int	 k;

	for (k = 0; k < 3; k++) {
		replies(b, 0, 0.010, 1);
		replies(b, 1, 0.010, 1);
	}
}

/* Sources 1 and 2 answer, on time, count times each, in turn. */
static void
others(struct bench *b, int count)
{
	while (count-- > 0) {
		replies(b, 1, 0, 1);
		replies(b, 2, 0, 1);
	}
}

static double
offset_of(const struct bench *b, size_t i)
{
	struct filter_est	 est;

	ck_assert_int_eq(filter_estimate(&b->src[i].filter, b->now, &est),
	    0);
	return est.offset;
}

/*
 * Two of three sources through their bursts: a majority, but the third
 * has one sample yet, and the first update waits for its third.
 */
START_TEST(first_update_waits_for_burst)
{
	struct bench	 b;

	bench_init(&b, 1, 1);
	two_bursts(&b);
	replies(&b, 2, 0.010, 1);
	ck_assert_int_eq(b.sys.result.status, SELECT_OK);
	ck_assert_int_eq(b.sys.have_result, 1);
	ck_assert_uint_eq(b.f.nupdates, 0);
	replies(&b, 2, 0.010, 1);
	ck_assert_uint_eq(b.f.nupdates, 0);
	replies(&b, 2, 0.010, 1);
	ck_assert_uint_eq(b.f.nupdates, 1);
	ck_assert_double_eq_tol(b.f.last.offset, 0.010, 1e-12);
	ck_assert_uint_eq(b.f.last.stratum, 2);
}
END_TEST

/* A source that stops answering holds the first update 30 s at most. */
START_TEST(burst_wait_ends)
{
	struct bench	 b;

	bench_init(&b, 1, 1);
	two_bursts(&b);
	replies(&b, 2, 0.010, 1);
	ck_assert_uint_eq(b.f.nupdates, 0);
	b.now = T0 + 29 * SEC;
	select_now(&b);
	ck_assert_uint_eq(b.f.nupdates, 0);
	b.now = T0 + 30 * SEC;
	select_now(&b);
	ck_assert_uint_eq(b.f.nupdates, 1);
}
END_TEST

/* Nor does one stopped (a kiss-o'-death) hold it. */
START_TEST(burst_stopped)
{
	struct bench	 b;

	bench_init(&b, 1, 1);
	replies(&b, 2, 0.010, 1);
	b.src[2].active = 0;
	two_bursts(&b);
	ck_assert_uint_eq(b.f.nupdates, 1);
}
END_TEST

/*
 * The first update takes the median of the combined offsets, not their
 * weighted mean (here 1.2 ms), and the majority's leap indicator.
 */
START_TEST(first_update_median)
{
	static const double	 off[NSRC] = { 0, 0.0005, 0.003 };
	struct bench		 b;
	size_t			 i;
	int			 k;

	/* With iburst, for all three to have their say at once. */
	bench_init(&b, 1, 1);
	for (k = 0; k < 3; k++)
		for (i = 0; i < NSRC; i++)
			reply_leap(&b, i, off[i], i < 2 ? NTP_LEAP_ADD :
			    NTP_LEAP_NONE);
	ck_assert_uint_eq(b.f.nupdates, 1);
	ck_assert_uint_eq(b.sys.result.ncombined, 3);
	ck_assert_double_eq_tol(b.f.last.offset, 0.0005, 1e-12);
	ck_assert_uint_eq(b.f.last.leap, NTP_LEAP_ADD);
	/* After it, the weighted mean. */
	replies(&b, 0, 0, 1);
	ck_assert_uint_eq(b.f.nupdates, 2);
	ck_assert_uint_eq(b.sys.result.ncombined, 3);
	ck_assert_double_eq_tol(b.f.last.offset, b.sys.result.offset, 1e-12);
	ck_assert(fabs(b.f.last.offset - 0.0005) > 1e-4);
}
END_TEST

/*
 * Before the first update, sources that answered but are still too far
 * (one sample each) vote: the liar, usable alone, is no majority.
 */
START_TEST(pending_vote)
{
	struct bench	 b;

	bench_init(&b, 0, 1);
	others(&b, 1);
	replies(&b, 0, 2.0, 3);
	ck_assert_int_eq(b.src[0].verdict.state, SELECT_CANDIDATE);
	ck_assert_int_eq(b.src[1].verdict.state, SELECT_UNUSABLE);
	ck_assert_int_eq(b.src[1].input.flags & SELECT_F_PENDING,
	    SELECT_F_PENDING);
	ck_assert_int_eq(b.sys.result.status, SELECT_WAITING);
	ck_assert_uint_eq(b.f.nupdates, 0);

	/* The others have their say: the liar is out. */
	others(&b, 2);
	ck_assert_uint_eq(b.f.nupdates, 1);
	ck_assert_int_eq(b.src[0].verdict.state, SELECT_FALSETICKER);
	ck_assert_double_eq_tol(b.f.last.offset, 0, 1e-12);
}
END_TEST

/* Sources not active (no address, or stopped) do not vote. */
START_TEST(inactive_no_vote)
{
	struct bench	 b;

	bench_init(&b, 0, 1);
	others(&b, 1);
	b.src[1].active = b.src[2].active = 0;
	replies(&b, 0, 2.0, 3);
	ck_assert_int_eq(b.src[1].input.flags & SELECT_F_PENDING, 0);
	ck_assert_int_eq(b.sys.result.status, SELECT_OK);
	ck_assert_uint_eq(b.f.nupdates, 1);
	ck_assert_double_eq_tol(b.f.last.offset, 2.0, 1e-12);
}
END_TEST

/* Nor, after 8 of the longest minpoll, the sources still measuring. */
START_TEST(majority_wait_ends)
{
	struct bench	 b;

	bench_init(&b, 0, 1);
	others(&b, 1);
	b.now = T0 + 8 * 64 * SEC - 4 * SEC;
	replies(&b, 0, 2.0, 3);
	ck_assert_int_eq(b.sys.result.status, SELECT_WAITING);
	ck_assert_uint_eq(b.f.nupdates, 0);
	b.now += SEC;
	select_now(&b);
	ck_assert_int_eq(b.sys.result.status, SELECT_OK);
	ck_assert_uint_eq(b.f.nupdates, 1);
}
END_TEST

/*
 * After the first update, a source beyond the tolerance is left out,
 * said once, and when nothing else agrees, the correction it asks is
 * refused, once per fresh sample.
 */
START_TEST(tolerance_refused)
{
	struct bench	 b;
	size_t		 i;

	bench_init(&b, 0, 1);
	b.f.updated = 1;
	b.f.tolerance = 1.0;
	replies(&b, 0, 5.0, 1);
	ck_assert_int_eq(b.src[0].refused, 1);
	ck_assert_int_eq(b.src[0].newly_refused, 1);
	ck_assert_double_eq(b.sys.tolerance, 1.0);
	ck_assert_int_eq(b.src[0].verdict.state, SELECT_UNUSABLE);
	ck_assert_uint_eq(b.src[0].verdict.why & SELECT_WHY_NOSELECT,
	    SELECT_WHY_NOSELECT);
	ck_assert_uint_eq(b.f.nrefused, 1);
	ck_assert_double_eq_tol(b.f.refused, 5.0, 1e-12);
	ck_assert_uint_eq(b.f.nupdates, 0);

	/* Still beyond: refused, but no longer new. */
	replies(&b, 1, 6.0, 1);
	replies(&b, 2, 7.0, 1);
	ck_assert_int_eq(b.src[0].refused, 1);
	ck_assert_int_eq(b.src[0].newly_refused, 0);
	ck_assert_int_eq(b.src[2].newly_refused, 1);
	ck_assert_uint_eq(b.f.nrefused, 3);
	ck_assert_double_eq_tol(b.f.refused, 6.0, 1e-12);	/* median */
	/* No fresh sample: nothing more refused. */
	select_now(&b);
	ck_assert_uint_eq(b.f.nrefused, 3);
	for (i = 0; i < NSRC; i++)
		ck_assert_int_eq(b.src[i].newly_refused, 0);
	ck_assert_uint_eq(b.f.nupdates, 0);
}
END_TEST

/* Before the first update, no tolerance: the same source is taken. */
START_TEST(tolerance_after_first_update)
{
	struct bench	 b;

	bench_init(&b, 0, 1);
	b.f.tolerance = 1.0;
	b.src[1].active = b.src[2].active = 0;
	replies(&b, 0, 5.0, 3);
	ck_assert_int_eq(b.src[0].refused, 0);
	ck_assert_uint_eq(b.f.nupdates, 1);
	ck_assert_uint_eq(b.f.nrefused, 0);
}
END_TEST

/*
 * The clock's corrections reach every source's filter, and a new
 * sample, measured on the corrected clock, joins after.
 */
START_TEST(corrections_to_all)
{
	struct bench	 b;

	bench_init(&b, 0, 1);
	b.f.updated = 1;
	replies(&b, 0, 1.0, 1);
	replies(&b, 1, 1.0, 1);
	b.f.correction = 0.25;
	select_now(&b);
	ck_assert_double_eq_tol(offset_of(&b, 0), 0.75, 1e-12);
	ck_assert_double_eq_tol(offset_of(&b, 1), 0.75, 1e-12);
	ck_assert_double_eq_tol(b.src[1].input.offset, 0.75, 1e-12);
	ck_assert_double_eq(b.f.correction, 0);

	b.f.correction = 0.5;
	replies(&b, 2, 0.25, 1);
	ck_assert_double_eq_tol(offset_of(&b, 0), 0.25, 1e-12);
	ck_assert_double_eq_tol(offset_of(&b, 2), 0.25, 1e-12);
}
END_TEST

/* A miss shortens the interval, down to minpoll; a RATE kiss lengthens. */
START_TEST(miss_shortens)
{
	struct bench	 b;
	uint8_t		 reach;

	bench_init(&b, 1, 1);
	replies(&b, 0, 0, 1);
	reach = filter_reach(&b.src[0].filter);
	b.src[0].iv.poll = 8;
	sources_miss(&b.src[0]);
	ck_assert_int_eq(b.src[0].iv.poll, 7);
	ck_assert_uint_eq(filter_reach(&b.src[0].filter), (uint8_t)(reach << 1));
	sources_miss(&b.src[0]);
	sources_miss(&b.src[0]);
	ck_assert_int_eq(b.src[0].iv.poll, 6);

	ck_assert_int_gt(b.src[0].burst, 0);
	sources_slow_down(&b.src[0]);
	ck_assert_int_eq(b.src[0].burst, 0);
	ck_assert_int_eq(b.src[0].iv.poll, 8);
}
END_TEST

/*
 * Quick exchanges 2 s apart, then the interval less up to a tenth at
 * random; the first request within a quarter of a second.
 */
START_TEST(schedule)
{
	struct bench		 b;
	struct source_opts	 opts;
	uint64_t		 next;
	int			 k;

	bench_init(&b, 1, 1);
	memset(&opts, 0, sizeof(opts));
	opts.minpoll = opts.maxpoll = 6;
	opts.iburst = 1;
	next = sources_start(&b.sys, &b.src[0], &opts, b.now);
	ck_assert_uint_eq(b.f.upper, 250);
	ck_assert_uint_eq(next, b.now + 249 * 1000000ULL);
	for (k = 0; k < 3; k++)
		ck_assert_uint_eq(sources_polled(&b.sys, &b.src[0], b.now),
		    b.now + 2 * SEC);
	next = sources_polled(&b.sys, &b.src[0], b.now);
	ck_assert_int_eq(b.src[0].burst, 0);
	/* 64 s, less 6.4 s (in us) at most. */
	ck_assert_uint_eq(b.f.upper, 6400000);
	ck_assert_uint_eq(next, b.now + 64 * SEC - 6399999 * 1000ULL);
	/* At poll 17, a tenth is 13107.2 s: in ms, for 32 bits. */
	b.src[0].iv.poll = 17;
	next = sources_next_poll(&b.sys, &b.src[0], b.now);
	ck_assert_uint_eq(b.f.upper, 13107200);
	ck_assert_uint_eq(next, b.now + 131072 * SEC -
	    13107199 * 1000000ULL);
}
END_TEST

/* The system peer's index follows the caller's array. */
START_TEST(peer_moves)
{
	struct bench	 b;

	bench_init(&b, 0, 1);
	b.sys.have_result = 1;
	b.sys.result.syspeer = 1;
	sources_moved(&b.sys, 0, 1);
	ck_assert_uint_eq(b.sys.result.syspeer, 2);
	sources_moved(&b.sys, 3, 1);
	ck_assert_uint_eq(b.sys.result.syspeer, 2);
	sources_moved(&b.sys, 0, -1);
	ck_assert_uint_eq(b.sys.result.syspeer, 1);
	ck_assert_int_eq(b.sys.have_result, 1);
	sources_forget(&b.sys, 0);
	ck_assert_int_eq(b.sys.have_result, 1);
	sources_moved(&b.sys, 1, -1);
	ck_assert_int_eq(b.sys.have_result, 0);
	b.sys.have_result = 1;
	sources_forget(&b.sys, 1);
	ck_assert_int_eq(b.sys.have_result, 0);
}
END_TEST

START_TEST(too_many)
{
	struct bench	 b;

	bench_init(&b, 0, 1);
	ck_assert_int_eq(sources_select(&b.sys, b.all,
	    SELECT_MAX_SOURCES + 1, b.now), -1);
	ck_assert_uint_eq(b.sys.selected_ns, 0);
}
END_TEST

static Suite *
sources_suite(void)
{
	Suite	*s = suite_create("sources");
	TCase	*tc = tcase_create("sources");

	tcase_add_test(tc, first_update_waits_for_burst);
	tcase_add_test(tc, burst_wait_ends);
	tcase_add_test(tc, burst_stopped);
	tcase_add_test(tc, first_update_median);
	tcase_add_test(tc, pending_vote);
	tcase_add_test(tc, inactive_no_vote);
	tcase_add_test(tc, majority_wait_ends);
	tcase_add_test(tc, tolerance_refused);
	tcase_add_test(tc, tolerance_after_first_update);
	tcase_add_test(tc, corrections_to_all);
	tcase_add_test(tc, miss_shortens);
	tcase_add_test(tc, schedule);
	tcase_add_test(tc, peer_moves);
	tcase_add_test(tc, too_many);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(sources_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
