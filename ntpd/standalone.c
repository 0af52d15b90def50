/*
 * ntpd -S: see standalone.h.  The loop is the engine's, less everything
 * but the client; the parent's part is clock.c's, called in place of
 * the messages (sync_set_parent()).  A simulator stands in for only a
 * few calls of one process, so this file keeps to them: poll() over the
 * client's UDP sockets (no ppoll(), pipes or socketpairs), CLOCK_REALTIME
 * and CLOCK_MONOTONIC, clock_adjtime(), open() and read().
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "client.h"
#include "clock.h"
#include "log.h"
#include "ntpd.h"
#include "standalone.h"
#include "stats.h"
#include "sync.h"

#define CAP_SYS_TIME_BIT	25	/* linux/capability.h: CAP_SYS_TIME */
#define STATUS_MAX		8192	/* /proc/self/status, some 1.5 KB */
/*
 * The longest wait: poll() rather than ppoll() leaves a signal that
 * comes between the check of the flag and the wait unseen until then.
 */
#define QUIT_CHECK_MS		10000

static volatile sig_atomic_t	 quit;

/* The parent's answer, held until sync_update() has returned. */
static struct imsg_clock_result	 result;
static int			 result_due;

static void
direct_adjust(const struct imsg_clock_adjust *req)
{
	clock_adjust(req, &result);
	result_due = 1;
}

/* sync.c has logged it; there is no audit trail to write it to. */
static void
direct_refused(const struct imsg_refused *r)
{
	(void)r;
}

static const struct sync_parent	 direct_link = {
	direct_adjust, direct_refused
};

/* As the parent's IMSG_CLOCK_RESULT would come: after the request. */
static void
deliver_result(void)
{
	if (!result_due)
		return;
	result_due = 0;
	sync_clock_done(&result, monotonic_ns());
}

/*
 * Why this process could set the real clock, in why; "" when it could
 * not.  The kernel's own account, as a simulator's getuid() says 0
 * whatever the truth and its syscall() knows few numbers: open() and
 * read() of /proc/self/status, which it passes through.  -1 when that
 * cannot be read or lacks a line: the caller refuses then too.
 */
static int
privileges(char *why, size_t len)
{
	char			 buf[STATUS_MAX], *line, *next;
	unsigned long		 id[4];
	unsigned long long	 caps;
	size_t			 have = 0;
	ssize_t			 n = 0;
	int			 fd, seen = 0;

	why[0] = '\0';
	if ((fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while (have < sizeof(buf) - 1 &&
	    (n = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0)
		have += (size_t)n;
	close(fd);
	if (n == -1)
		return -1;
	buf[have] = '\0';
	for (line = buf; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (sscanf(line, "Uid: %lu %lu %lu %lu", &id[0], &id[1],
		    &id[2], &id[3]) == 4) {
			seen |= 1;
			if (id[0] == 0 || id[1] == 0 || id[2] == 0 ||
			    id[3] == 0)
				snprintf(why, len, "root (uid 0)");
		} else if (sscanf(line, "CapEff: %llx", &caps) == 1) {
			seen |= 2;
			if (caps & 1ULL << CAP_SYS_TIME_BIT && why[0] == '\0')
				snprintf(why, len, "CAP_SYS_TIME (effective)");
		} else if (sscanf(line, "CapPrm: %llx", &caps) == 1) {
			seen |= 4;
			if (caps & 1ULL << CAP_SYS_TIME_BIT && why[0] == '\0')
				snprintf(why, len, "CAP_SYS_TIME (permitted)");
		}
	}
	return seen == 7 ? 0 : -1;
}

int
standalone_check_conf(const struct ntpd_conf *conf, const char *path)
{
	const struct source_cfg	*src;
	const struct netns_cfg	*ns;
	const struct listen_cfg	*l;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	int			 bad = 0;

	TAILQ_FOREACH(src, &conf->sources, entry) {
		if (addr_parse(src->host, src->port, &ss, &sslen) == 0)
			continue;
		log_warnx("%s:%d: \"%s\" needs resolving, which -S does not "
		    "do: give an address", path, src->lineno, src->host);
		bad = 1;
	}
	TAILQ_FOREACH(ns, &conf->namespaces, entry) {
		TAILQ_FOREACH(l, &ns->listeners, entry) {
			log_warnx("%s:%d: -S serves no clients: no \"listen\"",
			    path, l->lineno);
			bad = 1;
		}
	}
	if (conf->timezone_line != 0) {
		log_warnx("%s:%d: -S leaves the time zone alone: no "
		    "\"timezone\"", path, conf->timezone_line);
		bad = 1;
	}
	if (TAILQ_EMPTY(&conf->sources)) {
		log_warnx("%s: -S needs a server to synchronise to", path);
		bad = 1;
	}
	return bad ? -1 : 0;
}

static void
on_quit(int sig)
{
	quit = sig;
}

static void
signals_init(void)
{
	struct sigaction	 sa;
	const int		 sigs[] = { SIGTERM, SIGINT, SIGHUP };
	size_t			 i;

	memset(&sa, 0, sizeof(sa));
	/* No SA_RESTART: the wait must end for the flag to be seen. */
	sa.sa_handler = on_quit;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) == -1)
			fatal("sigaction");
	signal(SIGPIPE, SIG_IGN);
}

static void
run(void)
{
	struct pollfd	 pfd[CONF_MAX_SOURCES];
	uint64_t	 now;
	size_t		 n;
	int		 timeout, t;

	while (!quit) {
		n = client_pollfds(pfd, sizeof(pfd) / sizeof(pfd[0]));
		now = monotonic_ns();
		timeout = QUIT_CHECK_MS;
		if ((t = client_timeout(now)) != -1 && t < timeout)
			timeout = t;
		if ((t = sync_timeout(now)) != -1 && t < timeout)
			timeout = t;
		if (poll(pfd, n, timeout) == -1) {
			if (errno != EINTR)
				fatal("poll");
			continue;
		}
		now = monotonic_ns();
		client_dispatch(pfd, n, now);
		deliver_result();
		client_run(now);
		deliver_result();
		sync_tick(now);
		clock_save_drift(0);
	}
}

int
standalone_main(struct ntpd_conf *conf, const struct ntpd_opts *opts)
{
	struct imsg_clock_init	 ci;
	char			 why[64];
	int8_t			 precision;

	if (privileges(why, sizeof(why)) == -1) {
		log_warnx("ntpd -S: cannot read /proc/self/status to check its "
		    "privileges: not running");
		return 1;
	}
	if (why[0] != '\0') {
		log_warnx("ntpd -S refuses to run with %s, which could set this "
		    "machine's clock: run it as an unprivileged user, under "
		    "a clock simulator", why);
		return 1;
	}
	signals_init();
	/* Before any wait: a simulator's clock moves only in one. */
	precision = engine_clock_precision();
	log_info("ntpd %s starting in one process (-S)", NTPD_VERSION);
	sync_init(conf, NULL, precision);
	sync_set_parent(&direct_link);
	clock_start(&conf->clock, !opts->no_clock, &ci);
	sync_clock_start(&ci);
	/* Opened here, as the parent opens it for the engine. */
	if (conf->statistics_file[0] != '\0')
		stats_set_fd(stats_open(conf->statistics_file));
	client_init(conf, precision);
	run();
	log_info("terminating on signal %d", (int)quit);
	clock_save_drift(1);
	log_info("stopped");
	return 0;
}
