/*
 * The engine: jailed, unprivileged, under seccomp.  It does the NTP
 * exchanges with the upstream servers and asks the parent to correct
 * the clock; it serves the control socket, keeps the picture of the
 * daemon's processes that status shows, and takes a reload's new
 * configuration from the parent.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "client.h"
#include "ctl.h"
#include "log.h"
#include "ntpd.h"
#include "reconf.h"
#include "serve.h"
#include "stats.h"
#include "sync.h"

#define ENGINE_MAX_PROCS	(3 + CONF_MAX_NAMESPACES)
#define ENGINE_MAX_POLLFDS	(2 + CONF_MAX_NAMESPACES + 1 + 32 + \
				    CONF_MAX_SOURCES)

struct channel {
	struct imsgbuf	 ibuf;
	int		 open;
	const char	*what;		/* for log lines */
};

/* One namespace's server, by name: a reload may add, drop or restart it. */
struct server_slot {
	int			 used;
	char			 netns[NETNS_NAME_MAX];
	struct channel		 ch;
	struct serve_stats	 stats;
	int			 reported;
};

static struct ntpd_conf	*conf;
static struct imsgbuf	 parent_ibuf;
static struct channel	 dns_chan;
static struct server_slot servers[CONF_MAX_NAMESPACES];
static struct proc_info	 procs[ENGINE_MAX_PROCS];
static size_t		 nprocs;
static struct timespec	 started;
static struct reconf_buf reconf;

static void
channel_open(struct channel *ch, int fd)
{
	imsgbuf_init(&ch->ibuf, fd);
	ch->open = 1;
}

static void
channel_close(struct channel *ch)
{
	if (!ch->open)
		return;
	imsgbuf_clear(&ch->ibuf);
	close(ch->ibuf.fd);
	ch->open = 0;
}

/*
 * The precision of the system clock as NTP states it: log2 of the
 * shortest time between two readings that differ, which bounds what a
 * timestamp can tell.
 */
int8_t
engine_clock_precision(void)
{
	struct timespec	 a, b;
	long		 d, best = 1000000000L;
	int		 i;
	int8_t		 p = 0;

	for (i = 0; i < 128; i++) {
		clock_gettime(CLOCK_REALTIME, &a);
		do {
			clock_gettime(CLOCK_REALTIME, &b);
			d = (b.tv_sec - a.tv_sec) * 1000000000L +
			    (b.tv_nsec - a.tv_nsec);
		} while (d == 0);
		if (d > 0 && d < best)
			best = d;
	}
	/* Smallest p with 2^p seconds >= best. */
	while (p > -30 && best <= (1000000000L >> (-p + 1)))
		p--;
	return p;
}

/* Tell a server what to say about the clock. */
static void
engine_send_sync_state(struct channel *ch)
{
	if (imsg_compose(&ch->ibuf, IMSG_SYNC_STATE, 0, -1, sync_served(),
	    sizeof(struct sync_state)) == -1)
		fatal("sync state");
}

void
engine_publish_sync(void)
{
	size_t	 i;

	for (i = 0; i < CONF_MAX_NAMESPACES; i++)
		if (servers[i].used && servers[i].ch.open)
			engine_send_sync_state(&servers[i].ch);
}

static struct server_slot *
engine_find_server(const char *netns)
{
	size_t	 i;

	for (i = 0; i < CONF_MAX_NAMESPACES; i++)
		if (servers[i].used && strcmp(servers[i].netns, netns) == 0)
			return &servers[i];
	return NULL;
}

static void
engine_drop_server(struct server_slot *sv)
{
	channel_close(&sv->ch);
	memset(sv, 0, sizeof(*sv));
}

