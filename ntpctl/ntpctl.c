/*
 * ntpctl: ask the running ntpd over its control socket and show the
 * answer.  This file takes the command line and collects the answers:
 * every message from the daemon is checked for type, size and string
 * termination before anything else sees it.  The daemon answers one
 * request per connection, so each part of a snapshot is a connection.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "ctl.h"
#include "imsg.h"
#include "ntpctl.h"
#include "plot.h"
#include "timezone.h"

const char	*ctl_socket = NTPCTL_SOCKET;

typedef int	(*collect_fn)(void *, const struct imsg *, char *, size_t);

static void	usage(void) __attribute__((noreturn));

/*
 * timezone list and show are ntpctl's own; set is the daemon's parent's
 * (it runs as root and audits it), after ntpctl checked the name.
 */
static int
cmd_timezone(int argc, char *argv[])
{
	struct ctl_tz_set	 tz;
	char			 err[CTL_MSG_MAX + 64];
	int			 rc;

	if ((rc = ctl_timezone(argc, argv)) != CTL_TZ_SEND)
		return rc;
	memset(&tz, 0, sizeof(tz));
	strlcpy(tz.name, argv[2], sizeof(tz.name));
	if (ctl_change(CTL_TZ_SET, &tz, sizeof(tz), CTL_CHANGE_TIMEOUT_MS,
	    err, sizeof(err)) == -1) {
		fprintf(stderr, "ntpctl: timezone set: %s\n", err);
		return 1;
	}
	return 0;
}

/* Re-read the configuration; the daemon says what changed. */
static int
cmd_reload(int argc, char *argv[])
{
	char	 err[CTL_MSG_MAX + 64];

	(void)argv;
	if (argc != 1)
		usage();
	if (ctl_change(CTL_RELOAD, NULL, 0, CTL_CHANGE_TIMEOUT_MS, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "ntpctl: reload: %s\n", err);
		return 1;
	}
	return 0;
}

/*
 * Commands after the options: each gets argv from its own name on and
 * returns the exit status.  A command is one line here.
 */
static const struct command {
	const char	*name;
	int		(*run)(int, char *[]);
} commands[] = {
	{ "audit",	ctl_audit },
	{ "check",	cmd_check },
	{ "exporter",	cmd_exporter },
	{ "metrics",	cmd_metrics },
	{ "plot",	cmd_plot },
	{ "reload",	cmd_reload },
	{ "timezone",	cmd_timezone },
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: ntpctl [-j] [-S socket] -s status | peers | clients | all\n"
	    "       ntpctl [-S socket] metrics\n"
	    "       ntpctl [-S socket] check [-c offset_ms] [-l level] "
	    "[-M min_sources]\n"
	    "              [-m min_sources] [-t seconds] [-u level] "
	    "[-w offset_ms]\n"
	    "       ntpctl [-S socket] exporter [-l address:port] "
	    "[-u user]\n"
	    "       ntpctl audit [verify] [-f file]\n"
	    "       ntpctl plot [-o file] [-w width] [-h height] statsfile\n"
	    "       ntpctl [-S socket] reload\n"
	    "       ntpctl [-S socket] timezone list | show | set name\n");
	exit(1);
}

static int __attribute__((format(printf, 3, 4)))
fail(char *ebuf, size_t elen, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(ebuf, elen, fmt, ap);
	va_end(ap);
	return -1;
}

