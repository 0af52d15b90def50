/*
 * Name resolution: the wire checks of both ends (dns.h), the answer
 * built from getaddrinfo()'s list, the retry backoff; the resolver under
 * the dns process's seccomp filter, answering from a hosts file and from
 * a DNS server over UDP and over TCP; and the engine's use of answers
 * (client.c): servers, pools, dropping and replacing members, and
 * client_reconfigure().
 *
 * The resolver test runs in a network and a mount namespace of its own
 * (root only): a hosts file, resolv.conf and nsswitch.conf of the test
 * are bind-mounted over /etc's, and the DNS server is this file's, on
 * the namespace's loopback.  Nothing leaves the machine and no file of
 * /etc changes.  The engine tests send their NTP requests to 127.0.8.x
 * and 127.0.9.x, where nothing answers.
 */
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "client.h"
#include "config.h"
#include "ctl.h"
#include "dns.h"
#include "imsg.h"
#include "log.h"
#include "ntpd.h"
#include "sync.h"

/* Log lines, for what the engine says. */
#define MAX_MSGS	256
static char	msgs[MAX_MSGS][LOG_LINE_MAX];
static int	nmsgs;

static void
sink(int priority, const char *msg)
{
	(void)priority;
	if (nmsgs < MAX_MSGS)
		strlcpy(msgs[nmsgs++], msg, sizeof(msgs[0]));
}

static int
logged(const char *needle)
{
	int	 i;

	for (i = 0; i < nmsgs; i++)
		if (strstr(msgs[i], needle) != NULL)
			return 1;
	return 0;
}

static void
put4(struct dns_addr *d, const char *s)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&d->ss;

	memset(d, 0, sizeof(*d));
	sin->sin_family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, s, &sin->sin_addr), 1);
	d->len = sizeof(*sin);
}

static void
put6(struct dns_addr *d, const char *s)
{
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&d->ss;

	memset(d, 0, sizeof(*d));
	sin6->sin6_family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, s, &sin6->sin6_addr), 1);
	d->len = sizeof(*sin6);
}

static const char *
ntop(const struct dns_addr *d, char *buf, size_t len)
{
	return addr_ntop((const struct sockaddr *)&d->ss, buf, len);
}

/* Wire checks. */

START_TEST(test_query_parse)
{
	struct dns_query	 q, out;

	memset(&q, 0, sizeof(q));
	q.id = 7;
	strlcpy(q.host, "pool.example.org", sizeof(q.host));
	ck_assert_int_eq(dns_query_parse(&q, sizeof(q), &out), 0);
	ck_assert_uint_eq(out.id, 7);
	ck_assert_str_eq(out.host, "pool.example.org");

	ck_assert_int_eq(dns_query_parse(&q, sizeof(q) - 1, &out), -1);
	ck_assert_int_eq(dns_query_parse(&q, 0, &out), -1);
	q.id = 0;
	ck_assert_int_eq(dns_query_parse(&q, sizeof(q), &out), -1);
	q.id = 7;
	q.host[0] = '\0';
	ck_assert_int_eq(dns_query_parse(&q, sizeof(q), &out), -1);
	memset(q.host, 'a', sizeof(q.host));	/* no terminator */
	ck_assert_int_eq(dns_query_parse(&q, sizeof(q), &out), -1);
}
END_TEST

static void
good_answer(struct dns_answer *a)
{
	memset(a, 0, sizeof(*a));
	a->id = 9;
	a->naddrs = 3;
	put4(&a->addrs[0], "192.0.2.1");
	put6(&a->addrs[1], "2001:db8::1");
	put4(&a->addrs[2], "192.0.2.2");
}

START_TEST(test_answer_parse)
{
	struct dns_answer	 a, out;
	struct sockaddr_in	*sin;

	good_answer(&a);
	ck_assert_int_eq(dns_answer_parse(&a, sizeof(a), &out), 0);
	ck_assert_uint_eq(out.naddrs, 3);
	ck_assert_int_eq(dns_answer_parse(&a, sizeof(a) + 1, &out), -1);
	ck_assert_int_eq(dns_answer_parse(&a, sizeof(a) - 1, &out), -1);

	/* An error and no address is fine; the others are not. */
	memset(&a, 0, sizeof(a));
	a.id = 9;
	a.error = EAI_NONAME;
	ck_assert_int_eq(dns_answer_parse(&a, sizeof(a), &out), 0);
	a.error = DNS_ERR_NOADDR;
	ck_assert_int_eq(dns_answer_parse(&a, sizeof(a), &out), 0);
	a.error = 0;
	ck_assert_int_eq(dns_answer_parse(&a, sizeof(a), &out), -1);
	good_answer(&a);
	a.error = EAI_AGAIN;
	ck_assert_int_eq(dns_answer_parse(&a, sizeof(a), &out), -1);

	good_answer(&a);
	a.id = 0;
	ck_assert_int_eq(dns_answer_parse(&a, sizeof(a), &out), -1);
	good_answer(&a);
	a.naddrs = DNS_MAX_ADDRS + 1;
	ck_assert_int_eq(dns_answer_parse(&a, sizeof(a), &out), -1);
	a.naddrs = UINT32_MAX;
	ck_assert_int_eq(dns_answer_parse(&a, sizeof(a), &out), -1);

	/* Each address: family, length, usable, once, no port. */
	good_answer(&a);
	a.addrs[1].ss.ss_family = AF_UNIX;
	ck_assert_int_eq(dns_answer_parse(&a, sizeof(a), &out), -1);
	good_answer(&a);
	a.addrs[0].len = sizeof(struct sockaddr_in6);
	ck_assert_int_eq(dns_answer_parse(&a, sizeof(a), &out), -1);
	good_answer(&a);
	a.addrs[1].len = sizeof(struct sockaddr_in);
	ck_assert_int_eq(dns_answer_parse(&a, sizeof(a), &out), -1);
	good_answer(&a);
	a.addrs[0].len = UINT32_MAX;
	ck_assert_int_eq(dns_answer_parse(&a, sizeof(a), &out), -1);
	good_answer(&a);
	put4(&a.addrs[2], "0.0.0.0");
	ck_assert_int_eq(dns_answer_parse(&a, sizeof(a), &out), -1);
	good_answer(&a);
	put4(&a.addrs[2], "224.0.1.1");
	ck_assert_int_eq(dns_answer_parse(&a, sizeof(a), &out), -1);
	good_answer(&a);
	put4(&a.addrs[2], "255.255.255.255");
	ck_assert_int_eq(dns_answer_parse(&a, sizeof(a), &out), -1);
	good_answer(&a);
	put6(&a.addrs[1], "::");
	ck_assert_int_eq(dns_answer_parse(&a, sizeof(a), &out), -1);
	good_answer(&a);
	put6(&a.addrs[1], "ff02::101");
	ck_assert_int_eq(dns_answer_parse(&a, sizeof(a), &out), -1);
	good_answer(&a);
	put4(&a.addrs[2], "192.0.2.1");
	ck_assert_int_eq(dns_answer_parse(&a, sizeof(a), &out), -1);
	good_answer(&a);
	sin = (struct sockaddr_in *)&a.addrs[0].ss;
	sin->sin_port = htons(123);
	ck_assert_int_eq(dns_answer_parse(&a, sizeof(a), &out), -1);
}
END_TEST

