/*
 * ntpctl exporter: the metrics over HTTP for Prometheus, from a process
 * of its own outside the daemon.  It binds, drops to an unprivileged
 * user when started as root, sets no_new_privs and a seccomp allow-list,
 * then serves: GET or HEAD /metrics asks the daemon afresh, anything
 * else is 404 or 405.  A small poll loop of a few connections, each with
 * a bounded request head and deadlines; every answer ends the
 * connection.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ntpctl.h"

#define EXP_LISTEN		"127.0.0.1:9975"
#define EXP_USER		"nobody"
#define EXP_MAX_CONNS		8
#define EXP_HEAD_MAX		4096	/* request line and headers */
#define EXP_READ_MS		5000	/* for the whole request head */
#define EXP_WRITE_MS		10000	/* for the whole answer */
#define EXP_DRAIN_MS		1000	/* for the client to close */
#define EXP_DRAIN_MAX		65536	/* bytes read and dropped at the end */
#define EXP_SCRAPE_MS		5000	/* for the daemon's answers */

enum conn_state {
	CONN_READ,		/* the request head */
	CONN_WRITE,		/* the answer */
	CONN_DRAIN,		/* answered: wait for the client to close */
};

struct conn {
	int		 fd;
	enum conn_state	 state;
	int64_t		 deadline;	/* ms, CLOCK_MONOTONIC */
	char		 head[EXP_HEAD_MAX];
	size_t		 headlen;
	char		*out;
	size_t		 outlen;
	size_t		 outoff;
	size_t		 drained;
};

static struct conn	 conns[EXP_MAX_CONNS];
static int		 daemon_up = -1;	/* as last logged */
static const char	 timeout_answer[] = "HTTP/1.1 408 Request Timeout\r\n"
    "Content-Length: 0\r\nConnection: close\r\n\r\n";

static void __attribute__((noreturn))
exporter_usage(void)
{
	fprintf(stderr, "usage: ntpctl [-S socket] exporter "
	    "[-l address:port] [-u user]\n");
	exit(1);
}

static int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "192.0.2.1:9975" or "[2001:db8::1]:9975": numeric, nothing looked up. */
static int
listen_on(const char *spec)
{
	struct addrinfo	 hints, *res;
	char		 host[128];
	const char	*port, *end;
	size_t		 len;
	int		 fd, on = 1, rc;

	if (spec[0] == '[') {
		if ((end = strchr(spec, ']')) == NULL || end[1] != ':')
			errx(1, "-l %s: not [address]:port", safe_str(spec));
		len = (size_t)(end - spec - 1);
		spec++;
		port = end + 2;
	} else {
		if ((end = strrchr(spec, ':')) == NULL)
			errx(1, "-l %s: not address:port", safe_str(spec));
		len = (size_t)(end - spec);
		port = end + 1;
	}
	if (len == 0 || len >= sizeof(host) || port[0] == '\0' ||
	    strspn(port, "0123456789") != strlen(port) || strlen(port) > 5 ||
	    atoi(port) < 1 || atoi(port) > 65535)
		errx(1, "-l: bad address or port");
	memcpy(host, spec, len);
	host[len] = '\0';

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0)
		errx(1, "-l %s: %s", safe_str(host), gai_strerror(rc));
	fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1)
		err(1, "socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		err(1, "setsockopt");
	/* [::] means IPv6 only: say 0.0.0.0 for IPv4. */
	if (res->ai_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1)
		err(1, "setsockopt");
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1)
		err(1, "bind %s port %s", safe_str(host), port);
	if (listen(fd, 16) == -1)
		err(1, "listen");
	freeaddrinfo(res);
	return fd;
}