/* A process started (peerid 0) or stopped by a reload (peerid 1). */
static void
engine_proc_info(struct imsg *imsg)
{
	struct proc_info	 pi;
	size_t			 i;

	if (imsg->datalen != sizeof(pi) || imsg->hdr.peerid > 1)
		fatalx("bad proc info message");
	memcpy(&pi, imsg->data, sizeof(pi));
	if (pi.role > PROC_SERVER ||
	    memchr(pi.netns, '\0', sizeof(pi.netns)) == NULL)
		fatalx("malformed proc info");
	if (imsg->hdr.peerid == 1) {
		for (i = 0; i < nprocs; i++)
			if (procs[i].pid == pi.pid && procs[i].role == pi.role)
				break;
		if (i == nprocs)
			return;
		memmove(&procs[i], &procs[i + 1], (nprocs - i - 1) *
		    sizeof(procs[0]));
		nprocs--;
		return;
	}
	if (nprocs == ENGINE_MAX_PROCS)
		fatalx("too many processes");
	procs[nprocs++] = pi;
}

/* The descriptor of a channel to another child, passed by the parent. */
static void
engine_channel(struct imsg *imsg, struct channel *ch, const char *what)
{
	if (imsg->datalen != 0 || imsg->fd == -1)
		fatalx("malformed %s channel message", what);
	if (ch->open)
		fatalx("second %s channel", what);
	channel_open(ch, imsg_take_fd(imsg));
	ch->what = what;
}

/*
 * A server's channel, named by its namespace, which the configuration
 * in force has (the parent sends a reload's text before its servers).
 * A restarted server's channel replaces the old one.
 */
static void
engine_server_channel(struct imsg *imsg)
{
	struct server_slot	*sv;
	const char		*name = imsg->data;
	size_t			 i;

	if (imsg->fd == -1 || imsg->datalen == 0 ||
	    imsg->datalen > NETNS_NAME_MAX ||
	    name[imsg->datalen - 1] != '\0' ||
	    strlen(name) != imsg->datalen - 1 ||
	    config_find_netns(conf, name) == NULL)
		fatalx("malformed server channel message");
	if ((sv = engine_find_server(name)) != NULL)
		engine_drop_server(sv);
	for (i = 0; i < CONF_MAX_NAMESPACES && servers[i].used; i++)
		;
	if (i == CONF_MAX_NAMESPACES)
		fatalx("too many server channels");
	sv = &servers[i];
	sv->used = 1;
	strlcpy(sv->netns, name, sizeof(sv->netns));
	channel_open(&sv->ch, imsg_take_fd(imsg));
	sv->ch.what = "server";
	engine_send_sync_state(&sv->ch);
}

/*
 * A reload: the sources and the clock's policy follow the new text, and
 * the servers of namespaces no longer there are forgotten (the parent
 * stops them).
 */
static void
engine_reconfigure(struct imsg *imsg)
{
	struct ntpd_conf	*newconf;
	size_t			 i;
	int			 added, removed;

	if ((newconf = reconf_take(&reconf, imsg)) == NULL)
		fatalx("cannot take the new configuration");
	client_reconfigure(newconf, &added, &removed);
	sync_reconfigure(newconf);
	for (i = 0; i < CONF_MAX_NAMESPACES; i++)
		if (servers[i].used &&
		    config_find_netns(newconf, servers[i].netns) == NULL)
			engine_drop_server(&servers[i]);
	config_free(conf);
	conf = newconf;
	log_info("new configuration: %d source%s added, %d removed", added,
	    added == 1 ? "" : "s", removed);
}

static void
engine_stats_fd(struct imsg *imsg)
{
	if (imsg->datalen != 0)
		fatalx("malformed statistics log message");
	stats_set_fd(imsg_take_fd(imsg));
}

