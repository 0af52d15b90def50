/*
 * Logging: to stderr in the foreground, to syslog otherwise.  The jailed
 * children cannot reach syslog, so they install a sink that hands each
 * line to the parent over their imsg channel; the parent logs it.
 */
#ifndef NTPD_LOG_H
#define NTPD_LOG_H

#include <stdarg.h>

#define LOG_LINE_MAX	1024	/* longest message, terminator included */

typedef void (*log_sink_fn)(int priority, const char *msg);

void	log_init(int foreground, int verbose, const char *ident);
void	log_set_sink(log_sink_fn);	/* NULL: back to stderr/syslog */
/* One formatted line to stderr or syslog, whatever the sink. */
void	log_emit(int priority, const char *msg);
void	log_set_procname(const char *);	/* prefixes "name: " */
void	log_set_verbose(int);
int	log_get_verbose(void);

void	logit(int priority, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	vlog(int priority, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif /* NTPD_LOG_H */