/* As root: become user for good.  Otherwise stay who we are. */
static void
drop_privileges(const char *user, int user_given)
{
	struct passwd	*pw;
	uid_t		 r, e, s;

	if (geteuid() != 0) {
		if (user_given)
			errx(1, "-u %s: only root can change user",
			    safe_str(user));
		return;
	}
	errno = 0;
	if ((pw = getpwnam(user)) == NULL)
		errx(1, "user %s: %s", safe_str(user),
		    errno != 0 ? strerror(errno) : "no such user");
	if (pw->pw_uid == 0)
		errx(1, "user %s is root: refusing to serve as root",
		    safe_str(user));
	if (setgroups(1, &pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		err(1, "dropping privileges to %s", safe_str(user));
	if (getresuid(&r, &e, &s) == -1 || r != pw->pw_uid ||
	    e != pw->pw_uid || s != pw->pw_uid || setuid(0) != -1)
		errx(1, "dropping privileges to %s did not hold",
		    safe_str(user));
}

/*
 * What serving needs and nothing else: its sockets, a new connection
 * to the control socket per scrape, memory (never executable), clocks.
 * Anything else kills the process.
 */
static void
sandbox(void)
{
	static const int	 calls[] = {
		SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(writev),
		SCMP_SYS(close), SCMP_SYS(recvmsg), SCMP_SYS(recvfrom),
		SCMP_SYS(sendmsg), SCMP_SYS(sendto), SCMP_SYS(poll),
		SCMP_SYS(ppoll), SCMP_SYS(accept4), SCMP_SYS(shutdown),
		SCMP_SYS(connect), SCMP_SYS(setsockopt),
		SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday),
		SCMP_SYS(getrandom), SCMP_SYS(brk), SCMP_SYS(munmap),
		SCMP_SYS(mremap), SCMP_SYS(madvise), SCMP_SYS(rt_sigreturn),
		SCMP_SYS(restart_syscall), SCMP_SYS(exit),
		SCMP_SYS(exit_group),
#ifdef NTPD_SANITIZE
		SCMP_SYS(sigaltstack),
#endif
	};
	scmp_filter_ctx		 ctx;
	size_t			 i;
	int			 rc = 0;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		err(1, "no_new_privs");
	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL)
		errx(1, "seccomp_init failed");
	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0);
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
	    SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
	    SCMP_A1(SCMP_CMP_EQ, F_GETFL));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
	    SCMP_A1(SCMP_CMP_EQ, F_SETFL));
	if (rc != 0 || seccomp_load(ctx) != 0)
		errx(1, "seccomp: the filter did not load");
	seccomp_release(ctx);
}

static void
conn_close(struct conn *c)
{
	close(c->fd);
	free(c->out);
	c->out = NULL;
	c->fd = -1;
}

/* The answer: status line, headers, and the body unless HEAD. */
static void
conn_answer(struct conn *c, const char *status, const char *extra,
    const char *type, const char *body, size_t bodylen, int head_only)
{
	char	*out;
	int	 n;

	n = asprintf(&out, "HTTP/1.1 %s\r\n"
	    "Content-Type: %s\r\n"
	    "Content-Length: %zu\r\n"
	    "%s"
	    "Cache-Control: no-store\r\n"
	    "Connection: close\r\n"
	    "\r\n", status, type, bodylen, extra);
	if (n < 0) {
		conn_close(c);
		return;
	}
	c->outlen = (size_t)n;
	if (!head_only && bodylen > 0) {
		if ((c->out = realloc(out, c->outlen + bodylen)) == NULL) {
			free(out);
			conn_close(c);
			return;
		}
		memcpy(c->out + c->outlen, body, bodylen);
		c->outlen += bodylen;
	} else
		c->out = out;
	c->outoff = 0;
	c->state = CONN_WRITE;
	c->deadline = now_ms() + EXP_WRITE_MS;
}

static void
conn_error(struct conn *c, const char *status, const char *extra,
    const char *text)
{
	conn_answer(c, status, extra, "text/plain; charset=utf-8", text,
	    strlen(text), 0);
}

static void
log_daemon(int up, const char *why)
{
	if (up == daemon_up)
		return;
	if (up)
		warnx("ntpd answers on %s", safe_str(ctl_socket));
	else
		warnx("ntpd does not answer: %s", why);
	daemon_up = up;
}

