/*
 * A server process: one per network namespace with listeners.  While
 * still root it enters its namespace and binds its addresses there; then
 * it is jailed like the engine, and cannot open a socket at all.
 *
 * It reads requests in batches with their kernel receive times, asks
 * serve_request() about each, and sends the answers in one batch with a
 * transmit time taken just before the send.  Nothing is allocated on
 * that path.  What it tells clients about the clock comes from the
 * engine (IMSG_SYNC_STATE); until the engine has validated the clock,
 * that is "unsynchronised".
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "ntpd.h"
#include "reconf.h"
#include "serve.h"

#define SERVER_MAX_SOCKETS	(2 * CONF_MAX_LISTENERS)
#define SERVER_PKT_MAX		1024	/* anything longer is not NTP */
#define SERVER_BATCH		64	/* datagrams per recvmmsg */
#define SERVER_BATCHES		16	/* per socket before polling again */
#define SERVER_REPORT_MS	1000	/* statistics to the engine */
#define SERVER_RCVBUF		(2 * 1024 * 1024) /* the kernel doubles it */

static struct imsgbuf	 parent_ibuf;
static struct imsgbuf	 engine_ibuf;
static int		 socks[SERVER_MAX_SOCKETS];
static size_t		 nsocks;

static struct acl	 acl;
static struct serve_ctx	 ctx;
static char		 netns_name[NETNS_NAME_MAX];
static struct reconf_buf reconf;

/* The batch buffers, allocated once. */
static unsigned char	 rx_buf[SERVER_BATCH][SERVER_PKT_MAX];
static struct sockaddr_storage rx_addr[SERVER_BATCH];
static struct iovec	 rx_iov[SERVER_BATCH];
static union {
	struct cmsghdr	 hdr;
	unsigned char	 buf[CMSG_SPACE(sizeof(struct timespec))];
}			 rx_ctl[SERVER_BATCH];
static struct mmsghdr	 rx_msg[SERVER_BATCH];
static unsigned char	 tx_buf[SERVER_BATCH][NTP_HEADER_SIZE];
static struct iovec	 tx_iov[SERVER_BATCH];
static struct mmsghdr	 tx_msg[SERVER_BATCH];
static int		 tx_is_reply[SERVER_BATCH];

/* What the engine has been told, and when. */
static struct serve_counters reported;
static struct timespec	 reported_at;

/* At most one line a second about denied clients. */
static time_t		 denied_log_sec;
static uint64_t		 denied_unlogged;

/* Enter iproute2's named network namespace /run/netns/NAME. */
static void
server_enter_netns(const char *name)
{
	char	 path[sizeof(NETNS_RUN_DIR) + NETNS_NAME_MAX + 1];
	int	 fd;

	if (snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, name) >=
	    (int)sizeof(path))
		fatalx("network namespace name too long: %s", name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		fatal("network namespace %s: %s", name, path);
	if (setns(fd, CLONE_NEWNET) == -1)
		fatal("cannot enter network namespace %s", name);
	close(fd);
}

