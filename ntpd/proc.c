/*
 * What every child process does to become itself: its title, its file
 * descriptors, its log channel, its signals and the privilege drop.
 */
#include <sys/prctl.h>
#include <sys/types.h>
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "ntpd.h"

static volatile sig_atomic_t	 sig_quit;
static volatile sig_atomic_t	 sig_chld;
static volatile sig_atomic_t	 sig_hup;
static sigset_t			 wait_mask;	/* unblocked while waiting */
static struct imsgbuf		*log_ibuf;
static int			 title_min_len;
static pid_t			 parent_pid;	/* as the parent knew itself */

const char *
proc_role_name(enum proc_role role)
{
	switch (role) {
	case PROC_PARENT:
		return "parent";
	case PROC_ENGINE:
		return "engine";
	case PROC_DNS:
		return "dns";
	case PROC_SERVER:
		return "server";
	}
	return "unknown";
}

/*
 * libbsd marks a title shorter than the original command line with a
 * '.' where that line used to end, which ps then shows ("ntpd: dns   .").
 * Padding the title with blanks to that length avoids the mark; ps does
 * not show trailing blanks.  Called from main() before setproctitle_init.
 */
void
proc_title_init(int argc, char *argv[])
{
	if (argc > 0)
		title_min_len = (int)(argv[argc - 1] +
		    strlen(argv[argc - 1]) - argv[0]);
}

/* "ntpd: engine" in ps, "ntpd-engine" in /proc/PID/comm. */
void
proc_set_title(enum proc_role role, const char *netns)
{
	char	 title[NETNS_NAME_MAX + 32];
	char	 comm[16];
	int	 pad;

	if (role == PROC_SERVER)
		snprintf(title, sizeof(title), "server [%s]",
		    netns_display_name(netns));
	else
		strlcpy(title, proc_role_name(role), sizeof(title));
	/* "ntpd: " is prepended by setproctitle. */
	pad = title_min_len - (int)strlen(title) - 6;
	setproctitle("%s%*s", title, pad > 0 ? pad : 0, "");
	if (role == PROC_PARENT)
		return;
	snprintf(comm, sizeof(comm), "ntpd-%s", proc_role_name(role));
	prctl(PR_SET_NAME, comm, 0, 0, 0);
}

/*
 * Close every descriptor above stderr but the ones in keep, so that no
 * child holds another process's channel.
 */
void
proc_close_fds_except(const int *keep, size_t nkeep)
{
	unsigned int	 lo = 3;
	int		 sorted[8];
	size_t		 i, j, n = 0;

	for (i = 0; i < nkeep; i++) {
		if (keep[i] < 3)
			continue;
		if (n == sizeof(sorted) / sizeof(sorted[0]))
			fatalx("%s: too many descriptors to keep", __func__);
		for (j = n; j > 0 && sorted[j - 1] > keep[i]; j--)
			sorted[j] = sorted[j - 1];
		sorted[j] = keep[i];
		n++;
	}
	for (i = 0; i < n; i++) {
		if ((unsigned int)sorted[i] > lo &&
		    close_range(lo, sorted[i] - 1, 0) == -1)
			fatal("close_range");
		lo = sorted[i] + 1;
	}
	if (close_range(lo, ~0U, 0) == -1)
		fatal("close_range");
}

/*
 * A child's log lines go to the parent, which labels them with the role
 * it started the child as: a child cannot speak in anybody else's name.
 * The write is synchronous so that the last words before an exit arrive.
 */
static void
proc_log_to_parent(int priority, const char *msg)
{
	unsigned char	 buf[sizeof(struct imsg_log_hdr) + LOG_LINE_MAX];
	struct imsg_log_hdr hdr;
	size_t		 len;

	if (log_ibuf == NULL)
		return;
	hdr.priority = priority;
	len = strnlen(msg, LOG_LINE_MAX - 1);
	memcpy(buf, &hdr, sizeof(hdr));
	memcpy(buf + sizeof(hdr), msg, len);
	buf[sizeof(hdr) + len] = '\0';
	if (imsg_compose(log_ibuf, IMSG_LOG, 0, -1, buf,
	    sizeof(hdr) + len + 1) == -1)
		return;
	(void)imsgbuf_flush(log_ibuf);
}


static void
proc_signal(int sig)
{
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		sig_quit = sig;
		break;
	case SIGCHLD:
		sig_chld = 1;
		break;
	case SIGHUP:
		sig_hup = 1;
		break;
	}
}

/*
 * Signals are blocked except while the process waits in proc_wait(), so
 * a handler only ever runs there and the flags are checked right after:
 * no signal is lost between a check and the wait.
 */
void
proc_signals_init(void)
{
	struct sigaction	 sa;
	sigset_t		 block;
	const int		 sigs[] = { SIGTERM, SIGINT, SIGCHLD, SIGHUP };
	size_t			 i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = proc_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if (sigaction(sigs[i], &sa, NULL) == -1)
			fatal("sigaction");
		sigaddset(&block, sigs[i]);
	}
	signal(SIGPIPE, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, &block, &wait_mask) == -1)
		fatal("sigprocmask");
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigdelset(&wait_mask, sigs[i]);
}

/* 0, or the signal (SIGTERM, SIGINT) that says to stop. */
int
proc_should_quit(void)
{
	return sig_quit;
}

