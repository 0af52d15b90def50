/*
 * Unit tests for common/ntp.c: the header codec, timestamp and short
 * format conversions across era boundaries, MD5 and the IPv6 refid.
 */

#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ntp.h"

/* 2036-02-07T06:28:16Z: NTP second 0 of era 1. */
#define ERA1_UNIX	INT64_C(2085978496)
/* 2000-01-01T00:00:00Z. */
#define Y2K_UNIX	INT64_C(946684800)
#define Y2K_NTP		UINT32_C(3155673600)

/*
 * A server reply assembled by hand from RFC 5905, figure 8: LI 1,
 * VN 4, mode 4; stratum 2, poll 10, precision -20; root delay
 * 0x00012345, dispersion 0x0000abcd; refid 192.0.2.1; four timestamps.
 */
static const uint8_t wire[NTP_HEADER_SIZE] = {
	0x64, 0x02, 0x0a, 0xec,
	0x00, 0x01, 0x23, 0x45,
	0x00, 0x00, 0xab, 0xcd,
	0xc0, 0x00, 0x02, 0x01,
	0xe9, 0xa1, 0xb2, 0xc3, 0x12, 0x34, 0x56, 0x78,
	0xe9, 0xa1, 0xb2, 0xc4, 0x9a, 0xbc, 0xde, 0xf0,
	0xe9, 0xa1, 0xb2, 0xc5, 0x0f, 0xed, 0xcb, 0xa9,
	0xe9, 0xa1, 0xb2, 0xc6, 0x87, 0x65, 0x43, 0x21,
};

static struct ntp_packet
wire_packet(void)
{
	struct ntp_packet	pkt;

	memset(&pkt, 0, sizeof(pkt));
	pkt.leap = NTP_LEAP_ADD;
	pkt.version = 4;
	pkt.mode = NTP_MODE_SERVER;
	pkt.stratum = 2;
	pkt.poll = 10;
	pkt.precision = -20;
	pkt.root_delay = 0x00012345;
	pkt.root_dispersion = 0x0000abcd;
	pkt.refid[0] = 192;
	pkt.refid[1] = 0;
	pkt.refid[2] = 2;
	pkt.refid[3] = 1;
	pkt.reference = (struct ntp_ts){ 0xe9a1b2c3, 0x12345678 };
	pkt.origin = (struct ntp_ts){ 0xe9a1b2c4, 0x9abcdef0 };
	pkt.receive = (struct ntp_ts){ 0xe9a1b2c5, 0x0fedcba9 };
	pkt.transmit = (struct ntp_ts){ 0xe9a1b2c6, 0x87654321 };
	return pkt;
}

static void
assert_packet_eq(const struct ntp_packet *a, const struct ntp_packet *b)
{
	ck_assert_uint_eq(a->leap, b->leap);
	ck_assert_uint_eq(a->version, b->version);
	ck_assert_uint_eq(a->mode, b->mode);
	ck_assert_uint_eq(a->stratum, b->stratum);
	ck_assert_int_eq(a->poll, b->poll);
	ck_assert_int_eq(a->precision, b->precision);
	ck_assert_uint_eq(a->root_delay, b->root_delay);
	ck_assert_uint_eq(a->root_dispersion, b->root_dispersion);
	ck_assert_mem_eq(a->refid, b->refid, sizeof(a->refid));
	ck_assert(ntp_ts_equal(a->reference, b->reference));
	ck_assert(ntp_ts_equal(a->origin, b->origin));
	ck_assert(ntp_ts_equal(a->receive, b->receive));
	ck_assert(ntp_ts_equal(a->transmit, b->transmit));
}

static struct timespec
mkts(int64_t sec, long nsec)
{
	struct timespec	tv;

	tv.tv_sec = (time_t)sec;
	tv.tv_nsec = nsec;
	return tv;
}

/* Codec */

START_TEST(decode_wire)
{
	struct ntp_packet	pkt, want = wire_packet();

	ck_assert_int_eq(ntp_decode(wire, sizeof(wire), &pkt), 0);
	assert_packet_eq(&pkt, &want);
}
END_TEST

START_TEST(encode_wire)
{
	struct ntp_packet	pkt = wire_packet();
	uint8_t			buf[NTP_HEADER_SIZE];

	memset(buf, 0x5a, sizeof(buf));
	ck_assert_int_eq(ntp_encode(&pkt, buf, sizeof(buf)), NTP_HEADER_SIZE);
	ck_assert_mem_eq(buf, wire, sizeof(wire));
}
END_TEST

