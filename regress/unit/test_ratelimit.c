/*
 * Unit tests for ntpd/ratelimit.c: bucket arithmetic, iburst, IPv6
 * prefixes, the LRU table, top-n, a clock that steps back, and a model
 * check against a plain token bucket and LRU list written here.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "ratelimit.h"

#define SEC	1000000000ULL
#define MSEC	1000000ULL

static struct sockaddr_storage
mkaddr(const char *s)
{
	struct sockaddr_storage	ss;
	socklen_t		len;

	ck_assert_msg(addr_parse(s, 123, &ss, &len) == 0, "bad address %s",
	    s);
	return ss;
}

/* 10.x.y.z numbered from 0, for many distinct clients. */
static struct sockaddr_storage
v4n(uint32_t n)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(0x0a000000U + n);
	return ss;
}

static struct ratelimit *
mk(double rate, double burst, size_t max, unsigned int prefixlen6)
{
	struct ratelimit_conf	 conf;
	struct ratelimit	*rl;

	memset(&conf, 0, sizeof(conf));
	conf.rate = rate;
	conf.burst = burst;
	conf.max_clients = max;
	conf.ipv6_prefixlen = prefixlen6;
	rl = ratelimit_new(&conf);
	ck_assert_msg(rl != NULL, "ratelimit_new: %s", strerror(errno));
	return rl;
}

static enum ratelimit_verdict
req(struct ratelimit *rl, const char *addr, uint64_t now)
{
	struct sockaddr_storage	ss;

	ss = mkaddr(addr);
	return ratelimit_check(rl, (struct sockaddr *)&ss, now);
}

static enum ratelimit_verdict
reqn(struct ratelimit *rl, uint32_t n, uint64_t now)
{
	struct sockaddr_storage	ss;

	ss = v4n(n);
	return ratelimit_check(rl, (struct sockaddr *)&ss, now);
}

/* How many of count back-to-back requests at now pass. */
static int
passes(struct ratelimit *rl, const char *addr, uint64_t now, int count)
{
	int	i, n = 0;

	for (i = 0; i < count; i++)
		if (req(rl, addr, now) == RATELIMIT_PASS)
			n++;
	return n;
}

struct bad_conf {
	double		rate;
	double		burst;
	size_t		max;
	unsigned int	prefixlen6;
};

static const struct bad_conf bad_confs[] = {
	{ 0,		16,	64,		64 },
	{ -1,		16,	64,		64 },
	{ NAN,		16,	64,		64 },
	{ INFINITY,	16,	64,		64 },
	{ 1.5e9,	16,	64,		64 },
	{ 1,		0.999,	64,		64 },
	{ 1,		0,	64,		64 },
	{ 1,		-5,	64,		64 },
	{ 1,		NAN,	64,		64 },
	{ 1,		INFINITY, 64,		64 },
	{ 1,		16,	0,		64 },
	{ 1,		16,	(size_t)1 << 31, 64 },
	{ 1,		16,	SIZE_MAX,	64 },
	{ 1,		16,	64,		0 },
	{ 1,		16,	64,		31 },
	{ 1,		16,	64,		129 },
	/* A bucket of more than 2^62 ns (146 years). */
	{ 1e-9,		16,	64,		64 },
	{ 0.001,	5e6,	64,		64 },
};

