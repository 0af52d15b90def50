/*
 * Logging for every process.  The parent writes to stderr (foreground) or
 * syslog; a jailed child installs a sink that passes each line to the
 * parent, which labels it with the child's role and writes it.
 */
#include <sys/stat.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int		 log_foreground = 1;
static int		 log_journal;	/* stderr is systemd's journal */
static int		 log_verbose;
static const char	*log_procname;
static log_sink_fn	 log_sink;

/*
 * Under systemd, stderr may be a stream to the journal, which then
 * reads a "<N>" prefix as the line's priority (sd-daemon(3)).  It is
 * the journal when JOURNAL_STREAM names stderr's device and inode.
 */
static int
stderr_is_journal(void)
{
	const char		*env = getenv("JOURNAL_STREAM");
	struct stat		 st;
	unsigned long long	 dev, ino;
	char			 end;

	if (env == NULL ||
	    sscanf(env, "%llu:%llu%c", &dev, &ino, &end) != 2 ||
	    fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return st.st_dev == dev && st.st_ino == ino;
}

void
log_init(int foreground, int verbose, const char *ident)
{
	log_foreground = foreground;
	log_verbose = verbose;
	log_journal = foreground && stderr_is_journal();
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	tzset();
}

void
log_set_sink(log_sink_fn sink)
{
	log_sink = sink;
}

void
log_set_procname(const char *name)
{
	log_procname = name;
}

void
log_set_verbose(int verbose)
{
	log_verbose = verbose;
}

int
log_get_verbose(void)
{
	return log_verbose;
}

/* One already formatted line, the usual way (stderr or syslog). */
void
log_emit(int priority, const char *msg)
{
	if (log_journal) {
		fprintf(stderr, "<%d>%s\n", priority, msg);
		return;
	}
	if (log_foreground) {
		fprintf(stderr, "%s\n", msg);
		return;
	}
	syslog(priority, "%s", msg);
}

void
vlog(int priority, const char *fmt, va_list ap)
{
	char	 line[LOG_LINE_MAX];
	int	 n = 0;

	if (priority == LOG_DEBUG && !log_verbose)
		return;
	if (log_procname != NULL) {
		n = snprintf(line, sizeof(line), "%s: ", log_procname);
		if (n < 0 || (size_t)n >= sizeof(line))
			n = 0;
	}
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (log_sink != NULL)
		log_sink(priority, line);
	else
		log_emit(priority, line);
}

void
logit(int priority, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(priority, fmt, ap);
	va_end(ap);
}

/* fmt followed by ": strerror(err)". */
static void
vlog_errno(int priority, int err, const char *fmt, va_list ap)
{
	char	 msg[LOG_LINE_MAX];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	logit(priority, "%s: %s", msg, strerror(err));
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved_errno = errno;

	va_start(ap, fmt);
	vlog_errno(LOG_ERR, saved_errno, fmt, ap);
	va_end(ap);
	errno = saved_errno;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved_errno = errno;

	va_start(ap, fmt);
	vlog_errno(LOG_CRIT, saved_errno, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}