START_TEST(round_trip)
{
	struct ntp_packet	pkt, out;
	uint8_t			buf[NTP_HEADER_SIZE];

	memset(&pkt, 0, sizeof(pkt));
	pkt.leap = NTP_LEAP_UNSYNC;
	pkt.version = 3;
	pkt.mode = NTP_MODE_CLIENT;
	pkt.stratum = 0xfe;
	pkt.poll = 17;
	pkt.precision = -29;
	pkt.root_delay = 0xfedcba98;
	pkt.root_dispersion = 0x01020304;
	memcpy(pkt.refid, "\xde\xad\xbe\xef", 4);
	pkt.reference = (struct ntp_ts){ 0x80000001, 0x00000001 };
	pkt.origin = (struct ntp_ts){ 0xffffffff, 0xfffffffe };
	pkt.receive = (struct ntp_ts){ 0x00000000, 0x80000000 };
	pkt.transmit = (struct ntp_ts){ 0x7fffffff, 0xc0ffee00 };

	ck_assert_int_eq(ntp_encode(&pkt, buf, sizeof(buf)), NTP_HEADER_SIZE);
	ck_assert_int_eq(ntp_decode(buf, sizeof(buf), &out), 0);
	assert_packet_eq(&out, &pkt);
	/* Nothing of the input may survive in an unwritten field. */
	ck_assert_mem_eq(&out, &pkt, sizeof(pkt));
}
END_TEST

START_TEST(decode_short)
{
	struct ntp_packet	pkt, orig;
	size_t			len = (size_t)_i;

	memset(&pkt, 0x77, sizeof(pkt));
	orig = pkt;
	ck_assert_int_eq(ntp_decode(wire, len, &pkt), -1);
	ck_assert_mem_eq(&pkt, &orig, sizeof(pkt));
}
END_TEST

START_TEST(decode_long)
{
	static const size_t	 lens[] = { 48, 49, 52, 68, 72, 120, 1024 };
	uint8_t			 buf[1024];
	struct ntp_packet	 pkt, want = wire_packet();
	size_t			 i;

	/* Extension fields and MAC are not looked at, whatever they hold. */
	memset(buf, 0xff, sizeof(buf));
	memcpy(buf, wire, sizeof(wire));
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		memset(&pkt, 0, sizeof(pkt));
		ck_assert_int_eq(ntp_decode(buf, lens[i], &pkt), 0);
		assert_packet_eq(&pkt, &want);
	}
}
END_TEST

START_TEST(decode_null)
{
	struct ntp_packet	pkt;

	ck_assert_int_eq(ntp_decode(NULL, 48, &pkt), -1);
	ck_assert_int_eq(ntp_decode(wire, sizeof(wire), NULL), -1);
}
END_TEST

START_TEST(encode_small)
{
	struct ntp_packet	pkt = wire_packet();
	uint8_t			buf[NTP_HEADER_SIZE];
	uint8_t			orig[NTP_HEADER_SIZE];
	size_t			len = (size_t)_i;

	memset(buf, 0x5a, sizeof(buf));
	memcpy(orig, buf, sizeof(buf));
	ck_assert_int_eq(ntp_encode(&pkt, buf, len), -1);
	ck_assert_mem_eq(buf, orig, sizeof(buf));
}
END_TEST

START_TEST(encode_large)
{
	struct ntp_packet	pkt = wire_packet();
	uint8_t			buf[100];
	size_t			i;

	/* Only the header is written; the rest is the caller's. */
	memset(buf, 0x5a, sizeof(buf));
	ck_assert_int_eq(ntp_encode(&pkt, buf, sizeof(buf)), NTP_HEADER_SIZE);
	ck_assert_mem_eq(buf, wire, sizeof(wire));
	for (i = NTP_HEADER_SIZE; i < sizeof(buf); i++)
		ck_assert_uint_eq(buf[i], 0x5a);
}
END_TEST

START_TEST(encode_bad_fields)
{
	struct ntp_packet	pkt;
	uint8_t			buf[NTP_HEADER_SIZE];

	pkt = wire_packet();
	pkt.leap = 4;
	ck_assert_int_eq(ntp_encode(&pkt, buf, sizeof(buf)), -1);
	pkt = wire_packet();
	pkt.version = 8;
	ck_assert_int_eq(ntp_encode(&pkt, buf, sizeof(buf)), -1);
	pkt = wire_packet();
	pkt.mode = 0xff;
	ck_assert_int_eq(ntp_encode(&pkt, buf, sizeof(buf)), -1);
	pkt = wire_packet();
	ck_assert_int_eq(ntp_encode(NULL, buf, sizeof(buf)), -1);
	ck_assert_int_eq(ntp_encode(&pkt, NULL, sizeof(buf)), -1);
}
END_TEST

