/*
 * ntpctl: ask the running ntpd over its control socket and print the
 * answer.  Every message from the daemon is checked for type, size and
 * string termination before it is printed.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <err.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "imsg.h"

#define NTPCTL_SOCKET	"/run/ntpd.sock"
#define NTPCTL_TIMEOUT	10	/* seconds without an answer */
#define MAX_LINES	4096	/* a bound on what one answer may hold */

struct status_view {
	struct ctl_status	 status;
	int			 have_status;
	struct ctl_proc		 procs[MAX_LINES];
	size_t			 nprocs;
	struct ctl_source	 sources[MAX_LINES];
	size_t			 nsources;
	struct ctl_listener	 listeners[MAX_LINES];
	size_t			 nlisteners;
};

struct peers_view {
	struct ctl_system	 sys;
	int			 have_sys;
	struct ctl_peer		 peers[MAX_LINES];
	size_t			 npeers;
};

struct clients_view {
	struct ctl_netns_stats	 ns[MAX_LINES];
	size_t			 nns;
	struct ctl_client	 clients[MAX_LINES];
	size_t			 owner[MAX_LINES];	/* index into ns */
	size_t			 nclients;
};

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: ntpctl [-S socket] -s status | peers | "
	    "clients\n");
	exit(1);
}

static int
ctl_connect(const char *path)
{
	struct sockaddr_un	 sun;
	struct timeval		 tv = { NTPCTL_TIMEOUT, 0 };
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		errx(1, "socket path too long: %s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		err(1, "socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		err(1, "%s (is ntpd running?)", path);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1)
		err(1, "setsockopt");
	return fd;
}

/* A fixed-size answer: exact size, copied out. */
static void
take(const struct imsg *imsg, void *dst, size_t size, const char *what)
{
	if (imsg->datalen != size)
		errx(1, "malformed %s message from ntpd (%zu bytes, not %zu)",
		    what, imsg->datalen, size);
	memcpy(dst, imsg->data, size);
}

static void
check_string(const char *s, size_t size, const char *what)
{
	if (memchr(s, '\0', size) == NULL)
		errx(1, "unterminated %s in an answer from ntpd", what);
}

/* CTL_END and CTL_ERROR, which end every answer: 1 on CTL_END. */
static int
answer_end(const struct imsg *imsg)
{
	struct ctl_error	 e;

	switch (imsg->hdr.type) {
	case CTL_END:
		if (imsg->datalen != 0)
			errx(1, "malformed end message from ntpd");
		return 1;
	case CTL_ERROR:
		take(imsg, &e, sizeof(e), "error");
		check_string(e.msg, sizeof(e.msg), "error text");
		errx(1, "ntpd: %s", e.msg);
	default:
		errx(1, "unexpected message %u from ntpd", imsg->hdr.type);
	}
}

/* Returns 1 when the answer is complete (CTL_END). */
static int
status_collect(void *arg, const struct imsg *imsg)
{
	struct status_view	*v = arg;

	switch (imsg->hdr.type) {
	case CTL_STATUS:
		take(imsg, &v->status, sizeof(v->status), "status");
		check_string(v->status.version, sizeof(v->status.version),
		    "version");
		check_string(v->status.user, sizeof(v->status.user), "user");
		if (v->status.proto_version != CTL_PROTO_VERSION)
			errx(1, "ntpd speaks control protocol %u, ntpctl %u",
			    v->status.proto_version, CTL_PROTO_VERSION);
		v->have_status = 1;
		return 0;
	case CTL_PROC:
		if (v->nprocs == MAX_LINES)
			errx(1, "too many processes in the answer");
		take(imsg, &v->procs[v->nprocs], sizeof(v->procs[0]), "proc");
		check_string(v->procs[v->nprocs].netns,
		    sizeof(v->procs[0].netns), "namespace");
		v->nprocs++;
		return 0;
	case CTL_SOURCE:
		if (v->nsources == MAX_LINES)
			errx(1, "too many sources in the answer");
		take(imsg, &v->sources[v->nsources], sizeof(v->sources[0]),
		    "source");
		check_string(v->sources[v->nsources].host,
		    sizeof(v->sources[0].host), "host");
		v->nsources++;
		return 0;
	case CTL_LISTENER:
		if (v->nlisteners == MAX_LINES)
			errx(1, "too many listeners in the answer");
		take(imsg, &v->listeners[v->nlisteners],
		    sizeof(v->listeners[0]), "listener");
		check_string(v->listeners[v->nlisteners].netns,
		    sizeof(v->listeners[0].netns), "namespace");
		check_string(v->listeners[v->nlisteners].addr,
		    sizeof(v->listeners[0].addr), "address");
		v->nlisteners++;
		return 0;
	default:
		return answer_end(imsg);
	}
}

