/*
 * Unit tests for ntpd/select.c: fitness, falsetickers, no majority,
 * sources still measuring, clustering, combining, the system peer and its policies, a WAN with
 * asymmetric paths; a brute-force model of the intersection on integer
 * intervals full of ties, and a property check that truechimers keep
 * falsetickers out in 10^4 random trials.
 */

#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "select.h"

#define MS	1e-3
#define US	1e-6

static struct select_source
src(double offset, double rootdist)
{
	struct select_source	s;

	memset(&s, 0, sizeof(s));
	s.offset = offset;
	s.rootdist = rootdist;
	s.jitter = 100 * US;
	s.stratum = 2;
	s.leap = 0;
	s.reach = 0xff;
	return s;
}

static struct select_conf
defconf(void)
{
	struct select_conf	c;

	select_conf_init(&c);
	return c;
}

static void
run(const struct select_conf *c, const struct select_source *s, size_t n,
    struct select_verdict *v, struct select_result *r)
{
	ck_assert_int_eq(select_run(c, s, n, v, r), 0);
}

/* How many verdicts are in state st. */
static unsigned int
count(const struct select_verdict *v, size_t n, enum select_state st)
{
	unsigned int	k = 0;
	size_t		i;

	for (i = 0; i < n; i++)
		if (v[i].state == st)
			k++;
	return k;
}

/*
 * A source still measuring (too far, pending) counts as a voter: the
 * first usable source, a liar, is no majority of three; once the honest
 * ones are in, it is a falseticker.
 */
START_TEST(pending)
{
	struct select_conf	c = defconf();
	struct select_source	s[3];
	struct select_verdict	v[3];
	struct select_result	r;

	s[0] = src(2.0, 10 * MS);		/* the liar, usable first */
	s[1] = src(0, 3.0);			/* honest, too far yet */
	s[2] = src(1 * MS, 3.0);
	s[1].flags = s[2].flags = SELECT_F_PENDING;
	run(&c, s, 3, v, &r);
	ck_assert_int_eq(r.status, SELECT_WAITING);
	ck_assert_int_eq(v[0].state, SELECT_CANDIDATE);
	ck_assert_int_eq(v[1].state, SELECT_UNUSABLE);
	ck_assert_uint_eq(v[1].why, SELECT_WHY_DISTANCE);
	ck_assert_uint_eq(r.ncombined, 0);
	ck_assert_uint_eq(count(v, 3, SELECT_SYSPEER), 0);

	/* Not pending: the liar alone is all there is, and is chosen. */
	s[1].flags = s[2].flags = 0;
	run(&c, s, 3, v, &r);
	ck_assert_int_eq(r.status, SELECT_OK);
	ck_assert_int_eq(v[0].state, SELECT_SYSPEER);

	/* Pending only counts for the distance: unreachable does not. */
	s[1].flags = s[2].flags = SELECT_F_PENDING;
	s[1].reach = s[2].reach = 0;
	run(&c, s, 3, v, &r);
	ck_assert_int_eq(r.status, SELECT_OK);
	s[1].reach = s[2].reach = 0xff;

	/* One honest source in: one against one, no majority. */
	s[1].rootdist = 10 * MS;
	run(&c, s, 3, v, &r);
	ck_assert_int_eq(r.status, SELECT_NO_MAJORITY);
	/* Two that agree, one pending: two of three are a majority. */
	s[0] = src(1 * MS, 10 * MS);
	run(&c, s, 3, v, &r);
	ck_assert_int_eq(r.status, SELECT_OK);
	ck_assert_uint_eq(r.ntruechimers, 2);
	s[0] = src(2.0, 10 * MS);
	/* Both in: the liar is a falseticker. */
	s[2].rootdist = 10 * MS;
	run(&c, s, 3, v, &r);
	ck_assert_int_eq(r.status, SELECT_OK);
	ck_assert_int_eq(v[0].state, SELECT_FALSETICKER);
	ck_assert_uint_eq(r.ncombined, 2);
	/* The flag means nothing on a usable source. */
	ck_assert_uint_eq(r.nusable, 3);
}
END_TEST

/*
 * Trusted sources: their majority is the one that counts.  Three
 * untrusted agree far from one trusted: the trusted one wins, and they
 * are falsetickers; two trusted that disagree leave no majority.
 */
START_TEST(trusted)
{
	struct select_conf	c = defconf();
	struct select_source	s[4];
	struct select_verdict	v[4];
	struct select_result	r;

	s[0] = src(0, 10 * MS);
	s[0].flags = SELECT_F_TRUSTED;
	s[1] = src(1.0, 10 * MS);
	s[2] = src(1.001, 10 * MS);
	s[3] = src(1.002, 10 * MS);
	run(&c, s, 4, v, &r);
	ck_assert_int_eq(r.status, SELECT_OK);
	ck_assert_int_eq(v[0].state, SELECT_SYSPEER);
	ck_assert_uint_eq(count(v, 4, SELECT_FALSETICKER), 3);
	ck_assert_uint_eq(r.ntruechimers, 1);

	/* Without the flag the three outvote it. */
	s[0].flags = 0;
	run(&c, s, 4, v, &r);
	ck_assert_int_eq(v[0].state, SELECT_FALSETICKER);
	ck_assert_uint_eq(r.ntruechimers, 3);

	/* An untrusted source that agrees with the trusted is kept. */
	s[0].flags = SELECT_F_TRUSTED;
	s[1].offset = 1 * MS;
	run(&c, s, 4, v, &r);
	ck_assert_int_eq(r.status, SELECT_OK);
	ck_assert_uint_eq(r.ntruechimers, 2);
	ck_assert_int_ne(v[1].state, SELECT_FALSETICKER);

	/* Two trusted that disagree: no majority of the trusted. */
	s[2].flags = SELECT_F_TRUSTED;
	run(&c, s, 4, v, &r);
	ck_assert_int_eq(r.status, SELECT_NO_MAJORITY);

	/* A trusted source does not wait for pending ones. */
	s[1] = src(0, 3.0);
	s[2] = src(0, 3.0);
	s[3] = src(0, 3.0);
	s[1].flags = s[2].flags = s[3].flags = SELECT_F_PENDING;
	run(&c, s, 4, v, &r);
	ck_assert_int_eq(r.status, SELECT_OK);
	ck_assert_int_eq(v[0].state, SELECT_SYSPEER);
}
END_TEST

