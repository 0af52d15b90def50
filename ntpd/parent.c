/*
 * The parent: the one process that stays root.  It checks the ground
 * (user, jail directory, control socket), forks the children, writes
 * their log lines, and stops everything when one of them dies or it is
 * told to stop.  It runs no protocol code: it adjusts the clock on the
 * engine's request within its own policy, keeps the RTC, the last-known
 * time and the time zone, reloads the configuration, and writes the
 * audit trail.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define LIBBSD_OPENBSD_VIS	/* strnvis(dst, src, dstsize, flags) */
#include <vis.h>

#include "auditlog.h"
#include "clock.h"
#include "log.h"
#include "ntpd.h"
#include "parent.h"
#include "reconf.h"
#include "stats.h"
#include "timekeep.h"

#define SHUTDOWN_GRACE_MS	3000	/* then SIGKILL */
#define PARENT_TICK_MS		60000	/* RTC, last-known time, drift */

struct child {
	TAILQ_ENTRY(child)	 entry;
	enum proc_role		 role;
	pid_t			 pid;
	char			 label[NETNS_NAME_MAX + 16];
	char			 netns[NETNS_NAME_MAX];
	struct imsgbuf		 ibuf;
	int			 chan_open;
	int			 reaped;
	int			 retiring;	/* stopped by a reload */
	int			 reloaded;	/* started by a reload */
	int			 ready;		/* said it is up (servers) */
};
TAILQ_HEAD(child_list, child);

static struct child_list	 children = TAILQ_HEAD_INITIALIZER(children);
static struct child		*engine;
static struct ntpd_conf		*conf;		/* in force */
static const struct ntpd_opts	*opts;
static uid_t			 run_uid;	/* the children's */
static gid_t			 run_gid;

/*
 * The user the children run as: must exist and must not be root, or the
 * whole separation would be for show.
 */
static void
parent_lookup_user(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd	*pw;

	errno = 0;
	if ((pw = getpwnam(name)) == NULL) {
		if (errno != 0)
			fatal("getpwnam %s", name);
		fatalx("unknown user %s (create it, see ntpd(8))", name);
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0)
		fatalx("user %s has uid or gid 0: refusing to run the jailed "
		    "processes as root", name);
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
}

/*
 * The jail directory: created when missing, otherwise it must be a
 * directory owned by root that no one else can write and that is empty,
 * so a jailed process finds nothing there and can leave nothing there.
 */
static void
parent_check_chroot(const char *dir)
{
	struct stat	 st;
	struct dirent	*de;
	DIR		*d;

	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		fatal("mkdir %s", dir);
	if (lstat(dir, &st) == -1)
		fatal("%s", dir);
	if (!S_ISDIR(st.st_mode))
		fatalx("%s: not a directory", dir);
	if (st.st_uid != 0)
		fatalx("%s: not owned by root", dir);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		fatalx("%s: writable by group or others", dir);
	if ((d = opendir(dir)) == NULL)
		fatal("%s", dir);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			fatalx("%s: not empty (holds %s)", dir, de->d_name);
	}
	closedir(d);
}

static struct child *
parent_new_child(enum proc_role role, const char *netns)
{
	struct child	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("calloc");
	c->role = role;
	if (netns != NULL)
		strlcpy(c->netns, netns, sizeof(c->netns));
	if (role == PROC_SERVER)
		snprintf(c->label, sizeof(c->label), "server [%s]",
		    netns_display_name(c->netns));
	else
		strlcpy(c->label, proc_role_name(role), sizeof(c->label));
	TAILQ_INSERT_TAIL(&children, c, entry);
	return c;
}

/*
 * Fork one child.  It keeps its own end of its channel to us, of its
 * channel to the engine (dns and server) and the control socket (engine),
 * and closes every other descriptor.  Returns our end of its channel to
 * the engine, or -1 for the engine itself.
 */