START_TEST(test_collect)
{
	struct sockaddr_in	 sin[DNS_MAX_ADDRS + 4];
	struct sockaddr_in6	 sin6;
	struct sockaddr_un	*sun;
	struct sockaddr_storage	 ss;
	struct addrinfo		 ai[DNS_MAX_ADDRS + 8];
	struct dns_answer	 a, out;
	char			 buf[ADDR_STRLEN];
	size_t			 i, n = 0;

	memset(ai, 0, sizeof(ai));
	/* 192.0.2.1 (port 123), a Unix address, 192.0.2.1 again, :: */
	memset(sin, 0, sizeof(sin));
	sin[0].sin_family = AF_INET;
	sin[0].sin_port = htons(123);
	inet_pton(AF_INET, "192.0.2.1", &sin[0].sin_addr);
	ai[n].ai_addr = (struct sockaddr *)&sin[0];
	ai[n++].ai_addrlen = sizeof(sin[0]);
	memset(&ss, 0, sizeof(ss));
	sun = (struct sockaddr_un *)&ss;
	sun->sun_family = AF_UNIX;
	ai[n].ai_addr = (struct sockaddr *)sun;
	ai[n++].ai_addrlen = sizeof(*sun);
	ai[n].ai_addr = (struct sockaddr *)&sin[0];
	ai[n++].ai_addrlen = sizeof(sin[0]);
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(123);
	inet_pton(AF_INET6, "2001:db8::7", &sin6.sin6_addr);
	ai[n].ai_addr = (struct sockaddr *)&sin6;
	ai[n++].ai_addrlen = sizeof(sin6);
	ai[n].ai_addr = NULL;	/* broken entry */
	ai[n++].ai_addrlen = 0;
	/* Then more distinct addresses than an answer holds. */
	for (i = 1; i < DNS_MAX_ADDRS + 4; i++) {
		sin[i].sin_family = AF_INET;
		sin[i].sin_addr.s_addr = htonl(0xc0000264 + i);
		ai[n].ai_addr = (struct sockaddr *)&sin[i];
		ai[n++].ai_addrlen = sizeof(sin[i]);
	}
	for (i = 0; i + 1 < n; i++)
		ai[i].ai_next = &ai[i + 1];

	dns_collect(ai, 5, &a);
	ck_assert_uint_eq(a.id, 5);
	ck_assert_int_eq(a.error, 0);
	ck_assert_uint_eq(a.naddrs, DNS_MAX_ADDRS);
	ck_assert_str_eq(ntop(&a.addrs[0], buf, sizeof(buf)), "192.0.2.1");
	ck_assert_str_eq(ntop(&a.addrs[1], buf, sizeof(buf)), "2001:db8::7");
	ck_assert_str_eq(ntop(&a.addrs[2], buf, sizeof(buf)), "192.0.2.101");
	for (i = 0; i < a.naddrs; i++)
		ck_assert_uint_eq(addr_port((struct sockaddr *)
		    &a.addrs[i].ss), 0);
	/* What one end builds, the other takes. */
	ck_assert_int_eq(dns_answer_parse(&a, sizeof(a), &out), 0);

	dns_collect(&ai[1], 6, &a);	/* the Unix address first: skipped */
	ck_assert_uint_eq(a.naddrs, DNS_MAX_ADDRS);
	ck_assert_str_eq(ntop(&a.addrs[0], buf, sizeof(buf)), "192.0.2.1");

	ai[1].ai_next = NULL;		/* nothing usable at all */
	dns_collect(&ai[1], 7, &a);
	ck_assert_int_eq(a.error, DNS_ERR_NOADDR);
	ck_assert_uint_eq(a.naddrs, 0);
	ck_assert_int_eq(dns_answer_parse(&a, sizeof(a), &out), 0);
	dns_collect(NULL, 8, &a);
	ck_assert_int_eq(a.error, DNS_ERR_NOADDR);
	ck_assert_str_eq(dns_strerror(DNS_ERR_NOADDR),
	    "no IPv4 or IPv6 address");
}
END_TEST