START_TEST(conf_bad)
{
	const struct bad_conf	*b = &bad_confs[_i];
	struct ratelimit_conf	 conf;

	memset(&conf, 0, sizeof(conf));
	conf.rate = b->rate;
	conf.burst = b->burst;
	conf.max_clients = b->max;
	conf.ipv6_prefixlen = b->prefixlen6;
	errno = 0;
	ck_assert_ptr_null(ratelimit_new(&conf));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(conf_edges)
{
	struct ratelimit	*rl;

	errno = 0;
	ck_assert_ptr_null(ratelimit_new(NULL));
	ck_assert_int_eq(errno, EINVAL);

	/* The smallest table, the extreme rates and prefixes are fine. */
	rl = mk(1e9, 1, 1, 32);
	ck_assert_int_eq(req(rl, "192.0.2.1", 0), RATELIMIT_PASS);
	ck_assert_int_eq(req(rl, "192.0.2.1", 0), RATELIMIT_LIMIT);
	ck_assert_int_eq(req(rl, "192.0.2.1", 1), RATELIMIT_PASS);
	ratelimit_free(rl);
	rl = mk(0.001, 1e6, 1, 128);
	ck_assert_int_eq(passes(rl, "192.0.2.1", 5, 1000), 1000);
	ratelimit_free(rl);

	ratelimit_free(NULL);
	ck_assert_uint_eq(ratelimit_nclients(NULL), 0);
	ck_assert_uint_eq(ratelimit_evictions(NULL), 0);
	ck_assert_uint_eq(ratelimit_top(NULL, NULL, 5), 0);
}
END_TEST

/*
 * rate 2, burst 4: a request is 500 ms, the bucket 2 s.  Four pass at
 * once; then, asking every 100 ms, exactly every fifth passes.
 */
/* A reload's new rate: the same table, the same clients. */
START_TEST(set_rate_keeps_clients)
{
	struct ratelimit	*rl = mk(1, 1, 16, 64);
	int			 i;

	ck_assert_int_eq(req(rl, "192.0.2.1", SEC), RATELIMIT_PASS);
	ck_assert_int_eq(req(rl, "192.0.2.1", SEC + MSEC), RATELIMIT_LIMIT);
	ck_assert_int_eq(ratelimit_set_rate(rl, 0, 1), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ratelimit_set_rate(rl, 1, 0.5), -1);
	ck_assert_int_eq(req(rl, "192.0.2.1", SEC + 2 * MSEC),
	    RATELIMIT_LIMIT);
	ck_assert_int_eq(ratelimit_set_rate(rl, 1000, 10), 0);
	/* What the client owed under the old rate it still owes... */
	ck_assert_int_eq(req(rl, "192.0.2.1", SEC + 3 * MSEC),
	    RATELIMIT_LIMIT);
	/* ...then the new burst: ten at once, where one passed before. */
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(req(rl, "192.0.2.1", 3 * SEC),
		    RATELIMIT_PASS);
	ck_assert_int_eq(req(rl, "192.0.2.1", 3 * SEC), RATELIMIT_LIMIT);
	ck_assert_uint_eq(ratelimit_nclients(rl), 1);
	ratelimit_free(rl);
}
END_TEST

START_TEST(steady_rate)
{
	struct ratelimit	*rl;
	uint64_t		 t0 = 1000 * SEC, t;
	int			 i, np = 0;

	rl = mk(2, 4, 16, 64);
	ck_assert_int_eq(passes(rl, "192.0.2.1", t0, 4), 4);
	ck_assert_int_eq(req(rl, "192.0.2.1", t0), RATELIMIT_LIMIT);
	for (i = 1; i <= 600; i++) {
		t = t0 + (uint64_t)i * 100 * MSEC;
		if (req(rl, "192.0.2.1", t) == RATELIMIT_PASS) {
			np++;
			ck_assert_msg(i % 5 == 0, "passed at step %d", i);
		} else
			ck_assert_msg(i % 5 != 0, "limited at step %d", i);
	}
	ck_assert_int_eq(np, 120);
	ratelimit_free(rl);
}
END_TEST

/*
 * rate 3: 333333333 ns a request (1e9 / 3, rounded).  Asking every ms
 * after draining, the k-th pass is the first ms at or after k requests'
 * worth of time: k * 333333333 ns.
 */
START_TEST(steady_rate_odd)
{
	struct ratelimit	*rl;
	uint64_t		 t0 = 77 * SEC + 123, t, next;
	int			 i, k = 1;

	rl = mk(3, 2, 16, 64);
	ck_assert_int_eq(passes(rl, "2001:db8::1", t0, 3), 2);
	next = t0 + 333333333ULL;
	for (i = 1; i <= 10000; i++) {
		t = t0 + (uint64_t)i * MSEC;
		if (t >= next) {
			ck_assert_msg(req(rl, "2001:db8::1", t) ==
			    RATELIMIT_PASS, "pass %d at %d ms", k, i);
			k++;
			next = t0 + (uint64_t)k * 333333333ULL;
		} else
			ck_assert_msg(req(rl, "2001:db8::1", t) ==
			    RATELIMIT_LIMIT, "no limit at %d ms", i);
	}
	/* 30 * 333333333 ns is just under 10 s. */
	ck_assert_int_eq(k - 1, 30);
	ratelimit_free(rl);
}
END_TEST

START_TEST(burst)
{
	struct ratelimit	*rl;
	uint64_t		 t0 = 5 * SEC;

	rl = mk(1, 8, 16, 64);
	ck_assert_int_eq(passes(rl, "192.0.2.1", t0, 20), 8);
	ratelimit_free(rl);

	rl = mk(100, 1, 16, 64);
	ck_assert_int_eq(passes(rl, "192.0.2.1", t0, 5), 1);
	ck_assert_int_eq(req(rl, "192.0.2.1", t0 + 10 * MSEC - 1),
	    RATELIMIT_LIMIT);
	ck_assert_int_eq(req(rl, "192.0.2.1", t0 + 10 * MSEC),
	    RATELIMIT_PASS);
	ratelimit_free(rl);

	/* Half a request of burst: two now, the third half a second on. */
	rl = mk(1, 2.5, 16, 64);
	ck_assert_int_eq(passes(rl, "192.0.2.1", t0, 3), 2);
	ck_assert_int_eq(req(rl, "192.0.2.1", t0 + 500 * MSEC - 1),
	    RATELIMIT_LIMIT);
	ck_assert_int_eq(req(rl, "192.0.2.1", t0 + 500 * MSEC),
	    RATELIMIT_PASS);
	ck_assert_int_eq(req(rl, "192.0.2.1", t0 + 500 * MSEC),
	    RATELIMIT_LIMIT);
	ratelimit_free(rl);

	/*
	 * Rate 3, burst 2.5: 333333333 ns a request, a bucket of
	 * 833333333 ns (833333332.5 rounded): after two, a third from
	 * 166666666 ns on.
	 */
	rl = mk(3, 2.5, 16, 64);
	ck_assert_int_eq(passes(rl, "192.0.2.1", t0, 3), 2);
	ck_assert_int_eq(req(rl, "192.0.2.1", t0 + 166666665),
	    RATELIMIT_LIMIT);
	ck_assert_int_eq(req(rl, "192.0.2.1", t0 + 166666666),
	    RATELIMIT_PASS);
	ratelimit_free(rl);
}
END_TEST

START_TEST(refill)
{
	struct ratelimit	*rl;
	uint64_t		 t0 = 3 * SEC;

	rl = mk(1, 4, 16, 64);
	ck_assert_int_eq(passes(rl, "192.0.2.1", t0, 4), 4);
	ck_assert_int_eq(passes(rl, "192.0.2.1", t0 + 2 * SEC - 1, 10), 1);
	ck_assert_int_eq(passes(rl, "192.0.2.1", t0 + 2 * SEC, 10), 1);
	ck_assert_int_eq(passes(rl, "192.0.2.1", t0 + 5 * SEC, 10), 3);
	/* Idle for long: full again, and no fuller. */
	ck_assert_int_eq(passes(rl, "192.0.2.1", t0 + 100 * SEC, 10), 4);
	ck_assert_int_eq(passes(rl, "192.0.2.1", t0 + 100000 * SEC, 10), 4);
	ratelimit_free(rl);
}
END_TEST

/*
 * A client starting up sends 8 requests 2 s apart (iburst), some even
 * back to back, then polls every 64 s or slower.  With a burst of 8 it
 * must never be limited, at any rate a server would configure.
 */
START_TEST(iburst)
{
	static const double	 rates[] = { 0.001, 1.0 / 64, 0.125, 1, 16 };
	static const double	 bursts[] = { 8, 8.5, 16 };
	struct ratelimit	*rl;
	uint64_t		 t;
	size_t			 r, b;
	int			 i;

	for (r = 0; r < sizeof(rates) / sizeof(rates[0]); r++)
		for (b = 0; b < sizeof(bursts) / sizeof(bursts[0]); b++) {
			rl = mk(rates[r], bursts[b], 64, 64);
			t = 10 * SEC;
			ck_assert_int_eq(passes(rl, "192.0.2.1", t, 8), 8);
			for (i = 0; i < 8; i++)
				ck_assert_int_eq(req(rl, "192.0.2.2",
				    t + (uint64_t)i * 2 * SEC),
				    RATELIMIT_PASS);
			for (i = 0; i < 8; i++)
				ck_assert_int_eq(req(rl, "2001:db8::2",
				    t + (uint64_t)i * 2 * SEC + 7),
				    RATELIMIT_PASS);
			ratelimit_free(rl);
		}

	/* Then a day of polling at 64 s, and a restart with iburst. */
	for (r = 1; r < sizeof(rates) / sizeof(rates[0]); r++) {
		rl = mk(rates[r], 8, 64, 64);
		t = 10 * SEC;
		for (i = 0; i < 8; i++, t += 2 * SEC)
			ck_assert_int_eq(req(rl, "192.0.2.3", t),
			    RATELIMIT_PASS);
		t += 62 * SEC;
		for (i = 0; i < 86400 / 64; i++, t += 64 * SEC)
			ck_assert_int_eq(req(rl, "192.0.2.3", t),
			    RATELIMIT_PASS);
		t += 20 * 60 * SEC;
		for (i = 0; i < 8; i++, t += 2 * SEC)
			ck_assert_int_eq(req(rl, "192.0.2.3", t),
			    RATELIMIT_PASS);
		ratelimit_free(rl);
	}
}
END_TEST

START_TEST(independent_clients)
{
	struct ratelimit	*rl;

	rl = mk(1, 4, 16, 64);
	ck_assert_int_eq(passes(rl, "192.0.2.1", SEC, 10), 4);
	ck_assert_int_eq(passes(rl, "192.0.2.2", SEC, 10), 4);
	ck_assert_int_eq(passes(rl, "2001:db8:1::1", SEC, 10), 4);
	ck_assert_int_eq(passes(rl, "192.0.2.1", SEC, 10), 0);
	ck_assert_uint_eq(ratelimit_nclients(rl), 3);
	ck_assert_uint_eq(ratelimit_evictions(rl), 0);
	ratelimit_free(rl);
}
END_TEST

START_TEST(ipv6_prefix)
{
	struct ratelimit	*rl;
	struct ratelimit_client	 top[4];
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&top[0].addr;
	char			 buf[INET6_ADDRSTRLEN];

	rl = mk(1, 4, 16, 64);
	ck_assert_int_eq(passes(rl, "2001:db8:1:2::1", SEC, 2), 2);
	ck_assert_int_eq(passes(rl, "2001:db8:1:2:ffff:1:2:3", SEC, 2), 2);
	ck_assert_int_eq(req(rl, "2001:db8:1:2::77", SEC), RATELIMIT_LIMIT);
	ck_assert_int_eq(passes(rl, "2001:db8:1:3::1", SEC, 10), 4);
	ck_assert_uint_eq(ratelimit_nclients(rl), 2);
	ck_assert_uint_eq(ratelimit_top(rl, top, 4), 2);
	ck_assert_int_eq(sin6->sin6_family, AF_INET6);
	ck_assert_str_eq(inet_ntop(AF_INET6, &sin6->sin6_addr, buf,
	    sizeof(buf)), "2001:db8:1:3::");
	ck_assert_uint_eq(top[0].prefixlen, 64);
	ck_assert_uint_eq(top[0].requests, 10);
	ck_assert_uint_eq(top[0].limited, 6);
	sin6 = (struct sockaddr_in6 *)&top[1].addr;
	ck_assert_str_eq(inet_ntop(AF_INET6, &sin6->sin6_addr, buf,
	    sizeof(buf)), "2001:db8:1:2::");
	ck_assert_uint_eq(top[1].requests, 5);
	ck_assert_uint_eq(top[1].limited, 1);
	ratelimit_free(rl);

	/* /128: every address its own; /48: the two /64s together. */
	rl = mk(1, 4, 16, 128);
	ck_assert_int_eq(passes(rl, "2001:db8:1:2::1", SEC, 10), 4);
	ck_assert_int_eq(passes(rl, "2001:db8:1:2::2", SEC, 10), 4);
	ratelimit_free(rl);
	rl = mk(1, 4, 16, 48);
	ck_assert_int_eq(passes(rl, "2001:db8:1:2::1", SEC, 2), 2);
	ck_assert_int_eq(passes(rl, "2001:db8:1:3::1", SEC, 10), 2);
	ck_assert_int_eq(passes(rl, "2001:db8:2::1", SEC, 10), 4);
	ratelimit_free(rl);
	/* A prefix length inside a byte: /57 keeps the top bit of :7f. */
	rl = mk(1, 4, 16, 57);
	ck_assert_int_eq(passes(rl, "2001:db8:1:7f::1", SEC, 2), 2);
	ck_assert_int_eq(passes(rl, "2001:db8:1::", SEC, 10), 2);
	ck_assert_int_eq(passes(rl, "2001:db8:1:80::", SEC, 10), 4);
	ratelimit_free(rl);
}
END_TEST

START_TEST(mapped_and_odd)
{
	struct ratelimit	*rl;
	struct ratelimit_client	 top[2];
	struct sockaddr_in	*sin = (struct sockaddr_in *)&top[0].addr;
	struct sockaddr_storage	 ss;

	/* A mapped client is the IPv4 client, whatever the v6 prefix. */
	rl = mk(1, 4, 16, 32);
	ck_assert_int_eq(passes(rl, "192.0.2.1", SEC, 2), 2);
	ck_assert_int_eq(passes(rl, "::ffff:192.0.2.1", SEC, 10), 2);
	ck_assert_int_eq(passes(rl, "::ffff:192.0.2.2", SEC, 10), 4);
	ck_assert_uint_eq(ratelimit_nclients(rl), 2);
	ck_assert_uint_eq(ratelimit_top(rl, top, 2), 2);
	ck_assert_int_eq(sin->sin_family, AF_INET);
	ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), 0xc0000201);
	ck_assert_uint_eq(top[0].prefixlen, 32);
	ck_assert_uint_eq(top[0].requests, 12);
	ck_assert_uint_eq(top[0].limited, 8);
	ck_assert_uint_eq(top[0].last_ns, SEC);

	/* Unknown families are limited and take no place. */
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	ck_assert_int_eq(ratelimit_check(rl, (struct sockaddr *)&ss, SEC),
	    RATELIMIT_LIMIT);
	ck_assert_int_eq(ratelimit_check(rl, NULL, SEC), RATELIMIT_LIMIT);
	ck_assert_int_eq(ratelimit_check(NULL, (struct sockaddr *)&ss, SEC),
	    RATELIMIT_LIMIT);
	ck_assert_uint_eq(ratelimit_nclients(rl), 2);
	/* ::/32 is not the IPv4 range: other clients. */
	ck_assert_int_eq(passes(rl, "::", SEC, 10), 4);
	ck_assert_int_eq(passes(rl, "::c000:201", SEC, 10), 0);
	ck_assert_uint_eq(ratelimit_nclients(rl), 3);
	ratelimit_free(rl);
}
END_TEST

