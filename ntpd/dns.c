/*
 * The dns process: resolves the names of upstream servers for the
 * engine.  It cannot be chrooted, since the resolver reads /etc, but it
 * runs unprivileged under a filter that allows read-only opens only.
 *
 * It answers each IMSG_DNS_QUERY in turn with getaddrinfo(), one at a
 * time: a slow name delays the others, never the engine, which goes on
 * with what it has.  No AI_ADDRCONFIG: glibc finds the host's address
 * families over netlink, which the filter refuses, and then assumes
 * both, so the flag would only pretend to do something.  glibc's sort
 * (RFC 6724, /etc/gai.conf) does put the addresses it has no route to
 * last, and the engine takes the first ones.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "dns.h"
#include "log.h"
#include "ntpd.h"

static struct imsgbuf	 parent_ibuf;
static struct imsgbuf	 engine_ibuf;

int
dns_addr_usable(const struct sockaddr *sa, socklen_t len)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	uint32_t			 a;

	switch (sa->sa_family) {
	case AF_INET:
		if (len != sizeof(*sin))
			return 0;
		sin = (const struct sockaddr_in *)sa;
		a = ntohl(sin->sin_addr.s_addr);
		return a != INADDR_ANY && a != INADDR_BROADCAST &&
		    !IN_MULTICAST(a);
	case AF_INET6:
		if (len != sizeof(*sin6))
			return 0;
		sin6 = (const struct sockaddr_in6 *)sa;
		return !IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr) &&
		    !IN6_IS_ADDR_MULTICAST(&sin6->sin6_addr);
	default:
		return 0;
	}
}

int
dns_addr_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	const struct sockaddr_in6	*a6, *b6;

	if (a->sa_family != b->sa_family)
		return 0;
	switch (a->sa_family) {
	case AF_INET:
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	case AF_INET6:
		a6 = (const struct sockaddr_in6 *)a;
		b6 = (const struct sockaddr_in6 *)b;
		return memcmp(&a6->sin6_addr, &b6->sin6_addr,
		    sizeof(a6->sin6_addr)) == 0 &&
		    a6->sin6_scope_id == b6->sin6_scope_id;
	default:
		return 0;
	}
}

int
dns_query_parse(const void *data, size_t len, struct dns_query *q)
{
	if (len != sizeof(*q))
		return -1;
	memcpy(q, data, sizeof(*q));
	if (q->id == 0 || q->host[0] == '\0' ||
	    memchr(q->host, '\0', sizeof(q->host)) == NULL)
		return -1;
	return 0;
}

int
dns_answer_parse(const void *data, size_t len, struct dns_answer *a)
{
	uint32_t	 i, j;

	if (len != sizeof(*a))
		return -1;
	memcpy(a, data, sizeof(*a));
	if (a->id == 0 || a->naddrs > DNS_MAX_ADDRS)
		return -1;
	/* Addresses and no error, or an error and no address. */
	if ((a->error == 0) != (a->naddrs > 0))
		return -1;
	for (i = 0; i < a->naddrs; i++) {
		if (a->addrs[i].len > sizeof(a->addrs[i].ss) ||
		    !dns_addr_usable((struct sockaddr *)&a->addrs[i].ss,
		    a->addrs[i].len) ||
		    addr_port((struct sockaddr *)&a->addrs[i].ss) != 0)
			return -1;
		for (j = 0; j < i; j++)
			if (dns_addr_equal((struct sockaddr *)&a->addrs[i].ss,
			    (struct sockaddr *)&a->addrs[j].ss))
				return -1;
	}
	return 0;
}

void
dns_collect(const struct addrinfo *res, uint32_t id, struct dns_answer *a)
{
	const struct addrinfo	*ai;
	struct dns_addr		*d;
	uint32_t		 j;

	memset(a, 0, sizeof(*a));
	a->id = id;
	for (ai = res; ai != NULL && a->naddrs < DNS_MAX_ADDRS;
	    ai = ai->ai_next) {
		if (ai->ai_addr == NULL || ai->ai_addrlen > sizeof(d->ss) ||
		    !dns_addr_usable(ai->ai_addr, ai->ai_addrlen))
			continue;
		for (j = 0; j < a->naddrs; j++)
			if (dns_addr_equal(ai->ai_addr,
			    (struct sockaddr *)&a->addrs[j].ss))
				break;
		if (j < a->naddrs)
			continue;
		d = &a->addrs[a->naddrs++];
		memcpy(&d->ss, ai->ai_addr, ai->ai_addrlen);
		d->len = ai->ai_addrlen;
		if (d->ss.ss_family == AF_INET)
			((struct sockaddr_in *)&d->ss)->sin_port = 0;
		else
			((struct sockaddr_in6 *)&d->ss)->sin6_port = 0;
	}
	if (a->naddrs == 0)
		a->error = DNS_ERR_NOADDR;
}