static int64_t
mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A connected, non-blocking socket, or -1 with the reason in ebuf. */
static int
ctl_connect(int timeout_ms, char *ebuf, size_t elen)
{
	struct sockaddr_un	 sun;
	struct timeval		 tv;
	int			 fd, flags;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, ctl_socket, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		return fail(ebuf, elen, "socket path too long: %s",
		    ctl_socket);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return fail(ebuf, elen, "socket: %s", strerror(errno));
	/* A full backlog makes connect() wait: bound that too. */
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1) {
		fail(ebuf, elen, "setsockopt: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fail(ebuf, elen, "%s: %s (is ntpd running?)", ctl_socket,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1) {
		fail(ebuf, elen, "fcntl: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* A fixed-size answer: exact size, copied out. */
static int
take(const struct imsg *imsg, void *dst, size_t size, const char *what,
    char *ebuf, size_t elen)
{
	if (imsg->datalen != size)
		return fail(ebuf, elen, "malformed %s message from ntpd "
		    "(%zu bytes, not %zu)", what, imsg->datalen, size);
	memcpy(dst, imsg->data, size);
	return 0;
}

static int
check_string(const char *s, size_t size, const char *what, char *ebuf,
    size_t elen)
{
	if (memchr(s, '\0', size) == NULL)
		return fail(ebuf, elen, "unterminated %s in an answer from "
		    "ntpd", what);
	return 0;
}

/* CTL_END and CTL_ERROR end every answer: 1 on CTL_END, else -1. */
static int
answer_end(const struct imsg *imsg, char *ebuf, size_t elen)
{
	struct ctl_error	 e;

	switch (imsg->hdr.type) {
	case CTL_END:
		if (imsg->datalen != 0)
			return fail(ebuf, elen, "malformed end message from "
			    "ntpd");
		return 1;
	case CTL_ERROR:
		if (take(imsg, &e, sizeof(e), "error", ebuf, elen) == -1 ||
		    check_string(e.msg, sizeof(e.msg), "error text", ebuf,
		    elen) == -1)
			return -1;
		return fail(ebuf, elen, "ntpd: %s", safe_str(e.msg));
	default:
		return fail(ebuf, elen, "unexpected message %u from ntpd",
		    imsg->hdr.type);
	}
}

/* Each collect function: 0 for more, 1 when complete, -1 on error. */
static int
status_collect(void *arg, const struct imsg *imsg, char *ebuf, size_t elen)
{
	struct status_view	*v = arg;
	struct ctl_proc		*p;
	struct ctl_source	*s;
	struct ctl_listener	*l;

	switch (imsg->hdr.type) {
	case CTL_STATUS:
		if (v->have_status)
			return fail(ebuf, elen, "two status messages in the "
			    "answer");
		if (take(imsg, &v->status, sizeof(v->status), "status", ebuf,
		    elen) == -1 ||
		    check_string(v->status.version, sizeof(v->status.version),
		    "version", ebuf, elen) == -1 ||
		    check_string(v->status.user, sizeof(v->status.user),
		    "user", ebuf, elen) == -1)
			return -1;
		if (v->status.proto_version != CTL_PROTO_VERSION)
			return fail(ebuf, elen, "ntpd speaks control protocol "
			    "%u, ntpctl %u", v->status.proto_version,
			    CTL_PROTO_VERSION);
		v->have_status = 1;
		return 0;
	case CTL_PROC:
		if (v->nprocs == MAX_LINES)
			return fail(ebuf, elen, "too many processes in the "
			    "answer");
		p = &v->procs[v->nprocs];
		if (take(imsg, p, sizeof(*p), "proc", ebuf, elen) == -1 ||
		    check_string(p->netns, sizeof(p->netns), "namespace", ebuf,
		    elen) == -1)
			return -1;
		v->nprocs++;
		return 0;
	case CTL_SOURCE:
		if (v->nsources == MAX_LINES)
			return fail(ebuf, elen, "too many sources in the "
			    "answer");
		s = &v->sources[v->nsources];
		if (take(imsg, s, sizeof(*s), "source", ebuf, elen) == -1 ||
		    check_string(s->host, sizeof(s->host), "host", ebuf,
		    elen) == -1)
			return -1;
		v->nsources++;
		return 0;
	case CTL_LISTENER:
		if (v->nlisteners == MAX_LINES)
			return fail(ebuf, elen, "too many listeners in the "
			    "answer");
		l = &v->listeners[v->nlisteners];
		if (take(imsg, l, sizeof(*l), "listener", ebuf, elen) == -1 ||
		    check_string(l->netns, sizeof(l->netns), "namespace", ebuf,
		    elen) == -1 ||
		    check_string(l->addr, sizeof(l->addr), "address", ebuf,
		    elen) == -1)
			return -1;
		v->nlisteners++;
		return 0;
	default:
		if (answer_end(imsg, ebuf, elen) == -1)
			return -1;
		if (!v->have_status)
			return fail(ebuf, elen, "ntpd's answer has no status");
		return 1;
	}
}

static int
peers_collect(void *arg, const struct imsg *imsg, char *ebuf, size_t elen)
{
	struct peers_view	*v = arg;
	struct ctl_peer		*p;

	switch (imsg->hdr.type) {
	case CTL_SYSTEM:
		if (v->have_sys)
			return fail(ebuf, elen, "two selection outcomes in "
			    "the answer");
		if (take(imsg, &v->sys, sizeof(v->sys), "system", ebuf,
		    elen) == -1 ||
		    check_string(v->sys.refid, sizeof(v->sys.refid),
		    "reference", ebuf, elen) == -1)
			return -1;
		v->have_sys = 1;
		return 0;
	case CTL_PEER:
		if (!v->have_sys)
			return fail(ebuf, elen, "a source before the "
			    "selection outcome in the answer");
		if (v->npeers == MAX_LINES)
			return fail(ebuf, elen, "too many sources in the "
			    "answer");
		p = &v->peers[v->npeers];
		if (take(imsg, p, sizeof(*p), "source", ebuf, elen) == -1 ||
		    check_string(p->host, sizeof(p->host), "host", ebuf,
		    elen) == -1 ||
		    check_string(p->addr, sizeof(p->addr), "address", ebuf,
		    elen) == -1)
			return -1;
		v->npeers++;
		return 0;
	default:
		if (answer_end(imsg, ebuf, elen) == -1)
			return -1;
		if (!v->have_sys)
			return fail(ebuf, elen, "ntpd's answer has no "
			    "selection outcome");
		/* An index that names no source names none. */
		if (v->sys.syspeer < 0 || (size_t)v->sys.syspeer >= v->npeers)
			v->sys.syspeer = -1;
		return 1;
	}
}

static int
clients_collect(void *arg, const struct imsg *imsg, char *ebuf, size_t elen)
{
	struct clients_view	*v = arg;
	struct ctl_netns_stats	*ns;
	struct ctl_client	*c;

	switch (imsg->hdr.type) {
	case CTL_NETNS_STATS:
		if (v->nns == MAX_LINES)
			return fail(ebuf, elen, "too many namespaces in the "
			    "answer");
		ns = &v->ns[v->nns];
		if (take(imsg, ns, sizeof(*ns), "namespace", ebuf,
		    elen) == -1 ||
		    check_string(ns->netns, sizeof(ns->netns), "namespace",
		    ebuf, elen) == -1)
			return -1;
		v->nns++;
		return 0;
	case CTL_CLIENT:
		if (v->nns == 0)
			return fail(ebuf, elen, "a client before its "
			    "namespace in the answer");
		if (v->nclients == MAX_LINES)
			return fail(ebuf, elen, "too many clients in the "
			    "answer");
		c = &v->clients[v->nclients];
		if (take(imsg, c, sizeof(*c), "client", ebuf, elen) == -1 ||
		    check_string(c->addr, sizeof(c->addr), "address", ebuf,
		    elen) == -1)
			return -1;
		v->owner[v->nclients] = v->nns - 1;
		v->nclients++;
		return 0;
	default:
		return answer_end(imsg, ebuf, elen);
	}
}

/*
 * One request on a connection of its own; every message of the answer
 * goes to collect.  The whole answer must come by the deadline (ms,
 * CLOCK_MONOTONIC); timeout_ms is the whole budget, for the message.
 */
static int
request(uint32_t type, const void *data, size_t len, collect_fn collect,
    void *view, int64_t deadline, int timeout_ms, char *ebuf, size_t elen)
{
	struct imsgbuf	*ibuf;
	struct imsg	 imsg;
	struct pollfd	 pfd;
	int64_t		 left;
	ssize_t		 n;
	int		 fd, rc = 0, done = 0;

	if ((left = deadline - mono_ms()) <= 0)
		return fail(ebuf, elen, "no answer from ntpd within %d s",
		    (timeout_ms + 999) / 1000);
	if ((fd = ctl_connect((int)left, ebuf, elen)) == -1)
		return -1;
	/* Its read buffer is large: not on the stack. */
	if ((ibuf = malloc(sizeof(*ibuf))) == NULL) {
		close(fd);
		return fail(ebuf, elen, "out of memory");
	}
	imsgbuf_init(ibuf, fd);
	if (imsg_compose(ibuf, type, 0, -1, data, len) == -1 ||
	    imsgbuf_flush(ibuf) == -1) {
		done = fail(ebuf, elen, "send request: %s", strerror(errno));
		goto out;
	}
	while (!done) {
		if ((left = deadline - mono_ms()) <= 0) {
			done = fail(ebuf, elen, "no answer from ntpd within "
			    "%d s", (timeout_ms + 999) / 1000);
			break;
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)left) == -1) {
			if (errno == EINTR)
				continue;
			done = fail(ebuf, elen, "poll: %s", strerror(errno));
			break;
		}
		n = imsgbuf_read(ibuf);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n == -1) {
			done = fail(ebuf, elen, "read: %s", strerror(errno));
			break;
		}
		if (n == 0) {
			done = fail(ebuf, elen, "ntpd closed the connection "
			    "mid-answer");
			break;
		}
		while (!done && (rc = imsg_get(ibuf, &imsg)) == 1) {
			done = collect(view, &imsg, ebuf, elen);
			imsg_free(&imsg);
		}
		if (!done && rc == -1)
			done = fail(ebuf, elen, "answer from ntpd: %s",
			    strerror(errno));
	}
 out:
	imsgbuf_clear(ibuf);
	free(ibuf);
	close(fd);
	return done == 1 ? 0 : -1;
}