/*
 * Burst 1 and a rate of one a year: a client in the table is limited, a
 * client not (or no longer) in it passes.  So verdicts show who is in.
 */
START_TEST(lru_eviction)
{
	struct ratelimit	*rl;
	uint64_t		 t = SEC;

	rl = mk(1.0 / (365 * 86400), 1, 4, 64);
	ck_assert_int_eq(reqn(rl, 1, t++), RATELIMIT_PASS);
	ck_assert_int_eq(reqn(rl, 2, t++), RATELIMIT_PASS);
	ck_assert_int_eq(reqn(rl, 3, t++), RATELIMIT_PASS);
	ck_assert_int_eq(reqn(rl, 4, t++), RATELIMIT_PASS);
	ck_assert_uint_eq(ratelimit_nclients(rl), 4);
	ck_assert_int_eq(reqn(rl, 1, t++), RATELIMIT_LIMIT);
	/* Full: 2 is the least recently seen now. */
	ck_assert_int_eq(reqn(rl, 5, t++), RATELIMIT_PASS);
	ck_assert_uint_eq(ratelimit_evictions(rl), 1);
	ck_assert_uint_eq(ratelimit_nclients(rl), 4);
	ck_assert_int_eq(reqn(rl, 3, t++), RATELIMIT_LIMIT);
	ck_assert_int_eq(reqn(rl, 1, t++), RATELIMIT_LIMIT);
	ck_assert_int_eq(reqn(rl, 5, t++), RATELIMIT_LIMIT);
	ck_assert_uint_eq(ratelimit_evictions(rl), 1);
	/* 2 comes back with a full bucket, pushing out 4. */
	ck_assert_int_eq(reqn(rl, 2, t++), RATELIMIT_PASS);
	ck_assert_uint_eq(ratelimit_evictions(rl), 2);
	ck_assert_int_eq(reqn(rl, 2, t++), RATELIMIT_LIMIT);
	ck_assert_int_eq(reqn(rl, 4, t++), RATELIMIT_PASS);
	ck_assert_uint_eq(ratelimit_evictions(rl), 3);
	/* That pushed out 3; 3 comes back for 1, and 1 for 2. */
	ck_assert_int_eq(reqn(rl, 5, t++), RATELIMIT_LIMIT);
	ck_assert_int_eq(reqn(rl, 3, t++), RATELIMIT_PASS);
	ck_assert_int_eq(reqn(rl, 1, t++), RATELIMIT_PASS);
	ck_assert_uint_eq(ratelimit_evictions(rl), 5);
	ck_assert_uint_eq(ratelimit_nclients(rl), 4);
	ratelimit_free(rl);

	/* A table of one. */
	rl = mk(1.0 / (365 * 86400), 1, 1, 64);
	ck_assert_int_eq(reqn(rl, 1, t), RATELIMIT_PASS);
	ck_assert_int_eq(reqn(rl, 1, t), RATELIMIT_LIMIT);
	ck_assert_int_eq(reqn(rl, 2, t), RATELIMIT_PASS);
	ck_assert_int_eq(reqn(rl, 1, t), RATELIMIT_PASS);
	ck_assert_uint_eq(ratelimit_evictions(rl), 2);
	ck_assert_uint_eq(ratelimit_nclients(rl), 1);
	ratelimit_free(rl);
}
END_TEST