START_TEST(test_backoff)
{
	uint64_t	 b = 0, d, prev;
	int		 i, steps = 0;

	b = dns_backoff_next(b);
	ck_assert_uint_eq(b, DNS_BACKOFF_MIN_NS);
	for (prev = b; b < DNS_BACKOFF_MAX_NS; steps++) {
		b = dns_backoff_next(b);
		ck_assert(b == prev * 2 || b == DNS_BACKOFF_MAX_NS);
		ck_assert(b > prev);
		prev = b;
	}
	/* 4 s to an hour: ten doublings, and there it stays. */
	ck_assert_int_eq(steps, 10);
	ck_assert_uint_eq(dns_backoff_next(b), DNS_BACKOFF_MAX_NS);
	ck_assert_uint_eq(dns_backoff_next(UINT64_MAX), DNS_BACKOFF_MAX_NS);

	/* Three quarters to all of the interval, and not always the same. */
	for (b = DNS_BACKOFF_MIN_NS; b <= DNS_BACKOFF_MAX_NS; b *= 2) {
		uint64_t	 lo = UINT64_MAX, hi = 0;

		for (i = 0; i < 200; i++) {
			d = dns_backoff_delay(b);
			ck_assert(d <= b && d >= b - b / 4);
			if (d < lo)
				lo = d;
			if (d > hi)
				hi = d;
		}
		ck_assert(hi > lo);
	}
	ck_assert_uint_eq(dns_backoff_delay(0), 0);
	ck_assert_uint_eq(dns_backoff_delay(1000), 1000);
}
END_TEST

/*
 * The resolver in the sandbox.  A DNS server of the test's own answers
 * on 127.0.0.1:53 of a network namespace of its own:
 *	udp.test	A 127.0.2.1, 127.0.2.2; AAAA 2001:db8::1
 *	tcp.test	truncated over UDP; over TCP A 127.0.3.1..3
 *	anything else	NXDOMAIN
 */
#define TCP_ADDRS	3

static int
dns_server_rr(unsigned char *r, size_t *len, size_t max, int type,
    const void *rdata, size_t rdlen)
{
	unsigned char	*p;

	if (*len + 12 + rdlen > max)
		return -1;
	p = r + *len;
	p[0] = 0xc0;		/* the question's name */
	p[1] = 12;
	p[2] = 0;
	p[3] = (unsigned char)type;
	p[4] = 0;
	p[5] = 1;		/* IN */
	p[6] = 0;
	p[7] = 0;
	p[8] = 0;
	p[9] = 60;		/* TTL */
	p[10] = 0;
	p[11] = (unsigned char)rdlen;
	memcpy(p + 12, rdata, rdlen);
	*len += 12 + rdlen;
	r[7]++;			/* ANCOUNT */
	return 0;
}

static size_t
dns_server_reply(const unsigned char *q, size_t qlen, unsigned char *r,
    size_t max, int tcp)
{
	char		 name[256];
	size_t		 p = 12, n = 0, len;
	unsigned int	 qtype, i;
	unsigned char	 a4[4], a6[16];

	if (qlen < 12 || q[4] != 0 || q[5] != 1)
		return 0;
	while (p < qlen && q[p] != 0) {
		if ((q[p] & 0xc0) != 0 || p + 1 + q[p] >= qlen ||
		    n + q[p] + 1 >= sizeof(name))
			return 0;
		if (n > 0)
			name[n++] = '.';
		memcpy(name + n, q + p + 1, q[p]);
		n += q[p];
		p += 1 + q[p];
	}
	name[n] = '\0';
	if (p + 5 > qlen || p + 5 > max)
		return 0;
	qtype = (unsigned int)q[p + 1] << 8 | q[p + 2];
	len = p + 5;
	memcpy(r, q, len);
	r[2] = 0x84 | (q[2] & 0x01);	/* QR, AA, RD as asked */
	r[3] = 0x80;			/* RA, NOERROR */
	memset(r + 6, 0, 6);		/* AN, NS, AR counts */
	if (strcasecmp(name, "udp.test") == 0) {
		if (qtype == 1)
			for (i = 1; i <= 2; i++) {
				a4[0] = 127, a4[1] = 0, a4[2] = 2;
				a4[3] = (unsigned char)i;
				if (dns_server_rr(r, &len, max, 1, a4, 4) == -1)
					return 0;
			}
		if (qtype == 28) {
			inet_pton(AF_INET6, "2001:db8::1", a6);
			if (dns_server_rr(r, &len, max, 28, a6, 16) == -1)
				return 0;
		}
	} else if (strcasecmp(name, "tcp.test") == 0) {
		if (!tcp)
			r[2] |= 0x02;	/* TC: ask again over TCP */
		else if (qtype == 1)
			for (i = 1; i <= TCP_ADDRS; i++) {
				a4[0] = 127, a4[1] = 0, a4[2] = 3;
				a4[3] = (unsigned char)i;
				if (dns_server_rr(r, &len, max, 1, a4, 4) == -1)
					return 0;
			}
	} else
		r[3] |= 3;		/* NXDOMAIN */
	return len;
}

static int
read_full(int fd, void *buf, size_t len)
{
	unsigned char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		if ((n = read(fd, p, len)) <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Serve one TCP connection: length-prefixed queries until it closes. */
static void
dns_server_tcp(int fd)
{
	unsigned char	 q[512], r[514];
	size_t		 qlen, rlen;

	for (;;) {
		if (read_full(fd, q, 2) == -1)
			break;
		qlen = (size_t)q[0] << 8 | q[1];
		if (qlen > sizeof(q) || read_full(fd, q, qlen) == -1)
			break;
		if ((rlen = dns_server_reply(q, qlen, r + 2, sizeof(r) - 2,
		    1)) == 0)
			break;
		r[0] = (unsigned char)(rlen >> 8);
		r[1] = (unsigned char)rlen;
		if (write(fd, r, rlen + 2) != (ssize_t)(rlen + 2))
			break;
	}
	close(fd);
}

static void __attribute__((noreturn))
dns_server(int ufd, int tfd)
{
	struct pollfd		 pfd[2];
	struct sockaddr_storage	 from;
	socklen_t		 fromlen;
	unsigned char		 q[512], r[512];
	ssize_t			 n;
	size_t			 rlen;
	int			 c;

	/* Not Check's handlers, which signal the whole process group. */
	signal(SIGTERM, SIG_DFL);
	signal(SIGALRM, SIG_DFL);
	alarm(30);	/* whatever happens, not for ever */
	pfd[0].fd = ufd;
	pfd[1].fd = tfd;
	pfd[0].events = pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) == -1)
			_exit(1);
		if (pfd[0].revents & POLLIN) {
			fromlen = sizeof(from);
			n = recvfrom(ufd, q, sizeof(q), 0,
			    (struct sockaddr *)&from, &fromlen);
			if (n > 0 && (rlen = dns_server_reply(q, (size_t)n, r,
			    sizeof(r), 0)) > 0)
				(void)sendto(ufd, r, rlen, 0,
				    (struct sockaddr *)&from, fromlen);
		}
		if ((pfd[1].revents & POLLIN) &&
		    (c = accept(tfd, NULL, NULL)) != -1)
			dns_server_tcp(c);
	}
}