/* Every mode, each with a different leap and version around it. */
START_TEST(byte0_modes)
{
	struct ntp_packet	pkt;
	uint8_t			buf[NTP_HEADER_SIZE];
	unsigned int		mode = (unsigned int)_i;
	unsigned int		leap = mode % 4, vn = 7 - mode;

	memcpy(buf, wire, sizeof(buf));
	buf[0] = (uint8_t)(leap << 6 | vn << 3 | mode);
	ck_assert_int_eq(ntp_decode(buf, sizeof(buf), &pkt), 0);
	ck_assert_uint_eq(pkt.mode, mode);
	ck_assert_uint_eq(pkt.leap, leap);
	ck_assert_uint_eq(pkt.version, vn);

	memset(buf, 0, sizeof(buf));
	ck_assert_int_eq(ntp_encode(&pkt, buf, sizeof(buf)), NTP_HEADER_SIZE);
	ck_assert_uint_eq(buf[0], leap << 6 | vn << 3 | mode);
}
END_TEST

START_TEST(byte0_bits)
{
	struct ntp_packet	pkt;
	uint8_t			buf[NTP_HEADER_SIZE];

	/* Each field alone at its maximum, to catch a shifted mask. */
	memcpy(buf, wire, sizeof(buf));
	buf[0] = 0xc0;
	ck_assert_int_eq(ntp_decode(buf, sizeof(buf), &pkt), 0);
	ck_assert_uint_eq(pkt.leap, NTP_LEAP_UNSYNC);
	ck_assert_uint_eq(pkt.version, 0);
	ck_assert_uint_eq(pkt.mode, 0);
	buf[0] = 0x38;
	ck_assert_int_eq(ntp_decode(buf, sizeof(buf), &pkt), 0);
	ck_assert_uint_eq(pkt.leap, 0);
	ck_assert_uint_eq(pkt.version, 7);
	ck_assert_uint_eq(pkt.mode, 0);
	buf[0] = 0x07;
	ck_assert_int_eq(ntp_decode(buf, sizeof(buf), &pkt), 0);
	ck_assert_uint_eq(pkt.leap, 0);
	ck_assert_uint_eq(pkt.version, 0);
	ck_assert_uint_eq(pkt.mode, NTP_MODE_PRIVATE);
	/* A typical client request: LI 0, VN 4, mode 3. */
	buf[0] = 0x23;
	ck_assert_int_eq(ntp_decode(buf, sizeof(buf), &pkt), 0);
	ck_assert_uint_eq(pkt.leap, NTP_LEAP_NONE);
	ck_assert_uint_eq(pkt.version, 4);
	ck_assert_uint_eq(pkt.mode, NTP_MODE_CLIENT);
}
END_TEST

static const struct {
	uint8_t	byte;
	int	value;
} signed8[] = {
	{ 0x00, 0 }, { 0x01, 1 }, { 0x7f, 127 }, { 0x80, -128 },
	{ 0xff, -1 }, { 0xfa, -6 }, { 0xec, -20 }, { 0xe7, -25 },
};

START_TEST(poll_precision_signed)
{
	struct ntp_packet	pkt;
	uint8_t			buf[NTP_HEADER_SIZE];
	uint8_t			b = signed8[_i].byte;
	int			v = signed8[_i].value;

	memcpy(buf, wire, sizeof(buf));
	buf[2] = b;
	buf[3] = (uint8_t)~b;
	ck_assert_int_eq(ntp_decode(buf, sizeof(buf), &pkt), 0);
	ck_assert_int_eq(pkt.poll, v);
	ck_assert_int_eq(pkt.precision, -v - 1);	/* ~x == -x - 1 */

	memset(buf, 0, sizeof(buf));
	ck_assert_int_eq(ntp_encode(&pkt, buf, sizeof(buf)), NTP_HEADER_SIZE);
	ck_assert_uint_eq(buf[2], b);
	ck_assert_uint_eq(buf[3], (uint8_t)~b);
}
END_TEST

/* Timestamps */

START_TEST(ts_unix_epoch)
{
	struct timespec	tv = mkts(0, 0), back;
	struct ntp_ts	ts;

	ts = ntp_ts_from_timespec(&tv);
	ck_assert_uint_eq(ts.sec, 2208988800U);
	ck_assert_uint_eq(ts.frac, 0);
	back = ntp_ts_to_timespec(ts, 0);
	ck_assert_int_eq(back.tv_sec, 0);
	ck_assert_int_eq(back.tv_nsec, 0);
}
END_TEST

START_TEST(ts_known_date)
{
	struct timespec	tv, back;
	struct ntp_ts	ts;

	tv = mkts(Y2K_UNIX, 0);
	ts = ntp_ts_from_timespec(&tv);
	ck_assert_uint_eq(ts.sec, Y2K_NTP);
	ck_assert_uint_eq(ts.frac, 0);

	tv = mkts(Y2K_UNIX, 500000000);
	ts = ntp_ts_from_timespec(&tv);
	ck_assert_uint_eq(ts.sec, Y2K_NTP);
	ck_assert_uint_eq(ts.frac, 0x80000000);

	tv = mkts(Y2K_UNIX, 250000000);
	ts = ntp_ts_from_timespec(&tv);
	ck_assert_uint_eq(ts.frac, 0x40000000);

	back = ntp_ts_to_timespec((struct ntp_ts){ Y2K_NTP, 0xc0000000 },
	    (time_t)(Y2K_UNIX + 86400 * 365));
	ck_assert_int_eq(back.tv_sec, Y2K_UNIX);
	ck_assert_int_eq(back.tv_nsec, 750000000);
}
END_TEST

