/*
 * A server process: one per network namespace with listeners.  While
 * still root it enters its namespace and binds its addresses there; then
 * it is jailed like the engine, and cannot open a socket at all.
 *
 * Answering clients comes with the allow lists and rate limits: until
 * then a request is read, counted and dropped, so that the listeners
 * exist and nobody gets time from an unchecked service.
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

#define SERVER_MAX_SOCKETS	(2 * CONF_MAX_LISTENERS)
#define SERVER_PKT_MAX		1024	/* anything longer is not NTP */

static struct imsgbuf	 parent_ibuf;
static struct imsgbuf	 engine_ibuf;
static int		 socks[SERVER_MAX_SOCKETS];
static size_t		 nsocks;
static uint64_t		 requests_dropped;

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
	int	 fd, on = 1, saved_errno;

	fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return -1;
	/* A v6 socket on :: must not also take the v4 traffic. */
	if (sa->sa_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1)
		fatal("setsockopt IPV6_V6ONLY");
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

/* Drain one socket: read, count, drop (see the top of the file). */
static void
server_drain(int fd)
{
	unsigned char	 pkt[SERVER_PKT_MAX];
	ssize_t		 n;
	int		 i;

	for (i = 0; i < 64; i++) {
		n = recv(fd, pkt, sizeof(pkt), MSG_DONTWAIT | MSG_TRUNC);
		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("recv");
			return;
		}
		requests_dropped++;
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
	proc_drop_privileges(PROC_SERVER, env->uid, env->gid,
	    env->conf->chroot_dir);

	for (;;) {
		pfd[0].fd = parent_ibuf.fd;
		pfd[0].events = POLLIN | (parent_ibuf.queued ? POLLOUT : 0);
		pfd[1].fd = engine_ibuf.fd;
		pfd[1].events = POLLIN | (engine_ibuf.queued ? POLLOUT : 0);
		for (i = 0; i < nsocks; i++) {
			pfd[2 + i].fd = socks[i];
			pfd[2 + i].events = POLLIN;
		}
		if (proc_wait(pfd, 2 + nsocks, -1) == -1 && errno != EINTR)
			fatal("poll");
		if (proc_should_quit())
			exit(0);
		if (pfd[0].revents & POLLOUT &&
		    imsgbuf_write(&parent_ibuf) == -1)
			exit(0);
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
			proc_read_idle_channel(&parent_ibuf, "parent");
		if (pfd[1].revents & POLLOUT &&
		    imsgbuf_write(&engine_ibuf) == -1)
			exit(0);
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))
			proc_read_idle_channel(&engine_ibuf, "engine");
		for (i = 0; i < nsocks; i++)
			if (pfd[2 + i].revents & POLLIN)
				server_drain(socks[i]);
	}
}