START_TEST(conf_defaults)
{
	struct select_conf	c;

	memset(&c, 0x55, sizeof(c));
	select_conf_init(&c);
	ck_assert(c.maxdist == 1.5);
	ck_assert(c.mindist == 0.001);
	ck_assert(c.combine_limit == 3);
	ck_assert_uint_eq(c.min_sources, 1);
	ck_assert_uint_eq(c.min_survivors, 3);
}
END_TEST

struct bad_conf {
	double		maxdist;
	double		mindist;
	double		combine_limit;
	unsigned int	min_sources;
	unsigned int	min_survivors;
};

static const struct bad_conf bad_confs[] = {
	{ 0,		0.001,	3,		1, 3 },
	{ -1,		0.001,	3,		1, 3 },
	{ NAN,		0.001,	3,		1, 3 },
	{ INFINITY,	0.001,	3,		1, 3 },
	{ 1.5,		0,	3,		1, 3 },
	{ 1.5,		-1,	3,		1, 3 },
	{ 1.5,		NAN,	3,		1, 3 },
	{ 1.5,		2,	3,		1, 3 },
	{ 1.5,		0.001,	0.5,		1, 3 },
	{ 1.5,		0.001,	-1,		1, 3 },
	{ 1.5,		0.001,	NAN,		1, 3 },
	{ 1.5,		0.001,	INFINITY,	1, 3 },
	{ 1.5,		0.001,	3,		0, 3 },
	{ 1.5,		0.001,	3,		1, 0 },
};