START_TEST(ts_rounding)
{
	struct timespec	tv;
	struct ntp_ts	ts;

	/* 1 ns is 4.29 fractions: rounds down to 4. */
	tv = mkts(Y2K_UNIX, 1);
	ts = ntp_ts_from_timespec(&tv);
	ck_assert_uint_eq(ts.frac, 4);
	/* 2 ns is 8.59: rounds up to 9. */
	tv.tv_nsec = 2;
	ts = ntp_ts_from_timespec(&tv);
	ck_assert_uint_eq(ts.frac, 9);
	/* 999999999 ns is 2^32 - 4.29: rounds to 2^32 - 4, no carry. */
	tv.tv_nsec = 999999999;
	ts = ntp_ts_from_timespec(&tv);
	ck_assert_uint_eq(ts.sec, Y2K_NTP);
	ck_assert_uint_eq(ts.frac, 0xfffffffc);

	/* Fractions back: 4 is 0.93 ns, 2 is 0.47 ns, 3 is 0.70 ns. */
	tv = ntp_ts_to_timespec((struct ntp_ts){ Y2K_NTP, 4 }, Y2K_UNIX);
	ck_assert_int_eq(tv.tv_nsec, 1);
	tv = ntp_ts_to_timespec((struct ntp_ts){ Y2K_NTP, 2 }, Y2K_UNIX);
	ck_assert_int_eq(tv.tv_nsec, 0);
	tv = ntp_ts_to_timespec((struct ntp_ts){ Y2K_NTP, 3 }, Y2K_UNIX);
	ck_assert_int_eq(tv.tv_nsec, 1);
}
END_TEST

START_TEST(ts_sweep)
{
	struct timespec	tv, back;
	struct ntp_ts	ts, ts2;
	uint64_t	f;
	long		ns;
	double		err;

	/* Nanoseconds survive the round trip exactly: 1 ns > 4 fractions. */
	for (ns = 0; ns < 1000000000L; ns += 9973) {
		tv = mkts(Y2K_UNIX, ns);
		ts = ntp_ts_from_timespec(&tv);
		back = ntp_ts_to_timespec(ts, Y2K_UNIX);
		ck_assert_int_eq(back.tv_sec, Y2K_UNIX);
		ck_assert_int_eq(back.tv_nsec, ns);
	}
	for (ns = 999999000L; ns < 1000000000L; ns++) {
		tv = mkts(Y2K_UNIX, ns);
		back = ntp_ts_to_timespec(ntp_ts_from_timespec(&tv),
		    Y2K_UNIX);
		ck_assert_int_eq(back.tv_sec, Y2K_UNIX);
		ck_assert_int_eq(back.tv_nsec, ns);
	}

	/* Fractions come back within half a nanosecond and a rounding. */
	for (f = 0; f <= UINT32_MAX; f += 65521) {
		ts = (struct ntp_ts){ Y2K_NTP, (uint32_t)f };
		tv = ntp_ts_to_timespec(ts, Y2K_UNIX);
		ck_assert_int_ge(tv.tv_nsec, 0);
		ck_assert_int_lt(tv.tv_nsec, 1000000000L);
		ts2 = ntp_ts_from_timespec(&tv);
		err = fabs(ntp_ts_diff(ts2, ts));
		ck_assert_double_lt(err, 1e-9);
		/* And the timespec is within 0.5 ns of the fraction. */
		err = fabs((double)(tv.tv_sec - Y2K_UNIX) +
		    (double)tv.tv_nsec / 1e9 - (double)f / 4294967296.0);
		ck_assert_double_le(err, 0.5e-9 + 1e-12);
	}
}
END_TEST