static int
server_bind(const struct sockaddr *sa, socklen_t salen)
{
	char	 buf[ADDR_STRLEN];
	int	 fd, on = 1, saved_errno, pmtu = IP_PMTUDISC_PROBE;
	int	 rcvbuf = SERVER_RCVBUF;

	fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return -1;
	/* A v6 socket on :: must not also take the v4 traffic. */
	if (sa->sa_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1)
		fatal("setsockopt IPV6_V6ONLY");
	/* The kernel's receive time of each request, not ours. */
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) == -1)
		fatal("setsockopt SO_TIMESTAMPNS");
	/*
	 * DF on the replies, which are far below any MTU: the kernel then
	 * need not pick a fresh IP id for each one (3% of a reply's cost).
	 */
	if (sa->sa_family == AF_INET && setsockopt(fd, IPPROTO_IP,
	    IP_MTU_DISCOVER, &pmtu, sizeof(pmtu)) == -1)
		fatal("setsockopt IP_MTU_DISCOVER");
	/*
	 * Room for some milliseconds of requests at full speed, so that a
	 * burst or a moment off the CPU costs no answers.  Beyond rmem_max
	 * needs CAP_NET_ADMIN; without it, as much as the system allows.
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
	    sizeof(rcvbuf)) == -1 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF,
	    &rcvbuf, sizeof(rcvbuf)) == -1)
		log_warn("setsockopt SO_RCVBUF");
	if (bind(fd, sa, salen) == -1) {
		saved_errno = errno;
		log_warn("bind %s", addr_format(sa, buf, sizeof(buf)));
		close(fd);
		errno = saved_errno;
		return -1;
	}
	log_info("listening on %s",
	    addr_format(sa, buf, sizeof(buf)));
	return fd;
}

static void
server_add_socket(int fd)
{
	if (nsocks == SERVER_MAX_SOCKETS)
		fatalx("too many sockets");
	socks[nsocks++] = fd;
}

static void
server_listen_on(const struct sockaddr_storage *ss, socklen_t sslen,
    int optional, const char *ns)
{
	int	 fd;

	if ((fd = server_bind((const struct sockaddr *)ss, sslen)) != -1) {
		server_add_socket(fd);
		return;
	}
	if (optional && errno == EAFNOSUPPORT)
		return;
	fatalx("cannot listen in namespace %s", netns_display_name(ns));
}

/*
 * "listen on *" is every IPv4 and every IPv6 address; a namespace
 * without IPv6 still gets the IPv4 half.  The parser has put the port
 * into each specific address already.
 */
static void
server_listen(const struct netns_cfg *ns)
{
	struct listen_cfg	*l;
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;

	TAILQ_FOREACH(l, &ns->listeners, entry) {
		if (!l->wildcard) {
			server_listen_on(&l->ss, l->sslen, 0, ns->name);
			continue;
		}
		memset(&ss, 0, sizeof(ss));
		sin->sin_family = AF_INET;
		sin->sin_port = htons(l->port);
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		server_listen_on(&ss, sizeof(*sin), 0, ns->name);
		memset(&ss, 0, sizeof(ss));
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(l->port);
		sin6->sin6_addr = in6addr_any;
		server_listen_on(&ss, sizeof(*sin6), 1, ns->name);
	}
}

static void
server_log_denied(const struct sockaddr *from)
{
	struct timespec	 now;
	char		 buf[ADDR_STRLEN];

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec == denied_log_sec) {
		denied_unlogged++;
		return;
	}
	denied_log_sec = now.tv_sec;
	if (denied_unlogged > 0)
		log_info("denied a request from %s (and %llu more since the "
		    "last such line)", addr_ntop(from, buf, sizeof(buf)),
		    (unsigned long long)denied_unlogged);
	else
		log_info("denied a request from %s",
		    addr_ntop(from, buf, sizeof(buf)));
	denied_unlogged = 0;
}

static struct ntp_ts
server_rx_time(const struct msghdr *mh)
{
	struct cmsghdr	*cm;
	struct timespec	 ts;

	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(
	    (struct msghdr *)mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SO_TIMESTAMPNS &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(ts))) {
			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
			return ntp_ts_from_timespec(&ts);
		}
	}
	clock_gettime(CLOCK_REALTIME, &ts);	/* not expected to happen */
	return ntp_ts_from_timespec(&ts);
}

/*
 * One batch from one socket: returns how many datagrams were read, 0
 * when there were none.
 */