static void
engine_dispatch_parent(void)
{
	struct imsg	 imsg;
	ssize_t		 n;
	int		 rc;

	n = imsgbuf_read(&parent_ibuf);
	if (n == 0)
		exit(0);	/* the parent is gone: so are we */
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		fatal("read from parent");
	}
	while ((rc = imsg_get(&parent_ibuf, &imsg)) == 1) {
		switch (imsg.hdr.type) {
		case IMSG_PROC_INFO:
			engine_proc_info(&imsg);
			break;
		case IMSG_DNS_CHANNEL:
			engine_channel(&imsg, &dns_chan, "dns");
			client_set_dns(&dns_chan.ibuf);
			break;
		case IMSG_SERVER_CHANNEL:
			engine_server_channel(&imsg);
			break;
		case IMSG_RECONF:
			reconf_piece(&reconf, &imsg);
			break;
		case IMSG_RECONF_END:
			engine_reconfigure(&imsg);
			break;
		case IMSG_STATS_FD:
			engine_stats_fd(&imsg);
			break;
		case IMSG_CTL_ANSWER:
			control_answer(&imsg);
			break;
		case IMSG_CTL_DONE:
			control_done(&imsg);
			break;
		case IMSG_CLOCK_INIT:
			sync_clock_init(&imsg);
			break;
		case IMSG_CLOCK_RESULT:
			sync_clock_result(&imsg, monotonic_ns());
			break;
		case IMSG_STARTED:
			if (imsg.datalen != 0)
				fatalx("malformed started message");
			log_debug("all %zu processes are up", nprocs);
			break;
		default:
			fatalx("unexpected message %u from parent",
			    imsg.hdr.type);
		}
		imsg_free(&imsg);
	}
	if (rc == -1)
		fatal("message from parent");
}

/* A server's statistics: checked, then kept for ntpctl. */
static void
engine_server_stats(struct server_slot *sv, struct imsg *imsg)
{
	struct serve_stats	 st;
	uint32_t		 i;

	if (imsg->datalen != sizeof(st)) {
		log_warnx("server statistics of %zu bytes", imsg->datalen);
		return;
	}
	memcpy(&st, imsg->data, sizeof(st));
	if (st.ntop > SERVE_TOP_CLIENTS) {
		log_warnx("malformed server statistics");
		return;
	}
	for (i = 0; i < st.ntop; i++) {
		if (memchr(st.top[i].addr, '\0',
		    sizeof(st.top[i].addr)) == NULL) {
			log_warnx("malformed server statistics");
			return;
		}
	}
	sv->stats = st;
	sv->reported = 1;
}

static void
engine_child_msg(struct imsg *imsg, void *arg)
{
	struct channel	*ch = arg;

	size_t		 i;

	for (i = 0; i < CONF_MAX_NAMESPACES; i++) {
		if (imsg->hdr.type == IMSG_SERVER_STATS && servers[i].used &&
		    ch == &servers[i].ch) {
			engine_server_stats(&servers[i], imsg);
			return;
		}
	}
	if (imsg->hdr.type == IMSG_DNS_ANSWER && ch == &dns_chan) {
		client_dns_answer(imsg, monotonic_ns());
		return;
	}
	log_warnx("unexpected message %u from %s", imsg->hdr.type, ch->what);
}

/* A closed channel means that process died, which the parent handles. */
static void
engine_dispatch_child(struct channel *ch)
{
	int	 rc;

	rc = proc_channel_read(&ch->ibuf, engine_child_msg, ch);
	if (rc == 1)
		return;
	if (rc == -1)
		log_warn("channel to %s", ch->what);
	else
		log_debug("channel to %s closed", ch->what);
	channel_close(ch);
}

/*
 * A control client's change request goes to the parent, with the
 * client's connection for the parent to read its credentials from.
 * -1 when the channel cannot take it.
 */