START_TEST(ts_carry)
{
	struct timespec	tv;
	struct ntp_ts	ts;

	/* 2^32 - 1 fractions is 0.23 ns short of a second: rounds up. */
	tv = ntp_ts_to_timespec((struct ntp_ts){ Y2K_NTP, 0xffffffff },
	    Y2K_UNIX);
	ck_assert_int_eq(tv.tv_sec, Y2K_UNIX + 1);
	ck_assert_int_eq(tv.tv_nsec, 0);
	tv = ntp_ts_to_timespec((struct ntp_ts){ Y2K_NTP, 0xfffffffe },
	    Y2K_UNIX);
	ck_assert_int_eq(tv.tv_sec, Y2K_UNIX + 1);
	ck_assert_int_eq(tv.tv_nsec, 0);
	tv = ntp_ts_to_timespec((struct ntp_ts){ Y2K_NTP, 0xfffffffd },
	    Y2K_UNIX);
	ck_assert_int_eq(tv.tv_sec, Y2K_UNIX);
	ck_assert_int_eq(tv.tv_nsec, 999999999);

	/* The carry crosses the era boundary too. */
	tv = ntp_ts_to_timespec((struct ntp_ts){ 0xffffffff, 0xffffffff },
	    (time_t)ERA1_UNIX);
	ck_assert_int_eq(tv.tv_sec, ERA1_UNIX);
	ck_assert_int_eq(tv.tv_nsec, 0);

	/* A tv_nsec out of range is folded into the seconds. */
	tv = mkts(Y2K_UNIX, 1000000000L);
	ts = ntp_ts_from_timespec(&tv);
	ck_assert_uint_eq(ts.sec, Y2K_NTP + 1);
	ck_assert_uint_eq(ts.frac, 0);
	tv = mkts(Y2K_UNIX, -1);
	ts = ntp_ts_from_timespec(&tv);
	ck_assert_uint_eq(ts.sec, Y2K_NTP - 1);
	ck_assert_uint_eq(ts.frac, 0xfffffffc);
	tv = mkts(Y2K_UNIX, 2500000000L);
	ts = ntp_ts_from_timespec(&tv);
	ck_assert_uint_eq(ts.sec, Y2K_NTP + 2);
	ck_assert_uint_eq(ts.frac, 0x80000000);
}
END_TEST

START_TEST(ts_era_boundary)
{
	static const int64_t	 pivots[] = {
		ERA1_UNIX, ERA1_UNIX - 1, ERA1_UNIX + 1,
		ERA1_UNIX - 86400 * 30, ERA1_UNIX + 86400 * 30,
		ERA1_UNIX - INT64_C(86400) * 365 * 60,
		ERA1_UNIX + INT64_C(86400) * 365 * 60,
	};
	struct timespec		 tv;
	struct ntp_ts		 ts;
	size_t			 i;

	for (i = 0; i < sizeof(pivots) / sizeof(pivots[0]); i++) {
		tv = ntp_ts_to_timespec((struct ntp_ts){ 0, 0 },
		    (time_t)pivots[i]);
		ck_assert_int_eq(tv.tv_sec, ERA1_UNIX);
		ck_assert_int_eq(tv.tv_nsec, 0);
		tv = ntp_ts_to_timespec((struct ntp_ts){ 1, 0x80000000 },
		    (time_t)pivots[i]);
		ck_assert_int_eq(tv.tv_sec, ERA1_UNIX + 1);
		ck_assert_int_eq(tv.tv_nsec, 500000000);
		tv = ntp_ts_to_timespec((struct ntp_ts){ 0xffffffff,
		    0x80000000 }, (time_t)pivots[i]);
		ck_assert_int_eq(tv.tv_sec, ERA1_UNIX - 1);
		ck_assert_int_eq(tv.tv_nsec, 500000000);
	}

	/* And the other way, from Unix time to the wrapped seconds. */
	tv = mkts(ERA1_UNIX, 0);
	ts = ntp_ts_from_timespec(&tv);
	ck_assert_uint_eq(ts.sec, 0);
	ck_assert_uint_eq(ts.frac, 0);
	tv = mkts(ERA1_UNIX - 1, 500000000);
	ts = ntp_ts_from_timespec(&tv);
	ck_assert_uint_eq(ts.sec, 0xffffffff);
	ck_assert_uint_eq(ts.frac, 0x80000000);
	tv = mkts(ERA1_UNIX + 3600, 0);
	ts = ntp_ts_from_timespec(&tv);
	ck_assert_uint_eq(ts.sec, 3600);
}
END_TEST