/* The daemon's lines, made safe for a terminal, as they come. */
static int
text_collect(void *arg, const struct imsg *imsg, char *ebuf, size_t elen)
{
	struct ctl_text	 t;

	(void)arg;
	if (imsg->hdr.type != CTL_TEXT)
		return answer_end(imsg, ebuf, elen);
	if (take(imsg, &t, sizeof(t), "text", ebuf, elen) == -1 ||
	    check_string(t.line, sizeof(t.line), "text", ebuf, elen) == -1)
		return -1;
	printf("%s\n", safe_str(t.line));
	fflush(stdout);
	return 0;
}

/*
 * A change request: the daemon's lines go to stdout as they come, then
 * CTL_END (0) or CTL_ERROR (-1 with the daemon's reason in ebuf).
 */
int
ctl_change(uint32_t type, const void *data, size_t len, int timeout_ms,
    char *ebuf, size_t elen)
{
	return request(type, data, len, text_collect, NULL,
	    mono_ms() + timeout_ms, timeout_ms, ebuf, elen);
}

void
snapshot_free(struct snapshot *snap)
{
	free(snap->status);
	free(snap->peers);
	free(snap->clients);
	memset(snap, 0, sizeof(*snap));
}

/*
 * Ask for every part in what, all within timeout_ms; 0, or -1 with the
 * reason in ebuf.
 */
