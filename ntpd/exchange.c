/*
 * One client exchange, with no I/O: building the request and judging
 * the reply.  The checks follow RFC 5905 and its security advice (RFC
 * 8633), in an order that lets nothing unauthenticated by the origin
 * check change our state: a reply that does not answer our request is
 * rejected before anything in it is believed, kisses included.
 */
#include <string.h>

#include "exchange.h"

#define NTP_VERSION_SENT	4

size_t
exchange_request(struct exchange *ex, struct ntp_ts nonce, void *buf,
    size_t len)
{
	struct ntp_packet	 p;

	memset(&p, 0, sizeof(p));
	p.leap = NTP_LEAP_NONE;
	p.version = NTP_VERSION_SENT;
	p.mode = NTP_MODE_CLIENT;
	p.transmit = nonce;
	if (ntp_encode(&p, buf, len) == -1)
		return 0;
	ex->nonce = nonce;
	ex->pending = 1;
	return NTP_HEADER_SIZE;
}

static enum exchange_result
exchange_kiss(const struct ntp_packet *p)
{
	if (memcmp(p->refid, "DENY", 4) == 0 ||
	    memcmp(p->refid, "RSTR", 4) == 0)
		return EXCHANGE_KOD_DENY;
	if (memcmp(p->refid, "RATE", 4) == 0)
		return EXCHANGE_KOD_RATE;
	return EXCHANGE_KOD_OTHER;
}

enum exchange_result
exchange_reply(struct exchange *ex, const void *buf, size_t len,
    struct ntp_ts t1, struct ntp_ts t4, struct exchange_sample *s)
{
	struct ntp_packet	 p;
	double			 root_delay, root_disp, t21, t34;

	if (ntp_decode(buf, len, &p) == -1)
		return EXCHANGE_BAD_LENGTH;
	if (p.mode != NTP_MODE_SERVER)
		return EXCHANGE_BAD_MODE;
	if (p.version < 3 || p.version > 4)
		return EXCHANGE_BAD_VERSION;
	/* Only an answer to the request that is out, and only once. */
	if (!ex->pending || !ntp_ts_equal(p.origin, ex->nonce))
		return EXCHANGE_BAD_ORIGIN;
	if (ntp_ts_equal(p.transmit, ex->last_transmit))
		return EXCHANGE_DUPLICATE;
	ex->pending = 0;

	if (p.stratum == 0)
		return exchange_kiss(&p);
	if (ntp_ts_is_zero(p.receive) || ntp_ts_is_zero(p.transmit))
		return EXCHANGE_ZERO_TIME;
	if (p.leap == NTP_LEAP_UNSYNC || p.stratum >= NTP_MAX_STRATUM)
		return EXCHANGE_UNSYNCHRONISED;
	root_delay = ntp_short_to_double(p.root_delay);
	root_disp = ntp_short_to_double(p.root_dispersion);
	if (root_delay / 2 + root_disp > EXCHANGE_MAX_ROOT_DISTANCE)
		return EXCHANGE_ROOT_DISTANCE;

	/*
	 * T1 and T4 are ours, T2 and T3 the server's.  Differences of
	 * timestamps, never the timestamps, go to floating point, so that
	 * nothing of their 64 bits is lost.
	 */
	t21 = ntp_ts_diff(p.receive, t1);
	t34 = ntp_ts_diff(p.transmit, t4);
	s->offset = (t21 + t34) / 2;
	s->delay = ntp_ts_diff(t4, t1) - ntp_ts_diff(p.transmit, p.receive);
	if (s->delay < 0)
		return EXCHANGE_BAD_DELAY;
	ex->last_transmit = p.transmit;
	s->leap = p.leap;
	s->stratum = p.stratum;
	s->precision = p.precision;
	memcpy(s->refid, p.refid, sizeof(s->refid));
	s->root_delay = root_delay;
	s->root_dispersion = root_disp;
	s->reference = p.reference;
	return EXCHANGE_SAMPLE;
}

int
exchange_answered(enum exchange_result r)
{
	switch (r) {
	case EXCHANGE_BAD_LENGTH:
	case EXCHANGE_BAD_MODE:
	case EXCHANGE_BAD_VERSION:
	case EXCHANGE_BAD_ORIGIN:
		return 0;
	default:
		return 1;
	}
}