START_TEST(top_n)
{
	struct ratelimit	*rl;
	struct ratelimit_client	 top[8];
	struct sockaddr_in	*sin;
	static const int	 counts[5] = { 5, 3, 9, 1, 9 };
	int			 i, j;

	rl = mk(1000, 1000, 16, 64);
	for (i = 0; i < 5; i++)
		for (j = 0; j < counts[i]; j++)
			reqn(rl, (uint32_t)i, SEC + (uint64_t)i);
	ck_assert_uint_eq(ratelimit_top(rl, top, 0), 0);
	ck_assert_uint_eq(ratelimit_top(rl, NULL, 3), 0);
	ck_assert_uint_eq(ratelimit_top(rl, top, 3), 3);
	/* Ties go by address, lowest first. */
	sin = (struct sockaddr_in *)&top[0].addr;
	ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), 0x0a000002);
	ck_assert_uint_eq(top[0].requests, 9);
	ck_assert_uint_eq(top[0].last_ns, SEC + 2);
	sin = (struct sockaddr_in *)&top[1].addr;
	ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), 0x0a000004);
	ck_assert_uint_eq(top[1].requests, 9);
	sin = (struct sockaddr_in *)&top[2].addr;
	ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), 0x0a000000);
	ck_assert_uint_eq(top[2].requests, 5);
	/* Asking for more than there are gives them all, in order. */
	ck_assert_uint_eq(ratelimit_top(rl, top, 8), 5);
	ck_assert_uint_eq(top[3].requests, 3);
	ck_assert_uint_eq(top[4].requests, 1);
	ck_assert_uint_eq(ratelimit_top(rl, top, 1), 1);
	ck_assert_uint_eq(top[0].requests, 9);
	ratelimit_free(rl);

	/* Equal counts, seen highest address first: the lowest win. */
	rl = mk(1000, 1000, 16, 64);
	for (i = 9; i >= 0; i--)
		reqn(rl, (uint32_t)i, SEC);
	ck_assert_uint_eq(ratelimit_top(rl, top, 3), 3);
	for (i = 0; i < 3; i++) {
		sin = (struct sockaddr_in *)&top[i].addr;
		ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr),
		    0x0a000000U + (uint32_t)i);
	}
	ratelimit_free(rl);
}
END_TEST