START_TEST(conf_bad)
{
	const struct bad_conf	*b = &bad_confs[_i];
	struct select_conf	 c;
	struct select_source	 s = src(0, 0.01);
	struct select_verdict	 v;
	struct select_result	 r;

	memset(&c, 0, sizeof(c));
	c.maxdist = b->maxdist;
	c.mindist = b->mindist;
	c.combine_limit = b->combine_limit;
	c.min_sources = b->min_sources;
	c.min_survivors = b->min_survivors;
	errno = 0;
	ck_assert_int_eq(select_run(&c, &s, 1, &v, &r), -1);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(args)
{
	struct select_conf	c = defconf();
	struct select_source	s[SELECT_MAX_SOURCES + 1];
	struct select_verdict	v[SELECT_MAX_SOURCES + 1];
	struct select_result	r;
	size_t			i;

	for (i = 0; i <= SELECT_MAX_SOURCES; i++)
		s[i] = src(0, 0.01);
	errno = 0;
	ck_assert_int_eq(select_run(NULL, s, 1, v, &r), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(select_run(&c, NULL, 1, v, &r), -1);
	ck_assert_int_eq(select_run(&c, s, 1, NULL, &r), -1);
	ck_assert_int_eq(select_run(&c, s, 1, v, NULL), -1);
	ck_assert_int_eq(select_run(&c, s, SELECT_MAX_SOURCES + 1, v, &r),
	    -1);
	/* The most there may be, all the same: one interval, all combined. */
	run(&c, s, SELECT_MAX_SOURCES, v, &r);
	ck_assert_int_eq(r.status, SELECT_OK);
	ck_assert_uint_eq(r.ncombined, SELECT_MAX_SOURCES);
	ck_assert_uint_eq(r.syspeer, 0);
	/* None at all is no sources, with or without arrays. */
	run(&c, NULL, 0, NULL, &r);
	ck_assert_int_eq(r.status, SELECT_NO_SOURCES);
}
END_TEST

START_TEST(one_source)
{
	struct select_conf	c = defconf();
	struct select_source	s = src(12 * MS, 0.02);
	struct select_verdict	v;
	struct select_result	r;

	s.jitter = 300 * US;
	run(&c, &s, 1, &v, &r);
	ck_assert_int_eq(r.status, SELECT_OK);
	ck_assert_int_eq(v.state, SELECT_SYSPEER);
	ck_assert_uint_eq(v.why, 0);
	ck_assert_uint_eq(r.syspeer, 0);
	ck_assert(r.offset == 12 * MS);
	ck_assert(r.sel_jitter == 0);
	ck_assert(r.jitter == 300 * US);
	ck_assert(r.low == 12 * MS - 0.02 && r.high == 12 * MS + 0.02);
	ck_assert_uint_eq(r.nusable, 1);
	ck_assert_uint_eq(r.ntruechimers, 1);
	ck_assert_uint_eq(r.ncombined, 1);

	/* Heard once in the last eight polls is enough. */
	s.reach = 0x80;
	run(&c, &s, 1, &v, &r);
	ck_assert_int_eq(r.status, SELECT_OK);

	s.reach = 0;
	run(&c, &s, 1, &v, &r);
	ck_assert_int_eq(r.status, SELECT_NO_SOURCES);
	ck_assert_int_eq(v.state, SELECT_UNUSABLE);
	ck_assert_uint_eq(v.why, SELECT_WHY_UNREACH);
	ck_assert_uint_eq(r.nusable, 0);
}
END_TEST

struct unfit {
	double		offset;
	double		rootdist;
	double		jitter;
	unsigned int	stratum;
	unsigned int	leap;
	uint8_t		reach;
	unsigned int	flags;
	unsigned int	why;
};

static const struct unfit unfits[] = {
	{ 0, 0.01, 1e-4, 2, 3, 0xff, 0, SELECT_WHY_UNSYNC },
	{ 0, 0.01, 1e-4, 2, 4, 0xff, 0, SELECT_WHY_UNSYNC },
	{ 0, 0.01, 1e-4, 16, 0, 0xff, 0, SELECT_WHY_UNSYNC },
	{ 0, 0.01, 1e-4, 255, 0, 0xff, 0, SELECT_WHY_UNSYNC },
	{ 0, 0.01, 1e-4, 0, 0, 0xff, 0, SELECT_WHY_UNSYNC },
	{ 0, 1.6, 1e-4, 2, 0, 0xff, 0, SELECT_WHY_DISTANCE },
	{ 0, 0.01, 1e-4, 2, 0, 0, 0, SELECT_WHY_UNREACH },
	{ 0, 0.01, 1e-4, 2, 0, 0xff, SELECT_F_NOSELECT, SELECT_WHY_NOSELECT },
	{ 0, 0.01, 1e-4, 2, 0, 0xff, SELECT_F_NOSELECT | SELECT_F_PREFER,
	    SELECT_WHY_NOSELECT },
	{ NAN, 0.01, 1e-4, 2, 0, 0xff, 0, SELECT_WHY_INVALID },
	{ INFINITY, 0.01, 1e-4, 2, 0, 0xff, 0, SELECT_WHY_INVALID },
	{ 0, NAN, 1e-4, 2, 0, 0xff, 0, SELECT_WHY_INVALID },
	{ 0, -0.01, 1e-4, 2, 0, 0xff, 0, SELECT_WHY_INVALID },
	{ 0, INFINITY, 1e-4, 2, 0, 0xff, 0,
	    SELECT_WHY_INVALID | SELECT_WHY_DISTANCE },
	{ 0, 0.01, -1e-4, 2, 0, 0xff, 0, SELECT_WHY_INVALID },
	{ 0, 0.01, NAN, 2, 0, 0xff, 0, SELECT_WHY_INVALID },
	{ 0, 2, 1e-4, 16, 3, 0, SELECT_F_NOSELECT,
	    SELECT_WHY_UNREACH | SELECT_WHY_NOSELECT | SELECT_WHY_UNSYNC |
	    SELECT_WHY_DISTANCE },
};

/*
 * Each unfit source, beside two good ones at +1 s that would be a
 * minority against it if it counted: it never counts.
 */
START_TEST(unusable)
{
	const struct unfit	*u = &unfits[_i];
	struct select_conf	 c = defconf();
	struct select_source	 s[3];
	struct select_verdict	 v[3];
	struct select_result	 r;

	s[0] = src(1, 0.01);
	s[1] = src(1.001, 0.01);
	s[2].offset = u->offset;
	s[2].rootdist = u->rootdist;
	s[2].jitter = u->jitter;
	s[2].stratum = u->stratum;
	s[2].leap = u->leap;
	s[2].reach = u->reach;
	s[2].flags = u->flags;
	run(&c, s, 3, v, &r);
	ck_assert_int_eq(v[2].state, SELECT_UNUSABLE);
	ck_assert_uint_eq(v[2].why, u->why);
	ck_assert_int_eq(r.status, SELECT_OK);
	ck_assert_uint_eq(r.nusable, 2);
	ck_assert_uint_eq(r.ncombined, 2);
	ck_assert(fabs(r.offset - 1.0005) < 1e-12);

	/* Alone it gives nothing. */
	run(&c, &s[2], 1, v, &r);
	ck_assert_int_eq(r.status, SELECT_NO_SOURCES);
}
END_TEST

/* Exactly at maxdist is still usable; maxdist is the caller's. */
START_TEST(maxdist_edge)
{
	struct select_conf	c = defconf();
	struct select_source	s = src(0, 1.5);
	struct select_verdict	v;
	struct select_result	r;

	run(&c, &s, 1, &v, &r);
	ck_assert_int_eq(r.status, SELECT_OK);
	c.maxdist = 1.0;
	run(&c, &s, 1, &v, &r);
	ck_assert_int_eq(r.status, SELECT_NO_SOURCES);
	ck_assert_uint_eq(v.why, SELECT_WHY_DISTANCE);
}
END_TEST

/*
 * Three good servers and one 2 s off, in every position, once with
 * ordinary and once with the best credentials (stratum 1, least
 * distance, prefer): it is a falseticker every time and the result comes
 * from the other three.
 */
START_TEST(falseticker_2s)
{
	static const double	 good[3] = { 100 * US, -200 * US, 50 * US };
	static const double	 dist[3] = { 0.010, 0.020, 0.015 };
	struct select_conf	 c = defconf();
	struct select_source	 s[4];
	struct select_verdict	 v[4];
	struct select_result	 r;
	size_t			 pos, i, k;
	int			 best;

	for (best = 0; best < 2; best++)
		for (pos = 0; pos < 4; pos++) {
			for (i = k = 0; i < 4; i++) {
				if (i == pos) {
					s[i] = src(2.0, best ? 0.0005 : 0.02);
					if (best) {
						s[i].stratum = 1;
						s[i].flags = SELECT_F_PREFER;
						s[i].jitter = 1 * US;
					}
				} else {
					s[i] = src(good[k], dist[k]);
					k++;
				}
			}
			run(&c, s, 4, v, &r);
			ck_assert_int_eq(r.status, SELECT_OK);
			ck_assert_int_eq(v[pos].state, SELECT_FALSETICKER);
			ck_assert_uint_eq(r.nusable, 4);
			ck_assert_uint_eq(r.ntruechimers, 3);
			ck_assert_uint_eq(r.ncombined, 3);
			ck_assert_uint_ne(r.syspeer, pos);
			ck_assert(r.offset >= -200 * US &&
			    r.offset <= 100 * US);
			ck_assert(r.high < 1.0);
			/* The least distance of the three is the peer. */
			ck_assert(s[r.syspeer].offset == good[0]);
		}
}
END_TEST

/* 2 against 2: nobody can tell which pair is right. */
START_TEST(split_2_2)
{
	struct select_conf	c = defconf();
	struct select_source	s[4], s5[5];
	struct select_verdict	v[4], v5[5];
	struct select_result	r;

	s[0] = src(0, 0.01);
	s[1] = src(1 * MS, 0.01);
	s[2] = src(1.0, 0.01);
	s[3] = src(1.001, 0.01);
	s[0].flags = SELECT_F_PREFER;
	run(&c, s, 4, v, &r);
	ck_assert_int_eq(r.status, SELECT_NO_MAJORITY);
	ck_assert_uint_eq(count(v, 4, SELECT_FALSETICKER), 4);
	ck_assert_uint_eq(r.nusable, 4);
	ck_assert_uint_eq(r.ntruechimers, 0);
	ck_assert_uint_eq(r.ncombined, 0);

	/* Two that disagree: the same. */
	run(&c, &s[1], 2, v, &r);
	ck_assert_int_eq(r.status, SELECT_NO_MAJORITY);

	/* A fifth on either side decides it. */
	s5[0] = s[0];
	s5[1] = s[1];
	s5[2] = s[2];
	s5[3] = s[3];
	s5[4] = src(1.0005, 0.01);
	run(&c, s5, 5, v5, &r);
	ck_assert_int_eq(r.status, SELECT_OK);
	ck_assert_int_eq(v5[0].state, SELECT_FALSETICKER);
	ck_assert_int_eq(v5[1].state, SELECT_FALSETICKER);
	ck_assert_uint_eq(r.ntruechimers, 3);
	ck_assert(fabs(r.offset - 1.0005) < 1 * MS);
}
END_TEST

/* Noselect: shown as unusable, never chosen, never counted. */
START_TEST(noselect)
{
	struct select_conf	c = defconf();
	struct select_source	s[3];
	struct select_verdict	v[3];
	struct select_result	r;

	s[0] = src(0, 0.0001);
	s[0].stratum = 1;
	s[0].jitter = 1 * US;
	s[0].flags = SELECT_F_NOSELECT | SELECT_F_PREFER | SELECT_F_SYSPEER;
	s[1] = src(5 * MS, 0.05);
	s[2] = src(6 * MS, 0.05);
	run(&c, s, 3, v, &r);
	ck_assert_int_eq(r.status, SELECT_OK);
	ck_assert_int_eq(v[0].state, SELECT_UNUSABLE);
	ck_assert_uint_eq(v[0].why, SELECT_WHY_NOSELECT);
	ck_assert_uint_ne(r.syspeer, 0);
	ck_assert_uint_eq(r.nusable, 2);
	ck_assert(r.offset > 5 * MS - 1e-12 && r.offset < 6 * MS + 1e-12);

	/*
	 * Agreeing with one of two that disagree, it would make a majority
	 * of two against one if it counted: it does not.
	 */
	s[0].offset = 0;
	s[1].offset = 0;
	s[2].offset = 0.2;
	s[1].rootdist = s[2].rootdist = 0.01;
	run(&c, s, 3, v, &r);
	ck_assert_int_eq(r.status, SELECT_NO_MAJORITY);
	ck_assert_int_eq(v[0].state, SELECT_UNUSABLE);
	ck_assert_uint_eq(r.nusable, 2);

	run(&c, s, 1, v, &r);
	ck_assert_int_eq(r.status, SELECT_NO_SOURCES);
}
END_TEST

START_TEST(prefer)
{
	struct select_conf	c = defconf();
	struct select_source	s[5];
	struct select_verdict	v[5];
	struct select_result	r;

	/* A truechimer, worse in distance and stratum: honoured. */
	s[0] = src(0, 0.005);
	s[0].stratum = 1;
	s[1] = src(1 * MS, 0.01);
	s[2] = src(-1 * MS, 0.012);
	s[2].stratum = 3;
	s[2].flags = SELECT_F_PREFER;
	run(&c, s, 3, v, &r);
	ck_assert_int_eq(r.status, SELECT_OK);
	ck_assert_uint_eq(r.syspeer, 2);
	ck_assert_int_eq(v[2].state, SELECT_SYSPEER);
	ck_assert_int_eq(v[0].state, SELECT_COMBINED);
	/* Combining is as without prefer; the peer is what changes. */
	ck_assert(fabs(r.offset - (0 / 0.005 + 1 * MS / 0.01 -
	    1 * MS / 0.012) / (1 / 0.005 + 1 / 0.01 + 1 / 0.012)) < 1e-15);

	/* A falseticker: ignored, the best truechimer is the peer. */
	s[2].offset = 0.5;
	run(&c, s, 3, v, &r);
	ck_assert_int_eq(r.status, SELECT_OK);
	ck_assert_int_eq(v[2].state, SELECT_FALSETICKER);
	ck_assert_uint_eq(r.syspeer, 0);

	/* Unusable: ignored. */
	s[2].offset = 0;
	s[2].reach = 0;
	run(&c, s, 3, v, &r);
	ck_assert_uint_eq(r.syspeer, 0);

	/*
	 * A truechimer that clustering prunes: five sources, four within
	 * 20 us, the prefer one 4 ms away (all well inside each other's
	 * intervals).  It is the outlier and is not the peer.
	 */
	s[0] = src(0, 0.01);
	s[1] = src(10 * US, 0.01);
	s[2] = src(-10 * US, 0.01);
	s[3] = src(20 * US, 0.01);
	s[4] = src(4 * MS, 0.005);
	s[4].flags = SELECT_F_PREFER;
	run(&c, s, 5, v, &r);
	ck_assert_int_eq(r.status, SELECT_OK);
	ck_assert_int_eq(v[4].state, SELECT_CANDIDATE);
	ck_assert_uint_ne(r.syspeer, 4);
	ck_assert_uint_eq(r.nsurvivors, 4);
	ck_assert(fabs(r.offset - 5 * US) < 1e-12);
}
END_TEST

START_TEST(min_sources)
{
	struct select_conf	c = defconf();
	struct select_source	s[4];
	struct select_verdict	v[4];
	struct select_result	r;

	s[0] = src(0, 0.01);
	s[1] = src(1 * MS, 0.01);
	s[2] = src(-1 * MS, 0.01);
	s[3] = src(2.0, 0.01);

	c.min_sources = 3;
	run(&c, s, 3, v, &r);
	ck_assert_int_eq(r.status, SELECT_OK);
	/* Four usable, three agree: still three. */
	run(&c, s, 4, v, &r);
	ck_assert_int_eq(r.status, SELECT_OK);
	ck_assert_int_eq(v[3].state, SELECT_FALSETICKER);

	/* One of the three unreachable: two agree, too few. */
	s[1].reach = 0;
	run(&c, s, 4, v, &r);
	ck_assert_int_eq(r.status, SELECT_TOO_FEW);
	ck_assert_int_eq(v[0].state, SELECT_CANDIDATE);
	ck_assert_int_eq(v[1].state, SELECT_UNUSABLE);
	ck_assert_int_eq(v[2].state, SELECT_CANDIDATE);
	ck_assert_int_eq(v[3].state, SELECT_FALSETICKER);
	ck_assert_uint_eq(r.ntruechimers, 2);
	ck_assert_uint_eq(r.ncombined, 0);
	ck_assert_uint_eq(count(v, 4, SELECT_SYSPEER), 0);
	ck_assert(r.low <= 0 && r.high >= 0);

	c.min_sources = 2;
	run(&c, s, 4, v, &r);
	ck_assert_int_eq(r.status, SELECT_OK);

	/* A single server under min_sources 2: nothing. */
	run(&c, s, 1, v, &r);
	ck_assert_int_eq(r.status, SELECT_TOO_FEW);
	ck_assert_int_eq(v[0].state, SELECT_CANDIDATE);
}
END_TEST

/*
 * Three WAN servers, 30 to 80 ms away, each path asymmetric so that
 * they read -2.5 ms give or take 0.5: they all overlap, all survive, and
 * the combination lands near -2.5 ms.
 */
START_TEST(wan_asymmetric)
{
	static const double	 off[3] = { -2.0 * MS, -3.0 * MS, -2.6 * MS };
	static const double	 dly[3] = { 30 * MS, 45 * MS, 80 * MS };
	struct select_conf	 c = defconf();
	struct select_source	 s[3];
	struct select_verdict	 v[3];
	struct select_result	 r;
	double			 want, wsum;
	size_t			 i;

	want = wsum = 0;
	for (i = 0; i < 3; i++) {
		/* delay/2, a little dispersion, 1 ms root distance, jitter */
		s[i] = src(off[i], dly[i] / 2 + 0.5 * MS + 1 * MS + 0.4 * MS);
		s[i].jitter = 0.4 * MS;
		want += off[i] / s[i].rootdist;
		wsum += 1 / s[i].rootdist;
	}
	want /= wsum;
	run(&c, s, 3, v, &r);
	ck_assert_int_eq(r.status, SELECT_OK);
	ck_assert_uint_eq(r.ntruechimers, 3);
	ck_assert_uint_eq(r.nsurvivors, 3);
	ck_assert_uint_eq(r.ncombined, 3);
	ck_assert_uint_eq(r.syspeer, 0);
	ck_assert(fabs(r.offset - want) < 1e-15);
	ck_assert(fabs(r.offset - -2.5 * MS) < 0.3 * MS);
	ck_assert(r.jitter < 1 * MS);
}
END_TEST

/*
 * Clustering: survivors go, worst selection jitter first, while that
 * beats the least peer jitter and more than min_survivors remain.
 */
START_TEST(cluster)
{
	static const double	offs[6] = { 0, 1, 2, 4, 6, 10 };
	struct select_conf	c = defconf();
	struct select_source	s[6];
	struct select_verdict	v[6];
	struct select_result	r;
	size_t			i;

	/*
	 * Spread far beyond every jitter: 10 ms goes first, then 6 and 4
	 * (sums of squares 297, then 81 against 57, then 29 against 21):
	 * down to three.
	 */
	for (i = 0; i < 6; i++) {
		s[i] = src(offs[i] * MS, 0.05);
		s[i].jitter = 10 * US;
	}
	run(&c, s, 6, v, &r);
	ck_assert_int_eq(r.status, SELECT_OK);
	ck_assert_uint_eq(r.ntruechimers, 6);
	ck_assert_uint_eq(r.nsurvivors, 3);
	ck_assert_int_eq(v[3].state, SELECT_CANDIDATE);
	ck_assert_int_eq(v[4].state, SELECT_CANDIDATE);
	ck_assert_int_eq(v[5].state, SELECT_CANDIDATE);
	ck_assert_uint_eq(r.ncombined, 3);
	ck_assert(fabs(r.offset - 1 * MS) < 1e-15);

	c.min_survivors = 5;
	run(&c, s, 6, v, &r);
	ck_assert_uint_eq(r.nsurvivors, 5);
	ck_assert_int_eq(v[5].state, SELECT_CANDIDATE);
	c.min_survivors = 3;

	/* Spread within the jitter: nobody goes. */
	for (i = 0; i < 6; i++)
		s[i].jitter = 10 * MS;
	run(&c, s, 6, v, &r);
	ck_assert_uint_eq(r.nsurvivors, 6);
	ck_assert_uint_eq(r.ncombined, 6);

	/*
	 * A tie (exact binary fractions, so exactly equal): the later in
	 * order of stratum and distance goes, then the later source.
	 */
	s[0] = src(-1.0 / 1024, 1.0 / 64);
	s[1] = src(-1.0 / 2048, 1.0 / 64);
	s[2] = src(1.0 / 2048, 1.0 / 64);
	s[3] = src(1.0 / 1024, 1.0 / 64);
	for (i = 0; i < 4; i++)
		s[i].jitter = 1 * US;
	run(&c, s, 4, v, &r);
	ck_assert_uint_eq(r.nsurvivors, 3);
	ck_assert_int_eq(v[3].state, SELECT_CANDIDATE);
	s[0].rootdist = 1.0 / 32;
	run(&c, s, 4, v, &r);
	ck_assert_int_eq(v[0].state, SELECT_CANDIDATE);
	ck_assert_int_ge(v[3].state, SELECT_COMBINED);

	/* Identical offsets and no jitter at all: nobody goes either. */
	for (i = 0; i < 6; i++) {
		s[i].offset = 7 * MS;
		s[i].jitter = 0;
	}
	run(&c, s, 6, v, &r);
	ck_assert_uint_eq(r.nsurvivors, 6);
	ck_assert(r.offset == 7 * MS);
}
END_TEST

START_TEST(combine)
{
	struct select_conf	c = defconf();
	struct select_source	s[3];
	struct select_verdict	v[3];
	struct select_result	r;
	double			y, z, w;

	/* Weights 1/rootdist; selection jitter about the peer. */
	s[0] = src(1 * MS, 0.004);
	s[1] = src(-2 * MS, 0.010);
	s[1].jitter = 50 * US;
	run(&c, s, 2, v, &r);
	ck_assert_int_eq(r.status, SELECT_OK);
	ck_assert_uint_eq(r.syspeer, 0);
	y = 1 / 0.004 + 1 / 0.010;
	z = 1 * MS / 0.004 + -2 * MS / 0.010;
	w = (3 * MS) * (3 * MS) / 0.010;
	ck_assert(fabs(r.offset - z / y) < 1e-15);
	ck_assert(fabs(r.sel_jitter - sqrt(w / y)) < 1e-15);
	ck_assert(fabs(r.jitter - hypot(100 * US, sqrt(w / y))) < 1e-15);

	/*
	 * combine_limit: a LAN server (2 ms) and a WAN one (62.5 ms) that
	 * agree: the WAN one stays out unless the limit is off.  Powers of
	 * two, so the ratio is exactly 32.
	 */
	s[0] = src(0, 1.0 / 512);
	s[1] = src(1 * MS, 1.0 / 16);
	run(&c, s, 2, v, &r);
	ck_assert_int_eq(r.status, SELECT_OK);
	ck_assert_int_eq(v[0].state, SELECT_SYSPEER);
	ck_assert_int_eq(v[1].state, SELECT_CANDIDATE);
	ck_assert_uint_eq(r.ncombined, 1);
	ck_assert(r.offset == 0);
	c.combine_limit = 0;
	run(&c, s, 2, v, &r);
	ck_assert_int_eq(v[1].state, SELECT_COMBINED);
	ck_assert(fabs(r.offset - (1 * MS * 16) / (512 + 16)) < 1e-15);
	/* Exactly at the limit is in. */
	c.combine_limit = 32;
	run(&c, s, 2, v, &r);
	ck_assert_int_eq(v[1].state, SELECT_COMBINED);
	c.combine_limit = 31.9;
	run(&c, s, 2, v, &r);
	ck_assert_int_eq(v[1].state, SELECT_CANDIDATE);

	/* The limit is the peer's distance: a prefer peer far away. */
	c.combine_limit = 3;
	s[1].flags = SELECT_F_PREFER;
	run(&c, s, 2, v, &r);
	ck_assert_uint_eq(r.syspeer, 1);
	ck_assert_uint_eq(r.ncombined, 2);
}
END_TEST

/*
 * The mindist floor: two LAN servers 300 us apart with 50 us root
 * distances do not overlap, though the difference is only path
 * asymmetry.  With the 1 ms floor they agree.
 */
START_TEST(mindist)
{
	struct select_conf	c = defconf();
	struct select_source	s[2];
	struct select_verdict	v[2];
	struct select_result	r;

	s[0] = src(0, 50 * US);
	s[1] = src(300 * US, 50 * US);
	run(&c, s, 2, v, &r);
	ck_assert_int_eq(r.status, SELECT_OK);
	ck_assert(r.low == 300 * US - 1 * MS && r.high == 1 * MS);
	/* Equal floored weights: the plain mean. */
	ck_assert(fabs(r.offset - 150 * US) < 1e-15);
	c.mindist = 10 * US;
	run(&c, s, 2, v, &r);
	ck_assert_int_eq(r.status, SELECT_NO_MAJORITY);
}
END_TEST

START_TEST(syspeer_choice)
{
	struct select_conf	c = defconf();
	struct select_source	s[3];
	struct select_verdict	v[3];
	struct select_result	r;

	/* Stratum first, then distance. */
	s[0] = src(0, 0.01);
	s[1] = src(0, 0.1);
	s[1].stratum = 1;
	s[2] = src(0, 0.005);
	s[2].stratum = 3;
	c.combine_limit = 0;
	run(&c, s, 3, v, &r);
	ck_assert_uint_eq(r.syspeer, 1);
	s[1].stratum = 2;
	run(&c, s, 3, v, &r);
	ck_assert_uint_eq(r.syspeer, 0);
	/* Equal metrics: the first. */
	s[1].rootdist = 0.01;
	run(&c, s, 3, v, &r);
	ck_assert_uint_eq(r.syspeer, 0);

	/* The last peer stays while of the best stratum... */
	s[1].rootdist = 0.02;
	s[1].flags = SELECT_F_SYSPEER;
	run(&c, s, 3, v, &r);
	ck_assert_uint_eq(r.syspeer, 1);
	/* ...not when a better stratum is there... */
	s[0].stratum = 1;
	run(&c, s, 3, v, &r);
	ck_assert_uint_eq(r.syspeer, 0);
	/* ...nor against prefer... */
	s[0].stratum = 2;
	s[2].stratum = 2;
	s[2].flags = SELECT_F_PREFER;
	run(&c, s, 3, v, &r);
	ck_assert_uint_eq(r.syspeer, 2);
	/* ...and not when it is a falseticker now. */
	s[2].flags = 0;
	s[1].offset = 1.0;
	run(&c, s, 3, v, &r);
	ck_assert_int_eq(v[1].state, SELECT_FALSETICKER);
	ck_assert_uint_eq(r.syspeer, 2);
}
END_TEST

/* Midpoints: wide intervals cannot vouch for a spot none is near. */
START_TEST(midpoints)
{
	struct select_conf	c = defconf();
	struct select_source	s[3];
	struct select_verdict	v[3];
	struct select_result	r;

	/*
	 * [-1, 1], [0.5, 2.5], [5, 7]: the first two overlap in [0.5, 1],
	 * but neither offset (0 and 1.5) is in it, and only one source may
	 * be left out.
	 */
	s[0] = src(0, 1);
	s[1] = src(1.5, 1);
	s[2] = src(6, 1);
	c.maxdist = 2;
	run(&c, s, 3, v, &r);
	ck_assert_int_eq(r.status, SELECT_NO_MAJORITY);
	/* Move the second's offset into the overlap: agreed. */
	s[1].offset = 1;
	s[1].rootdist = 1.5;
	run(&c, s, 3, v, &r);
	ck_assert_int_eq(r.status, SELECT_OK);
	ck_assert(r.low == -0.5 && r.high == 1);
	ck_assert_int_eq(v[2].state, SELECT_FALSETICKER);
}
END_TEST

/*
 * Ties count as agreement: a midpoint on the edge of the interval is in
 * it, and an interval that only touches the interval overlaps it.
 */
START_TEST(touching)
{
	struct select_conf	c = defconf();
	struct select_source	s[3];
	struct select_verdict	v[3];
	struct select_result	r;

	c.maxdist = 2;
	/* [0, 2] and [1, 3]: midpoints 1 and 2 on the edges of [1, 2]. */
	s[0] = src(1, 1);
	s[1] = src(2, 1);
	run(&c, s, 2, v, &r);
	ck_assert_int_eq(r.status, SELECT_OK);
	ck_assert(r.low == 1 && r.high == 2);

	/* [0, 2], [1, 2] agree on [1, 2]; [2, 4] touches it. */
	s[1] = src(1.5, 0.5);
	s[2] = src(3, 1);
	run(&c, s, 3, v, &r);
	ck_assert_int_eq(r.status, SELECT_OK);
	ck_assert(r.low == 1 && r.high == 2);
	ck_assert_uint_eq(r.ntruechimers, 3);
	ck_assert_int_ge(v[2].state, SELECT_CANDIDATE);
	/* [2.25, 4.25] does not. */
	s[2] = src(3.25, 1);
	run(&c, s, 3, v, &r);
	ck_assert_int_eq(r.status, SELECT_OK);
	ck_assert_int_eq(v[2].state, SELECT_FALSETICKER);
	ck_assert_uint_eq(r.ntruechimers, 2);
}
END_TEST

/*
 * The model: the intersection by brute force.  For each allow, the
 * depth (closed intervals covering it) at every endpoint; low the least
 * lower endpoint and high the greatest upper endpoint of depth n -
 * allow; accepted when at most allow midpoints lie outside.  Nothing is
 * shared with the code: no sort, no sweep.
 */

static uint64_t	rng_state;

static uint64_t
rng(void)
{
	uint64_t	z;

	z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double
urand(void)
{
	return (double)(rng() >> 11) / 9007199254740992.0;
}

static unsigned int
depth_at(const double *lo, const double *hi, size_t n, double x)
{
	unsigned int	d = 0;
	size_t		i;

	for (i = 0; i < n; i++)
		if (lo[i] <= x && x <= hi[i])
			d++;
	return d;
}

static int
model_intersect(const double *lo, const double *mid, const double *hi,
    size_t n, double *low, double *high)
{
	unsigned int	allow, found;
	double		l, h;
	size_t		i;
	int		have;

	for (allow = 0; 2 * allow < n; allow++) {
		have = 0;
		l = h = 0;
		for (i = 0; i < n; i++)
			if (depth_at(lo, hi, n, lo[i]) >= n - allow &&
			    (!have || lo[i] < l)) {
				l = lo[i];
				have = 1;
			}
		if (!have)
			continue;
		for (i = 0; i < n; i++)
			if (depth_at(lo, hi, n, hi[i]) >= n - allow &&
			    hi[i] > h)
				h = hi[i];
		found = 0;
		for (i = 0; i < n; i++)
			if (mid[i] < l || mid[i] > h)
				found++;
		if (found <= allow) {
			*low = l;
			*high = h;
			return 0;
		}
	}
	return -1;
}

START_TEST(model)
{
	struct select_conf	c = defconf();
	struct select_source	s[12];
	struct select_verdict	v[12];
	struct select_result	r;
	double			lo[12], mid[12], hi[12], low, high;
	size_t			n, i;
	int			trial, ok, nok = 0, nno = 0;

	rng_state = 5905;
	/* Integer endpoints: ties everywhere. */
	c.maxdist = 100;
	c.mindist = 0.5;
	for (trial = 0; trial < 20000; trial++) {
		n = 1 + rng() % 12;
		for (i = 0; i < n; i++) {
			s[i] = src((double)(rng() % 21),
			    (double)(1 + rng() % 6));
			if (rng() % 4 == 0)
				s[i].rootdist = 0.5;
			lo[i] = s[i].offset - s[i].rootdist;
			mid[i] = s[i].offset;
			hi[i] = s[i].offset + s[i].rootdist;
		}
		run(&c, s, n, v, &r);
		ok = model_intersect(lo, mid, hi, n, &low, &high) == 0;
		if (!ok) {
			ck_assert_int_eq(r.status, SELECT_NO_MAJORITY);
			ck_assert_uint_eq(count(v, n, SELECT_FALSETICKER),
			    n);
			nno++;
			continue;
		}
		nok++;
		ck_assert_msg(r.status == SELECT_OK, "trial %d", trial);
		ck_assert_msg(r.low == low && r.high == high,
		    "trial %d: [%g, %g] not [%g, %g]", trial, r.low, r.high,
		    low, high);
		for (i = 0; i < n; i++)
			ck_assert_msg((v[i].state == SELECT_FALSETICKER) ==
			    (hi[i] < low || lo[i] > high), "trial %d src %zu",
			    trial, i);
		ck_assert_uint_gt(r.ntruechimers, n / 2);
	}
	/* Both outcomes, often. */
	ck_assert_int_gt(nok, 2000);
	ck_assert_int_gt(nno, 2000);
}
END_TEST

/*
 * The property: truechimers, whose intervals all contain the true time
 * (0; in every other trial, their offsets within a quarter of their
 * distances of it, as is usual), and fewer falsetickers, whose intervals
 * lie far from every truechimer's (alone or colluding on one lie, perhaps
 * marked prefer or of better stratum), plus unreachable sources
 * anywhere.  A falseticker
 * is never a candidate, let alone combined or chosen; every truechimer
 * survives the intersection; the result is within the truechimers'
 * reach of 0.
 */
START_TEST(property)
{
	struct select_conf	c = defconf();
	struct select_source	s[24];
	struct select_verdict	v[24];
	struct select_result	r;
	int			liar[24], trial, nok = 0, ntight = 0;
	size_t			n, nt, nf, nu, i, j;
	double			maxdist, lie;

	rng_state = 1305;
	for (trial = 0; trial < 10000; trial++) {
		nt = 1 + rng() % 10;
		nf = rng() % nt;	/* fewer than half of nt + nf */
		nu = rng() % 3;
		n = nt + nf + nu;
		maxdist = 0;
		lie = (rng() % 2 ? 1 : -1) * (1 + 9 * urand());
		for (i = 0; i < n; i++)
			liar[i] = -1;
		/* Place them at random positions. */
		for (j = 0; j < n; j++) {
			do
				i = rng() % n;
			while (liar[i] != -1);
			if (j < nt) {
				/* Distance 1 to 100 ms, log-uniform. */
				s[i] = src(0, 1 * MS * pow(100, urand()));
				s[i].offset = (2 * urand() - 1) *
				    s[i].rootdist * (trial % 2 ? 1 : 0.25);
				if (s[i].rootdist > maxdist)
					maxdist = s[i].rootdist;
				liar[i] = 0;
			} else if (j < nt + nf) {
				s[i] = src(rng() % 2 ? lie + 0.01 * urand() :
				    (rng() % 2 ? 1 : -1) * (1 + 9 * urand()),
				    1 * MS + 0.499 * urand());
				liar[i] = 1;
			} else {
				s[i] = src((2 * urand() - 1) * 10,
				    1 * MS + urand());
				s[i].reach = 0;
				liar[i] = 2;
			}
			s[i].jitter = 10 * US + 1 * MS * urand();
			s[i].stratum = 1 + (unsigned int)(rng() % 3);
			if (rng() % 8 == 0)
				s[i].flags |= SELECT_F_PREFER;
			if (rng() % 8 == 0)
				s[i].flags |= SELECT_F_SYSPEER;
		}
		run(&c, s, n, v, &r);
		for (i = 0; i < n; i++) {
			if (liar[i] == 1)
				ck_assert_msg(v[i].state == SELECT_FALSETICKER,
				    "trial %d: falseticker %zu state %d",
				    trial, i, v[i].state);
			if (liar[i] == 2)
				ck_assert_int_eq(v[i].state, SELECT_UNUSABLE);
			if (liar[i] == 0 && r.status == SELECT_OK)
				ck_assert_int_ge(v[i].state,
				    SELECT_CANDIDATE);
		}
		ck_assert_msg(r.status == SELECT_OK ||
		    r.status == SELECT_NO_MAJORITY, "trial %d", trial);
		if (r.status != SELECT_OK)
			continue;
		nok++;
		if (trial % 2 == 0)
			ntight++;
		ck_assert_int_eq(liar[r.syspeer], 0);
		ck_assert(r.low <= 0 && r.high >= 0);
		ck_assert(fabs(r.offset) <= maxdist);
		ck_assert_uint_eq(r.ntruechimers, nt);
	}
	/*
	 * Not vacuous: a good share of trials give a result (3056 of the
	 * tight ones, 1619 of the loose with this seed).  The rest are no
	 * majority by the midpoint rule: with distances a hundredfold apart
	 * the narrow intervals agree on a spot the wide ones' offsets miss.
	 */
	ck_assert_int_gt(ntight, 2500);
	ck_assert_int_gt(nok - ntight, 1250);
}
END_TEST

static Suite *
select_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("select");

	tc = tcase_create("conf");
	tcase_add_test(tc, conf_defaults);
	tcase_add_loop_test(tc, conf_bad, 0,
	    sizeof(bad_confs) / sizeof(bad_confs[0]));
	tcase_add_test(tc, args);
	suite_add_tcase(s, tc);

	tc = tcase_create("fitness");
	tcase_add_test(tc, one_source);
	tcase_add_loop_test(tc, unusable, 0,
	    sizeof(unfits) / sizeof(unfits[0]));
	tcase_add_test(tc, maxdist_edge);
	tcase_add_test(tc, noselect);
	suite_add_tcase(s, tc);

	tc = tcase_create("intersection");
	tcase_add_test(tc, falseticker_2s);
	tcase_add_test(tc, split_2_2);
	tcase_add_test(tc, mindist);
	tcase_add_test(tc, midpoints);
	tcase_add_test(tc, touching);
	suite_add_tcase(s, tc);

	tc = tcase_create("result");
	tcase_add_test(tc, prefer);
	tcase_add_test(tc, min_sources);
	tcase_add_test(tc, pending);
	tcase_add_test(tc, trusted);
	tcase_add_test(tc, wan_asymmetric);
	tcase_add_test(tc, cluster);
	tcase_add_test(tc, combine);
	tcase_add_test(tc, syspeer_choice);
	suite_add_tcase(s, tc);

	tc = tcase_create("random");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, model);
	tcase_add_test(tc, property);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(select_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
