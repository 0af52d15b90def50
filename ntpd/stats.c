/*
 * Statistics lines, written whole with one write(2) each so that a
 * reader never sees half a line from us.  A write that fails stops the
 * log (said once): the engine never blocks or retries on it.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "stats.h"

static int	 stats_fd = -1;

int
stats_open(const char *path)
{
	struct stat	 st;
	int		 fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC | O_NOCTTY, 0644);
	if (fd == -1) {
		log_warn("statistics log %s: not written", path);
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		log_warnx("statistics log %s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_size == 0 && write(fd, STATS_HEADER,
	    sizeof(STATS_HEADER) - 1) != (ssize_t)sizeof(STATS_HEADER) - 1)
		log_warn("statistics log %s", path);
	return fd;
}

void
stats_set_fd(int fd)
{
	if (stats_fd != -1)
		close(stats_fd);
	stats_fd = fd;
}

static void
stats_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
stats_line(const char *fmt, ...)
{
	struct timespec	 now;
	char		 line[512];
	va_list		 ap;
	int		 n, m;

	if (stats_fd == -1)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	n = snprintf(line, sizeof(line), "%lld.%06ld ", (long long)now.tv_sec,
	    now.tv_nsec / 1000);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (m < 0 || (size_t)(n + m) >= sizeof(line) - 1)
		return;
	n += m;
	line[n++] = '\n';
	if (write(stats_fd, line, (size_t)n) != n) {
		log_warnx("statistics log: %s; no more lines written",
		    errno != 0 ? strerror(errno) : "short write");
		stats_set_fd(-1);
	}
}

void
stats_update(const char *action, double offset, double freq, double skew,
    unsigned int stratum, double rootdelay, double rootdisp)
{
	stats_line("update offset=%.9f freq=%.3f skew=%.3f action=%s "
	    "stratum=%u rootdelay=%.6f rootdisp=%.6f", offset, freq, skew,
	    action, stratum, rootdelay, rootdisp);
}

void
stats_sample(const struct sockaddr *source, double offset, double delay,
    double disp, double jitter, unsigned int stratum)
{
	char	 addr[64];

	addr_ntop(source, addr, sizeof(addr));
	stats_line("sample source=%s offset=%.9f delay=%.9f disp=%.9f "
	    "jitter=%.9f stratum=%u", addr, offset, delay, disp, jitter,
	    stratum);
}