static int
cmp_desc(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* Many clients: top-n agrees with sorting every count. */
START_TEST(top_n_many)
{
	struct ratelimit	*rl;
	struct ratelimit_client	 top[20];
	static uint64_t		 count[2000];
	size_t			 n, i;
	uint32_t		 c;
	int			 j, k;

	rl = mk(1000, 1000, 2000, 64);
	for (c = 0; c < 2000; c++) {
		k = (int)((c * 7919) % 97);
		for (j = 0; j < k; j++)
			reqn(rl, c, SEC);
		count[c] = (uint64_t)k;
	}
	qsort(count, 2000, sizeof(count[0]), cmp_desc);
	n = ratelimit_top(rl, top, 20);
	ck_assert_uint_eq(n, 20);
	for (i = 0; i < n; i++) {
		ck_assert_uint_eq(top[i].requests, count[i]);
		if (i > 0 && top[i].requests == top[i - 1].requests)
			ck_assert_int_lt(memcmp(
			    &((struct sockaddr_in *)&top[i - 1].addr)->sin_addr,
			    &((struct sockaddr_in *)&top[i].addr)->sin_addr,
			    4), 0);
	}
	ratelimit_free(rl);
}
END_TEST

START_TEST(clock_backwards)
{
	struct ratelimit	*rl;
	uint64_t		 t0 = 100 * SEC;

	rl = mk(1, 4, 16, 64);
	ck_assert_int_eq(passes(rl, "192.0.2.1", t0, 4), 4);
	/* Back by a little, by a lot, to zero: nothing refills. */
	ck_assert_int_eq(passes(rl, "192.0.2.1", t0 - 1, 3), 0);
	ck_assert_int_eq(passes(rl, "192.0.2.1", 50 * SEC, 3), 0);
	ck_assert_int_eq(passes(rl, "192.0.2.1", 0, 3), 0);
	/* Nor does coming back to where it was. */
	ck_assert_int_eq(passes(rl, "192.0.2.1", t0, 3), 0);
	/* Time moves on from the latest seen. */
	ck_assert_int_eq(passes(rl, "192.0.2.1", t0 + SEC, 3), 1);
	/* A bucket that was not empty keeps what it had. */
	ck_assert_int_eq(passes(rl, "192.0.2.2", t0, 2), 2);
	ck_assert_int_eq(passes(rl, "192.0.2.2", 1, 5), 2);
	/* A new client at an earlier time is just a new client. */
	ck_assert_int_eq(passes(rl, "192.0.2.3", 0, 5), 4);
	ratelimit_free(rl);
}
END_TEST

/* Near 2^63 ns and past it: no overflow, the same arithmetic. */
START_TEST(huge_now)
{
	struct ratelimit	*rl;
	uint64_t		 t0 = ((uint64_t)1 << 63) - 10 * SEC;

	rl = mk(1, 4, 16, 64);
	ck_assert_int_eq(passes(rl, "192.0.2.1", t0, 10), 4);
	ck_assert_int_eq(passes(rl, "192.0.2.1", t0 + 2 * SEC, 10), 2);
	ck_assert_int_eq(passes(rl, "192.0.2.1", t0 + 20 * SEC, 10), 4);
	ck_assert_int_eq(passes(rl, "192.0.2.1", 0, 10), 0);
	ratelimit_free(rl);

	/* The largest bucket the config allows: 1e6 at one per 1000 s. */
	rl = mk(0.001, 1e6, 16, 64);
	ck_assert_int_eq(passes(rl, "192.0.2.1", t0, 1000), 1000);
	ck_assert_int_eq(passes(rl, "192.0.2.1", t0 + 2000 * SEC, 10), 10);
	ck_assert_int_eq(passes(rl, "192.0.2.1", t0 + 100000000 * SEC, 1000),
	    1000);
	ratelimit_free(rl);

	/* Past the promised range it fails closed, never wraps to full. */
	rl = mk(1, 2, 16, 64);
	ck_assert_int_eq(passes(rl, "192.0.2.1", UINT64_MAX - 3 * SEC, 5),
	    2);
	ck_assert_int_eq(passes(rl, "192.0.2.1", UINT64_MAX - 2 * SEC, 5),
	    1);
	ck_assert_int_eq(passes(rl, "192.0.2.1", UINT64_MAX - SEC, 5), 0);
	ck_assert_int_eq(passes(rl, "192.0.2.1", UINT64_MAX, 5), 0);
	ratelimit_free(rl);
}
END_TEST

/*
 * Sequential addresses through a table of 1024: exactly as many
 * evictions as clients beyond 1024, and the last 1024 all still there.
 */
START_TEST(hash_spread)
{
	struct ratelimit	*rl;
	struct sockaddr_storage	 ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	uint32_t		 i;

	rl = mk(1.0 / 86400, 1, 1024, 64);
	for (i = 0; i < 100000; i++)
		ck_assert_int_eq(reqn(rl, i, SEC + i), RATELIMIT_PASS);
	ck_assert_uint_eq(ratelimit_evictions(rl), 100000 - 1024);
	ck_assert_uint_eq(ratelimit_nclients(rl), 1024);
	for (i = 100000 - 1024; i < 100000; i++)
		ck_assert_int_eq(reqn(rl, i, 2 * SEC), RATELIMIT_LIMIT);
	ck_assert_uint_eq(ratelimit_evictions(rl), 100000 - 1024);
	ck_assert_int_eq(reqn(rl, 0, 2 * SEC), RATELIMIT_PASS);
	ck_assert_uint_eq(ratelimit_evictions(rl), 100000 - 1024 + 1);
	ratelimit_free(rl);

	/* Sequential /64s, the same. */
	rl = mk(1.0 / 86400, 1, 1024, 64);
	ss = mkaddr("2001:db8::1");
	for (i = 0; i < 50000; i++) {
		sin6->sin6_addr.s6_addr[6] = (uint8_t)(i >> 8);
		sin6->sin6_addr.s6_addr[7] = (uint8_t)i;
		ck_assert_int_eq(ratelimit_check(rl, (struct sockaddr *)&ss,
		    SEC), RATELIMIT_PASS);
	}
	ck_assert_uint_eq(ratelimit_evictions(rl), 50000 - 1024);
	for (i = 50000 - 1024; i < 50000; i++) {
		sin6->sin6_addr.s6_addr[6] = (uint8_t)(i >> 8);
		sin6->sin6_addr.s6_addr[7] = (uint8_t)i;
		sin6->sin6_addr.s6_addr[15] = 0x99;
		ck_assert_int_eq(ratelimit_check(rl, (struct sockaddr *)&ss,
		    SEC), RATELIMIT_LIMIT);
	}
	ck_assert_uint_eq(ratelimit_evictions(rl), 50000 - 1024);
	ratelimit_free(rl);
}
END_TEST

/*
 * The model: a token bucket counted in ns of credit (full = burst
 * requests' worth), refilled by elapsed time, and an LRU list kept by
 * last-use stamps, the least one evicted.  Nothing shared with the code.
 */

#define MODEL_POOL	300
#define MODEL_TABLE	64
#define MODEL_OPS	200000

struct model_client {
	int		present;
	uint64_t	credit;
	uint64_t	last;
	uint64_t	stamp;
	uint64_t	requests;
	uint64_t	limited;
};

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

START_TEST(model)
{
	static struct model_client	 m[MODEL_POOL];
	static const double		 rates[] = { 0.5, 3, 1000 };
	static const double		 bursts[] = { 1, 2.5, 8 };
	struct ratelimit		*rl;
	struct ratelimit_client		 top[10];
	uint64_t			 t, interval, full, stamp = 0;
	uint64_t			 evictions = 0, pass = 0, lim = 0;
	size_t				 present, i, j, n;
	uint32_t			 c, victim;
	int				 set, op;
	enum ratelimit_verdict		 v, want;

	rng_state = 4242;
	for (set = 0; set < 3; set++) {
		rl = mk(rates[set], bursts[set], MODEL_TABLE, 64);
		interval = (uint64_t)(1e9 / rates[set] + 0.5);
		full = (uint64_t)(bursts[set] * (double)interval + 0.5);
		memset(m, 0, sizeof(m));
		present = 0;
		evictions = 0;
		t = 1000 * SEC;
		for (op = 0; op < MODEL_OPS; op++) {
			/* Mostly forward in small steps; now and then back. */
			if (rng() % 100 == 0)
				t -= rng() % (2 * interval);
			else
				t += rng() % (interval / 4 + 1);
			/* A skewed pool: a few busy clients, many rare. */
			c = (uint32_t)(rng() % (rng() % 2 ? 20 : MODEL_POOL));

			if (!m[c].present) {
				if (present == MODEL_TABLE) {
					victim = MODEL_POOL;
					for (j = 0; j < MODEL_POOL; j++)
						if (m[j].present &&
						    (victim == MODEL_POOL ||
						    m[j].stamp <
						    m[victim].stamp))
							victim = (uint32_t)j;
					m[victim].present = 0;
					present--;
					evictions++;
				}
				memset(&m[c], 0, sizeof(m[c]));
				m[c].present = 1;
				m[c].credit = full;
				m[c].last = t;
				present++;
			}
			m[c].stamp = ++stamp;
			if (t > m[c].last) {
				m[c].credit += t - m[c].last;
				if (m[c].credit > full)
					m[c].credit = full;
				m[c].last = t;
			}
			m[c].requests++;
			if (m[c].credit >= interval) {
				m[c].credit -= interval;
				want = RATELIMIT_PASS;
				pass++;
			} else {
				m[c].limited++;
				want = RATELIMIT_LIMIT;
				lim++;
			}
			v = reqn(rl, c, t);
			ck_assert_msg(v == want, "set %d op %d client %u",
			    set, op, c);
		}
		ck_assert_uint_eq(ratelimit_evictions(rl), evictions);
		ck_assert_uint_eq(ratelimit_nclients(rl), present);
		/* The busiest ten, ties by address (that is, by number). */
		n = ratelimit_top(rl, top, 10);
		ck_assert_uint_eq(n, 10);
		for (j = 0; j < MODEL_POOL; j++)
			m[j].stamp = 0;		/* now: "already listed" */
		for (i = 0; i < n; i++) {
			victim = MODEL_POOL;
			for (j = 0; j < MODEL_POOL; j++)
				if (m[j].present && m[j].stamp == 0 &&
				    (victim == MODEL_POOL ||
				    m[j].requests > m[victim].requests))
					victim = (uint32_t)j;
			m[victim].stamp = 1;
			c = ntohl(((struct sockaddr_in *)&top[i].addr)->
			    sin_addr.s_addr) - 0x0a000000U;
			ck_assert_uint_eq(c, victim);
			ck_assert_uint_eq(top[i].prefixlen, 32);
			ck_assert_uint_eq(top[i].requests, m[c].requests);
			ck_assert_uint_eq(top[i].limited, m[c].limited);
			ck_assert_uint_eq(top[i].last_ns, m[c].last);
		}
		ratelimit_free(rl);
	}
	/* Both verdicts, often. */
	ck_assert_uint_gt(pass, MODEL_OPS / 10);
	ck_assert_uint_gt(lim, MODEL_OPS / 10);
}
END_TEST

static Suite *
ratelimit_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("ratelimit");

	tc = tcase_create("conf");
	tcase_add_loop_test(tc, conf_bad, 0,
	    sizeof(bad_confs) / sizeof(bad_confs[0]));
	tcase_add_test(tc, conf_edges);
	suite_add_tcase(s, tc);

	tc = tcase_create("bucket");
	tcase_add_test(tc, steady_rate);
	tcase_add_test(tc, set_rate_keeps_clients);
	tcase_add_test(tc, steady_rate_odd);
	tcase_add_test(tc, burst);
	tcase_add_test(tc, refill);
	tcase_add_test(tc, iburst);
	tcase_add_test(tc, clock_backwards);
	tcase_add_test(tc, huge_now);
	suite_add_tcase(s, tc);

	tc = tcase_create("clients");
	tcase_add_test(tc, independent_clients);
	tcase_add_test(tc, ipv6_prefix);
	tcase_add_test(tc, mapped_and_odd);
	suite_add_tcase(s, tc);

	tc = tcase_create("table");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, lru_eviction);
	tcase_add_test(tc, top_n);
	tcase_add_test(tc, top_n_many);
	tcase_add_test(tc, hash_spread);
	tcase_add_test(tc, model);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(ratelimit_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