int
proc_take_sigchld(void)
{
	int	 was = sig_chld;

	sig_chld = 0;
	return was;
}

int
proc_take_sighup(void)
{
	int	 was = sig_hup;

	sig_hup = 0;
	return was;
}

/* poll() that is also woken by the signals above; -1 EINTR then. */
int
proc_wait(struct pollfd *pfd, nfds_t npfd, int timeout_ms)
{
	struct timespec	 ts, *tsp = NULL;

	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
		tsp = &ts;
	}
	return ppoll(pfd, npfd, tsp, &wait_mask);
}

/*
 * Die with the parent: a child must never outlive the daemon.  The pid
 * to compare with is the one the parent had before the fork, so that a
 * parent that died even before the child ran is noticed too.
 */
static void
proc_watch_parent(void)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_PDEATHSIG)");
	if (getppid() != parent_pid)
		_exit(0);
}

/*
 * The order matters: chroot while still root, then give up the groups
 * and ids (gid first, while we may still change it), then no_new_privs
 * and the seccomp filter, the last of which the process can never undo.
 * The parent-death signal is armed after the id change because changing
 * ids clears it.
 */
void
proc_drop_privileges(enum proc_role role, uid_t uid, gid_t gid,
    const char *chroot_dir)
{
	uid_t	 ruid, euid, suid;
	gid_t	 rgid, egid, sgid;

	if (uid == 0)
		fatalx("refusing to run the %s as root", proc_role_name(role));
	if (chroot_dir != NULL) {
		if (chroot(chroot_dir) == -1)
			fatal("chroot %s", chroot_dir);
		if (chdir("/") == -1)
			fatal("chdir /");
	}
	if (setgroups(0, NULL) == -1)
		fatal("setgroups");
	if (setresgid(gid, gid, gid) == -1)
		fatal("setresgid %u", (unsigned int)gid);
	if (setresuid(uid, uid, uid) == -1)
		fatal("setresuid %u", (unsigned int)uid);
	if (getresuid(&ruid, &euid, &suid) == -1 ||
	    getresgid(&rgid, &egid, &sgid) == -1)
		fatal("getresuid");
	if (ruid != uid || euid != uid || suid != uid ||
	    rgid != gid || egid != gid || sgid != gid)
		fatalx("privilege drop left other ids behind");
	if (setresuid(0, 0, 0) != -1)
		fatalx("privilege drop failed: root could be regained");
	proc_watch_parent();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_NO_NEW_PRIVS)");
	if (sandbox_apply(role) == -1)
		fatalx("cannot install the seccomp filter of the %s",
		    proc_role_name(role));
}

/*
 * First steps of every child.  Leaving the parent's process group means
 * a ^C at the terminal reaches the parent alone, which then stops the
 * children in order.
 */
void
proc_child_init(enum proc_role role, const char *netns,
    struct imsgbuf *parent_ibuf, pid_t parent)
{
	parent_pid = parent;
	if (setpgid(0, 0) == -1)
		fatal("setpgid");
	proc_set_title(role, netns);
	proc_signals_init();
	log_ibuf = parent_ibuf;
	log_set_procname(NULL);
	log_set_sink(proc_log_to_parent);
}

/*
 * Read what a channel has and hand every complete message to handler.
 * Returns 1, 0 when the peer has closed, or -1 on a broken or malformed
 * channel (errno set).
 */
int
proc_channel_read(struct imsgbuf *ibuf,
    void (*handler)(struct imsg *, void *), void *arg)
{
	struct imsg	 imsg;
	ssize_t		 n;
	int		 rc;

	n = imsgbuf_read(ibuf);
	if (n == 0)
		return 0;
	if (n == -1 && errno != EAGAIN && errno != EINTR)
		return -1;
	while ((rc = imsg_get(ibuf, &imsg)) == 1) {
		handler(&imsg, arg);
		imsg_free(&imsg);
	}
	return rc == -1 ? -1 : 1;
}

static void
proc_unexpected(struct imsg *imsg, void *peer)
{
	log_warnx("unexpected message %u from the %s", imsg->hdr.type,
	    (const char *)peer);
}

/*
 * A child's channel on which nothing is expected yet: anything that comes
 * is logged, and a closed channel (the parent or the engine is gone)
 * ends this process.
 */
void
proc_read_idle_channel(struct imsgbuf *ibuf, const char *peer)
{
	switch (proc_channel_read(ibuf, proc_unexpected, (void *)peer)) {
	case 0:
		exit(0);
	case -1:
		fatal("channel to the %s", peer);
	}
}

/* Wait for a channel: always for reading, for writing when output waits. */
void
proc_poll_channel(struct pollfd *pfd, const struct imsgbuf *ibuf)
{
	pfd->fd = ibuf->fd;
	pfd->events = POLLIN;
	if (ibuf->queued > 0)
		pfd->events |= POLLOUT;
}

/*
 * After the wait: write what is queued, and say whether there is
 * something to read.  A child whose channel cannot be written to has
 * lost its peer, and with it its reason to run.
 */
int
proc_channel_ready(const struct pollfd *pfd, struct imsgbuf *ibuf)
{
	if (pfd->revents & POLLOUT && imsgbuf_write(ibuf) == -1)
		exit(0);
	return (pfd->revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}