static int
parent_fork(struct child *c, struct child_env *env, int ctl_fd)
{
	int	 to_parent[2], to_engine[2] = { -1, -1 };
	int	 keep[3];
	pid_t	 pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    to_parent) == -1)
		fatal("socketpair");
	if (c->role != PROC_ENGINE && socketpair(AF_UNIX,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, to_engine) == -1)
		fatal("socketpair");

	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid == 0) {
		keep[0] = to_parent[1];
		keep[1] = to_engine[1];
		keep[2] = c->role == PROC_ENGINE ? ctl_fd : -1;
		proc_close_fds_except(keep, 3);
		env->parent_fd = to_parent[1];
		env->engine_fd = to_engine[1];
		env->ctl_fd = keep[2];
		switch (c->role) {
		case PROC_ENGINE:
			engine_main(env);
		case PROC_DNS:
			dns_main(env);
		case PROC_SERVER:
			server_main(env);
		case PROC_PARENT:
			break;
		}
		_exit(1);
	}

	c->pid = pid;
	close(to_parent[1]);
	imsgbuf_init(&c->ibuf, to_parent[0]);
	c->chan_open = 1;
	if (to_engine[1] != -1)
		close(to_engine[1]);
	return to_engine[0];
}

static void
parent_send_proc_info(enum proc_role role, pid_t pid, uid_t uid,
    const char *netns, int ended)
{
	struct proc_info	 pi;

	memset(&pi, 0, sizeof(pi));
	pi.role = role;
	pi.pid = pid;
	pi.uid = uid;
	if (netns != NULL)
		strlcpy(pi.netns, netns, sizeof(pi.netns));
	if (imsg_compose(&engine->ibuf, IMSG_PROC_INFO, ended, -1, &pi,
	    sizeof(pi)) == -1)
		fatal("imsg_compose");
}

static void
parent_child_env(struct child_env *env, struct ntpd_conf *c)
{
	memset(env, 0, sizeof(*env));
	env->conf = c;
	env->uid = run_uid;
	env->gid = run_gid;
	env->parent_pid = getpid();
}

/* A server, and its channel to the engine, named by its namespace. */
static struct child *
parent_fork_server(struct ntpd_conf *in, struct netns_cfg *ns)
{
	struct child_env	 env;
	struct child		*c;
	int			 fd;

	c = parent_new_child(PROC_SERVER, ns->name);
	parent_child_env(&env, in);
	env.netns = ns;
	fd = parent_fork(c, &env, -1);
	if (imsg_compose(&engine->ibuf, IMSG_SERVER_CHANNEL, 0, fd, ns->name,
	    strlen(ns->name) + 1) == -1)
		fatal("imsg_compose");
	return c;
}

static void
parent_start_children(int ctl_fd, const struct imsg_clock_init *ci)
{
	struct child_env	 env;
	struct netns_cfg	*ns;
	struct child		*c;
	int			 fd;

	parent_child_env(&env, conf);
	engine = parent_new_child(PROC_ENGINE, NULL);
	(void)parent_fork(engine, &env, ctl_fd);
	/* Only the engine serves the control socket. */
	close(ctl_fd);

	c = parent_new_child(PROC_DNS, NULL);
	fd = parent_fork(c, &env, -1);
	if (imsg_compose(&engine->ibuf, IMSG_DNS_CHANNEL, 0, fd, NULL, 0) ==
	    -1)
		fatal("imsg_compose");

	TAILQ_FOREACH(ns, &conf->namespaces, entry)
		(void)parent_fork_server(conf, ns);

	if (imsg_compose(&engine->ibuf, IMSG_CLOCK_INIT, 0, -1, ci,
	    sizeof(*ci)) == -1)
		fatal("imsg_compose");
	parent_send_proc_info(PROC_PARENT, getpid(), 0, NULL, 0);
	TAILQ_FOREACH(c, &children, entry)
		parent_send_proc_info(c->role, c->pid, run_uid, c->netns, 0);
	if (imsg_compose(&engine->ibuf, IMSG_STARTED, 0, -1, NULL, 0) == -1)
		fatal("imsg_compose");
}

