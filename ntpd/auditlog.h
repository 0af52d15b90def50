/*
 * The parent's audit trail: every record goes to the audit file (when
 * one is configured) and, as one key=value line, to syslog.  Nothing is
 * ever dropped silently: a record the file refuses still reaches syslog,
 * with the reason.
 */
#ifndef NTPD_AUDITLOG_H
#define NTPD_AUDITLOG_H

#include "audit.h"

/* Open path ("" or NULL: syslog only).  0, or -1 (logged; syslog only). */
int	auditlog_open(const char *path);
void	auditlog_close(void);

/*
 * Record an event.  fields holds keys and values in pairs, ended by NULL:
 * auditlog_event("clock-step", "startup", "offset", "+5.000000", NULL).
 */
void	auditlog_event(const char *event, const char *who, ...)
	    __attribute__((sentinel));

#endif /* NTPD_AUDITLOG_H */