static int
peers_collect(void *arg, const struct imsg *imsg)
{
	struct peers_view	*v = arg;
	struct ctl_peer		*p;

	switch (imsg->hdr.type) {
	case CTL_SYSTEM:
		take(imsg, &v->sys, sizeof(v->sys), "system");
		v->have_sys = 1;
		return 0;
	case CTL_PEER:
		if (v->npeers == MAX_LINES)
			errx(1, "too many sources in the answer");
		p = &v->peers[v->npeers];
		take(imsg, p, sizeof(*p), "source");
		check_string(p->host, sizeof(p->host), "host");
		check_string(p->addr, sizeof(p->addr), "address");
		v->npeers++;
		return 0;
	default:
		return answer_end(imsg);
	}
}

static int
clients_collect(void *arg, const struct imsg *imsg)
{
	struct clients_view	*v = arg;

	switch (imsg->hdr.type) {
	case CTL_NETNS_STATS:
		if (v->nns == MAX_LINES)
			errx(1, "too many namespaces in the answer");
		take(imsg, &v->ns[v->nns], sizeof(v->ns[0]), "namespace");
		check_string(v->ns[v->nns].netns, sizeof(v->ns[0].netns),
		    "namespace");
		v->nns++;
		return 0;
	case CTL_CLIENT:
		if (v->nns == 0)
			errx(1, "a client before its namespace in the answer");
		if (v->nclients == MAX_LINES)
			errx(1, "too many clients in the answer");
		take(imsg, &v->clients[v->nclients], sizeof(v->clients[0]),
		    "client");
		check_string(v->clients[v->nclients].addr,
		    sizeof(v->clients[0].addr), "address");
		v->owner[v->nclients] = v->nns - 1;
		v->nclients++;
		return 0;
	default:
		return answer_end(imsg);
	}
}

static const char *
role_name(uint32_t role)
{
	switch (role) {
	case CTL_PROC_PARENT:
		return "parent";
	case CTL_PROC_ENGINE:
		return "engine";
	case CTL_PROC_DNS:
		return "dns";
	case CTL_PROC_SERVER:
		return "server";
	}
	return "?";
}

static const char *
netns_name(const char *ns)
{
	return ns[0] == '\0' ? "default" : ns;
}

static void
print_uptime(int64_t secs)
{
	if (secs < 0)
		secs = 0;
	printf("up %lldd %02lld:%02lld:%02lld", (long long)(secs / 86400),
	    (long long)(secs / 3600 % 24), (long long)(secs / 60 % 60),
	    (long long)(secs % 60));
}

static void
status_print(const struct status_view *v)
{
	const struct ctl_proc	*p;
	size_t			 i;

	printf("ntpd %s, ", v->status.version);
	print_uptime(v->status.uptime);
	printf("\n");
	printf("clock:      %s\n",
	    v->status.sync_state == CTL_SYNC_SYNCHRONISED ?
	    "synchronised" : "unsynchronised");
	printf("user:       %s\n", v->status.user);

	printf("\nprocesses (%zu):\n", v->nprocs);
	printf("  %-8s %8s %6s  %s\n", "ROLE", "PID", "UID", "NAMESPACE");
	for (i = 0; i < v->nprocs; i++) {
		p = &v->procs[i];
		printf("  %-8s %8d %6u  %s\n", role_name(p->role), (int)p->pid,
		    p->uid, p->role == CTL_PROC_SERVER ?
		    netns_name(p->netns) : "-");
	}

	printf("\nsources (%zu):\n", v->nsources);
	if (v->nsources == 0)
		printf("  none configured\n");
	for (i = 0; i < v->nsources; i++)
		printf("  %-8s %s\n", v->sources[i].pool ? "servers" : "server",
		    v->sources[i].host);

	printf("\nlisteners (%zu):\n", v->nlisteners);
	if (v->nlisteners == 0)
		printf("  none: this host serves no time\n");
	else
		printf("  %-20s %-40s %5s\n", "NAMESPACE", "ADDRESS", "PORT");
	for (i = 0; i < v->nlisteners; i++)
		printf("  %-20s %-40s %5u\n",
		    netns_name(v->listeners[i].netns), v->listeners[i].addr,
		    v->listeners[i].port);
}