static struct child *
parent_find_server(const char *netns)
{
	struct child	*c;

	TAILQ_FOREACH(c, &children, entry)
		if (c->role == PROC_SERVER && !c->reaped && !c->retiring &&
		    strcmp(c->netns, netns) == 0)
			return c;
	return NULL;
}

void
parent_server_start(struct ntpd_conf *newconf, struct netns_cfg *ns)
{
	struct child		*c;

	c = parent_fork_server(newconf, ns);
	c->reloaded = 1;
	parent_send_proc_info(PROC_SERVER, c->pid, run_uid, c->netns, 0);
	log_info("%s (pid %d) started", c->label, (int)c->pid);
}

void
parent_server_retire(const char *netns)
{
	struct child	*c;

	if ((c = parent_find_server(netns)) == NULL)
		return;
	c->retiring = 1;
	if (kill(c->pid, SIGTERM) == -1 && errno != ESRCH)
		log_warn("cannot signal %s (pid %d)", c->label, (int)c->pid);
	parent_send_proc_info(PROC_SERVER, c->pid, run_uid, c->netns, 1);
	log_info("%s (pid %d) stopping: its namespace changed", c->label,
	    (int)c->pid);
}

void
parent_server_reconf(const char *netns, const char *text, size_t len)
{
	struct child	*c;

	if ((c = parent_find_server(netns)) == NULL || !c->chan_open)
		return;
	if (reconf_send(&c->ibuf, text, len) == -1)
		fatal("configuration to %s", c->label);
}

void
parent_engine_reconf(const char *text, size_t len)
{
	if (reconf_send(&engine->ibuf, text, len) == -1)
		fatal("configuration to the engine");
}

/*
 * The statistics log is opened here, as root and before the engine
 * could ever name a path: the engine only ever gets the descriptor.
 */
void
parent_stats_open(const char *path)
{
	int	 fd = path[0] == '\0' ? -1 : stats_open(path);

	/* No descriptor: the engine closes the one it has. */
	if (imsg_compose(&engine->ibuf, IMSG_STATS_FD, 0, fd, NULL, 0) == -1)
		fatal("imsg_compose");
}

/*
 * A child's log line: checked, made printable, and labelled with the
 * role we started that child as.
 */
static void
parent_child_log(struct child *c, struct imsg *imsg)
{
	struct imsg_log_hdr	 hdr;
	const char		*text;
	char			 safe[4 * LOG_LINE_MAX];
	size_t			 len;
	int			 priority;

	if (imsg->datalen <= sizeof(hdr) ||
	    imsg->datalen > sizeof(hdr) + LOG_LINE_MAX) {
		log_warnx("%s: malformed log message (%zu bytes)", c->label,
		    imsg->datalen);
		return;
	}
	memcpy(&hdr, imsg->data, sizeof(hdr));
	text = (const char *)imsg->data + sizeof(hdr);
	len = imsg->datalen - sizeof(hdr);
	if (text[len - 1] != '\0') {
		log_warnx("%s: unterminated log message", c->label);
		return;
	}
	/* A child may not raise alarms above critical. */
	priority = hdr.priority;
	if (priority < LOG_CRIT || priority > LOG_DEBUG)
		priority = LOG_ERR;
	strnvis(safe, text, sizeof(safe), VIS_CSTYLE | VIS_OCTAL | VIS_NL |
	    VIS_TAB);
	logit(priority, "%s: %s", c->label, safe);
}


/* The engine asks; clock.c checks against the policy and does it. */
static void
parent_clock_adjust(struct child *c, struct imsg *imsg)
{
	struct imsg_clock_adjust	 req;
	struct imsg_clock_result	 res;
	char				 offset[32];

	if (imsg->datalen != sizeof(req)) {
		log_warnx("%s: malformed clock adjustment (%zu bytes)",
		    c->label, imsg->datalen);
		return;
	}
	memcpy(&req, imsg->data, sizeof(req));
	clock_adjust(&req, &res);
	snprintf(offset, sizeof(offset), "%+.6f", req.offset);
	if (res.action == CLOCK_STEP)
		auditlog_event(AUDIT_EV_CLOCK_STEP, AUDIT_WHO_DAEMON, "source",
		    "ntp", "offset", offset, NULL);
	else if (res.refused && clock_controlled())
		auditlog_event(AUDIT_EV_REFUSED, AUDIT_WHO_DAEMON, "by",
		    "parent", "action", req.action == CLOCK_STEP ? "step" :
		    "slew", "offset", offset, NULL);
	if (imsg_compose(&c->ibuf, IMSG_CLOCK_RESULT, 0, -1, &res,
	    sizeof(res)) == -1)
		fatal("imsg_compose");
}

