/*
 * Name resolution between the engine and the dns process.
 *
 * The engine sends IMSG_DNS_QUERY with a struct dns_query; the dns
 * process answers every query, in order, with IMSG_DNS_ANSWER and a
 * struct dns_answer carrying the query's id.  Both ends check every field
 * of what they receive (dns_query_parse(), dns_answer_parse()): sizes,
 * NUL termination, the error code, the number of addresses and each
 * address's family and length.  Ports are not part of the protocol: the
 * engine puts the configured port on the addresses it uses.
 *
 * The helpers below the wire structures have no I/O but dns_resolve()
 * (getaddrinfo), so the unit tests can drive them directly.
 */
#ifndef NTPD_DNS_H
#define NTPD_DNS_H

#include <sys/socket.h>
#include <netdb.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define DNS_MAX_ADDRS		16	/* per answer, after deduplication */

/* error of an answer: 0, one of getaddrinfo's EAI_* codes, or this. */
#define DNS_ERR_NOADDR		1	/* the name has no IPv4/IPv6 address
					   an NTP server can have */

/* Retries of a name that gave nothing: from 4 s up to an hour. */
#define DNS_BACKOFF_MIN_NS	4000000000ULL
#define DNS_BACKOFF_MAX_NS	3600000000000ULL

struct dns_query {
	uint32_t		 id;		/* not 0 */
	char			 host[SOURCE_NAME_MAX];	/* NUL-terminated */
};

struct dns_addr {
	uint32_t		 len;		/* of the sockaddr in ss */
	uint32_t		 pad;
	struct sockaddr_storage	 ss;		/* AF_INET, AF_INET6; port 0 */
};

struct dns_answer {
	uint32_t		 id;		/* the query's */
	int32_t			 error;		/* 0: naddrs > 0 */
	uint32_t		 naddrs;	/* 0..DNS_MAX_ADDRS */
	uint32_t		 pad;
	/* In the resolver's order of preference. */
	struct dns_addr		 addrs[DNS_MAX_ADDRS];
};

/*
 * The receivers' checks.  Each copies len bytes of data into *out and
 * returns 0 if they make a well-formed message, or -1.
 */
int		 dns_query_parse(const void *data, size_t len,
		    struct dns_query *out);
int		 dns_answer_parse(const void *data, size_t len,
		    struct dns_answer *out);

/*
 * An address an NTP server can have: IPv4 or IPv6 of the right length,
 * not unspecified, not multicast or broadcast.
 */
int		 dns_addr_usable(const struct sockaddr *, socklen_t);
/* Same family and address, whatever the port. */
int		 dns_addr_equal(const struct sockaddr *,
		    const struct sockaddr *);

/*
 * getaddrinfo()'s list into *a: the usable addresses in its order, each
 * once, DNS_MAX_ADDRS at most, port 0; error DNS_ERR_NOADDR if none.
 * id and error (0) are set, the rest of *a is zeroed.
 */
void		 dns_collect(const struct addrinfo *, uint32_t id,
		    struct dns_answer *a);
/* Resolve host into *a as the dns process does; returns a->error. */
int		 dns_resolve(const char *host, uint32_t id,
		    struct dns_answer *a);
/* The text of an answer's error. */
const char	*dns_strerror(int32_t);

/*
 * Backoff: the next interval after cur (doubled, within the bounds), and
 * the delay to wait for one (the interval less up to a quarter of it,
 * at random, so that names failing together do not retry together).
 */
uint64_t	 dns_backoff_next(uint64_t cur_ns);
uint64_t	 dns_backoff_delay(uint64_t interval_ns);

#endif /* NTPD_DNS_H */
