/*
 * libFuzzer target for common/ntp.c.  Every 48-byte header is a valid
 * packet to the codec, so decode and encode must be exact inverses;
 * the time conversions must stay in range and free of undefined
 * behaviour for whatever a peer sends.  Bytes after the header, when
 * there are enough, feed a pivot, a timespec and a double.
 *
 *   clang -fsanitize=fuzzer,address,undefined -Icommon \
 *	common/ntp.c regress/fuzz/fuzz_ntp.c -o fuzz_ntp
 */

#include <sys/types.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ntp.h"

#define CHECK(e)	do {						\
	if (!(e)) {							\
		fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #e);	\
		abort();						\
	}								\
} while (0)

#define ERA		(INT64_C(1) << 32)
#define PIVOT_SANE	(INT64_C(1) << 62)	/* ntp.c clamps beyond */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	check_packet_eq(const struct ntp_packet *,
		    const struct ntp_packet *);
static void	check_ts(struct ntp_ts, int64_t);
static void	check_diff(struct ntp_ts, struct ntp_ts);
static void	check_extra(const uint8_t *, size_t);

static void
check_packet_eq(const struct ntp_packet *a, const struct ntp_packet *b)
{
	CHECK(a->leap == b->leap);
	CHECK(a->version == b->version);
	CHECK(a->mode == b->mode);
	CHECK(a->stratum == b->stratum);
	CHECK(a->poll == b->poll);
	CHECK(a->precision == b->precision);
	CHECK(a->root_delay == b->root_delay);
	CHECK(a->root_dispersion == b->root_dispersion);
	CHECK(memcmp(a->refid, b->refid, sizeof(a->refid)) == 0);
	CHECK(ntp_ts_equal(a->reference, b->reference));
	CHECK(ntp_ts_equal(a->origin, b->origin));
	CHECK(ntp_ts_equal(a->receive, b->receive));
	CHECK(ntp_ts_equal(a->transmit, b->transmit));
}

/* A timestamp to Unix time and back lands within a nanosecond. */
static void
check_ts(struct ntp_ts ts, int64_t pivot)
{
	struct timespec	tv;
	struct ntp_ts	back;
	double		err;

	tv = ntp_ts_to_timespec(ts, (time_t)pivot);
	CHECK(tv.tv_nsec >= 0 && tv.tv_nsec < 1000000000L);
	/* Within half an era of the pivot, plus the rounding carry. */
	if (pivot > -PIVOT_SANE && pivot < PIVOT_SANE) {
		CHECK((int64_t)tv.tv_sec - pivot >= -(ERA / 2));
		CHECK((int64_t)tv.tv_sec - pivot <= ERA / 2);
	}
	back = ntp_ts_from_timespec(&tv);
	err = ntp_ts_diff(back, ts);
	CHECK(err > -1e-9 && err < 1e-9);
}

/* Antisymmetric, bounded by half an era, and zero only when equal. */
static void
check_diff(struct ntp_ts a, struct ntp_ts b)
{
	uint64_t	u;
	double		ab, ba;

	u = ((uint64_t)a.sec << 32 | a.frac) - ((uint64_t)b.sec << 32 |
	    b.frac);
	ab = ntp_ts_diff(a, b);
	ba = ntp_ts_diff(b, a);
	/* Inclusive: 2^31 - 2^-32 has 63 significant bits, rounds to 2^31. */
	CHECK(ab >= -2147483648.0 && ab <= 2147483648.0);
	CHECK((ab == 0.0) == ntp_ts_equal(a, b));
	if (u == (uint64_t)1 << 63)
		CHECK(ab == -2147483648.0 && ba == ab);
	else
		CHECK(ab == -ba);
}

/* Arbitrary timespecs and doubles, including ones no clock returns. */
static void
check_extra(const uint8_t *p, size_t len)
{
	struct timespec	tv;
	struct ntp_ts	ts;
	int64_t		sec;
	long		nsec;
	double		d;
	uint32_t	s;

	if (len < sizeof(sec) + sizeof(nsec) + sizeof(d))
		return;
	memcpy(&sec, p, sizeof(sec));
	memcpy(&nsec, p + sizeof(sec), sizeof(nsec));
	memcpy(&d, p + sizeof(sec) + sizeof(nsec), sizeof(d));

	tv.tv_sec = (time_t)sec;
	tv.tv_nsec = nsec;
	ts = ntp_ts_from_timespec(&tv);
	if (nsec >= 0 && nsec < 1000000000L && sec > -PIVOT_SANE &&
	    sec < PIVOT_SANE) {
		tv = ntp_ts_to_timespec(ts, (time_t)sec);
		CHECK((int64_t)tv.tv_sec == sec);
		CHECK(tv.tv_nsec == nsec);
	}

	s = ntp_short_from_double(d);
	if (!(d > 0.0))
		CHECK(s == 0);
	else if (d >= 65536.0)
		CHECK(s == UINT32_MAX);
	else if (s == UINT32_MAX)
		CHECK(d > 65535.0);	/* saturated in the last unit */
	else {
		/* Nearest unit, give or take the double's own rounding. */
		d -= ntp_short_to_double(s);
		CHECK(d >= -0.5 / 65536.0 - 1e-12 &&
		    d <= 0.5 / 65536.0 + 1e-12);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ntp_packet	p1, p2;
	struct ntp_ts		ts[4];
	uint8_t			buf[NTP_HEADER_SIZE], digest[16];
	struct in6_addr		a6;
	int64_t			pivot;
	size_t			i, j;
	int			n;

	ntp_md5(data, size, digest);

	if (size < NTP_HEADER_SIZE) {
		CHECK(ntp_decode(data, size, &p1) == -1);
		return 0;
	}
	CHECK(ntp_decode(data, size, &p1) == 0);
	n = ntp_encode(&p1, buf, sizeof(buf));
	CHECK(n == NTP_HEADER_SIZE);
	/* Every bit of the header is some field's, so nothing is lost. */
	CHECK(memcmp(buf, data, NTP_HEADER_SIZE) == 0);
	CHECK(ntp_decode(buf, sizeof(buf), &p2) == 0);
	check_packet_eq(&p1, &p2);
	CHECK(ntp_encode(&p1, buf, NTP_HEADER_SIZE - 1) == -1);

	CHECK(ntp_short_from_double(ntp_short_to_double(p1.root_delay)) ==
	    p1.root_delay);
	CHECK(ntp_short_from_double(ntp_short_to_double(
	    p1.root_dispersion)) == p1.root_dispersion);

	memcpy(&a6, data, sizeof(a6));
	ntp_refid_ipv6(&a6, p2.refid);

	ts[0] = p1.reference;
	ts[1] = p1.origin;
	ts[2] = p1.receive;
	ts[3] = p1.transmit;
	/* The pivot from the bytes after the header, or a plain "now". */
	pivot = INT64_C(1700000000);
	if (size >= NTP_HEADER_SIZE + sizeof(pivot))
		memcpy(&pivot, data + NTP_HEADER_SIZE, sizeof(pivot));
	for (i = 0; i < 4; i++) {
		check_ts(ts[i], pivot);
		check_ts(ts[i], 0);
		for (j = 0; j < 4; j++)
			check_diff(ts[i], ts[j]);
	}
	if (size > NTP_HEADER_SIZE + sizeof(pivot))
		check_extra(data + NTP_HEADER_SIZE + sizeof(pivot),
		    size - NTP_HEADER_SIZE - sizeof(pivot));
	return 0;
}