/* The engine's tolerance refused a correction: the trail says so. */
static void
parent_refused(struct child *c, struct imsg *imsg)
{
	struct imsg_refused	 r;
	char			 offset[32], tolerance[32], unsaid[32];

	if (imsg->datalen != sizeof(r)) {
		log_warnx("%s: malformed refusal (%zu bytes)", c->label,
		    imsg->datalen);
		return;
	}
	memcpy(&r, imsg->data, sizeof(r));
	snprintf(offset, sizeof(offset), "%+.6f", r.offset);
	snprintf(tolerance, sizeof(tolerance), "%g", r.tolerance);
	snprintf(unsaid, sizeof(unsaid), "%llu",
	    (unsigned long long)r.unsaid);
	auditlog_event(AUDIT_EV_REFUSED, AUDIT_WHO_DAEMON, "by", "engine",
	    "offset", offset, "tolerance", tolerance, "unsaid", unsaid, NULL);
}

/* A line of a control request's answer, through the engine. */
static void
parent_say(void *arg, const char *line)
{
	uint32_t	 id = *(const uint32_t *)arg;

	if (imsg_compose(&engine->ibuf, IMSG_CTL_ANSWER, id, -1, line,
	    strlen(line) + 1) == -1)
		fatal("imsg_compose");
}

static void
parent_ctl_done(uint32_t id, int error, const char *msg)
{
	struct imsg_ctl_done	 done;

	memset(&done, 0, sizeof(done));
	done.error = error;
	strlcpy(done.msg, msg, sizeof(done.msg));
	if (imsg_compose(&engine->ibuf, IMSG_CTL_DONE, id, -1, &done,
	    sizeof(done)) == -1)
		fatal("imsg_compose");
}

/*
 * Who asked, from the kernel: the engine passes the client's connection
 * and the parent reads its credentials itself, so an engine that lies
 * cannot make a change as root.
 */
static int
parent_ctl_peer(int fd, uid_t *uid, pid_t *pid)
{
	struct ucred	 cred;
	socklen_t	 len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1 ||
	    len != sizeof(cred))
		return -1;
	*uid = cred.uid;
	*pid = cred.pid;
	return 0;
}

static void
parent_ctl_request(struct imsg *imsg)
{
	struct imsg_ctl_request	 req;
	uint32_t		 id = imsg->hdr.peerid;
	char			 who[AUDIT_WHO_MAX], msg[CTL_MSG_MAX];
	uid_t			 uid;
	pid_t			 pid;
	int			 fd, rc;

	fd = imsg_take_fd(imsg);
	if (imsg->datalen != sizeof(req) || fd == -1) {
		if (fd != -1)
			close(fd);
		log_warnx("engine: malformed control request");
		parent_ctl_done(id, EINVAL, "malformed request");
		return;
	}
	memcpy(&req, imsg->data, sizeof(req));
	rc = parent_ctl_peer(fd, &uid, &pid);
	close(fd);
	if (rc == -1 || uid != 0) {
		log_warnx("control request %u refused: %s", req.type,
		    rc == -1 ? "no peer credentials" : "not root");
		parent_ctl_done(id, EPERM, "permission denied: root only");
		return;
	}
	(void)audit_who_peer(who, sizeof(who), uid, pid);
	switch (req.type) {
	case CTL_RELOAD:
		rc = reload_config(opts->conf_path, &conf, who, parent_say,
		    &id);
		parent_ctl_done(id, rc == 0 ? 0 : EINVAL, rc == 0 ? "" :
		    "configuration refused; the one in force is unchanged");
		return;
	case CTL_TZ_SET:
		if (memchr(req.arg, '\0', sizeof(req.arg)) == NULL) {
			parent_ctl_done(id, EINVAL, "malformed request");
			return;
		}
		rc = timekeep_set_timezone(req.arg, who, msg, sizeof(msg));
		if (rc == 0)
			parent_say(&id, msg);
		parent_ctl_done(id, rc == 0 ? 0 : EINVAL, rc == 0 ? "" : msg);
		return;
	default:
		parent_ctl_done(id, EOPNOTSUPP, "unknown request");
		return;
	}
}

