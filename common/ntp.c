/*
 * The NTP header codec and time formats (RFC 5905), and the MD5 digest
 * (RFC 1321) that an IPv6 reference id is made from.  No allocation and
 * no I/O: the engine and every server process share this code.
 */

#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <string.h>
#include <time.h>

#include "ntp.h"

/* The era arithmetic below needs room past 2038. */
_Static_assert(sizeof(time_t) >= 8, "time_t must be at least 64 bits");

#define NSEC_PER_SEC	1000000000L
#define FRAC_PER_SEC	4294967296.0		/* 2^32 */
#define SHORT_PER_SEC	65536.0			/* 2^16 */

/*
 * Keep a pivot well away from the ends of time_t so that adding up to
 * an era to it cannot overflow; such a pivot is garbage in any case.
 */
#define PIVOT_LIMIT	((int64_t)1 << 62)

static uint32_t	get32(const uint8_t *);
static void	put32(uint8_t *, uint32_t);
static void	get_ts(const uint8_t *, struct ntp_ts *);
static void	put_ts(uint8_t *, const struct ntp_ts *);
static uint64_t	ts_to_u64(struct ntp_ts);

static uint32_t
get32(const uint8_t *p)
{
	uint32_t	v;

	memcpy(&v, p, sizeof(v));
	return ntohl(v);
}

static void
put32(uint8_t *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, sizeof(v));
}

static void
get_ts(const uint8_t *p, struct ntp_ts *ts)
{
	ts->sec = get32(p);
	ts->frac = get32(p + 4);
}

static void
put_ts(uint8_t *p, const struct ntp_ts *ts)
{
	put32(p, ts->sec);
	put32(p + 4, ts->frac);
}

/*
 * Wire layout (RFC 5905, figure 8), offsets in bytes:
 *  0 LI(2) VN(3) Mode(3)  1 stratum  2 poll  3 precision
 *  4 root delay  8 root dispersion  12 refid
 * 16 reference  24 origin  32 receive  40 transmit
 */
int
ntp_decode(const void *buf, size_t len, struct ntp_packet *pkt)
{
	const uint8_t	*p = buf;

	if (buf == NULL || pkt == NULL || len < NTP_HEADER_SIZE)
		return -1;

	memset(pkt, 0, sizeof(*pkt));
	pkt->leap = p[0] >> 6;
	pkt->version = (p[0] >> 3) & 0x7;
	pkt->mode = p[0] & 0x7;
	pkt->stratum = p[1];
	/* Spelled out: converting 128..255 to int8_t is not portable. */
	pkt->poll = p[2] > 127 ? (int8_t)(p[2] - 256) : (int8_t)p[2];
	pkt->precision = p[3] > 127 ? (int8_t)(p[3] - 256) : (int8_t)p[3];
	pkt->root_delay = get32(p + 4);
	pkt->root_dispersion = get32(p + 8);
	memcpy(pkt->refid, p + 12, sizeof(pkt->refid));
	get_ts(p + 16, &pkt->reference);
	get_ts(p + 24, &pkt->origin);
	get_ts(p + 32, &pkt->receive);
	get_ts(p + 40, &pkt->transmit);
	return 0;
}

int
ntp_encode(const struct ntp_packet *pkt, void *buf, size_t len)
{
	uint8_t	*p = buf;

	if (pkt == NULL || buf == NULL || len < NTP_HEADER_SIZE)
		return -1;
	/* Masking would silently send a different packet. */
	if (pkt->leap > 3 || pkt->version > 7 || pkt->mode > 7)
		return -1;

	p[0] = (uint8_t)(pkt->leap << 6 | pkt->version << 3 | pkt->mode);
	p[1] = pkt->stratum;
	p[2] = (uint8_t)pkt->poll;
	p[3] = (uint8_t)pkt->precision;
	put32(p + 4, pkt->root_delay);
	put32(p + 8, pkt->root_dispersion);
	memcpy(p + 12, pkt->refid, sizeof(pkt->refid));
	put_ts(p + 16, &pkt->reference);
	put_ts(p + 24, &pkt->origin);
	put_ts(p + 32, &pkt->receive);
	put_ts(p + 40, &pkt->transmit);
	return NTP_HEADER_SIZE;
}

