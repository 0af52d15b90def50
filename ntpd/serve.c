/*
 * Answering one client request, with no I/O.  The order of the checks
 * matters: what is not a well-formed client request costs nothing more;
 * the access rules come before the rate limit, so that denied (perhaps
 * spoofed) traffic cannot push real clients out of the rate table.
 */
#include <string.h>

#include "serve.h"

#define NTP_VERSION_MIN		1
#define NTP_VERSION_MAX		4
#define LOCAL_DISPERSION	0.001	/* s: what we claim of a local clock */

static const uint8_t	 refid_deny[4] = { 'D', 'E', 'N', 'Y' };
static const uint8_t	 refid_rate[4] = { 'R', 'A', 'T', 'E' };
static const uint8_t	 refid_local[4] = { 'L', 'O', 'C', 'L' };

/*
 * A kiss-o'-death.  Its timestamps are all the client's own transmit
 * time: it passes the client's origin check and says nothing about our
 * clock to someone we will not serve.
 */
static void
serve_kiss(const struct ntp_packet *req, const uint8_t code[4],
    unsigned char *out)
{
	struct ntp_packet	 p;

	memset(&p, 0, sizeof(p));
	p.leap = NTP_LEAP_UNSYNC;
	p.version = req->version;
	p.mode = NTP_MODE_SERVER;
	p.stratum = 0;
	p.poll = req->poll;
	memcpy(p.refid, code, sizeof(p.refid));
	p.origin = req->transmit;
	p.receive = req->transmit;
	p.transmit = req->transmit;
	(void)ntp_encode(&p, out, NTP_HEADER_SIZE);
}

/*
 * A reply from the engine's picture of the clock.  Until that clock is
 * validated, clients are told it is unsynchronised (leap 3, stratum 16)
 * so that none will follow it, unless the operator chose to serve the
 * local clock at a fixed stratum.
 */
static void
serve_reply(const struct serve_ctx *ctx, const struct ntp_packet *req,
    struct ntp_ts rx, unsigned char *out)
{
	const struct sync_state	*st = &ctx->state;
	struct ntp_packet	 p;

	memset(&p, 0, sizeof(p));
	p.version = req->version;
	p.mode = NTP_MODE_SERVER;
	p.poll = req->poll;
	p.precision = st->precision;
	if (st->synced) {
		p.leap = st->leap;
		p.stratum = st->stratum;
		p.root_delay = st->root_delay;
		p.root_dispersion = st->root_dispersion;
		memcpy(p.refid, st->refid, sizeof(p.refid));
		p.reference = st->reference;
	} else if (ctx->policy.local_stratum > 0) {
		p.leap = NTP_LEAP_NONE;
		p.stratum = (uint8_t)ctx->policy.local_stratum;
		p.root_dispersion = ntp_short_from_double(LOCAL_DISPERSION);
		memcpy(p.refid, refid_local, sizeof(p.refid));
		p.reference = rx;
	} else {
		p.leap = NTP_LEAP_UNSYNC;
		p.stratum = NTP_MAX_STRATUM;
	}
	p.origin = req->transmit;
	p.receive = rx;
	(void)ntp_encode(&p, out, NTP_HEADER_SIZE);
}

enum serve_verdict
serve_request(struct serve_ctx *ctx, const void *req, size_t reqlen,
    const struct sockaddr *from, struct ntp_ts rx, uint64_t now_ns,
    unsigned char out[NTP_HEADER_SIZE])
{
	const struct acl_rule	*rule;
	struct ntp_packet	 r;

	ctx->counters.received++;
	if (ntp_decode(req, reqlen, &r) == -1 ||
	    r.version < NTP_VERSION_MIN || r.version > NTP_VERSION_MAX) {
		ctx->counters.malformed++;
		return SERVE_DROP_MALFORMED;
	}
	if (r.mode == NTP_MODE_CONTROL || r.mode == NTP_MODE_PRIVATE) {
		ctx->counters.ignored++;
		return SERVE_DROP_CONTROL;
	}
	if (r.mode != NTP_MODE_CLIENT) {
		ctx->counters.ignored++;
		return SERVE_DROP_MODE;
	}

	rule = acl_match(ctx->acl, from);
	if (rule == NULL || rule->action != ACL_ALLOW) {
		ctx->counters.denied++;
		if (rule == NULL || !rule->kod)
			return SERVE_DROP_DENIED;
		serve_kiss(&r, refid_deny, out);
		ctx->counters.kod++;
		return SERVE_KOD_DENY;
	}
	if (ctx->ratelimit != NULL &&
	    ratelimit_check(ctx->ratelimit, from, now_ns) ==
	    RATELIMIT_LIMIT) {
		ctx->counters.ratelimited++;
		if (!ctx->policy.ratelimit_kod)
			return SERVE_DROP_RATE;
		serve_kiss(&r, refid_rate, out);
		ctx->counters.kod++;
		return SERVE_KOD_RATE;
	}

	serve_reply(ctx, &r, rx, out);
	ctx->counters.replies++;
	return SERVE_REPLY;
}

/* Bytes 40 to 47 of the header, big-endian. */
void
serve_set_transmit(unsigned char *out, struct ntp_ts tx)
{
	int	 i;

	for (i = 0; i < 4; i++) {
		out[40 + i] = (unsigned char)(tx.sec >> (24 - 8 * i));
		out[44 + i] = (unsigned char)(tx.frac >> (24 - 8 * i));
	}
}

int
serve_verdict_sends(enum serve_verdict v)
{
	return v == SERVE_REPLY || v == SERVE_KOD_DENY || v == SERVE_KOD_RATE;
}