static void
clients_print(const struct clients_view *v)
{
	const struct ctl_netns_stats	*ns;
	const struct ctl_client		*c;
	char				 who[CTL_ADDR_MAX + 8];
	size_t				 i, j, shown;

	for (i = 0; i < v->nns; i++) {
		ns = &v->ns[i];
		if (i > 0)
			printf("\n");
		printf("namespace %s:", netns_name(ns->netns));
		if (!ns->reporting) {
			printf(" no requests yet\n");
			continue;
		}
		printf("\n  %llu received, %llu answered, %llu denied, "
		    "%llu rate-limited,\n  %llu malformed, %llu ignored "
		    "(other modes), %llu kiss-o'-death sent\n",
		    (unsigned long long)ns->received,
		    (unsigned long long)ns->replies,
		    (unsigned long long)ns->denied,
		    (unsigned long long)ns->ratelimited,
		    (unsigned long long)ns->malformed,
		    (unsigned long long)ns->ignored,
		    (unsigned long long)ns->kod);
		if (ns->ratelimit_off) {
			printf("  rate limit off: no per-client counts\n");
			continue;
		}
		printf("  %u clients known, %llu forgotten to make room\n",
		    ns->nclients, (unsigned long long)ns->evictions);
		shown = 0;
		for (j = 0; j < v->nclients; j++) {
			if (v->owner[j] != i)
				continue;
			if (shown++ == 0)
				printf("  %-44s %12s %12s\n", "CLIENT",
				    "REQUESTS", "LIMITED");
			c = &v->clients[j];
			snprintf(who, sizeof(who), "%s/%u", c->addr,
			    c->prefixlen);
			printf("  %-44s %12llu %12llu\n", who,
			    (unsigned long long)c->requests,
			    (unsigned long long)c->limited);
		}
	}
	if (v->nns == 0)
		printf("no listeners: this host serves no time\n");
}

/* A time in seconds as people read it: "+12.3us", "-1.234ms", "+2.000s". */
static const char *
fmt_time(double s, char *buf, size_t len)
{
	double	 a = s < 0 ? -s : s;

	if (a < 1e-3)
		snprintf(buf, len, "%+.1fus", s * 1e6);
	else if (a < 1)
		snprintf(buf, len, "%+.3fms", s * 1e3);
	else
		snprintf(buf, len, "%+.3fs", s);
	return buf;
}

static const char *
select_status_name(uint32_t st)
{
	switch (st) {
	case CTL_SEL_OK:
		return "a majority agrees";
	case CTL_SEL_NO_SOURCES:
		return "no usable source";
	case CTL_SEL_NO_MAJORITY:
		return "no majority: the sources disagree";
	case CTL_SEL_TOO_FEW:
		return "too few sources agree";
	default:
		return "no source has been heard from yet";
	}
}

/* One mark per state, as ntpq and chronyc users will expect. */
static char
peer_mark(const struct ctl_peer *p)
{
	if (p->stopped)
		return '!';
	switch (p->state) {
	case CTL_PEER_SYSPEER:
		return '*';
	case CTL_PEER_COMBINED:
		return '+';
	case CTL_PEER_CANDIDATE:
		return '-';
	case CTL_PEER_FALSETICKER:
		return 'x';
	default:
		return '?';
	}
}