struct ntp_ts
ntp_ts_from_timespec(const struct timespec *tp)
{
	struct ntp_ts	ts = { 0, 0 };
	uint64_t	sec, frac;
	long		nsec;

	if (tp == NULL)
		return ts;

	/*
	 * Unsigned arithmetic throughout: seconds wrap modulo the era, as
	 * the format does, and nothing can overflow.  A tv_nsec outside
	 * 0..999999999 is folded into the seconds.
	 */
	sec = (uint64_t)tp->tv_sec;
	nsec = tp->tv_nsec;
	sec += (uint64_t)(int64_t)(nsec / NSEC_PER_SEC);
	nsec %= NSEC_PER_SEC;
	if (nsec < 0) {
		nsec += NSEC_PER_SEC;
		sec--;
	}

	/* Round to the nearest 2^-32 s. */
	frac = (((uint64_t)nsec << 32) + NSEC_PER_SEC / 2) / NSEC_PER_SEC;
	if (frac > UINT32_MAX) {
		/* Cannot happen for nsec < 10^9; kept for the reader. */
		frac -= (uint64_t)1 << 32;
		sec++;
	}
	ts.sec = (uint32_t)(sec + NTP_UNIX_OFFSET);
	ts.frac = (uint32_t)frac;
	return ts;
}

struct timespec
ntp_ts_to_timespec(struct ntp_ts ts, time_t pivot)
{
	struct timespec	tv;
	int64_t		p, d;
	uint64_t	nsec;

	p = pivot;
	if (p > PIVOT_LIMIT)
		p = PIVOT_LIMIT;
	else if (p < -PIVOT_LIMIT)
		p = -PIVOT_LIMIT;

	/*
	 * The wrapped distance from the pivot's own NTP seconds, taken as
	 * signed, picks the era: the answer lies within half an era
	 * (2^31 s) of the pivot, earlier at exactly half.
	 */
	d = (int64_t)(uint32_t)(ts.sec - (uint32_t)((uint64_t)p +
	    NTP_UNIX_OFFSET));
	if (d >= INT64_C(1) << 31)
		d -= INT64_C(1) << 32;

	nsec = ((uint64_t)ts.frac * NSEC_PER_SEC + ((uint64_t)1 << 31)) >> 32;
	if (nsec >= (uint64_t)NSEC_PER_SEC) {
		/* A fraction within half a nanosecond of the next second. */
		nsec -= NSEC_PER_SEC;
		d++;
	}
	tv.tv_sec = (time_t)(p + d);
	tv.tv_nsec = (long)nsec;
	return tv;
}

static uint64_t
ts_to_u64(struct ntp_ts ts)
{
	return (uint64_t)ts.sec << 32 | ts.frac;
}

double
ntp_ts_diff(struct ntp_ts a, struct ntp_ts b)
{
	uint64_t	u;

	/*
	 * Modular difference read as two's complement, without the
	 * implementation-defined unsigned to signed conversion.
	 */
	u = ts_to_u64(a) - ts_to_u64(b);
	if (u >> 63)
		return -((double)(0 - u) / FRAC_PER_SEC);
	return (double)u / FRAC_PER_SEC;
}

int
ntp_ts_is_zero(struct ntp_ts ts)
{
	return ts.sec == 0 && ts.frac == 0;
}

int
ntp_ts_equal(struct ntp_ts a, struct ntp_ts b)
{
	return a.sec == b.sec && a.frac == b.frac;
}

uint32_t
ntp_short_from_double(double s)
{
	double	v;

	/* Written so that NaN fails the test and gives 0. */
	if (!(s > 0.0))
		return 0;
	v = s * SHORT_PER_SEC + 0.5;
	if (v >= (double)UINT32_MAX)
		return UINT32_MAX;
	return (uint32_t)v;
}

double
ntp_short_to_double(uint32_t v)
{
	return (double)v / SHORT_PER_SEC;
}