static void
conn_metrics(struct conn *c, int head_only)
{
	struct snapshot	 snap;
	char		 ebuf[ERR_LEN], *body = NULL;
	size_t		 len = 0;
	FILE		*f;
	int		 up;

	up = snapshot_take(&snap, SNAP_ALL, EXP_SCRAPE_MS, ebuf,
	    sizeof(ebuf)) == 0;
	log_daemon(up, ebuf);
	if ((f = open_memstream(&body, &len)) == NULL) {
		if (up)
			snapshot_free(&snap);
		conn_error(c, "500 Internal Server Error", "",
		    "out of memory\n");
		return;
	}
	metrics_write(f, up ? &snap : NULL);
	if (up)
		snapshot_free(&snap);
	if (fclose(f) != 0) {
		free(body);
		conn_error(c, "500 Internal Server Error", "",
		    "out of memory\n");
		return;
	}
	conn_answer(c, "200 OK", "", "text/plain; version=0.0.4; "
	    "charset=utf-8", body, len, head_only);
	free(body);
}

/* A complete head is in c->head, NUL-terminated: answer it. */
static void
conn_request(struct conn *c)
{
	char	*line, *method, *target, *version, *sp;
	size_t	 pathlen;
	int	 head_only;

	line = c->head;
	line[strcspn(line, "\r\n")] = '\0';
	method = line;
	if ((sp = strchr(method, ' ')) == NULL)
		goto bad;
	*sp = '\0';
	target = sp + 1;
	if ((sp = strchr(target, ' ')) == NULL)
		goto bad;
	*sp = '\0';
	version = sp + 1;
	if (method[0] == '\0' ||
	    strspn(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(method) ||
	    target[0] != '/' ||
	    (strcmp(version, "HTTP/1.1") != 0 &&
	    strcmp(version, "HTTP/1.0") != 0))
		goto bad;

	if (strcmp(method, "GET") == 0)
		head_only = 0;
	else if (strcmp(method, "HEAD") == 0)
		head_only = 1;
	else {
		conn_error(c, "405 Method Not Allowed",
		    "Allow: GET, HEAD\r\n",
		    "405 method not allowed: use GET\n");
		return;
	}
	/* The query string, if any, means nothing here. */
	pathlen = strcspn(target, "?");
	if (pathlen != strlen("/metrics") ||
	    strncmp(target, "/metrics", pathlen) != 0) {
		conn_error(c, "404 Not Found", "",
		    "404 not found: the metrics are at /metrics\n");
		return;
	}
	conn_metrics(c, head_only);
	return;
 bad:
	conn_error(c, "400 Bad Request", "", "400 bad request\n");
}

/* The end of the head: an empty line. */
static int
head_complete(const struct conn *c)
{
	size_t	 i;

	for (i = 0; i + 1 < c->headlen; i++) {
		if (c->head[i] != '\n')
			continue;
		if (c->head[i + 1] == '\n')
			return 1;
		if (i + 2 < c->headlen && c->head[i + 1] == '\r' &&
		    c->head[i + 2] == '\n')
			return 1;
	}
	return 0;
}

static void
conn_read(struct conn *c)
{
	char	 sink[4096];
	ssize_t	 n;

	if (c->state == CONN_DRAIN) {
		n = recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0 || (c->drained += (size_t)n) > EXP_DRAIN_MAX)
			conn_close(c);
		return;
	}
	/* One byte kept for the terminating NUL. */
	n = recv(c->fd, c->head + c->headlen,
	    sizeof(c->head) - 1 - c->headlen, MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	c->headlen += (size_t)n;
	c->head[c->headlen] = '\0';
	if (memchr(c->head, '\0', c->headlen) != NULL) {
		conn_error(c, "400 Bad Request", "", "400 bad request\n");
		return;
	}
	if (head_complete(c))
		conn_request(c);
	else if (c->headlen == sizeof(c->head) - 1)
		conn_error(c, "431 Request Header Fields Too Large", "",
		    "431 request head too large\n");
}

static void
conn_write(struct conn *c)
{
	ssize_t	 n;

	n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
	    MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	c->outoff += (size_t)n;
	if (c->outoff < c->outlen)
		return;
	/*
	 * All sent.  Closing now with the client's bytes unread would
	 * reset the connection and could lose the answer: say we are done
	 * and wait a little for the client to close first.
	 */
	free(c->out);
	c->out = NULL;
	shutdown(c->fd, SHUT_WR);
	c->state = CONN_DRAIN;
	c->drained = 0;
	c->deadline = now_ms() + EXP_DRAIN_MS;
}

static void
conn_accept(int lfd)
{
	struct conn	*c = NULL;
	size_t		 i;
	int		 fd;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC))
	    == -1) {
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			warn("accept");
		return;
	}
	for (i = 0; i < EXP_MAX_CONNS && c == NULL; i++)
		if (conns[i].fd == -1)
			c = &conns[i];
	if (c == NULL) {
		close(fd);	/* not polled for when full: cannot happen */
		return;
	}
	c->fd = fd;
	c->state = CONN_READ;
	c->headlen = 0;
	c->out = NULL;
	c->deadline = now_ms() + EXP_READ_MS;
}