static int
server_batch(int fd)
{
	struct timespec		 mono, now;
	struct ntp_ts		 rx, tx;
	enum serve_verdict	 v;
	uint64_t		 now_ns;
	int			 n, i, ntx = 0, sent, rc;

	for (i = 0; i < SERVER_BATCH; i++) {
		rx_msg[i].msg_hdr.msg_name = &rx_addr[i];
		rx_msg[i].msg_hdr.msg_namelen = sizeof(rx_addr[i]);
		rx_msg[i].msg_hdr.msg_control = rx_ctl[i].buf;
		rx_msg[i].msg_hdr.msg_controllen = sizeof(rx_ctl[i].buf);
		rx_msg[i].msg_hdr.msg_flags = 0;
	}
	n = recvmmsg(fd, rx_msg, SERVER_BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0) {
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			log_warn("recvmmsg");
		return 0;
	}

	clock_gettime(CLOCK_MONOTONIC, &mono);
	now_ns = (uint64_t)mono.tv_sec * 1000000000ULL +
	    (uint64_t)mono.tv_nsec;
	for (i = 0; i < n; i++) {
		rx = server_rx_time(&rx_msg[i].msg_hdr);
		v = serve_request(&ctx, rx_buf[i], rx_msg[i].msg_len,
		    (struct sockaddr *)&rx_addr[i], rx, now_ns, tx_buf[ntx]);
		if (v == SERVE_DROP_DENIED || v == SERVE_KOD_DENY)
			server_log_denied((struct sockaddr *)&rx_addr[i]);
		if (!serve_verdict_sends(v))
			continue;
		tx_msg[ntx].msg_hdr.msg_name = &rx_addr[i];
		tx_msg[ntx].msg_hdr.msg_namelen =
		    rx_msg[i].msg_hdr.msg_namelen;
		tx_is_reply[ntx] = v == SERVE_REPLY;
		ntx++;
	}
	if (ntx == 0)
		return n;

	/* As late as possible: one reading for the whole batch. */
	clock_gettime(CLOCK_REALTIME, &now);
	tx = ntp_ts_from_timespec(&now);
	for (i = 0; i < ntx; i++)
		if (tx_is_reply[i])
			serve_set_transmit(tx_buf[i], tx);
	for (sent = 0; sent < ntx; sent += rc) {
		rc = sendmmsg(fd, tx_msg + sent, ntx - sent, MSG_DONTWAIT);
		if (rc == -1) {
			if (errno == EINTR)
				continue;
			/* A full socket buffer drops the rest, as UDP does. */
			if (errno != EAGAIN)
				log_warn("sendmmsg");
			break;
		}
		if (rc == 0)
			break;
	}
	return n;
}

/* Read a ready socket until it is empty or it has had its share. */
static void
server_drain(int fd)
{
	int	 i;

	for (i = 0; i < SERVER_BATCHES; i++)
		if (server_batch(fd) < SERVER_BATCH)
			return;
}

/* The engine's description of the clock: checked, then served. */
static void
server_sync_state(struct imsg *imsg)
{
	struct sync_state	 st;

	if (imsg->datalen != sizeof(st))
		fatalx("sync state of %zu bytes", imsg->datalen);
	memcpy(&st, imsg->data, sizeof(st));
	if (st.synced > 1 || st.leap > NTP_LEAP_UNSYNC ||
	    (st.synced && (st.stratum < 1 || st.stratum >= NTP_MAX_STRATUM ||
	    st.leap == NTP_LEAP_UNSYNC)) ||
	    st.precision < -32 || st.precision > 0)
		fatalx("malformed sync state");
	ctx.state = st;
	log_debug("clock %s, stratum %u, leap %u",
	    st.synced ? "synchronised" : "unsynchronised", st.stratum,
	    st.leap);
}

static void
server_engine_msg(struct imsg *imsg, void *arg)
{
	(void)arg;
	switch (imsg->hdr.type) {
	case IMSG_SYNC_STATE:
		server_sync_state(imsg);
		break;
	default:
		fatalx("unexpected message %u from the engine",
		    imsg->hdr.type);
	}
}

/*
 * The access rules in force here: the global ones and this namespace's
 * as a layer above them.  The parser has refused duplicates already.
 * 0, or -1 (logged) with out emptied.
 */
static int
server_build_acl(const struct ntpd_conf *conf, const struct netns_cfg *ns,
    struct acl *out)
{
	const struct acl_rule_list	*lists[2] = { &conf->serve.rules,
					    &ns->serve.rules };
	const struct acl_rule_cfg	*rc;
	const struct acl_rule		*conflict;
	struct acl_rule			 r;
	int				 layer;