static int
lo_up(void)
{
	struct ifreq	 ifr;
	int		 fd, rc = -1;

	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	strlcpy(ifr.ifr_name, "lo", sizeof(ifr.ifr_name));
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return rc;
}

/* A file of the test's own in place of /etc's, in this mount namespace. */
static int
bind_file(const char *etc, const char *text)
{
	char	 path[] = "/tmp/ntpd-test-dns.XXXXXX";
	int	 fd, rc = -1;

	if ((fd = mkstemp(path)) == -1)
		return -1;
	if (write(fd, text, strlen(text)) == (ssize_t)strlen(text) &&
	    fchmod(fd, 0644) == 0 &&
	    mount(path, etc, NULL, MS_BIND, NULL) == 0)
		rc = 0;
	close(fd);
	unlink(path);
	return rc;
}

static int
dns_server_sockets(int *ufd, int *tfd)
{
	struct sockaddr_in	 sin;
	int			 on = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(53);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*ufd = socket(AF_INET, SOCK_DGRAM, 0);
	*tfd = socket(AF_INET, SOCK_STREAM, 0);
	if (*ufd == -1 || *tfd == -1 ||
	    setsockopt(*tfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) ||
	    bind(*ufd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    bind(*tfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(*tfd, 4) == -1)
		return -1;
	return 0;
}

/*
 * What the sandboxed resolver is asked, in turn.  Before the last two,
 * the test rewrites resolv.conf, as DHCP would: the resolver, jailed,
 * must notice and read it again (first a server where there is none,
 * then the right one again with a search domain).
 */
static const char *const resolve_names[] = {
	"files.test", "udp.test", "tcp.test", "none.test", "localhost",
	"udp.test", "udp",
};
#define NRESOLVE	(sizeof(resolve_names) / sizeof(resolve_names[0]))
#define NFIRST		5	/* before resolv.conf changes */

static const char *const resolv_confs[] = {
	"nameserver 127.0.0.9\n",
	"nameserver 127.0.0.1\nsearch test\noptions timeout:2 attempts:2\n",
};

static int
rewrite(const char *path, const char *text)
{
	int	 fd, rc = -1;

	if ((fd = open(path, O_WRONLY | O_TRUNC)) == -1)
		return -1;
	if (write(fd, text, strlen(text)) == (ssize_t)strlen(text))
		rc = 0;
	close(fd);
	return rc;
}

/*
 * In the namespaces: the server, then the resolver as the dns process
 * runs it (a warm-up lookup, then the filter), its answers to out.
 */
static void __attribute__((noreturn))
resolver_child(int out)
{
	struct addrinfo		 hints, *res;
	struct dns_answer	 a;
	pid_t			 server, resolver;
	size_t			 i, step;
	int			 ufd, tfd, status, c2a[2], a2c[2];
	char			 x = 'x';

	if (unshare(CLONE_NEWNS | CLONE_NEWNET) == -1 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
	    lo_up() == -1)
		_exit(10);
	if (bind_file("/etc/hosts", "127.0.0.1 localhost\n"
	    "127.0.4.1 files.test\n127.0.4.2 files.test\n") == -1 ||
	    bind_file("/etc/resolv.conf", "nameserver 127.0.0.1\n"
	    "options timeout:2 attempts:2\n") == -1 ||
	    bind_file("/etc/nsswitch.conf", "hosts: files dns\n") == -1 ||
	    bind_file("/etc/host.conf", "multi on\n") == -1)
		_exit(11);
	if (dns_server_sockets(&ufd, &tfd) == -1 || pipe(c2a) == -1 ||
	    pipe(a2c) == -1)
		_exit(12);
	if ((server = fork()) == -1)
		_exit(13);
	if (server == 0)
		dns_server(ufd, tfd);
	close(ufd);
	close(tfd);
	if ((resolver = fork()) == -1)
		_exit(14);
	if (resolver == 0) {
		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_DGRAM;
		if (getaddrinfo("localhost", "123", &hints, &res) == 0)
			freeaddrinfo(res);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
		    sandbox_apply(PROC_DNS) == -1)
			_exit(15);
		for (i = 0; i < NRESOLVE; i++) {
			if (i >= NFIRST && (write(c2a[1], &x, 1) != 1 ||
			    read(a2c[0], &x, 1) != 1))
				_exit(16);
			(void)dns_resolve(resolve_names[i], (uint32_t)i + 1,
			    &a);
			if (write(out, &a, sizeof(a)) != sizeof(a))
				_exit(17);
		}
		_exit(0);
	}
	for (step = 0; step < NRESOLVE - NFIRST; step++) {
		if (read(c2a[0], &x, 1) != 1)
			break;
		if (rewrite("/etc/resolv.conf", resolv_confs[step]) == -1 ||
		    write(a2c[1], &x, 1) != 1)
			_exit(18);
	}
	if (waitpid(resolver, &status, 0) == -1)
		status = -1;
	kill(server, SIGKILL);
	waitpid(server, NULL, 0);
	if (WIFSIGNALED(status))
		_exit(100 + WTERMSIG(status));	/* SIGSYS: the filter */
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 99);
}

