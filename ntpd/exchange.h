/*
 * One client exchange with an upstream server, with no I/O: the request
 * to send, and what to make of a reply.  The engine does the sockets and
 * the clocks and passes the times in.
 *
 * The request says nothing about us (RFC 9109, data minimisation): its
 * transmit timestamp is a random nonce, every other field is zero but
 * the version and mode.  The nonce is what the reply's origin must echo,
 * and the local send time the engine keeps is what offset and delay are
 * computed from.
 */
#ifndef NTPD_EXCHANGE_H
#define NTPD_EXCHANGE_H

#include <stddef.h>
#include <stdint.h>

#include "ntp.h"

#define EXCHANGE_MAX_ROOT_DISTANCE	1.5	/* s: above it, not usable */

enum exchange_result {
	EXCHANGE_SAMPLE,	/* a valid measurement */
	EXCHANGE_KOD_DENY,	/* kiss DENY or RSTR: stop asking this server */
	EXCHANGE_KOD_RATE,	/* kiss RATE: ask less often */
	EXCHANGE_KOD_OTHER,	/* another kiss: no time in it */
	/* rejections */
	EXCHANGE_BAD_LENGTH,
	EXCHANGE_BAD_MODE,
	EXCHANGE_BAD_VERSION,
	EXCHANGE_BAD_ORIGIN,	/* not an answer to our last request */
	EXCHANGE_DUPLICATE,	/* the same answer again */
	EXCHANGE_ZERO_TIME,	/* receive or transmit timestamp zero */
	EXCHANGE_UNSYNCHRONISED, /* leap 3, or stratum 16 or more */
	EXCHANGE_BAD_STRATUM,
	EXCHANGE_ROOT_DISTANCE,	/* the server's own error is too large */
	EXCHANGE_BAD_DELAY,	/* negative round trip: clocks went odd */
	EXCHANGE_NRESULTS,
};

/* What one source's exchange remembers between request and reply. */
struct exchange {
	struct ntp_ts	 nonce;		/* transmit field of the request */
	struct ntp_ts	 last_transmit;	/* of the last accepted reply */
	int		 pending;	/* a request is out, unanswered */
};

/* A measurement from one valid reply. */
struct exchange_sample {
	double		 offset;	/* s: the server's clock minus ours */
	double		 delay;		/* s: round trip, server time taken out */
	uint8_t		 leap;
	uint8_t		 stratum;
	int8_t		 precision;
	uint8_t		 refid[4];
	double		 root_delay;	/* s */
	double		 root_dispersion; /* s */
	struct ntp_ts	 reference;
};

/*
 * Fill buf (at least NTP_HEADER_SIZE) with a request carrying nonce,
 * and remember the nonce in ex.  The nonce must be unpredictable
 * (arc4random).  Returns the request's length.
 */
size_t		 exchange_request(struct exchange *, struct ntp_ts nonce,
		    void *buf, size_t len);

/*
 * Judge a reply of len bytes received at local time t4 to the request
 * sent at local time t1 (both from the clock being disciplined, in
 * NTP format).  On EXCHANGE_SAMPLE, *sample is filled.  A kiss counts
 * only when it answers our request (origin check); a reply that does
 * not leaves the request pending, so the real answer is still taken.
 */
enum exchange_result exchange_reply(struct exchange *, const void *buf,
		    size_t len, struct ntp_ts t1, struct ntp_ts t4,
		    struct exchange_sample *sample);

/*
 * Does the reply end the wait for an answer?  Not when it cannot be an
 * answer to our request (bad length, mode, version or origin): the
 * real one may still come.  Every other result does, with or without
 * a sample.
 */
int		 exchange_answered(enum exchange_result);

#endif /* NTPD_EXCHANGE_H */
