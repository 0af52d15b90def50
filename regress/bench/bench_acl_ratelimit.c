/*
 * Cost of the reply path's two checks: acl_check() with 10 and 100
 * rules, IPv4 and IPv6; ratelimit_check() with a table of 65536 against
 * a million distinct clients (every request evicts) and against 1000
 * hot clients (every request hits).  Figures are printed, not asserted:
 * build with -O2 on a quiet machine.
 */

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "acl.h"
#include "addr.h"
#include "ratelimit.h"

#define ITERATIONS	20000000UL	/* per figure */
#define NQUERY		4096		/* addresses an ACL run cycles */
#define DISTINCT	1000000U
#define HOT		1000U
#define TABLE		65536U

static uint64_t	rng_state = 12345;
static volatile uint64_t sink;

static uint64_t
rng(void)
{
	uint64_t	z;

	z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static long
peak_rss_kib(void)
{
	struct rusage	ru;

	if (getrusage(RUSAGE_SELF, &ru) == -1)
		return -1;
	return ru.ru_maxrss;
}

static void
random_addr(int family, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	uint64_t		 r[2];

	memset(ss, 0, sizeof(*ss));
	r[0] = rng();
	r[1] = rng();
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, r, 4);
	} else {
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, r, 16);
		/* Keep it a plain IPv6 address: 2000::/3. */
		sin6->sin6_addr.s6_addr[0] = (uint8_t)(0x20 |
		    (sin6->sin6_addr.s6_addr[0] & 0x1f));
	}
}