START_TEST(test_resolver_sandboxed)
{
	struct dns_answer	 a[NRESOLVE], out;
	char			 buf[ADDR_STRLEN];
	pid_t			 pid;
	size_t			 i;
	int			 p[2], status;

	if (geteuid() != 0) {
		fprintf(stderr, "test_resolver_sandboxed: needs root "
		    "(namespaces); skipped\n");
		return;
	}
	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		close(p[0]);
		resolver_child(p[1]);
	}
	close(p[1]);
	for (i = 0; i < NRESOLVE; i++)
		if (read_full(p[0], &a[i], sizeof(a[i])) == -1)
			break;
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "resolver child: status 0x%x (exit %d; 100 + signal: the "
	    "filter killed it)", (unsigned int)status, WEXITSTATUS(status));
	ck_assert_uint_eq(i, NRESOLVE);
	for (i = 0; i < NRESOLVE; i++) {
		ck_assert_uint_eq(a[i].id, i + 1);
		ck_assert_int_eq(dns_answer_parse(&a[i], sizeof(a[i]), &out),
		    0);
	}

	/* /etc/hosts, both addresses of the name (multi on). */
	ck_assert_int_eq(a[0].error, 0);
	ck_assert_uint_eq(a[0].naddrs, 2);
	/* DNS over UDP: A and AAAA.  No route to 2001:db8::/32 here: last. */
	ck_assert_int_eq(a[1].error, 0);
	ck_assert_uint_eq(a[1].naddrs, 3);
	ck_assert_str_eq(ntop(&a[1].addrs[2], buf, sizeof(buf)),
	    "2001:db8::1");
	ck_assert(strncmp(ntop(&a[1].addrs[0], buf, sizeof(buf)),
	    "127.0.2.", 8) == 0);
	/* Truncated over UDP: the resolver went on over TCP. */
	ck_assert_int_eq(a[2].error, 0);
	ck_assert_uint_eq(a[2].naddrs, TCP_ADDRS);
	ck_assert(strncmp(ntop(&a[2].addrs[0], buf, sizeof(buf)),
	    "127.0.3.", 8) == 0);
	/* NXDOMAIN. */
	ck_assert_int_eq(a[3].error, EAI_NONAME);
	ck_assert_uint_eq(a[3].naddrs, 0);
	/* localhost, as the warm-up had it. */
	ck_assert_int_eq(a[4].error, 0);
	ck_assert_str_eq(ntop(&a[4].addrs[0], buf, sizeof(buf)), "127.0.0.1");
	/* resolv.conf read again: no server there, then the search. */
	ck_assert_int_ne(a[5].error, 0);
	ck_assert_int_eq(a[6].error, 0);
	ck_assert_uint_eq(a[6].naddrs, 3);
}
END_TEST


/*
 * The engine's side.  The test plays the dns process at the other end
 * of the channel, and reads what ntpctl would see from
 * client_show_peers().  Time is what the test passes in.
 */
#define MAX_PEERS	CONF_MAX_SOURCES
#define SEC		1000000000ULL

static struct imsgbuf	 eng_ibuf, dns_ibuf, sync_ibuf;
static struct ntpd_conf	*conf;

static struct ntpd_conf *
parse(const char *text)
{
	struct ntpd_conf	*c;
	FILE			*fp;

	fp = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
	ck_assert_ptr_nonnull(fp);
	c = config_parse_stream(fp, "test.conf");
	fclose(fp);
	ck_assert_ptr_nonnull(c);
	return c;
}

/* Returns the time to start from: the sources' timers count from it. */
static uint64_t
engine_setup(const char *text)
{
	int	 sv[2], sp[2];

	nmsgs = 0;
	log_set_verbose(1);
	log_set_sink(sink);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sp), 0);
	imsgbuf_init(&eng_ibuf, sv[0]);
	imsgbuf_init(&dns_ibuf, sv[1]);
	imsgbuf_init(&sync_ibuf, sp[0]);
	conf = parse(text);
	sync_init(conf, &sync_ibuf, -20);
	client_init(conf, -20);
	return monotonic_ns();
}

/* The queries the engine has sent, as the dns process gets them. */
static size_t
take_queries(struct dns_query *q, size_t max)
{
	struct imsg	 imsg;
	size_t		 n = 0;

	ck_assert_int_eq(imsgbuf_flush(&eng_ibuf), 0);
	if (imsgbuf_read(&dns_ibuf) == -1)
		ck_assert_int_eq(errno, EAGAIN);
	while (imsg_get(&dns_ibuf, &imsg) == 1) {
		ck_assert_uint_eq(imsg.hdr.type, IMSG_DNS_QUERY);
		ck_assert_uint_lt(n, max);
		ck_assert_int_eq(dns_query_parse(imsg.data, imsg.datalen,
		    &q[n]), 0);
		n++;
		imsg_free(&imsg);
	}
	return n;
}

/* Send an answer (any bytes) to the engine and have it handled. */
static void
deliver_raw(const void *data, size_t len, uint64_t now)
{
	struct imsg	 imsg;

	ck_assert_int_eq(imsg_compose(&dns_ibuf, IMSG_DNS_ANSWER, 0, -1,
	    data, len), 0);
	ck_assert_int_eq(imsgbuf_flush(&dns_ibuf), 0);
	ck_assert_int_gt(imsgbuf_read(&eng_ibuf), 0);
	ck_assert_int_eq(imsg_get(&eng_ibuf, &imsg), 1);
	client_dns_answer(&imsg, now);
	imsg_free(&imsg);
}