START_TEST(ts_pivot_eras)
{
	struct timespec	tv;
	int64_t		era2 = ERA1_UNIX + (INT64_C(1) << 32);

	/* A 1970s timestamp read with a 1970s pivot stays in era 0. */
	tv = ntp_ts_to_timespec((struct ntp_ts){ 2208988800U + 1000, 0 },
	    0);
	ck_assert_int_eq(tv.tv_sec, 1000);
	/* Y2K seconds read near Y2K, and from 60 years on, still Y2K. */
	tv = ntp_ts_to_timespec((struct ntp_ts){ Y2K_NTP, 0 },
	    (time_t)(Y2K_UNIX + INT64_C(86400) * 365 * 60));
	ck_assert_int_eq(tv.tv_sec, Y2K_UNIX);
	/* From 70 years on (over half an era) it is the next era's. */
	tv = ntp_ts_to_timespec((struct ntp_ts){ Y2K_NTP, 0 },
	    (time_t)(Y2K_UNIX + INT64_C(86400) * 365 * 70));
	ck_assert_int_eq(tv.tv_sec, Y2K_UNIX + (INT64_C(1) << 32));
	/* Era 2 begins in 2172. */
	tv = ntp_ts_to_timespec((struct ntp_ts){ 5, 0 }, (time_t)era2);
	ck_assert_int_eq(tv.tv_sec, era2 + 5);
	/* Before 1900 (era -1) is reachable too. */
	tv = ntp_ts_to_timespec((struct ntp_ts){ 0xfffffff0, 0 },
	    -(time_t)2208988800LL);
	ck_assert_int_eq(tv.tv_sec, -INT64_C(2208988800) - 16);
	/* Exactly half an era away: the earlier instant. */
	tv = ntp_ts_to_timespec((struct ntp_ts){ 0x80000000, 0 },
	    (time_t)(-INT64_C(2208988800)));
	ck_assert_int_eq(tv.tv_sec, -INT64_C(2208988800) - (INT64_C(1) << 31));
	/* Absurd pivots give an answer, not undefined behaviour. */
	tv = ntp_ts_to_timespec((struct ntp_ts){ 0xffffffff, 0xffffffff },
	    (time_t)INT64_MAX);
	ck_assert_int_gt(tv.tv_sec, 0);
	tv = ntp_ts_to_timespec((struct ntp_ts){ 0, 0 }, (time_t)INT64_MIN);
	ck_assert_int_lt(tv.tv_sec, 0);
}
END_TEST

START_TEST(ts_diff_small)
{
	struct ntp_ts	a = { Y2K_NTP, 0x80000000 };
	struct ntp_ts	b = { Y2K_NTP, 0x40000000 };
	struct ntp_ts	c = { Y2K_NTP + 3, 0x00000000 };

	ck_assert_double_eq(ntp_ts_diff(a, b), 0.25);
	ck_assert_double_eq(ntp_ts_diff(b, a), -0.25);
	ck_assert_double_eq(ntp_ts_diff(c, a), 2.5);
	ck_assert_double_eq(ntp_ts_diff(a, c), -2.5);
	ck_assert_double_eq(ntp_ts_diff(a, a), 0.0);
	ck_assert_double_eq(ntp_ts_diff((struct ntp_ts){ 5, 1 },
	    (struct ntp_ts){ 5, 0 }), 1.0 / 4294967296.0);
	ck_assert_double_eq(ntp_ts_diff((struct ntp_ts){ 5, 0 },
	    (struct ntp_ts){ 5, 1 }), -1.0 / 4294967296.0);
}
END_TEST

START_TEST(ts_diff_era)
{
	/* 0.25 s into era 1, and half a second before it ends era 0. */
	struct ntp_ts	after = { 0, 0x40000000 };
	struct ntp_ts	before = { 0xffffffff, 0x80000000 };

	ck_assert_double_eq(ntp_ts_diff(after, before), 0.75);
	ck_assert_double_eq(ntp_ts_diff(before, after), -0.75);
	ck_assert_double_eq(ntp_ts_diff((struct ntp_ts){ 10, 0 },
	    (struct ntp_ts){ 0xfffffff6, 0 }), 20.0);
	ck_assert_double_eq(ntp_ts_diff((struct ntp_ts){ 0xfffffff6, 0 },
	    (struct ntp_ts){ 10, 0 }), -20.0);
}
END_TEST

START_TEST(ts_diff_large)
{
	struct ntp_ts	zero = { 0, 0 };
	struct ntp_ts	max = { 0x7fffffff, 0xffffffff };
	struct ntp_ts	half = { 0x80000000, 0 };
	double		d;

	/* Just under 68 years, both ways. */
	d = ntp_ts_diff((struct ntp_ts){ 0x7fffffff, 0 }, zero);
	ck_assert_double_eq(d, 2147483647.0);
	d = ntp_ts_diff(zero, (struct ntp_ts){ 0x7fffffff, 0 });
	ck_assert_double_eq(d, -2147483647.0);
	d = ntp_ts_diff(max, zero);
	ck_assert_double_gt(d, 2147483647.0);
	ck_assert_double_le(d, 2147483648.0);
	d = ntp_ts_diff(zero, max);
	ck_assert_double_lt(d, -2147483647.0);
	ck_assert_double_ge(d, -2147483648.0);
	/* Exactly half an era is the most negative signed value. */
	ck_assert_double_eq(ntp_ts_diff(half, zero), -2147483648.0);
	ck_assert_double_eq(ntp_ts_diff(zero, half), -2147483648.0);
	/* 60 years across the era boundary: 1990 to 2050. */
	d = ntp_ts_diff(
	    (struct ntp_ts){ (uint32_t)(Y2K_NTP + 50U * 31536000U), 0 },
	    (struct ntp_ts){ Y2K_NTP - 10U * 31536000U, 0 });
	ck_assert_double_eq(d, 60.0 * 31536000.0);
}
END_TEST