/* A random prefix of the family; host bits cleared. */
static void
random_rule(int family, unsigned int len, struct acl_rule *r)
{
	struct sockaddr_storage	ss;
	unsigned int		i, max;

	memset(r, 0, sizeof(*r));
	random_addr(family, &ss);
	r->prefix.family = family;
	if (family == AF_INET) {
		memcpy(r->prefix.addr,
		    &((struct sockaddr_in *)&ss)->sin_addr, 4);
		max = 32;
	} else {
		memcpy(r->prefix.addr,
		    &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
		max = 128;
	}
	for (i = len; i < max; i++)
		r->prefix.addr[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
	r->prefix.prefixlen = len;
	r->action = rng() % 2 ? ACL_ALLOW : ACL_DENY;
	r->layer = rng() % 2 ? ACL_GLOBAL : ACL_NAMESPACE;
}

/*
 * nrules rules of the family asked (specific prefixes, then a default
 * allow of the whole family) and as many of the other family.  Random
 * clients rarely hit the specific ones, so most scans go to the end of
 * the family: close to the worst case.
 */
static void
build_acl(struct acl *acl, int family, unsigned int nrules)
{
	struct acl_rule	r;
	unsigned int	i, n, len;
	int		fam;

	acl_init(acl);
	for (fam = AF_INET; ; fam = AF_INET6) {
		for (i = 0, n = 0; n + 1 < nrules && i < 100 * nrules; i++) {
			if (fam == AF_INET)
				len = 8 + (unsigned int)(rng() % 25);
			else
				len = 16 + (unsigned int)(rng() % 113);
			random_rule(fam, len, &r);
			if (acl_add(acl, &r, NULL) == 0)
				n++;
		}
		random_rule(fam, 0, &r);
		r.action = ACL_ALLOW;
		r.layer = ACL_GLOBAL;
		if (acl_add(acl, &r, NULL) == 0)
			n++;
		if (n != nrules) {
			fprintf(stderr, "could not build %u rules\n", nrules);
			exit(1);
		}
		if (fam == AF_INET6)
			break;
	}
	(void)family;
}

static void
bench_acl(int family, unsigned int nrules)
{
	static struct sockaddr_storage	 q[NQUERY];
	struct acl			 acl;
	uint64_t			 t0, t1, allowed = 0;
	unsigned long			 i;

	build_acl(&acl, family, nrules);
	for (i = 0; i < NQUERY; i++)
		random_addr(family, &q[i]);
	/* Warm up. */
	for (i = 0; i < NQUERY; i++)
		allowed += acl_check(&acl, (struct sockaddr *)&q[i]);
	t0 = now_ns();
	for (i = 0; i < ITERATIONS; i++)
		allowed += acl_check(&acl,
		    (struct sockaddr *)&q[i & (NQUERY - 1)]);
	t1 = now_ns();
	sink += allowed;
	printf("acl_check        %-4s %3u rules/family: %7.1f ns  "
	    "(%.0f%% allowed)\n", family == AF_INET ? "IPv4" : "IPv6",
	    nrules, (double)(t1 - t0) / ITERATIONS,
	    100.0 * (double)allowed / (double)(ITERATIONS + NQUERY));
	acl_free(&acl);
}

static struct ratelimit *
mk_ratelimit(void)
{
	struct ratelimit_conf	 conf;
	struct ratelimit	*rl;

	memset(&conf, 0, sizeof(conf));
	conf.rate = 1;
	conf.burst = 16;
	conf.max_clients = TABLE;
	conf.ipv6_prefixlen = 64;
	if ((rl = ratelimit_new(&conf)) == NULL) {
		perror("ratelimit_new");
		exit(1);
	}
	return rl;
}

/*
 * Clients from an array of IPv4 addresses, each iteration's one picked
 * by idx[i % nidx]; virtual time advances 100 ns a request.
 */
static void
bench_ratelimit(const char *what, const uint32_t *addrs,
    const uint32_t *idx, size_t nidx)
{
	struct ratelimit	*rl;
	struct sockaddr_in	 sin;
	uint64_t		 t0, t1, limited = 0, vt = 1000000000ULL;
	unsigned long		 i;
	size_t			 k = 0;
	long			 rss0;

	rss0 = peak_rss_kib();
	rl = mk_ratelimit();
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	/* Fill the table first, so every figure is of a full table. */
	for (i = 0; i < 2 * TABLE; i++) {
		sin.sin_addr.s_addr = addrs[idx[k]];
		if (++k == nidx)
			k = 0;
		limited += ratelimit_check(rl, (struct sockaddr *)&sin,
		    vt += 100);
	}
	t0 = now_ns();
	for (i = 0; i < ITERATIONS; i++) {
		sin.sin_addr.s_addr = addrs[idx[k]];
		if (++k == nidx)
			k = 0;
		limited += ratelimit_check(rl, (struct sockaddr *)&sin,
		    vt += 100);
	}
	t1 = now_ns();
	sink += limited;
	printf("ratelimit_check  %-38s %7.1f ns  (%zu clients, "
	    "%llu evictions, %.0f%% limited)\n", what,
	    (double)(t1 - t0) / ITERATIONS, ratelimit_nclients(rl),
	    (unsigned long long)ratelimit_evictions(rl),
	    100.0 * (double)limited / (double)(ITERATIONS + 2 * TABLE));
	printf("                 peak RSS %ld KiB -> %ld KiB\n", rss0,
	    peak_rss_kib());
	ratelimit_free(rl);
}

static void
bench_hash(void)
{
	unsigned char	key[crypto_shorthash_KEYBYTES];
	unsigned char	in[16], out[crypto_shorthash_BYTES];
	uint64_t	t0, t1, acc = 0, h;
	unsigned long	i;

	memset(key, 7, sizeof(key));
	memset(in, 0, sizeof(in));
	t0 = now_ns();
	for (i = 0; i < ITERATIONS; i++) {
		memcpy(in, &i, sizeof(i));
		crypto_shorthash(out, in, sizeof(in), key);
		memcpy(&h, out, sizeof(h));
		acc += h;
	}
	t1 = now_ns();
	sink += acc;
	printf("crypto_shorthash 16 bytes (SipHash-2-4):                "
	    "%7.1f ns\n", (double)(t1 - t0) / ITERATIONS);
}

int
main(void)
{
	uint32_t	*addrs, *idx, i, j, tmp;

	printf("%lu iterations per figure; peak RSS at start %ld KiB\n",
	    ITERATIONS, peak_rss_kib());

	bench_acl(AF_INET, 10);
	bench_acl(AF_INET, 100);
	bench_acl(AF_INET6, 10);
	bench_acl(AF_INET6, 100);

	bench_hash();

	/* A million distinct addresses, in a shuffled order. */
	if ((addrs = calloc(DISTINCT, sizeof(*addrs))) == NULL ||
	    (idx = calloc(DISTINCT, sizeof(*idx))) == NULL) {
		perror("calloc");
		return 1;
	}
	for (i = 0; i < DISTINCT; i++) {
		addrs[i] = htonl(0x0a000000U + i);
		idx[i] = i;
	}
	for (i = DISTINCT - 1; i > 0; i--) {
		j = (uint32_t)(rng() % (i + 1));
		tmp = idx[i];
		idx[i] = idx[j];
		idx[j] = tmp;
	}
	bench_ratelimit("1e6 clients cycling, table 65536", addrs, idx,
	    DISTINCT);

	/* 1000 hot clients, picked at random each request. */
	for (i = 0; i < DISTINCT; i++)
		idx[i] = (uint32_t)(rng() % HOT);
	bench_ratelimit("1000 hot clients, table 65536", addrs, idx,
	    DISTINCT);

	free(addrs);
	free(idx);
	printf("peak RSS at end %ld KiB\n", peak_rss_kib());
	return 0;
}
