/*
 * Numeric addresses and CIDR prefixes, IPv4 and IPv6.  No name
 * resolution here: names go to the dns process.
 */
#ifndef NTPD_ADDR_H
#define NTPD_ADDR_H

#include <sys/socket.h>
#include <netinet/in.h>
#include <stdint.h>

/* "[2001:db8::1]:123" is the longest form addr_format() writes. */
#define ADDR_STRLEN	(INET6_ADDRSTRLEN + 8)

struct cidr {
	int		family;		/* AF_INET or AF_INET6 */
	uint8_t		addr[16];	/* network byte order, host bits 0 */
	unsigned int	prefixlen;	/* 0..32 or 0..128 */
};

/*
 * Parse a numeric IPv4 or IPv6 address (no scope id, no brackets) into
 * *ss with the given port (host byte order).  Returns 0 or -1.
 */
int	addr_parse(const char *, uint16_t port, struct sockaddr_storage *ss,
	    socklen_t *sslen);

/*
 * Parse "ADDR" or "ADDR/LEN".  A bare address is a host prefix (/32,
 * /128).  Host bits set below the prefix are an error, so a typo cannot
 * silently widen a rule.  Returns 0 or -1.
 */
int	cidr_parse(const char *, struct cidr *);

/* Does the address fall inside the prefix?  Different families: no. */
int	cidr_match(const struct cidr *, const struct sockaddr *);

/* "192.0.2.1" or "2001:db8::1" into buf; port is not written. */
const char *addr_ntop(const struct sockaddr *, char *buf, size_t len);

/* "192.0.2.1:123" or "[2001:db8::1]:123" into buf. */
const char *addr_format(const struct sockaddr *, char *buf, size_t len);

/* Port in host byte order, 0 for an unknown family. */
uint16_t addr_port(const struct sockaddr *);

#endif /* NTPD_ADDR_H */