START_TEST(ts_zero_equal)
{
	ck_assert(ntp_ts_is_zero((struct ntp_ts){ 0, 0 }));
	ck_assert(!ntp_ts_is_zero((struct ntp_ts){ 0, 1 }));
	ck_assert(!ntp_ts_is_zero((struct ntp_ts){ 1, 0 }));
	ck_assert(ntp_ts_equal((struct ntp_ts){ 7, 9 },
	    (struct ntp_ts){ 7, 9 }));
	ck_assert(!ntp_ts_equal((struct ntp_ts){ 7, 9 },
	    (struct ntp_ts){ 7, 8 }));
	ck_assert(!ntp_ts_equal((struct ntp_ts){ 7, 9 },
	    (struct ntp_ts){ 6, 9 }));
}
END_TEST

/* Short format */

START_TEST(short_format)
{
	ck_assert_uint_eq(ntp_short_from_double(0.0), 0);
	ck_assert_uint_eq(ntp_short_from_double(-0.0), 0);
	ck_assert_uint_eq(ntp_short_from_double(1.5), 0x00018000);
	ck_assert_uint_eq(ntp_short_from_double(1.0 / 65536.0), 1);
	/* Nearest: 0.4 of a unit is 0, 0.6 is 1. */
	ck_assert_uint_eq(ntp_short_from_double(0.4 / 65536.0), 0);
	ck_assert_uint_eq(ntp_short_from_double(0.6 / 65536.0), 1);
	ck_assert_uint_eq(ntp_short_from_double(65535.0), 0xffff0000);
	ck_assert_uint_eq(ntp_short_from_double(65535.0 + 65535.0 / 65536.0),
	    0xffffffff);
	ck_assert_uint_eq(ntp_short_from_double(65536.0), 0xffffffff);
	ck_assert_uint_eq(ntp_short_from_double(1e10), 0xffffffff);
	ck_assert_uint_eq(ntp_short_from_double(1e300), 0xffffffff);
	ck_assert_uint_eq(ntp_short_from_double(INFINITY), 0xffffffff);
	ck_assert_uint_eq(ntp_short_from_double(-1.5), 0);
	ck_assert_uint_eq(ntp_short_from_double(-1e300), 0);
	ck_assert_uint_eq(ntp_short_from_double(-INFINITY), 0);
	ck_assert_uint_eq(ntp_short_from_double(NAN), 0);
	ck_assert_uint_eq(ntp_short_from_double(-NAN), 0);

	ck_assert_double_eq(ntp_short_to_double(0), 0.0);
	ck_assert_double_eq(ntp_short_to_double(0x00018000), 1.5);
	ck_assert_double_eq(ntp_short_to_double(0xffffffff),
	    65535.0 + 65535.0 / 65536.0);
}
END_TEST

START_TEST(short_round_trip)
{
	uint64_t	v;

	for (v = 0; v <= UINT32_MAX; v += 40009)
		ck_assert_uint_eq(ntp_short_from_double(
		    ntp_short_to_double((uint32_t)v)), v);
	ck_assert_uint_eq(ntp_short_from_double(
	    ntp_short_to_double(UINT32_MAX)), UINT32_MAX);
}
END_TEST

/* MD5 */