	acl_init(out);
	for (layer = 0; layer < 2; layer++) {
		TAILQ_FOREACH(rc, lists[layer], entry) {
			memset(&r, 0, sizeof(r));
			r.prefix = rc->prefix;
			r.action = rc->allow ? ACL_ALLOW : ACL_DENY;
			r.layer = layer == 0 ? ACL_GLOBAL : ACL_NAMESPACE;
			r.kod = rc->kod;
			r.lineno = rc->lineno;
			if (acl_add(out, &r, &conflict) == -1) {
				log_warn("access rule of line %d", rc->lineno);
				acl_free(out);
				return -1;
			}
		}
	}
	if (!acl_allows_any(out))
		log_warnx("no allow rule is in force in namespace %s: its "
		    "listeners will answer nobody", netns_display_name(
		    ns->name));
	return 0;
}

static struct ratelimit *
server_new_ratelimit(const struct serve_policy *pol)
{
	struct ratelimit_conf	 rc;

	memset(&rc, 0, sizeof(rc));
	rc.rate = pol->rate;
	rc.burst = pol->burst;
	rc.max_clients = pol->clients;
	rc.ipv6_prefixlen = 64;
	return ratelimit_new(&rc);
}

/*
 * A reload changed the rules or the rate limits here: applied between
 * two batches.  The rate-limit table stays, with its clients, unless its
 * size changed or it was switched on or off.
 */
static void
server_reconfigure(const struct ntpd_conf *conf)
{
	const struct netns_cfg	*ns;
	struct serve_policy	 pol;
	struct ratelimit	*rl = ctx.ratelimit;
	struct acl		 fresh;

	if ((ns = config_find_netns(conf, netns_name)) == NULL) {
		log_warnx("new configuration without namespace %s: ignored",
		    netns_display_name(netns_name));
		return;
	}
	config_serve_policy(conf, ns, &pol);
	if (server_build_acl(conf, ns, &fresh) == -1)
		fatalx("new access rules");
	if (pol.ratelimit_off) {
		rl = NULL;
	} else if (rl != NULL && !ctx.policy.ratelimit_off &&
	    pol.clients == ctx.policy.clients) {
		if (ratelimit_set_rate(rl, pol.rate, pol.burst) == -1)
			fatal("new rate limit");
	} else if ((rl = server_new_ratelimit(&pol)) == NULL) {
		fatal("new rate limit table");
	}
	if (rl != ctx.ratelimit && ctx.ratelimit != NULL)
		ratelimit_free(ctx.ratelimit);
	ctx.ratelimit = rl;
	acl_free(&acl);
	acl = fresh;
	ctx.acl = &acl;
	ctx.policy = pol;
	log_info("new access rules and rate limits in force");
}

static void
server_parent_msg(struct imsg *imsg, void *arg)
{
	struct ntpd_conf	*conf;

	(void)arg;
	switch (imsg->hdr.type) {
	case IMSG_RECONF:
		reconf_piece(&reconf, imsg);
		break;
	case IMSG_RECONF_END:
		if ((conf = reconf_take(&reconf, imsg)) == NULL)
			fatalx("new configuration");
		server_reconfigure(conf);
		config_free(conf);
		break;
	default:
		fatalx("unexpected message %u from the parent",
		    imsg->hdr.type);
	}
}

static void
server_read_parent(void)
{
	switch (proc_channel_read(&parent_ibuf, server_parent_msg, NULL)) {
	case 0:
		exit(0);
	case -1:
		fatal("channel to the parent");
	}
}

static void
server_setup(const struct ntpd_conf *conf, const struct netns_cfg *ns)
{
	int	 i;

	strlcpy(netns_name, ns->name, sizeof(netns_name));
	if (server_build_acl(conf, ns, &acl) == -1)
		fatalx("access rules");
	ctx.acl = &acl;
	config_serve_policy(conf, ns, &ctx.policy);
	if (!ctx.policy.ratelimit_off &&
	    (ctx.ratelimit = server_new_ratelimit(&ctx.policy)) == NULL)
		fatal("rate limit table");
	/* Unsynchronised until the engine says otherwise. */
	ctx.state.synced = 0;
	ctx.state.leap = NTP_LEAP_UNSYNC;
	ctx.state.stratum = NTP_MAX_STRATUM;
	ctx.state.precision = -20;

	for (i = 0; i < SERVER_BATCH; i++) {
		rx_iov[i].iov_base = rx_buf[i];
		rx_iov[i].iov_len = sizeof(rx_buf[i]);
		rx_msg[i].msg_hdr.msg_iov = &rx_iov[i];
		rx_msg[i].msg_hdr.msg_iovlen = 1;
		tx_iov[i].iov_base = tx_buf[i];
		tx_iov[i].iov_len = NTP_HEADER_SIZE;
		tx_msg[i].msg_hdr.msg_iov = &tx_iov[i];
		tx_msg[i].msg_hdr.msg_iovlen = 1;
	}
}