int
snapshot_take(struct snapshot *snap, int what, int timeout_ms, char *ebuf,
    size_t elen)
{
	int64_t	 deadline = mono_ms() + timeout_ms;

	memset(snap, 0, sizeof(*snap));
	if (((what & SNAP_STATUS) &&
	    (snap->status = calloc(1, sizeof(*snap->status))) == NULL) ||
	    ((what & SNAP_PEERS) &&
	    (snap->peers = calloc(1, sizeof(*snap->peers))) == NULL) ||
	    ((what & SNAP_CLIENTS) &&
	    (snap->clients = calloc(1, sizeof(*snap->clients))) == NULL)) {
		snapshot_free(snap);
		return fail(ebuf, elen, "out of memory");
	}
	if ((snap->status != NULL && request(CTL_SHOW_STATUS, NULL, 0,
	    status_collect, snap->status, deadline, timeout_ms, ebuf, elen) == -1) ||
	    (snap->peers != NULL && request(CTL_SHOW_PEERS, NULL, 0,
	    peers_collect, snap->peers, deadline, timeout_ms, ebuf, elen) == -1) ||
	    (snap->clients != NULL && request(CTL_SHOW_CLIENTS, NULL,
	    0, clients_collect, snap->clients, deadline, timeout_ms, ebuf,
	    elen) == -1)) {
		snapshot_free(snap);
		return -1;
	}
	clock_gettime(CLOCK_REALTIME, &snap->taken);
	return 0;
}

/* ntpctl [-j] -s view */
static int
show(const char *name, int json)
{
	struct snapshot	 snap;
	char		 ebuf[ERR_LEN];
	enum view	 v;
	int		 what;

	if (strcmp(name, "status") == 0) {
		v = VIEW_STATUS;
		what = SNAP_STATUS | SNAP_PEERS;	/* the clock too */
	} else if (strcmp(name, "peers") == 0) {
		v = VIEW_PEERS;
		what = SNAP_PEERS;
	} else if (strcmp(name, "clients") == 0) {
		v = VIEW_CLIENTS;
		what = SNAP_CLIENTS;
	} else if (strcmp(name, "all") == 0) {
		v = VIEW_ALL;
		what = SNAP_ALL;
	} else
		errx(1, "unknown view \"%s\": try -s status, -s peers, "
		    "-s clients or -s all", safe_str(name));

	if (snapshot_take(&snap, what, NTPCTL_TIMEOUT * 1000, ebuf,
	    sizeof(ebuf)) == -1)
		errx(1, "%s", ebuf);
	if (json)
		json_print(stdout, &snap, v);
	else
		view_print(&snap, v);
	snapshot_free(&snap);
	if (fflush(stdout) == EOF || ferror(stdout))
		err(1, "stdout");
	return 0;
}

int
main(int argc, char *argv[])
{
	const char	*view = NULL;
	size_t		 i;
	int		 ch, json = 0;

	/* '+': options end at the command, which has options of its own. */
	while ((ch = getopt(argc, argv, "+jS:s:")) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'S':
			ctl_socket = optarg;
			break;
		case 's':
			view = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;

	if (view != NULL) {
		if (argc != 0)
			usage();
		return show(view, json);
	}
	if (argc == 0 || json)
		usage();
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[0], commands[i].name) != 0)
			continue;
		optind = 1;	/* the command parses its own options */
		return commands[i].run(argc, argv);
	}
	warnx("unknown command \"%s\"", safe_str(argv[0]));
	usage();
}
