/*
 * The control socket.  The parent creates it while still root, before
 * the engine is jailed; the engine accepts ntpctl's connections on it.
 * One request per connection: the engine answers and closes.  Any local
 * user may read; requests that change state are for root only, checked
 * on the peer's kernel-supplied credentials (SO_PEERCRED).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "log.h"
#include "ntpd.h"

#define CTL_MAX_CONNS		32
#define CTL_CONN_TIMEOUT	5	/* seconds for a whole exchange */
#define CTL_CHANGE_TIMEOUT	30	/* for one the parent carries out */

struct ctl_conn {
	TAILQ_ENTRY(ctl_conn)	 entry;
	struct imsgbuf		 ibuf;
	uid_t			 uid;
	pid_t			 pid;
	time_t			 deadline;	/* CLOCK_MONOTONIC seconds */
	int			 asked;		/* the one request came */
	int			 answered;	/* close once written */
	uint32_t		 id;		/* of a change, at the parent */
};

static TAILQ_HEAD(, ctl_conn)	 ctl_conns = TAILQ_HEAD_INITIALIZER(ctl_conns);
static size_t			 ctl_nconns;
static int			 ctl_listen_fd = -1;
static uint32_t			 ctl_last_id;

static time_t
monotonic_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static int
control_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlcpy(sun->sun_path, path, sizeof(sun->sun_path)) >=
	    sizeof(sun->sun_path)) {
		log_warnx("control socket path too long: %s", path);
		return -1;
	}
	return 0;
}

/*
 * Parent side.  Refuses to take over the socket of a daemon that is
 * still running, and to remove anything at path that is not a socket.
 */
int
control_open(const char *path)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	mode_t			 old_umask;
	int			 fd;

	if (control_addr(path, &sun) == -1)
		return -1;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_warnx("%s exists and is not a socket", path);
			return -1;
		}
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
			return -1;
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			log_warnx("%s: another ntpd is running", path);
			close(fd);
			return -1;
		}
		close(fd);
		if (unlink(path) == -1) {
			log_warn("unlink %s", path);
			return -1;
		}
	} else if (errno != ENOENT) {
		log_warn("%s", path);
		return -1;
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_warn("control socket");
		return -1;
	}
	/* Status is for every local user: rw for all, from the start. */
	old_umask = umask(S_IXUSR | S_IXGRP | S_IXOTH);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		log_warn("bind %s", path);
		umask(old_umask);
		close(fd);
		return -1;
	}
	umask(old_umask);
	if (chmod(path, 0666) == -1 || listen(fd, CTL_MAX_CONNS) == -1) {
		log_warn("control socket %s", path);
		unlink(path);
		close(fd);
		return -1;
	}
	return fd;
}

void
control_unlink(const char *path)
{
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("unlink %s", path);
}

/* Engine side from here on. */
void
control_init(int listen_fd)
{
	ctl_listen_fd = listen_fd;
}

static void
control_drop(struct ctl_conn *c)
{
	TAILQ_REMOVE(&ctl_conns, c, entry);
	imsgbuf_clear(&c->ibuf);
	close(c->ibuf.fd);
	free(c);
	ctl_nconns--;
}