/* Counters and the busiest clients, to the engine, when they changed. */
static void
server_report(void)
{
	struct serve_stats	 st;
	struct ratelimit_client	 top[SERVE_TOP_CLIENTS];
	struct timespec		 now;
	size_t			 i, n;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if ((now.tv_sec - reported_at.tv_sec) * 1000 +
	    (now.tv_nsec - reported_at.tv_nsec) / 1000000 < SERVER_REPORT_MS)
		return;
	reported_at = now;
	if (memcmp(&reported, &ctx.counters, sizeof(reported)) == 0)
		return;
	memset(&st, 0, sizeof(st));
	st.counters = ctx.counters;
	if (ctx.ratelimit != NULL) {
		st.nclients = ratelimit_nclients(ctx.ratelimit);
		st.evictions = ratelimit_evictions(ctx.ratelimit);
		n = ratelimit_top(ctx.ratelimit, top, SERVE_TOP_CLIENTS);
		for (i = 0; i < n; i++) {
			addr_ntop((struct sockaddr *)&top[i].addr,
			    st.top[i].addr, sizeof(st.top[i].addr));
			st.top[i].prefixlen = top[i].prefixlen;
			st.top[i].requests = top[i].requests;
			st.top[i].limited = top[i].limited;
		}
		st.ntop = n;
	}
	/* An engine that stopped reading gets no more; nothing else waits. */
	if (imsg_compose(&engine_ibuf, IMSG_SERVER_STATS, 0, -1, &st,
	    sizeof(st)) == 0)
		reported = ctx.counters;
}

static void
server_read_engine(void)
{
	switch (proc_channel_read(&engine_ibuf, server_engine_msg, NULL)) {
	case 0:
		exit(0);
	case -1:
		fatal("channel to the engine");
	}
}

void
server_main(struct child_env *env)
{
	struct pollfd	 pfd[2 + SERVER_MAX_SOCKETS];
	size_t		 i;

	imsgbuf_init(&parent_ibuf, env->parent_fd);
	imsgbuf_init(&engine_ibuf, env->engine_fd);
	proc_child_init(PROC_SERVER, env->netns->name, &parent_ibuf,
	    env->parent_pid);
	if (env->netns->name[0] != '\0')
		server_enter_netns(env->netns->name);
	server_listen(env->netns);
	server_setup(env->conf, env->netns);
	proc_drop_privileges(PROC_SERVER, env->uid, env->gid,
	    env->conf->chroot_dir);
	/* Up: from now on an end is a loss, not a failed start. */
	if (imsg_compose(&parent_ibuf, IMSG_STARTED, 0, -1, NULL, 0) == -1)
		fatal("imsg_compose");

	for (;;) {
		proc_poll_channel(&pfd[0], &parent_ibuf);
		proc_poll_channel(&pfd[1], &engine_ibuf);
		for (i = 0; i < nsocks; i++) {
			pfd[2 + i].fd = socks[i];
			pfd[2 + i].events = POLLIN;
		}
		if (proc_wait(pfd, 2 + nsocks, SERVER_REPORT_MS) == -1 &&
		    errno != EINTR)
			fatal("poll");
		if (proc_should_quit())
			exit(0);
		if (proc_channel_ready(&pfd[0], &parent_ibuf))
			server_read_parent();
		if (proc_channel_ready(&pfd[1], &engine_ibuf))
			server_read_engine();
		for (i = 0; i < nsocks; i++)
			if (pfd[2 + i].revents & POLLIN)
				server_drain(socks[i]);
		server_report();
	}
}