/* What only the engine may ask. */
static void
parent_engine_msg(struct child *c, struct imsg *imsg)
{
	switch (imsg->hdr.type) {
	case IMSG_CLOCK_ADJUST:
		parent_clock_adjust(c, imsg);
		break;
	case IMSG_REFUSED:
		parent_refused(c, imsg);
		break;
	case IMSG_CTL_REQUEST:
		parent_ctl_request(imsg);
		break;
	}
}

static void
parent_child_msg(struct imsg *imsg, void *arg)
{
	struct child	*c = arg;

	switch (imsg->hdr.type) {
	case IMSG_LOG:
		parent_child_log(c, imsg);
		break;
	case IMSG_CLOCK_ADJUST:
	case IMSG_REFUSED:
	case IMSG_CTL_REQUEST:
		if (c->role != PROC_ENGINE) {
			log_warnx("%s: message %u refused: not the engine",
			    c->label, imsg->hdr.type);
			break;
		}
		parent_engine_msg(c, imsg);
		break;
	case IMSG_STARTED:
		if (c->role == PROC_SERVER && imsg->datalen == 0)
			c->ready = 1;
		else
			log_warnx("%s: malformed start message", c->label);
		break;
	default:
		log_warnx("%s: unexpected message %u", c->label,
		    imsg->hdr.type);
		break;
	}
}

static void
parent_close_channel(struct child *c)
{
	if (!c->chan_open)
		return;
	imsgbuf_clear(&c->ibuf);
	close(c->ibuf.fd);
	c->chan_open = 0;
}

/* Says "exited with status N" or "killed by signal N (SIGNAME)". */
static void
describe_status(int status, char *buf, size_t len)
{
	const char	*name;

	if (WIFEXITED(status)) {
		snprintf(buf, len, "exited with status %d",
		    WEXITSTATUS(status));
		return;
	}
	if (WIFSIGNALED(status)) {
		name = sigabbrev_np(WTERMSIG(status));
		snprintf(buf, len, "killed by signal %d (SIG%s)%s",
		    WTERMSIG(status), name != NULL ? name : "?",
		    WTERMSIG(status) == SIGSYS ?
		    ", a forbidden system call" : "");
		return;
	}
	snprintf(buf, len, "changed state 0x%x", (unsigned int)status);
}

static void
parent_forget(struct child *c)
{
	TAILQ_REMOVE(&children, c, entry);
	free(c);
}

/*
 * A child has ended: drain its last words, then say which one and why.
 * Returns 1 when the end was not expected (any end while running, a
 * failure while stopping).  A server stopped by a reload is expected;
 * one started by a reload that fails before it is up leaves its
 * namespace unserved and says so, but the rest runs on.
 */
static int
parent_child_ended(struct child *c, int status, int stopping)
{
	char	 why[96];

	c->reaped = 1;
	if (c->chan_open) {
		(void)proc_channel_read(&c->ibuf, parent_child_msg, c);
		parent_close_channel(c);
	}
	describe_status(status, why, sizeof(why));
	if (stopping && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		log_debug("%s (pid %d) %s", c->label, (int)c->pid, why);
		return 0;
	}
	if (!stopping && c->retiring) {
		log_info("%s (pid %d) stopped", c->label, (int)c->pid);
		parent_forget(c);
		return 0;
	}
	if (!stopping && c->reloaded && !c->ready) {
		log_warnx("%s (pid %d) could not start (%s): namespace %s is "
		    "not served", c->label, (int)c->pid, why,
		    netns_display_name(c->netns));
		auditlog_event(AUDIT_EV_NETNS_DEL, AUDIT_WHO_DAEMON, "netns",
		    netns_display_name(c->netns), "reason", "server failed "
		    "to start", NULL);
		parent_send_proc_info(PROC_SERVER, c->pid, run_uid, c->netns,
		    1);
		parent_forget(c);
		return 0;
	}
	log_warnx("lost child: %s (pid %d) %s", c->label, (int)c->pid, why);
	return 1;
}