static void __attribute__((noreturn))
serve(int lfd)
{
	struct pollfd	 pfd[1 + EXP_MAX_CONNS];
	struct conn	*polled[1 + EXP_MAX_CONNS], *c;
	int64_t		 now, first;
	size_t		 i, n, nconns;
	int		 timeout;

	for (;;) {
		now = now_ms();
		first = -1;
		n = 1;
		nconns = 0;
		for (i = 0; i < EXP_MAX_CONNS; i++) {
			c = &conns[i];
			if (c->fd == -1)
				continue;
			if (now >= c->deadline) {
				/* Slow: a last word if it fits, then gone. */
				if (c->state == CONN_READ)
					(void)send(c->fd, timeout_answer,
					    sizeof(timeout_answer) - 1,
					    MSG_DONTWAIT | MSG_NOSIGNAL);
				conn_close(c);
				continue;
			}
			nconns++;
			if (first == -1 || c->deadline < first)
				first = c->deadline;
			pfd[n].fd = c->fd;
			pfd[n].events = c->state == CONN_WRITE ? POLLOUT :
			    POLLIN;
			polled[n] = c;
			n++;
		}
		/* A full table leaves new connections in the backlog. */
		pfd[0].fd = nconns < EXP_MAX_CONNS ? lfd : -1;
		pfd[0].events = POLLIN;
		timeout = first == -1 ? -1 : (int)(first - now);
		if (poll(pfd, n, timeout) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "poll");
		}
		for (i = 1; i < n; i++) {
			c = polled[i];
			if (pfd[i].revents == 0 || c->fd == -1)
				continue;
			if (c->state == CONN_WRITE)
				conn_write(c);
			else
				conn_read(c);
		}
		if (pfd[0].revents & POLLIN)
			conn_accept(lfd);
	}
}

int
cmd_exporter(int argc, char *argv[])
{
	const char	*listen_spec = EXP_LISTEN, *user = EXP_USER;
	size_t		 i;
	int		 ch, lfd, user_given = 0;

	while ((ch = getopt(argc, argv, "+l:u:")) != -1) {
		switch (ch) {
		case 'l':
			listen_spec = optarg;
			break;
		case 'u':
			user = optarg;
			user_given = 1;
			break;
		default:
			exporter_usage();
		}
	}
	if (optind != argc)
		exporter_usage();

	for (i = 0; i < EXP_MAX_CONNS; i++)
		conns[i].fd = -1;
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		err(1, "signal");
	/* Unbuffered: a log line is out before anything else happens. */
	setvbuf(stderr, NULL, _IONBF, 0);

	lfd = listen_on(listen_spec);
	drop_privileges(user, user_given);
	warnx("exporter: serving /metrics on %s as uid %u, from %s",
	    safe_str(listen_spec), (unsigned int)getuid(),
	    safe_str(ctl_socket));
	sandbox();
	serve(lfd);
}
