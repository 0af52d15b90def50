/*
 * Per-client rate limiting for the servers, with no I/O: a token bucket
 * per client address in a table of fixed size, allocated once.  When the
 * table is full the client seen least recently makes room.  IPv6 clients
 * are counted per prefix (a /64 by default), since one host can have any
 * number of addresses inside its prefix.
 *
 * Time is the caller's: a monotonic nanosecond count.
 */
#ifndef NTPD_RATELIMIT_H
#define NTPD_RATELIMIT_H

#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

struct ratelimit_conf {
	double		 rate;		/* requests per second, (0, 1e9] */
	double		 burst;		/* bucket size in requests, >= 1 */
	size_t		 max_clients;	/* table entries, 1..2^30 */
	unsigned int	 ipv6_prefixlen;	/* 32..128, 64 by default */
};

enum ratelimit_verdict {
	RATELIMIT_PASS,
	RATELIMIT_LIMIT,
};

/* What the table knows of one client, for statistics. */
struct ratelimit_client {
	struct sockaddr_storage	 addr;		/* the prefix's first address */
	unsigned int		 prefixlen;	/* 32 for IPv4 */
	uint64_t		 requests;	/* seen since it entered */
	uint64_t		 limited;	/* of those, over the limit */
	uint64_t		 last_ns;	/* last request */
};

struct ratelimit;

/*
 * NULL with errno EINVAL for a bad configuration (also: a bucket, burst /
 * rate, over 2^62 ns), or ENOMEM.  All memory is allocated and touched
 * here.  The hash key comes from arc4random_buf().
 */
struct ratelimit	*ratelimit_new(const struct ratelimit_conf *);
void			 ratelimit_free(struct ratelimit *);

/*
 * A new rate and burst for the same table (a reload): the clients and
 * their counts stay.  0, or -1 with errno EINVAL and nothing changed.
 */
int			 ratelimit_set_rate(struct ratelimit *, double rate,
			    double burst);

/*
 * Account one request from addr at now_ns and say whether it is within
 * the client's rate.  Never allocates.  Requests of an unknown family
 * are limited; an IPv4-mapped IPv6 address is its IPv4 client.  A
 * limited request costs no token.  now_ns must not go backwards by much;
 * if it does, the bucket is not refilled for that request.  now_ns below
 * 2^63 is always safe.
 */
enum ratelimit_verdict	 ratelimit_check(struct ratelimit *,
			    const struct sockaddr *, uint64_t now_ns);

/* Clients in the table now. */
size_t			 ratelimit_nclients(const struct ratelimit *);

/* Clients evicted to make room, since the table was made. */
uint64_t		 ratelimit_evictions(const struct ratelimit *);

/*
 * The n busiest clients (most requests), busiest first, into out.
 * Returns how many were written (<= n).  Allocates nothing.
 */
size_t			 ratelimit_top(const struct ratelimit *,
			    struct ratelimit_client *out, size_t n);

#endif /* NTPD_RATELIMIT_H */