void
ntp_refid_ipv6(const struct in6_addr *addr, uint8_t refid[4])
{
	uint8_t	digest[16];

	ntp_md5(addr->s6_addr, sizeof(addr->s6_addr), digest);
	memcpy(refid, digest, 4);
}

/*
 * MD5, RFC 1321.  Written from the RFC's prose: 512-bit blocks of
 * sixteen little-endian words, four rounds of sixteen steps, each step
 * a + ((a + F(b,c,d) + X[k] + T[i]) <<< s), the message padded with a
 * one bit, zeros to 448 mod 512 bits, then its bit length (64-bit LE).
 */

/* T[i] = floor(2^32 * |sin(i + 1)|), section 3.4. */
static const uint32_t md5_t[64] = {
	0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee,
	0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
	0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
	0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
	0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa,
	0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
	0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
	0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
	0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
	0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
	0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05,
	0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
	0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039,
	0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
	0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
	0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

/* Rotation amounts: four per round, repeated over its sixteen steps. */
static const uint8_t md5_s[4][4] = {
	{ 7, 12, 17, 22 },
	{ 5, 9, 14, 20 },
	{ 4, 11, 16, 23 },
	{ 6, 10, 15, 21 },
};

static void	md5_block(uint32_t[4], const uint8_t *);
static uint32_t	rol32(uint32_t, unsigned int);

static uint32_t
rol32(uint32_t x, unsigned int n)
{
	/* n is 4..23 here, never 0 or 32. */
	return x << n | x >> (32 - n);
}

static void
md5_block(uint32_t st[4], const uint8_t *blk)
{
	uint32_t	x[16], a, b, c, d, f, tmp;
	unsigned int	i, k, r;

	for (i = 0; i < 16; i++)
		x[i] = (uint32_t)blk[i * 4] |
		    (uint32_t)blk[i * 4 + 1] << 8 |
		    (uint32_t)blk[i * 4 + 2] << 16 |
		    (uint32_t)blk[i * 4 + 3] << 24;

	a = st[0];
	b = st[1];
	c = st[2];
	d = st[3];
	for (i = 0; i < 64; i++) {
		r = i / 16;
		switch (r) {
		case 0:		/* F: b selects c or d */
			f = (b & c) | (~b & d);
			k = i;
			break;
		case 1:		/* G: d selects b or c */
			f = (b & d) | (c & ~d);
			k = (5 * i + 1) % 16;
			break;
		case 2:		/* H: parity */
			f = b ^ c ^ d;
			k = (3 * i + 5) % 16;
			break;
		default:	/* I */
			f = c ^ (b | ~d);
			k = (7 * i) % 16;
			break;
		}
		tmp = d;
		d = c;
		c = b;
		b = b + rol32(a + f + x[k] + md5_t[i], md5_s[r][i % 4]);
		a = tmp;
	}
	st[0] += a;
	st[1] += b;
	st[2] += c;
	st[3] += d;
}

void
ntp_md5(const void *data, size_t len, uint8_t digest[16])
{
	uint32_t	 st[4] = { 0x67452301, 0xefcdab89, 0x98badcfe,
			    0x10325476 };
	uint8_t		 last[64];
	const uint8_t	*p = data;
	uint64_t	 bits;
	size_t		 rest;
	unsigned int	 i;

	/* Length in bits modulo 2^64, as the RFC asks. */
	bits = (uint64_t)len << 3;
	for (rest = len; rest >= sizeof(last); rest -= sizeof(last)) {
		md5_block(st, p);
		p += sizeof(last);
	}

	memset(last, 0, sizeof(last));
	if (rest > 0)
		memcpy(last, p, rest);
	last[rest] = 0x80;
	/* No room for the length after the one bit: a block of its own. */
	if (rest >= 56) {
		md5_block(st, last);
		memset(last, 0, sizeof(last));
	}
	for (i = 0; i < 8; i++)
		last[56 + i] = (uint8_t)(bits >> (8 * i));
	md5_block(st, last);

	for (i = 0; i < 16; i++)
		digest[i] = (uint8_t)(st[i / 4] >> (8 * (i % 4)));
}