static void
peers_print(const struct peers_view *v)
{
	const struct ctl_peer	*p;
	char			 a[32], b[32], c[32], age[16];
	size_t			 i;

	if (!v->have_sys)
		errx(1, "ntpd's answer has no selection outcome");
	printf("selection: %s; %u sources, %u usable, %u agreeing, "
	    "%u combined\n", select_status_name(v->sys.select_status),
	    v->sys.nsources, v->sys.nusable, v->sys.ntruechimers,
	    v->sys.ncombined);
	if (v->sys.select_status == CTL_SEL_OK)
		printf("combined offset %s, jitter %s (not applied: this "
		    "version does not discipline the clock)\n",
		    fmt_time(v->sys.offset, a, sizeof(a)),
		    fmt_time(v->sys.jitter, b, sizeof(b)) + 1);
	printf("\n  %-26s %2s %4s %5s %5s %10s %10s %10s %5s %5s %5s %4s\n",
	    "SOURCE", "ST", "POLL", "REACH", "AGE", "OFFSET", "DELAY",
	    "JITTER", "SENT", "LOST", "BAD", "KOD");
	for (i = 0; i < v->npeers; i++) {
		p = &v->peers[i];
		if (p->have_sample)
			snprintf(age, sizeof(age), "%.0fs", p->age);
		else
			strlcpy(age, "-", sizeof(age));
		printf("%c %-26s %2u %4lld %5o %5s %10s %10s %10s %5llu "
		    "%5llu %5llu %4llu\n", peer_mark(p),
		    p->addr[0] != '\0' ? p->addr : p->host, p->stratum,
		    1LL << (p->poll > 0 && p->poll < 31 ? p->poll : 0),
		    p->reach, age,
		    p->have_sample ? fmt_time(p->offset, a, sizeof(a)) : "-",
		    p->have_sample ? fmt_time(p->delay, b, sizeof(b)) + 1 :
		    "-",
		    p->have_sample ? fmt_time(p->jitter, c, sizeof(c)) + 1 :
		    "-",
		    (unsigned long long)p->sent,
		    (unsigned long long)p->timeouts,
		    (unsigned long long)p->rejected,
		    (unsigned long long)p->kod);
	}
	if (v->npeers == 0)
		printf("  no sources configured\n");
	printf("\n* system peer, + combined, - agrees but not combined, "
	    "x falseticker,\n? unusable, ! refused us (kiss-o'-death)\n");
}

/* Send one request and hand every message of the answer to collect. */
static void
request(int fd, uint32_t type, int (*collect)(void *, const struct imsg *),
    void *view)
{
	struct imsgbuf	 ibuf;
	struct imsg	 imsg;
	ssize_t		 n;
	int		 rc = 0, done = 0;

	imsgbuf_init(&ibuf, fd);
	if (imsg_compose(&ibuf, type, 0, -1, NULL, 0) == -1 ||
	    imsgbuf_flush(&ibuf) == -1)
		err(1, "send request");
	while (!done) {
		n = imsgbuf_read(&ibuf);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			if (errno == EAGAIN)
				errx(1, "no answer from ntpd within %d s",
				    NTPCTL_TIMEOUT);
			err(1, "read");
		}
		if (n == 0)
			errx(1, "ntpd closed the connection mid-answer");
		while (!done && (rc = imsg_get(&ibuf, &imsg)) == 1) {
			done = collect(view, &imsg);
			imsg_free(&imsg);
		}
		if (!done && rc == -1)
			err(1, "answer from ntpd");
	}
	imsgbuf_clear(&ibuf);
}

static void
show_status(int fd)
{
	struct status_view	*v;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		err(1, "calloc");
	request(fd, CTL_SHOW_STATUS, status_collect, v);
	if (!v->have_status)
		errx(1, "ntpd's answer has no status");
	status_print(v);
	free(v);
}

static void
show_peers(int fd)
{
	struct peers_view	*v;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		err(1, "calloc");
	request(fd, CTL_SHOW_PEERS, peers_collect, v);
	peers_print(v);
	free(v);
}

static void
show_clients(int fd)
{
	struct clients_view	*v;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		err(1, "calloc");
	request(fd, CTL_SHOW_CLIENTS, clients_collect, v);
	clients_print(v);
	free(v);
}

int
main(int argc, char *argv[])
{
	const char	*sockpath = NTPCTL_SOCKET;
	const char	*show = NULL;
	int		 ch, fd;

	while ((ch = getopt(argc, argv, "S:s:")) != -1) {
		switch (ch) {
		case 'S':
			sockpath = optarg;
			break;
		case 's':
			show = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || show == NULL)
		usage();
	if (strcmp(show, "status") != 0 && strcmp(show, "peers") != 0 &&
	    strcmp(show, "clients") != 0)
		errx(1, "unknown view \"%s\": try -s status, -s peers or "
		    "-s clients", show);

	fd = ctl_connect(sockpath);
	if (strcmp(show, "status") == 0)
		show_status(fd);
	else if (strcmp(show, "peers") == 0)
		show_peers(fd);
	else
		show_clients(fd);
	close(fd);
	return 0;
}