/* Answer query id with the IPv4 addresses in list (NULL-terminated). */
static void
answer(uint32_t id, const char *const *list, uint64_t now)
{
	struct dns_answer	 a;

	memset(&a, 0, sizeof(a));
	a.id = id;
	while (list != NULL && list[a.naddrs] != NULL) {
		put4(&a.addrs[a.naddrs], list[a.naddrs]);
		a.naddrs++;
	}
	if (a.naddrs == 0)
		a.error = EAI_NONAME;
	deliver_raw(&a, sizeof(a), now);
}

static size_t
peers(struct ctl_peer *p, size_t max, uint64_t now)
{
	struct imsgbuf	 out, in;
	struct imsg	 imsg;
	size_t		 n = 0;
	int		 sv[2], end = 0;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	imsgbuf_init(&out, sv[0]);
	imsgbuf_init(&in, sv[1]);
	client_show_peers(&out, now);
	ck_assert_int_eq(imsgbuf_flush(&out), 0);
	while (!end) {
		ck_assert_int_gt(imsgbuf_read(&in), 0);
		while (!end && imsg_get(&in, &imsg) == 1) {
			if (imsg.hdr.type == CTL_PEER) {
				ck_assert_uint_eq(imsg.datalen, sizeof(*p));
				ck_assert_uint_lt(n, max);
				memcpy(&p[n++], imsg.data, sizeof(*p));
			} else if (imsg.hdr.type == CTL_END)
				end = 1;
			imsg_free(&imsg);
		}
	}
	imsgbuf_clear(&out);
	imsgbuf_clear(&in);
	close(sv[0]);
	close(sv[1]);
	return n;
}

/* "host addr" of each source, joined by ", ": easy to compare. */
static const char *
picture(uint64_t now)
{
	static char	 buf[8192];
	struct ctl_peer	 p[MAX_PEERS];
	size_t		 i, n;

	n = peers(p, MAX_PEERS, now);
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			strlcat(buf, ", ", sizeof(buf));
		strlcat(buf, p[i].host, sizeof(buf));
		strlcat(buf, " ", sizeof(buf));
		strlcat(buf, p[i].addr[0] != '\0' ? p[i].addr : "-",
		    sizeof(buf));
	}
	return buf;
}

static const char *const pool5[] = { "127.0.8.1", "127.0.8.2",
    "127.0.8.3", "127.0.8.4", "127.0.8.5", NULL };
static const char *const one2[] = { "127.0.8.1", "127.0.9.1",
    "127.0.9.2", NULL };

#define CONF_POOL_ONE \
	"pool pool.test port 12399 minpoll 3 maxpoll 3\n" \
	"server one.test port 12399 minpoll 3 maxpoll 3\n" \
	"server 127.0.0.1 port 12399\n"

START_TEST(test_engine_resolves)
{
	struct dns_query	 q[8];
	struct ctl_peer		 p[MAX_PEERS];
	uint64_t		 now;

	now = engine_setup(CONF_POOL_ONE);
	/* Unresolved: shown by name, no address, unusable; no dns yet. */
	ck_assert_str_eq(picture(now), "pool.test -, one.test -, "
	    "127.0.0.1 127.0.0.1:12399");
	ck_assert_uint_eq(peers(p, MAX_PEERS, now), 3);
	ck_assert_uint_eq(p[0].state, CTL_PEER_UNUSABLE);
	ck_assert_uint_eq(p[0].stopped, 0);
	/* No channel to the dns process yet: the queries wait. */
	client_run(now);
	ck_assert_int_ne(client_timeout(now), 0);
	client_set_dns(&eng_ibuf);
	client_run(now);
	ck_assert_uint_eq(take_queries(q, 8), 2);
	ck_assert_str_eq(q[0].host, "pool.test");
	ck_assert_str_eq(q[1].host, "one.test");
	ck_assert_uint_ne(q[0].id, q[1].id);
	/* Asked once only, while the answer is out. */
	client_run(now + SEC);
	ck_assert_uint_eq(take_queries(q + 2, 6), 0);

	/* A pool takes 4 addresses; a server its first one not in use. */
	answer(q[0].id, pool5, now);
	answer(q[1].id, one2, now);
	ck_assert_str_eq(picture(now), "pool.test 127.0.8.1:12399, "
	    "pool.test 127.0.8.2:12399, pool.test 127.0.8.3:12399, "
	    "pool.test 127.0.8.4:12399, one.test 127.0.9.1:12399, "
	    "127.0.0.1 127.0.0.1:12399");
	ck_assert(logged("source pool.test (127.0.8.4): added"));
	ck_assert(logged("source one.test (127.0.9.1): resolved"));
	/* Nothing more to ask. */
	client_run(now + SEC);
	ck_assert_uint_eq(take_queries(q, 8), 0);
}
END_TEST