static void
control_accept(void)
{
	struct ctl_conn	*c;
	struct ucred	 cred;
	socklen_t	 len = sizeof(cred);
	int		 fd;

	fd = accept4(ctl_listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warn("control: accept");
		return;
	}
	if (ctl_nconns >= CTL_MAX_CONNS) {
		log_warnx("control: too many connections, refusing one");
		close(fd);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1 ||
	    len != sizeof(cred)) {
		log_warn("control: peer credentials");
		close(fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("control: connection");
		close(fd);
		return;
	}
	imsgbuf_init(&c->ibuf, fd);
	c->uid = cred.uid;
	c->pid = cred.pid;
	c->deadline = monotonic_now() + CTL_CONN_TIMEOUT;
	TAILQ_INSERT_TAIL(&ctl_conns, c, entry);
	ctl_nconns++;
}

static void
control_error(struct ctl_conn *c, int code, const char *msg)
{
	struct ctl_error	 err;

	memset(&err, 0, sizeof(err));
	err.code = code;
	strlcpy(err.msg, msg, sizeof(err.msg));
	(void)imsg_compose(&c->ibuf, CTL_ERROR, 0, -1, &err, sizeof(err));
}

/*
 * Reading is for every local user; any other request, known or not, is
 * root's.  Deny by default: a request type added later is root-only
 * until it is listed here.
 */
static int
control_permitted(uint32_t type, uid_t uid)
{
	switch (type) {
	case CTL_SHOW_STATUS:
	case CTL_SHOW_CLIENTS:
	case CTL_SHOW_PEERS:
		return 1;
	default:
		return uid == 0;
	}
}

/*
 * A change: the parent carries it out and answers, through us, while
 * the connection waits.  0, or -1 with an error answered.
 */
static int
control_change(struct ctl_conn *c, struct imsg *imsg)
{
	struct ctl_tz_set	 tz;
	const char		*arg = "";

	if (imsg->hdr.type == CTL_TZ_SET) {
		if (imsg->datalen != sizeof(tz)) {
			control_error(c, EINVAL, "malformed request");
			return -1;
		}
		memcpy(&tz, imsg->data, sizeof(tz));
		if (memchr(tz.name, '\0', sizeof(tz.name)) == NULL) {
			control_error(c, EINVAL, "malformed request");
			return -1;
		}
		arg = tz.name;
	} else if (imsg->datalen != 0) {
		control_error(c, EINVAL, "malformed request");
		return -1;
	}
	c->id = ++ctl_last_id;
	if (c->id == 0)
		c->id = ++ctl_last_id;
	if (engine_ctl_request(c->id, imsg->hdr.type, arg, c->ibuf.fd) ==
	    -1) {
		control_error(c, EAGAIN, "the daemon is busy, try again");
		return -1;
	}
	c->deadline = monotonic_now() + CTL_CHANGE_TIMEOUT;
	return 0;
}

/* Handle one request; afterwards the connection only drains and closes. */
static void
control_request(struct ctl_conn *c, struct imsg *imsg)
{
	c->asked = 1;
	if (!control_permitted(imsg->hdr.type, c->uid)) {
		c->answered = 1;
		log_info("control: request %u refused to uid %u (pid %d)",
		    imsg->hdr.type, (unsigned int)c->uid, (int)c->pid);
		control_error(c, EPERM, "permission denied: root only");
		return;
	}
	if (imsg->hdr.type == CTL_RELOAD || imsg->hdr.type == CTL_TZ_SET) {
		if (control_change(c, imsg) == -1)
			c->answered = 1;
		return;
	}
	c->answered = 1;
	/* Every other request carries no payload. */
	if (imsg->datalen != 0) {
		control_error(c, EINVAL, "malformed request");
		return;
	}
	switch (imsg->hdr.type) {
	case CTL_SHOW_STATUS:
		engine_show_status(&c->ibuf);
		return;
	case CTL_SHOW_CLIENTS:
		engine_show_clients(&c->ibuf);
		return;
	case CTL_SHOW_PEERS:
		engine_show_peers(&c->ibuf);
		return;
	default:
		log_debug("control: unknown request %u from uid %u pid %d",
		    imsg->hdr.type, (unsigned int)c->uid, (int)c->pid);
		control_error(c, EOPNOTSUPP, "unknown request");
		return;
	}
}

/* Returns -1 when the connection is done with and must be dropped. */
static int
control_read(struct ctl_conn *c)
{
	struct imsg	 imsg;
	ssize_t		 n;
	int		 rc;

	n = imsgbuf_read(&c->ibuf);
	if (n == 0)
		return -1;
	if (n == -1)
		return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
	if (c->asked)
		return 0;	/* anything after the request is ignored */
	if ((rc = imsg_get(&c->ibuf, &imsg)) == -1)
		return -1;
	if (rc == 0)
		return 0;
	control_request(c, &imsg);
	imsg_free(&imsg);
	return 0;
}

size_t
control_pollfds(struct pollfd *pfd, size_t max)
{
	struct ctl_conn	*c;
	size_t		 n = 0;

	if (max == 0)
		return 0;
	pfd[n].fd = ctl_listen_fd;
	pfd[n].events = ctl_nconns < CTL_MAX_CONNS ? POLLIN : 0;
	n++;
	TAILQ_FOREACH(c, &ctl_conns, entry) {
		if (n == max)
			break;
		pfd[n].fd = c->ibuf.fd;
		pfd[n].events = POLLIN;
		if (c->ibuf.queued > 0)
			pfd[n].events |= POLLOUT;
		n++;
	}
	return n;
}

/* pfd and n as control_pollfds() filled them, after the wait. */
void
control_dispatch(const struct pollfd *pfd, size_t n)
{
	struct ctl_conn	*c, *next;
	time_t		 now = monotonic_now();
	size_t		 i = 1;
	int		 drop;

	if (n == 0)
		return;
	for (c = TAILQ_FIRST(&ctl_conns); c != NULL && i < n; c = next, i++) {
		next = TAILQ_NEXT(c, entry);
		drop = 0;
		if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
			drop = control_read(c) == -1;
		if (!drop && c->ibuf.queued > 0 &&
		    imsgbuf_write(&c->ibuf) == -1)
			drop = 1;
		if (!drop && c->answered && c->ibuf.queued == 0)
			drop = 1;
		if (now >= c->deadline)
			drop = 1;	/* a peer that neither asks nor reads */
		if (drop)
			control_drop(c);
	}
	if (pfd[0].revents & POLLIN)
		control_accept();
}

/* Milliseconds until the next connection deadline, -1 when none. */
int
control_timeout(void)
{
	struct ctl_conn	*c;
	time_t		 now = monotonic_now(), first = 0;

	TAILQ_FOREACH(c, &ctl_conns, entry)
		if (first == 0 || c->deadline < first)
			first = c->deadline;
	if (first == 0)
		return -1;
	return first <= now ? 0 : (int)(first - now) * 1000;
}

static struct ctl_conn *
control_find(uint32_t id)
{
	struct ctl_conn	*c;

	if (id == 0)
		return NULL;
	TAILQ_FOREACH(c, &ctl_conns, entry)
		if (c->id == id && !c->answered)
			return c;
	return NULL;
}

/* A line of the parent's answer; its client may have gone meanwhile. */
void
control_answer(struct imsg *imsg)
{
	struct ctl_text	 t;
	struct ctl_conn	*c;

	if (imsg->datalen == 0 || imsg->datalen > sizeof(t.line) ||
	    ((const char *)imsg->data)[imsg->datalen - 1] != '\0')
		fatalx("malformed control answer");
	if ((c = control_find(imsg->hdr.peerid)) == NULL)
		return;
	memset(&t, 0, sizeof(t));
	memcpy(t.line, imsg->data, imsg->datalen);
	(void)imsg_compose(&c->ibuf, CTL_TEXT, 0, -1, &t, sizeof(t));
}

void
control_done(struct imsg *imsg)
{
	struct imsg_ctl_done	 done;
	struct ctl_conn		*c;

	if (imsg->datalen != sizeof(done))
		fatalx("malformed control answer");
	memcpy(&done, imsg->data, sizeof(done));
	if (memchr(done.msg, '\0', sizeof(done.msg)) == NULL || done.error < 0)
		fatalx("malformed control answer");
	if ((c = control_find(imsg->hdr.peerid)) == NULL)
		return;
	c->answered = 1;
	if (done.error == 0)
		(void)imsg_compose(&c->ibuf, CTL_END, 0, -1, NULL, 0);
	else
		control_error(c, done.error, done.msg);
}