/* Collect every child that has ended; returns how many were lost. */
static int
parent_reap(int stopping)
{
	struct child	*c;
	pid_t		 pid;
	int		 status, lost = 0;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		TAILQ_FOREACH(c, &children, entry)
			if (c->pid == pid)
				break;
		if (c != NULL)
			lost += parent_child_ended(c, status, stopping);
	}
	return lost;
}

/*
 * A child closed its channel, which it only does by ending: collect it
 * to say why.  One that closes it and lives on is not waited for.
 * Returns 1 when that is a loss.
 */
static int
parent_channel_lost(struct child *c)
{
	int	 status, i;

	parent_close_channel(c);
	for (i = 0; i < 100; i++) {
		if (waitpid(c->pid, &status, WNOHANG) == c->pid)
			return parent_child_ended(c, status, 0);
		(void)proc_wait(NULL, 0, 10);
	}
	log_warnx("lost child: %s (pid %d) closed its channel", c->label,
	    (int)c->pid);
	return 1;
}

static int
parent_all_reaped(void)
{
	struct child	*c;

	TAILQ_FOREACH(c, &children, entry)
		if (!c->reaped)
			return 0;
	return 1;
}

/* Reap what has ended, for up to ms milliseconds; 1 when all are gone. */
static int
parent_wait_children(long ms)
{
	struct timespec	 start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		(void)parent_reap(1);
		if (parent_all_reaped())
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 +
		    (now.tv_nsec - start.tv_nsec) / 1000000 >= ms)
			return 0;
		(void)proc_wait(NULL, 0, 20);
	}
}

static void
parent_signal_child(struct child *c, int sig)
{
	if (kill(c->pid, sig) == -1 && errno != ESRCH)
		log_warn("cannot signal %s (pid %d)", c->label, (int)c->pid);
}

/*
 * Stop every child still there.  Closing its channel stops a child even
 * where no signal can reach it (the children exit when the parent's
 * channel closes); SIGKILL follows after a grace time.  Every wait is
 * bounded: the parent never hangs on a child.
 */
static void
parent_stop_children(void)
{
	struct child	*c;

	TAILQ_FOREACH(c, &children, entry) {
		if (c->reaped)
			continue;
		parent_signal_child(c, SIGTERM);
		if (c->chan_open) {
			(void)proc_channel_read(&c->ibuf, parent_child_msg, c);
			parent_close_channel(c);
		}
	}
	if (parent_wait_children(SHUTDOWN_GRACE_MS))
		return;
	TAILQ_FOREACH(c, &children, entry) {
		if (c->reaped)
			continue;
		log_warnx("%s (pid %d) did not stop, killing it", c->label,
		    (int)c->pid);
		parent_signal_child(c, SIGKILL);
	}
	if (parent_wait_children(1000))
		return;
	TAILQ_FOREACH(c, &children, entry)
		if (!c->reaped)
			log_warnx("%s (pid %d) is still there; leaving it",
			    c->label, (int)c->pid);
}

static void
parent_sighup(void)
{
	char	 who[AUDIT_WHO_MAX];

	(void)audit_who_signal(who, sizeof(who), SIGHUP);
	log_info("SIGHUP: reloading %s", opts->conf_path);
	(void)reload_config(opts->conf_path, &conf, who, NULL, NULL);
}