START_TEST(test_engine_failures)
{
	struct dns_query	 q[8];
	struct dns_answer	 a;
	uint64_t		 now, t;
	int			 ms;

	now = engine_setup("server one.test\nservers pool.test\n");
	client_set_dns(&eng_ibuf);
	client_run(now);
	ck_assert_uint_eq(take_queries(q, 8), 2);

	/* Malformed, unknown: ignored, and the query still stands. */
	deliver_raw(&a, 10, now);
	ck_assert(logged("malformed answer from the dns process"));
	memset(&a, 0, sizeof(a));
	a.id = q[1].id + 100;
	a.error = EAI_NONAME;
	deliver_raw(&a, sizeof(a), now);
	ck_assert(logged("nobody asks any more"));
	ck_assert_str_eq(picture(now), "one.test -, pool.test -");

	/* Failures: retried after 3..4 s, then 6..8 s, ... */
	answer(q[0].id, NULL, now);
	ck_assert(logged("source one.test: cannot resolve it (Name or "
	    "service not known); trying again in "));
	ms = client_timeout(now);
	ck_assert_int_ge(ms, 3000);
	ck_assert_int_le(ms, 4001);
	client_run(now + 2 * SEC);
	ck_assert_uint_eq(take_queries(q + 2, 6), 0);
	t = now + 4 * SEC;
	client_run(t);
	ck_assert_uint_eq(take_queries(q + 2, 6), 1);
	ck_assert_str_eq(q[2].host, "one.test");
	answer(q[2].id, NULL, t);
	ms = client_timeout(t);
	ck_assert_int_ge(ms, 6000);
	ck_assert_int_le(ms, 8001);

	/* The dns process never answers: asked again after 10 minutes. */
	client_run(now + 599 * SEC);
	ck_assert_uint_eq(take_queries(q + 3, 5), 1);	/* one.test again */
	client_run(now + 601 * SEC);
	ck_assert_uint_eq(take_queries(q + 4, 4), 1);
	ck_assert_str_eq(q[4].host, "pool.test");
	ck_assert(logged("source pool.test: no answer from the dns "
	    "process; asking again"));
	/* The late answer to the first query is for nobody. */
	answer(q[1].id, pool5, now + 601 * SEC);
	ck_assert_str_eq(picture(now), "one.test -, pool.test -");
	answer(q[4].id, pool5, now + 601 * SEC);
	ck_assert_str_eq(picture(now), "one.test -, pool.test 127.0.8.1:123, "
	    "pool.test 127.0.8.2:123, pool.test 127.0.8.3:123, "
	    "pool.test 127.0.8.4:123");
}
END_TEST

/* Answer every query as the name server would, run time on to end. */
static uint64_t
run_until(uint64_t now, uint64_t end)
{
	struct dns_query	 q[8];
	static const char *const one3[] = { "127.0.9.1", "127.0.9.2",
	    NULL };
	size_t			 i, n;

	for (; now < end; now += SEC / 4) {
		client_run(now);
		n = take_queries(q, 8);
		for (i = 0; i < n; i++)
			answer(q[i].id, strcmp(q[i].host, "pool.test") == 0 ?
			    pool5 : one3, now);
	}
	return now;
}

/*
 * Nobody answers the NTP requests: after a whole register of polls the
 * pool members go, and the fifth address takes the place of the first
 * to go; the others are not replaced by addresses just dropped, and the
 * name is asked again later and later.  The server moves to its other
 * address.
 */
START_TEST(test_engine_unreachable)
{
	struct dns_query	 q[8];
	struct ctl_peer		 p[MAX_PEERS];
	uint64_t		 now, t;
	size_t			 n;

	now = engine_setup(CONF_POOL_ONE);
	client_set_dns(&eng_ibuf);
	client_run(now);
	ck_assert_uint_eq(take_queries(q, 8), 2);
	answer(q[0].id, pool5, now);
	answer(q[1].id, one2, now);

	/* Seven polls of 8 s (less jitter) lost: still there. */
	t = run_until(now, now + 50 * SEC);
	n = peers(p, MAX_PEERS, t);
	ck_assert_uint_eq(n, 6);
	ck_assert_uint_eq(p[0].reach, 0);
	ck_assert(!logged("dropped from the pool"));
	ck_assert(p[0].timeouts >= 6);

	/* By 80 s, every one of them has had its eighth poll. */
	t = run_until(t, now + 80 * SEC);
	ck_assert(logged("source pool.test (127.0.8.1) is unreachable: "
	    "dropped from the pool"));
	ck_assert(logged("source pool.test (127.0.8.4) is unreachable: "
	    "dropped from the pool"));
	ck_assert(logged("source pool.test (127.0.8.5): added"));
	ck_assert(logged("source pool.test: no new address; trying again"));
	ck_assert(logged("source one.test (127.0.9.2): instead of "
	    "127.0.9.1"));
	ck_assert_str_eq(picture(t), "pool.test 127.0.8.5:12399, "
	    "one.test 127.0.9.2:12399, 127.0.0.1 127.0.0.1:12399");

	/*
	 * 127.0.8.5 goes too, and the pool is empty: the address dropped
	 * first, no longer remembered (four are), comes back.
	 */
	t = run_until(t, now + 160 * SEC);
	ck_assert(logged("source pool.test (127.0.8.5) is unreachable: "
	    "dropped from the pool"));
	n = peers(p, MAX_PEERS, t);
	ck_assert_str_eq(p[0].host, "pool.test");
	ck_assert(strcmp(p[0].addr, "127.0.8.5:12399") != 0);
	ck_assert_str_eq(p[1].host, "one.test");
	/* The server goes back and forth between its addresses. */
	ck_assert(logged("source one.test (127.0.9.1): instead of "
	    "127.0.9.2"));
}
END_TEST

START_TEST(test_engine_pool_all_dropped)
{
	struct dns_query	 q[8];
	static const char *const two[] = { "127.0.8.1", "127.0.8.2",
	    NULL };
	uint64_t		 now, t;

	/*
	 * A pool of two that both go: when nothing else is offered, the
	 * addresses dropped are taken again.
	 */
	now = engine_setup("pool pool.test port 12399 minpoll 3 maxpoll 3\n");
	client_set_dns(&eng_ibuf);
	client_run(now);
	ck_assert_uint_eq(take_queries(q, 8), 1);
	answer(q[0].id, two, now);
	ck_assert_str_eq(picture(now), "pool.test 127.0.8.1:12399, "
	    "pool.test 127.0.8.2:12399");
	for (t = now; t < now + 80 * SEC; t += SEC / 4) {
		size_t	 i, n;

		client_run(t);
		n = take_queries(q, 8);
		for (i = 0; i < n; i++)
			answer(q[i].id, two, t);
	}
	ck_assert(logged("source pool.test (127.0.8.1) is unreachable"));
	ck_assert(logged("source pool.test (127.0.8.2) is unreachable"));
	/* Never empty for long: both came back. */
	ck_assert_str_eq(picture(t), "pool.test 127.0.8.1:12399, "
	    "pool.test 127.0.8.2:12399");
}
END_TEST