int
dns_resolve(const char *host, uint32_t id, struct dns_answer *a)
{
	struct addrinfo	 hints, *res;
	int		 rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	if ((rc = getaddrinfo(host, NULL, &hints, &res)) != 0) {
		memset(a, 0, sizeof(*a));
		a->id = id;
		/* A code of 0 or ours would be read as something else. */
		a->error = rc == DNS_ERR_NOADDR ? EAI_FAIL : rc;
		return a->error;
	}
	dns_collect(res, id, a);
	freeaddrinfo(res);
	return a->error;
}

const char *
dns_strerror(int32_t error)
{
	if (error == DNS_ERR_NOADDR)
		return "no IPv4 or IPv6 address";
	return gai_strerror(error);
}

uint64_t
dns_backoff_next(uint64_t cur)
{
	if (cur < DNS_BACKOFF_MIN_NS)
		return DNS_BACKOFF_MIN_NS;
	if (cur >= DNS_BACKOFF_MAX_NS / 2)
		return DNS_BACKOFF_MAX_NS;
	return cur * 2;
}

uint64_t
dns_backoff_delay(uint64_t interval)
{
	uint64_t	 ms = interval / 4 / 1000000ULL;

	if (ms == 0)
		return interval;
	if (ms > UINT32_MAX)
		ms = UINT32_MAX;
	return interval - (uint64_t)arc4random_uniform((uint32_t)ms) *
	    1000000ULL;
}

/*
 * One lookup before the jail, answered from /etc/hosts: it reads the
 * resolver's configuration and sets up NSS while that is still allowed.
 */
static void
dns_warm_resolver(void)
{
	struct addrinfo	 hints, *res;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_DGRAM;
	if (getaddrinfo("localhost", "123", &hints, &res) == 0)
		freeaddrinfo(res);
}

static void
dns_query(struct imsg *imsg, void *arg)
{
	struct dns_query	 q;
	struct dns_answer	 a;

	(void)arg;
	if (imsg->hdr.type != IMSG_DNS_QUERY) {
		log_warnx("unexpected message %u from the engine",
		    imsg->hdr.type);
		return;
	}
	if (dns_query_parse(imsg->data, imsg->datalen, &q) == -1) {
		log_warnx("malformed query from the engine");
		return;
	}
	if (dns_resolve(q.host, q.id, &a) == 0)
		log_debug("%s: %u address%s", q.host, a.naddrs,
		    a.naddrs == 1 ? "" : "es");
	else
		log_debug("%s: %s", q.host, dns_strerror(a.error));
	if (imsg_compose(&engine_ibuf, IMSG_DNS_ANSWER, 0, -1, &a,
	    sizeof(a)) == -1)
		fatal("answer to the engine");
}

void
dns_main(struct child_env *env)
{
	struct pollfd	 pfd[2];

	imsgbuf_init(&parent_ibuf, env->parent_fd);
	imsgbuf_init(&engine_ibuf, env->engine_fd);
	proc_child_init(PROC_DNS, NULL, &parent_ibuf,
	    env->parent_pid);
	dns_warm_resolver();
	proc_drop_privileges(PROC_DNS, env->uid, env->gid, NULL);

	for (;;) {
		proc_poll_channel(&pfd[0], &parent_ibuf);
		proc_poll_channel(&pfd[1], &engine_ibuf);
		if (proc_wait(pfd, 2, -1) == -1 && errno != EINTR)
			fatal("poll");
		if (proc_should_quit())
			exit(0);
		if (proc_channel_ready(&pfd[0], &parent_ibuf))
			proc_read_idle_channel(&parent_ibuf, "parent");
		if (!proc_channel_ready(&pfd[1], &engine_ibuf))
			continue;
		switch (proc_channel_read(&engine_ibuf, dns_query, NULL)) {
		case 0:
			exit(0);	/* the engine is gone */
		case -1:
			fatal("channel to the engine");
		}
	}
}
