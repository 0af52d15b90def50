/*
 * The audit trail as the parent writes it.  common/audit.c does the
 * format, the chain and the file; this is the daemon's one instance of
 * it and the syslog copy.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <syslog.h>

#include "auditlog.h"
#include "log.h"

static struct audit	 trail;
static int		 trail_ready;
static char		 trail_path[PATH_MAX];

int
auditlog_open(const char *path)
{
	auditlog_close();
	audit_init(&trail);
	trail_ready = 1;
	if (path == NULL || path[0] == '\0')
		return 0;
	if (audit_open(&trail, path) == -1) {
		log_warnx("audit file %s: %s; audit records go to syslog only",
		    path, trail.msg);
		audit_init(&trail);
		return -1;
	}
	strlcpy(trail_path, path, sizeof(trail_path));
	if (trail.state == AUDIT_RESUMED || trail.state == AUDIT_BROKEN)
		log_warnx("audit file %s: %s", path, trail.msg);
	return 0;
}

void
auditlog_close(void)
{
	if (trail_ready)
		audit_close(&trail);
	trail_ready = 0;
	trail_path[0] = '\0';
}

void
auditlog_event(const char *event, const char *who, ...)
{
	struct audit_rec	 rec;
	char			 sysline[AUDIT_LINE_MAX];
	const char		*key, *value;
	va_list			 ap;

	if (!trail_ready) {
		audit_init(&trail);
		trail_ready = 1;
	}
	(void)audit_rec_init(&rec, event, who);
	va_start(ap, who);
	while ((key = va_arg(ap, const char *)) != NULL) {
		value = va_arg(ap, const char *);
		(void)audit_rec_add(&rec, key, value != NULL ? value : "");
	}
	va_end(ap);
	if (rec.error != 0) {
		/* A caller's mistake: still leave a trace of the event. */
		log_warnx("audit: event %s by %s not recorded: %s", event, who,
		    rec.msg);
		return;
	}
	if (audit_append(&trail, &rec, sysline, sizeof(sysline)) == -1)
		log_warnx("audit: %s: %s", trail_path[0] != '\0' ? trail_path :
		    "record", trail.msg);
	if (sysline[0] != '\0')
		logit(LOG_NOTICE, "audit: %s", sysline);
}