int
engine_ctl_request(uint32_t id, uint32_t type, const char *arg, int fd)
{
	struct imsg_ctl_request	 req;
	int			 dupfd;

	memset(&req, 0, sizeof(req));
	req.type = type;
	strlcpy(req.arg, arg, sizeof(req.arg));
	if ((dupfd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1)
		return -1;
	if (imsg_compose(&parent_ibuf, IMSG_CTL_REQUEST, id, dupfd, &req,
	    sizeof(req)) == -1) {
		close(dupfd);
		return -1;
	}
	return 0;
}

static int64_t
engine_uptime(void)
{
	struct timespec	 now;

	clock_gettime(CLOCK_BOOTTIME, &now);
	return (int64_t)(now.tv_sec - started.tv_sec);
}

/* Answer to CTL_SHOW_STATUS: compose the whole picture into out. */
void
engine_show_status(struct imsgbuf *out)
{
	struct ctl_status	 st;
	struct ctl_proc		 cp;
	struct ctl_source	 cs;
	struct ctl_listener	 cl;
	struct source_cfg	*src;
	struct netns_cfg	*ns;
	struct listen_cfg	*l;
	size_t			 i;

	memset(&st, 0, sizeof(st));
	st.proto_version = CTL_PROTO_VERSION;
	strlcpy(st.version, NTPD_VERSION, sizeof(st.version));
	st.uptime = engine_uptime();
	st.sync_state = sync_synchronised() ? CTL_SYNC_SYNCHRONISED :
	    CTL_SYNC_UNSYNCHRONISED;
	TAILQ_FOREACH(src, &conf->sources, entry)
		st.nsources++;
	st.nnamespaces = config_count_netns(conf);
	strlcpy(st.user, conf->user, sizeof(st.user));
	if (imsg_compose(out, CTL_STATUS, 0, -1, &st, sizeof(st)) == -1)
		return;

	for (i = 0; i < nprocs; i++) {
		memset(&cp, 0, sizeof(cp));
		cp.role = procs[i].role;
		cp.pid = procs[i].pid;
		cp.uid = procs[i].uid;
		strlcpy(cp.netns, procs[i].netns, sizeof(cp.netns));
		if (imsg_compose(out, CTL_PROC, 0, -1, &cp, sizeof(cp)) == -1)
			return;
	}
	TAILQ_FOREACH(src, &conf->sources, entry) {
		memset(&cs, 0, sizeof(cs));
		cs.pool = src->kind == SOURCE_SERVERS;
		strlcpy(cs.host, src->host, sizeof(cs.host));
		if (imsg_compose(out, CTL_SOURCE, 0, -1, &cs, sizeof(cs)) == -1)
			return;
	}
	TAILQ_FOREACH(ns, &conf->namespaces, entry) {
		TAILQ_FOREACH(l, &ns->listeners, entry) {
			memset(&cl, 0, sizeof(cl));
			strlcpy(cl.netns, ns->name, sizeof(cl.netns));
			if (l->wildcard)
				strlcpy(cl.addr, "*", sizeof(cl.addr));
			else
				addr_ntop((struct sockaddr *)&l->ss, cl.addr,
				    sizeof(cl.addr));
			cl.port = l->port;
			if (imsg_compose(out, CTL_LISTENER, 0, -1, &cl,
			    sizeof(cl)) == -1)
				return;
		}
	}
	(void)imsg_compose(out, CTL_END, 0, -1, NULL, 0);
}

/* Answer to CTL_SHOW_PEERS. */
void
engine_show_peers(struct imsgbuf *out)
{
	client_show_peers(out, monotonic_ns());
}

/* Answer to CTL_SHOW_CLIENTS: every namespace's server, busiest first. */
void
engine_show_clients(struct imsgbuf *out)
{
	static const struct serve_stats	 none;
	struct ctl_netns_stats	 ns_st;
	struct ctl_client	 cl;
	struct netns_cfg	*ns;
	struct serve_policy	 pol;
	const struct serve_stats *st;
	const struct server_slot *sv;
	uint32_t		 i;

	TAILQ_FOREACH(ns, &conf->namespaces, entry) {
		sv = engine_find_server(ns->name);
		st = sv != NULL ? &sv->stats : &none;
		memset(&ns_st, 0, sizeof(ns_st));
		strlcpy(ns_st.netns, ns->name, sizeof(ns_st.netns));
		ns_st.reporting = sv != NULL && sv->reported;
		ns_st.received = st->counters.received;
		ns_st.replies = st->counters.replies;
		ns_st.kod = st->counters.kod;
		ns_st.denied = st->counters.denied;
		ns_st.ratelimited = st->counters.ratelimited;
		ns_st.malformed = st->counters.malformed;
		ns_st.ignored = st->counters.ignored;
		ns_st.evictions = st->evictions;
		ns_st.nclients = st->nclients;
		config_serve_policy(conf, ns, &pol);
		ns_st.ratelimit_off = pol.ratelimit_off;
		if (imsg_compose(out, CTL_NETNS_STATS, 0, -1, &ns_st,
		    sizeof(ns_st)) == -1)
			return;
		for (i = 0; i < st->ntop; i++) {
			memset(&cl, 0, sizeof(cl));
			strlcpy(cl.addr, st->top[i].addr, sizeof(cl.addr));
			cl.prefixlen = st->top[i].prefixlen;
			cl.requests = st->top[i].requests;
			cl.limited = st->top[i].limited;
			if (imsg_compose(out, CTL_CLIENT, 0, -1, &cl,
			    sizeof(cl)) == -1)
				return;
		}
	}
	(void)imsg_compose(out, CTL_END, 0, -1, NULL, 0);
}

void
engine_main(struct child_env *env)
{
	struct pollfd	 pfd[ENGINE_MAX_POLLFDS];
	struct channel	*polled[1 + CONF_MAX_NAMESPACES], *ch;
	size_t		 npolled, nctl, ctl_first, nclient, client_first, i;
	uint64_t	 now;
	int		 timeout, t;
	int8_t		 precision;

	conf = env->conf;
	imsgbuf_init(&parent_ibuf, env->parent_fd);
	proc_child_init(PROC_ENGINE, NULL, &parent_ibuf,
	    env->parent_pid);
	clock_gettime(CLOCK_BOOTTIME, &started);
	/* Nothing is validated yet: clients hear "unsynchronised". */
	precision = engine_clock_precision();
	sync_init(conf, &parent_ibuf, precision);
	control_init(env->ctl_fd);
	proc_drop_privileges(PROC_ENGINE, env->uid, env->gid, conf->chroot_dir);
	log_debug("jailed in %s as uid %u", conf->chroot_dir,
	    (unsigned int)env->uid);
	client_init(conf, precision);

	for (;;) {
		proc_poll_channel(&pfd[0], &parent_ibuf);
		npolled = 0;
		if (dns_chan.open)
			polled[npolled++] = &dns_chan;
		for (i = 0; i < CONF_MAX_NAMESPACES; i++)
			if (servers[i].used && servers[i].ch.open)
				polled[npolled++] = &servers[i].ch;
		for (i = 0; i < npolled; i++)
			proc_poll_channel(&pfd[1 + i], &polled[i]->ibuf);
		ctl_first = 1 + npolled;
		nctl = control_pollfds(&pfd[ctl_first],
		    ENGINE_MAX_POLLFDS - ctl_first);
		client_first = ctl_first + nctl;
		nclient = client_pollfds(&pfd[client_first],
		    ENGINE_MAX_POLLFDS - client_first);

		timeout = control_timeout();
		now = monotonic_ns();
		t = client_timeout(now);
		if (t != -1 && (timeout == -1 || t < timeout))
			timeout = t;
		t = sync_timeout(now);
		if (t != -1 && (timeout == -1 || t < timeout))
			timeout = t;
		if (proc_wait(pfd, client_first + nclient, timeout) == -1 &&
		    errno != EINTR)
			fatal("poll");
		if (proc_should_quit())
			exit(0);

		if (proc_channel_ready(&pfd[0], &parent_ibuf))
			engine_dispatch_parent();
		for (i = 0; i < npolled; i++) {
			ch = polled[i];
			if (pfd[1 + i].revents & POLLOUT &&
			    imsgbuf_write(&ch->ibuf) == -1)
				channel_close(ch);
			if (ch->open &&
			    pfd[1 + i].revents & (POLLIN | POLLHUP | POLLERR))
				engine_dispatch_child(ch);
		}
		control_dispatch(&pfd[ctl_first], nctl);
		now = monotonic_ns();
		client_dispatch(&pfd[client_first], nclient, now);
		client_run(now);
		sync_tick(now);
	}
}