START_TEST(test_engine_reconfigure)
{
	struct dns_query	 q[8];
	struct ctl_peer		 p[MAX_PEERS];
	struct ntpd_conf	*newconf;
	uint64_t		 now, t;
	uint64_t		 sent_numeric, sent_pool;
	size_t			 n;
	int			 added, removed;

	now = engine_setup(CONF_POOL_ONE
	    "server 127.0.0.2 port 12399 minpoll 3\n");
	client_set_dns(&eng_ibuf);
	client_run(now);
	ck_assert_uint_eq(take_queries(q, 8), 2);
	answer(q[0].id, pool5, now);
	t = now;
	for (; t < now + 20 * SEC; t += SEC / 4)
		client_run(t);
	n = peers(p, MAX_PEERS, t);
	ck_assert_uint_eq(n, 7);
	sent_pool = p[0].sent;
	sent_numeric = p[6].sent;
	ck_assert_uint_ge(sent_pool, 2);
	ck_assert_uint_ge(sent_numeric, 2);

	/*
	 * The pool stays as it is, one.test goes (its query still out),
	 * 127.0.0.1 changes its minpoll (out and in again), 127.0.0.2 stays
	 * (another line now), two new ones come.
	 */
	newconf = parse("server 127.0.0.2 port 12399 minpoll 3\n"
	    "pool pool.test port 12399 minpoll 3 maxpoll 3\n"
	    "server 127.0.0.1 port 12399 minpoll 4\n"
	    "server new.test\n"
	    "server 127.0.0.3\n");
	client_reconfigure(newconf, &added, &removed);
	config_free(conf);
	conf = newconf;
	ck_assert_int_eq(added, 3);
	ck_assert_int_eq(removed, 2);
	n = peers(p, MAX_PEERS, t);
	ck_assert_str_eq(picture(t), "127.0.0.2 127.0.0.2:12399, "
	    "pool.test 127.0.8.1:12399, pool.test 127.0.8.2:12399, "
	    "pool.test 127.0.8.3:12399, pool.test 127.0.8.4:12399, "
	    "127.0.0.1 127.0.0.1:12399, new.test -, 127.0.0.3 127.0.0.3:123");
	/* Kept: samples, counters and all. */
	ck_assert_uint_eq(p[0].sent, sent_numeric);
	ck_assert_uint_eq(p[1].sent, sent_pool);
	ck_assert_int_eq(p[0].poll, 3);
	/* New: as at start. */
	ck_assert_uint_eq(p[5].sent, 0);
	ck_assert_int_eq(p[5].poll, 4);

	/* one.test's answer comes: nobody wants it. */
	answer(q[1].id, one2, t);
	ck_assert(logged("nobody asks any more"));
	ck_assert(strstr(picture(t), "one.test") == NULL);
	/* new.test is asked for. */
	client_run(t);
	ck_assert_uint_eq(take_queries(q, 8), 1);
	ck_assert_str_eq(q[0].host, "new.test");

	/* Everything goes. */
	newconf = parse("");
	client_reconfigure(newconf, &added, &removed);
	config_free(conf);
	conf = newconf;
	ck_assert_int_eq(added, 0);
	ck_assert_int_eq(removed, 5);
	ck_assert_uint_eq(peers(p, MAX_PEERS, t), 0);
	ck_assert_int_eq(client_timeout(t), -1);
	answer(q[0].id, one2, t);
	ck_assert_uint_eq(peers(p, MAX_PEERS, t), 0);
}
END_TEST

/* Pools share the slots: never more than CONF_MAX_SOURCES sources. */
START_TEST(test_engine_slots)
{
	struct dns_query	 q[CONF_MAX_SOURCES];
	struct ctl_peer		 p[MAX_PEERS];
	char			*text, line[128];
	size_t			 i, n, len = 0;
	uint64_t		 now;

	text = calloc(CONF_MAX_SOURCES, sizeof(line));
	ck_assert_ptr_nonnull(text);
	for (i = 0; i < CONF_MAX_SOURCES; i++) {
		snprintf(line, sizeof(line), "pool p%zu.test port 12399\n", i);
		strlcpy(text + len, line, CONF_MAX_SOURCES * sizeof(line) -
		    len);
		len += strlen(line);
	}
	now = engine_setup(text);
	free(text);
	client_set_dns(&eng_ibuf);
	client_run(now);
	ck_assert_uint_eq(take_queries(q, CONF_MAX_SOURCES),
	    CONF_MAX_SOURCES);
	for (i = 0; i < CONF_MAX_SOURCES; i++)
		answer(q[i].id, pool5, now);
	/* Every pool has one member: the first address not in use. */
	n = peers(p, MAX_PEERS, now);
	ck_assert_uint_eq(n, CONF_MAX_SOURCES);
	ck_assert_str_eq(p[0].addr, "127.0.8.1:12399");
	ck_assert_str_eq(p[4].addr, "127.0.8.5:12399");
	/* No address left for the sixth: it waits, unresolved. */
	ck_assert_str_eq(p[5].addr, "");
}
END_TEST

static Suite *
dns_suite(void)
{
	Suite	*s = suite_create("dns");
	TCase	*tc;

	tc = tcase_create("wire");
	tcase_add_test(tc, test_query_parse);
	tcase_add_test(tc, test_answer_parse);
	tcase_add_test(tc, test_collect);
	tcase_add_test(tc, test_backoff);
	suite_add_tcase(s, tc);

	tc = tcase_create("resolver");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_resolver_sandboxed);
	suite_add_tcase(s, tc);

	tc = tcase_create("engine");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_engine_resolves);
	tcase_add_test(tc, test_engine_failures);
	tcase_add_test(tc, test_engine_unreachable);
	tcase_add_test(tc, test_engine_pool_all_dropped);
	tcase_add_test(tc, test_engine_reconfigure);
	tcase_add_test(tc, test_engine_slots);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(dns_suite());
	int	 failed;

	log_init(1, 0, "test_dns");
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
