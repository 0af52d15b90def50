/*
 * Answering one client request, with no I/O: the server process reads a
 * batch of datagrams, asks serve_request() about each, and sends what it
 * says.  Everything a reply depends on is in the context; nothing is
 * allocated.
 */
#ifndef NTPD_SERVE_H
#define NTPD_SERVE_H

#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

#include "acl.h"
#include "config.h"
#include "ntp.h"
#include "ratelimit.h"

/* The clock as the engine last described it (IMSG_SYNC_STATE). */
struct sync_state {
	uint8_t		 synced;	/* 0: validated time is not known */
	uint8_t		 leap;		/* enum ntp_leap, when synced */
	uint8_t		 stratum;	/* ours, when synced: 1..15 */
	int8_t		 precision;	/* log2 s of the system clock */
	uint32_t	 root_delay;	/* short format */
	uint32_t	 root_dispersion; /* short format */
	uint8_t		 refid[4];
	struct ntp_ts	 reference;	/* last clock update */
};

enum serve_verdict {
	SERVE_REPLY,		/* out holds the reply, transmit time unset */
	SERVE_KOD_DENY,		/* out holds a kiss-o'-death DENY */
	SERVE_KOD_RATE,		/* out holds a kiss-o'-death RATE */
	SERVE_DROP_MALFORMED,	/* too short, or a bad version */
	SERVE_DROP_MODE,	/* not a client request (modes 0-2, 4, 5) */
	SERVE_DROP_CONTROL,	/* mode 6 or 7: never answered */
	SERVE_DROP_DENIED,
	SERVE_DROP_RATE,
};

struct serve_counters {
	uint64_t	 received;	/* every datagram */
	uint64_t	 replies;	/* time given */
	uint64_t	 kod;		/* kisses of death sent */
	uint64_t	 denied;	/* by the access rules */
	uint64_t	 ratelimited;
	uint64_t	 malformed;
	uint64_t	 ignored;	/* other modes, 6 and 7 included */
};

#define SERVE_TOP_CLIENTS	10

/* What a server reports to the engine (IMSG_SERVER_STATS). */
struct serve_stats {
	struct serve_counters	 counters;
	uint64_t		 evictions;	/* from the rate table */
	uint32_t		 nclients;	/* in the rate table */
	uint32_t		 ntop;		/* entries used in top */
	struct {
		char		 addr[INET6_ADDRSTRLEN];
		uint32_t	 prefixlen;
		uint64_t	 requests;
		uint64_t	 limited;
	}			 top[SERVE_TOP_CLIENTS];
};

struct serve_ctx {
	const struct acl	*acl;
	struct ratelimit	*ratelimit;	/* NULL: no limit */
	struct serve_policy	 policy;
	struct sync_state	 state;
	struct serve_counters	 counters;
};

/*
 * Decide about one datagram of reqlen bytes from a client, received at rx
 * (kernel time) and now_ns (monotonic, for the rate limit).  For
 * SERVE_REPLY and the kisses, NTP_HEADER_SIZE bytes are written to out:
 * never more than the request had.  The transmit timestamp of a reply is
 * left for serve_set_transmit(), so it can be taken as late as possible.
 */
enum serve_verdict	 serve_request(struct serve_ctx *, const void *req,
			    size_t reqlen, const struct sockaddr *from,
			    struct ntp_ts rx, uint64_t now_ns,
			    unsigned char out[NTP_HEADER_SIZE]);

/* Write the transmit timestamp into an encoded reply. */
void			 serve_set_transmit(unsigned char *out, struct ntp_ts);

/* Is a verdict an answer to send? */
int			 serve_verdict_sends(enum serve_verdict);

#endif /* NTPD_SERVE_H */
