/*
 * Numeric addresses and CIDR prefixes.  Only inet_pton() and inet_ntop()
 * touch the text, so nothing here ever resolves a name.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"

static int	parse_prefixlen(const char *, unsigned int, unsigned int *);
static int	addr_bytes(const struct sockaddr *, const uint8_t **,
		    unsigned int *);

int
addr_parse(const char *s, uint16_t port, struct sockaddr_storage *ss,
    socklen_t *sslen)
{
	struct sockaddr_in	*sin;
	struct sockaddr_in6	*sin6;

	if (s == NULL || ss == NULL || sslen == NULL)
		return -1;

	memset(ss, 0, sizeof(*ss));
	sin = (struct sockaddr_in *)ss;
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*sslen = sizeof(*sin);
		return 0;
	}

	memset(ss, 0, sizeof(*ss));
	sin6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*sslen = sizeof(*sin6);
		return 0;
	}

	memset(ss, 0, sizeof(*ss));
	return -1;
}

/*
 * Decimal 0..max, digits only: no sign, no blanks, no leading zero (so
 * "010" cannot be taken for octal by a reader), at most three digits.
 */
static int
parse_prefixlen(const char *s, unsigned int max, unsigned int *res)
{
	unsigned int	v = 0;
	size_t		i, len;

	len = strlen(s);
	if (len == 0 || len > 3)
		return -1;
	if (len > 1 && s[0] == '0')
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned int)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*res = v;
	return 0;
}

int
cidr_parse(const char *s, struct cidr *c)
{
	char		 buf[INET6_ADDRSTRLEN];
	const char	*slash;
	size_t		 alen;
	unsigned int	 i, bits, maxlen, nbytes;
	uint8_t		 mask;
	struct cidr	 tmp;

	if (s == NULL || c == NULL)
		return -1;

	memset(&tmp, 0, sizeof(tmp));
	slash = strchr(s, '/');
	alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof(buf))
		return -1;
	memcpy(buf, s, alen);
	buf[alen] = '\0';

	if (inet_pton(AF_INET, buf, tmp.addr) == 1) {
		tmp.family = AF_INET;
		maxlen = 32;
	} else if (inet_pton(AF_INET6, buf, tmp.addr) == 1) {
		tmp.family = AF_INET6;
		maxlen = 128;
	} else
		return -1;

	if (slash == NULL)
		tmp.prefixlen = maxlen;
	else if (parse_prefixlen(slash + 1, maxlen, &tmp.prefixlen) == -1)
		return -1;

	/* Every bit below the prefix must already be zero. */
	nbytes = maxlen / 8;
	for (i = 0; i < nbytes; i++) {
		bits = tmp.prefixlen > i * 8 ? tmp.prefixlen - i * 8 : 0;
		if (bits >= 8)
			continue;
		mask = (uint8_t)(0xff >> bits);
		if (tmp.addr[i] & mask)
			return -1;
	}

	*c = tmp;
	return 0;
}

/* The raw address bytes of a socket address and their count. */
static int
addr_bytes(const struct sockaddr *sa, const uint8_t **p, unsigned int *len)
{
	if (sa == NULL)
		return -1;
	switch (sa->sa_family) {
	case AF_INET:
		*p = (const uint8_t *)
		    &((const struct sockaddr_in *)sa)->sin_addr;
		*len = 4;
		return 0;
	case AF_INET6:
		*p = (const uint8_t *)
		    &((const struct sockaddr_in6 *)sa)->sin6_addr;
		*len = 16;
		return 0;
	default:
		return -1;
	}
}

int
cidr_match(const struct cidr *c, const struct sockaddr *sa)
{
	const uint8_t	*a;
	unsigned int	 len, full, rest;
	uint8_t		 mask;

	if (c == NULL || addr_bytes(sa, &a, &len) == -1)
		return 0;
	if (c->family != sa->sa_family)
		return 0;
	if (c->prefixlen > len * 8)
		return 0;

	full = c->prefixlen / 8;
	rest = c->prefixlen % 8;
	if (memcmp(a, c->addr, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (c->addr[full] & mask);
}

/*
 * On failure the buffer holds "?" (when it has room for it), so a
 * caller can always print the result.
 */
const char *
addr_ntop(const struct sockaddr *sa, char *buf, size_t len)
{
	const uint8_t	*a;
	unsigned int	 alen;

	if (buf == NULL || len == 0)
		return "?";
	if (addr_bytes(sa, &a, &alen) == -1 ||
	    inet_ntop(sa->sa_family, a, buf, len) == NULL) {
		snprintf(buf, len, "?");
		return buf;
	}
	return buf;
}

const char *
addr_format(const struct sockaddr *sa, char *buf, size_t len)
{
	char	host[INET6_ADDRSTRLEN];
	int	n;

	if (buf == NULL || len == 0)
		return "?";
	if (sa == NULL ||
	    (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)) {
		snprintf(buf, len, "?");
		return buf;
	}
	/* Cannot fail: the family is known and host has room for any. */
	addr_ntop(sa, host, sizeof(host));
	if (sa->sa_family == AF_INET6)
		n = snprintf(buf, len, "[%s]:%u", host, addr_port(sa));
	else
		n = snprintf(buf, len, "%s:%u", host, addr_port(sa));
	/* A cut-off address would look like a different, valid one. */
	if (n < 0 || (size_t)n >= len)
		snprintf(buf, len, "?");
	return buf;
}

uint16_t
addr_port(const struct sockaddr *sa)
{
	if (sa == NULL)
		return 0;
	switch (sa->sa_family) {
	case AF_INET:
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	case AF_INET6:
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	default:
		return 0;
	}
}
