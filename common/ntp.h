/*
 * The NTP packet (RFC 5905) and its time formats, with no I/O: the
 * engine's client side and the servers' reply path both use it.
 */
#ifndef NTPD_NTP_H
#define NTPD_NTP_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define NTP_HEADER_SIZE		48	/* without extension fields or MAC */
#define NTP_MAX_STRATUM		16	/* 16: unsynchronised */

/* Seconds from 1900-01-01 (NTP era 0) to 1970-01-01 (Unix epoch). */
#define NTP_UNIX_OFFSET		2208988800ULL

enum ntp_leap {
	NTP_LEAP_NONE = 0,
	NTP_LEAP_ADD = 1,	/* last minute of the day has 61 s */
	NTP_LEAP_DEL = 2,	/* last minute of the day has 59 s */
	NTP_LEAP_UNSYNC = 3,	/* clock not synchronised */
};

enum ntp_mode {
	NTP_MODE_RESERVED = 0,
	NTP_MODE_SYMMETRIC_ACTIVE = 1,
	NTP_MODE_SYMMETRIC_PASSIVE = 2,
	NTP_MODE_CLIENT = 3,
	NTP_MODE_SERVER = 4,
	NTP_MODE_BROADCAST = 5,
	NTP_MODE_CONTROL = 6,
	NTP_MODE_PRIVATE = 7,
};

/* 64-bit timestamp: seconds of the era and 2^-32 fractions, host order. */
struct ntp_ts {
	uint32_t	sec;
	uint32_t	frac;
};

/* A decoded header, fields in host byte order. */
struct ntp_packet {
	uint8_t		leap;		/* enum ntp_leap, 0..3 */
	uint8_t		version;	/* 0..7 */
	uint8_t		mode;		/* enum ntp_mode, 0..7 */
	uint8_t		stratum;
	int8_t		poll;		/* log2 seconds */
	int8_t		precision;	/* log2 seconds */
	uint32_t	root_delay;	/* 32-bit short format, 16.16 */
	uint32_t	root_dispersion; /* 16.16 */
	uint8_t		refid[4];	/* as on the wire */
	struct ntp_ts	reference;
	struct ntp_ts	origin;
	struct ntp_ts	receive;
	struct ntp_ts	transmit;
};

/*
 * Decode the 48-byte header at the start of buf.  Anything after it
 * (extension fields, a MAC) is not looked at.  Returns 0, or -1 when len
 * is shorter than NTP_HEADER_SIZE.  Field values are not judged here:
 * that is the caller's policy.
 */
int		ntp_decode(const void *buf, size_t len, struct ntp_packet *);

/*
 * Encode the header into buf (at least NTP_HEADER_SIZE): 48, or -1 when
 * buf is short or leap, version or mode is out of range.
 */
int		ntp_encode(const struct ntp_packet *, void *buf, size_t len);

/* struct timespec (Unix time) to NTP timestamp; rounds to nearest. */
struct ntp_ts	ntp_ts_from_timespec(const struct timespec *);

/*
 * NTP timestamp to Unix time.  The 32-bit seconds wrap every 136 years
 * (eras); the result is the instant closest to pivot (a Unix time near
 * the expected answer, normally now), so 2036 and later work.
 */
struct timespec	ntp_ts_to_timespec(struct ntp_ts, time_t pivot);

/*
 * a - b in seconds.  Correct across an era boundary as long as the two
 * are within 68 years of each other (the 64-bit difference is taken as
 * signed, as RFC 5905 prescribes).
 */
double		ntp_ts_diff(struct ntp_ts a, struct ntp_ts b);

int		ntp_ts_is_zero(struct ntp_ts);
int		ntp_ts_equal(struct ntp_ts, struct ntp_ts);

/* 16.16 short format (root delay, dispersion), saturating, >= 0. */
uint32_t	ntp_short_from_double(double seconds);
double		ntp_short_to_double(uint32_t);

/*
 * Reference id of an IPv6 upstream: the first four octets of the MD5
 * hash of its address (RFC 5905, 7.3).  Written into refid.
 */
void		ntp_refid_ipv6(const struct in6_addr *, uint8_t refid[4]);

/* The MD5 digest (RFC 1321) of len bytes at data, into digest. */
void		ntp_md5(const void *data, size_t len, uint8_t digest[16]);

#endif /* NTPD_NTP_H */