/* One pass over the children's channels; 1 when a child was lost. */
static int
parent_dispatch(struct pollfd *pfd, struct child **polled, size_t n)
{
	struct child	*c;
	size_t		 i;

	for (i = 0; i < n; i++) {
		c = polled[i];
		if (!c->chan_open)
			continue;	/* retired meanwhile */
		if (pfd[i].revents & POLLOUT &&
		    imsgbuf_write(&c->ibuf) == -1) {
			if (parent_channel_lost(c))
				return 1;
			continue;
		}
		if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (proc_channel_read(&c->ibuf, parent_child_msg, c) != 1 &&
		    parent_channel_lost(c))
			return 1;
	}
	return 0;
}

/* Returns 0 when told to stop, 1 when a child was lost. */
static int
parent_loop(void)
{
	struct pollfd	 pfd[3 + 2 * CONF_MAX_NAMESPACES];
	struct child	*polled[3 + 2 * CONF_MAX_NAMESPACES], *c;
	size_t		 n;

	for (;;) {
		n = 0;
		TAILQ_FOREACH(c, &children, entry) {
			if (!c->chan_open || n == sizeof(pfd) / sizeof(pfd[0]))
				continue;
			polled[n] = c;
			pfd[n].fd = c->ibuf.fd;
			pfd[n].events = POLLIN;
			if (c->ibuf.queued > 0)
				pfd[n].events |= POLLOUT;
			n++;
		}
		if (proc_wait(pfd, n, PARENT_TICK_MS) == -1 && errno != EINTR)
			fatal("poll");
		if (proc_should_quit()) {
			log_info("terminating on signal");
			return 0;
		}
		if (parent_dispatch(pfd, polled, n))
			return 1;
		if (proc_take_sighup())
			parent_sighup();
		if (proc_take_sigchld() && parent_reap(0) > 0)
			return 1;
		timekeep_tick();
		clock_save_drift(0);
	}
}

static void
parent_audit_start(void)
{
	auditlog_event(AUDIT_EV_START, AUDIT_WHO_STARTUP, "version",
	    NTPD_VERSION, "config", opts->conf_path, "clock",
	    opts->no_clock ? "measure-only" : "controlled", NULL);
}

static void
parent_audit_stop(int lost)
{
	char	 who[AUDIT_WHO_MAX];
	int	 sig = proc_should_quit();

	if (sig != 0 && audit_who_signal(who, sizeof(who), sig) == 0)
		auditlog_event(AUDIT_EV_STOP, who, NULL);
	else
		auditlog_event(AUDIT_EV_STOP, AUDIT_WHO_DAEMON, "reason",
		    lost ? "a child process was lost" : "unknown", NULL);
}

int
parent_main(struct ntpd_conf *initial, const struct ntpd_opts *o)
{
	struct imsg_clock_init	 ci;
	int			 ctl_fd, lost;

	conf = initial;
	opts = o;
	parent_lookup_user(conf->user, &run_uid, &run_gid);
	parent_check_chroot(conf->chroot_dir);
	if ((ctl_fd = control_open(conf->socket_path)) == -1)
		fatalx("cannot create the control socket %s",
		    conf->socket_path);

	if (!opts->foreground && daemon(0, 0) == -1) {
		control_unlink(conf->socket_path);
		fatal("daemon");
	}
	log_init(opts->foreground, opts->verbose, "ntpd");
	proc_signals_init();
	proc_set_title(PROC_PARENT, NULL);
	log_info("ntpd %s starting: %d server process%s", NTPD_VERSION,
	    config_count_netns(conf),
	    config_count_netns(conf) == 1 ? "" : "es");
	(void)auditlog_open(conf->audit_file);
	parent_audit_start();

	clock_start(&conf->clock, !opts->no_clock, &ci);
	timekeep_start(conf);
	parent_start_children(ctl_fd, &ci);
	if (conf->statistics_file[0] != '\0')
		parent_stats_open(conf->statistics_file);
	lost = parent_loop();
	if (lost)
		log_warnx("a child process was lost: shutting down");
	parent_stop_children();
	clock_save_drift(1);
	timekeep_stop();
	control_unlink(conf->socket_path);
	parent_audit_stop(lost);
	auditlog_close();
	log_info("stopped");
	return lost ? 1 : 0;
}