static void
hex(const uint8_t *d, size_t len, char *out)
{
	size_t	i;

	for (i = 0; i < len; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* RFC 1321, appendix A.5. */
static const struct {
	const char	*in;
	const char	*md5;
} rfc1321[] = {
	{ "", "d41d8cd98f00b204e9800998ecf8427e" },
	{ "a", "0cc175b9c0f1b6a831c399e269772661" },
	{ "abc", "900150983cd24fb0d6963f7d28e17f72" },
	{ "message digest", "f96b697d7cb7938d525a2f31aaf161d0" },
	{ "abcdefghijklmnopqrstuvwxyz",
	    "c3fcd3d76192e4007dfb496cca67e13b" },
	{ "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
	    "d174ab98d277d9f5a5611c2c9f419d9f" },
	{ "1234567890123456789012345678901234567890"
	    "1234567890123456789012345678901234567890",
	    "57edf4a22be3c955ac49da2e2107b67a" },
};

START_TEST(md5_rfc1321)
{
	uint8_t	d[16];
	char	s[33];

	ntp_md5(rfc1321[_i].in, strlen(rfc1321[_i].in), d);
	hex(d, sizeof(d), s);
	ck_assert_str_eq(s, rfc1321[_i].md5);
}
END_TEST

/*
 * "0123456789" repeated, cut at lengths around the padding edges: 55
 * (one block), 56 and 63 (the length spills into a second), 64, 65,
 * and the same edges one block on.  Digests from md5sum(1).
 */
static const struct {
	size_t		 len;
	const char	*md5;
} digits[] = {
	{ 55, "6e7a4fc92eb1c3f6e652425bcc8d44b5" },
	{ 56, "8af270b2847610e742b0791b53648c09" },
	{ 57, "c620bace4cde41bc45a14cfa62ee3487" },
	{ 63, "c5e256437e758092dbfe06283e489019" },
	{ 64, "7f7bfd348709deeaace19e3f535f8c54" },
	{ 65, "beb9f48bc802ca5ca043bcc15e219a5a" },
	{ 119, "42eec8502cb0ed8f0d05aa5a24463b6a" },
	{ 120, "71877a6051c58e0e9246babc177ca5f2" },
	{ 127, "21e222f8c8b8ab9030e89a4534a7f5e9" },
	{ 128, "1f7d0dad0e987e87a084268b8aaaf77b" },
	{ 129, "6bf03df9b5e44d6d8be380e612f3ac60" },
	{ 200, "c902a17556796a9f97afa23bad130b04" },
};

START_TEST(md5_boundaries)
{
	uint8_t	buf[256], d[16];
	char	s[33];
	size_t	i;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)('0' + i % 10);
	ntp_md5(buf, digits[_i].len, d);
	hex(d, sizeof(d), s);
	ck_assert_str_eq(s, digits[_i].md5);
}
END_TEST

START_TEST(md5_unaligned)
{
	uint8_t	buf[256 + 1], d[16];
	char	s[33];
	size_t	i;

	/* Input at an odd address: the words are assembled bytewise. */
	for (i = 0; i < 200; i++)
		buf[i + 1] = (uint8_t)('0' + i % 10);
	ntp_md5(buf + 1, 200, d);
	hex(d, sizeof(d), s);
	ck_assert_str_eq(s, "c902a17556796a9f97afa23bad130b04");
}
END_TEST

START_TEST(refid_ipv6)
{
	struct in6_addr	a;
	uint8_t		refid[4];
	static const uint8_t	loopback[4] = { 0xcf, 0x40, 0x4d, 0xc8 };
	static const uint8_t	doc[4] = { 0x39, 0xab, 0x9b, 0x37 };

	/* md5sum of the 16 address bytes: cf404dc8... and 39ab9b37... */
	ck_assert_int_eq(inet_pton(AF_INET6, "::1", &a), 1);
	ntp_refid_ipv6(&a, refid);
	ck_assert_mem_eq(refid, loopback, 4);

	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::1", &a), 1);
	ntp_refid_ipv6(&a, refid);
	ck_assert_mem_eq(refid, doc, 4);
}
END_TEST

static Suite *
ntp_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("ntp");

	tc = tcase_create("codec");
	tcase_add_test(tc, decode_wire);
	tcase_add_test(tc, encode_wire);
	tcase_add_test(tc, round_trip);
	tcase_add_loop_test(tc, decode_short, 0, NTP_HEADER_SIZE);
	tcase_add_test(tc, decode_long);
	tcase_add_test(tc, decode_null);
	tcase_add_loop_test(tc, encode_small, 0, NTP_HEADER_SIZE);
	tcase_add_test(tc, encode_large);
	tcase_add_test(tc, encode_bad_fields);
	tcase_add_loop_test(tc, byte0_modes, 0, 8);
	tcase_add_test(tc, byte0_bits);
	tcase_add_loop_test(tc, poll_precision_signed, 0,
	    sizeof(signed8) / sizeof(signed8[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("timestamp");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, ts_unix_epoch);
	tcase_add_test(tc, ts_known_date);
	tcase_add_test(tc, ts_rounding);
	tcase_add_test(tc, ts_sweep);
	tcase_add_test(tc, ts_carry);
	tcase_add_test(tc, ts_era_boundary);
	tcase_add_test(tc, ts_pivot_eras);
	tcase_add_test(tc, ts_diff_small);
	tcase_add_test(tc, ts_diff_era);
	tcase_add_test(tc, ts_diff_large);
	tcase_add_test(tc, ts_zero_equal);
	suite_add_tcase(s, tc);

	tc = tcase_create("short");
	tcase_add_test(tc, short_format);
	tcase_add_test(tc, short_round_trip);
	suite_add_tcase(s, tc);

	tc = tcase_create("md5");
	tcase_add_loop_test(tc, md5_rfc1321, 0,
	    sizeof(rfc1321) / sizeof(rfc1321[0]));
	tcase_add_loop_test(tc, md5_boundaries, 0,
	    sizeof(digits) / sizeof(digits[0]));
	tcase_add_test(tc, md5_unaligned);
	tcase_add_test(tc, refid_ipv6);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(ntp_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
