/*
 * The dns process: resolves the names of upstream servers for the
 * engine.  It cannot be chrooted, since the resolver reads /etc, but it
 * runs unprivileged under a filter that allows read-only opens only.
 */
#include <sys/socket.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "ntpd.h"

static struct imsgbuf	 parent_ibuf;
static struct imsgbuf	 engine_ibuf;

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
		if (proc_channel_ready(&pfd[1], &engine_ibuf))
			proc_read_idle_channel(&engine_ibuf, "engine");
	}
}
