/*
 * Live reload, in the parent: read and check the whole new file first,
 * then apply it as a difference.  Nothing is touched until the new file
 * has passed every check, so a broken file changes nothing at all.
 *
 * Sources, the clock's policy and the rest of the engine's settings go
 * to the engine as the new text; a namespace whose listeners changed
 * gets a new server (sockets are bound before the jail, so only a new
 * process can bind new ones); one whose rules or rate limits changed is
 * told in place and keeps its rate-limit table and counters.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "auditlog.h"
#include "clock.h"
#include "confdiff.h"
#include "log.h"
#include "ntpd.h"
#include "parent.h"
#include "reconf.h"
#include "timekeep.h"
#include "tz.h"

struct say_ctx {
	say_fn	 say;
	void	*arg;
};

/* The parser's errors, while it runs: to the log and to the asker. */
static struct say_ctx	*capture;

static void
say(struct say_ctx *sc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
say(struct say_ctx *sc, const char *fmt, ...)
{
	char	 line[CTL_TEXT_MAX];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (sc->say != NULL)
		sc->say(sc->arg, line);
}

static void
capture_sink(int priority, const char *msg)
{
	log_emit(priority, msg);
	if (capture != NULL && priority <= LOG_WARNING)
		say(capture, "%s", msg);
}

/*
 * What the parser cannot know: that the zone is in the tz database, and
 * that a new namespace exists (a server that cannot enter it would die
 * at start).
 */
static int
reload_check(const struct ntpd_conf *old, const struct ntpd_conf *new,
    const char *path, struct say_ctx *sc)
{
	const struct netns_cfg	*ns;
	char			 p[sizeof(NETNS_RUN_DIR) + NETNS_NAME_MAX + 1];
	int			 bad = 0;

	if (new->timezone[0] != '\0' &&
	    tz_zone_check(TZ_ZONEINFO_DIR, new->timezone) == -1) {
		say(sc, "%s:%d: no time zone \"%s\" in %s", path,
		    new->timezone_line, new->timezone, TZ_ZONEINFO_DIR);
		bad = 1;
	}
	TAILQ_FOREACH(ns, &new->namespaces, entry) {
		if (ns->name[0] == '\0' ||
		    config_find_netns(old, ns->name) != NULL)
			continue;
		snprintf(p, sizeof(p), "%s/%s", NETNS_RUN_DIR, ns->name);
		if (access(p, F_OK) == -1) {
			say(sc, "%s:%d: network namespace %s: %s: %s", path,
			    ns->lineno, ns->name, p, strerror(errno));
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

/* A change in a namespace block names it; elsewhere the NULL key ends
   the list before it. */
static void
audit_change(const struct conf_change *c, const char *who)
{
	const char	*netns = c->in_netns ? netns_display_name(c->netns) :
			    NULL;

	switch (c->op) {
	case CHANGE_ADD:
		auditlog_event(c->event, who, "new", c->new,
		    netns != NULL ? "netns" : NULL, netns, NULL);
		break;
	case CHANGE_REMOVE:
		auditlog_event(c->event, who, "old", c->old,
		    netns != NULL ? "netns" : NULL, netns, NULL);
		break;
	case CHANGE_SET:
		auditlog_event(c->event, who, "old", c->old, "new", c->new,
		    netns != NULL ? "netns" : NULL, netns, NULL);
		break;
	}
}

/* The processes: engine first, so it knows the namespaces it is sent. */
static void
reload_processes(const struct ntpd_conf *old, struct ntpd_conf *new,
    const char *text, size_t len)
{
	const struct netns_cfg	*ons;
	struct netns_cfg	*nns;

	parent_engine_reconf(text, len);
	TAILQ_FOREACH(ons, &old->namespaces, entry) {
		nns = config_find_netns(new, ons->name);
		if (nns == NULL) {
			parent_server_retire(ons->name);
		} else if (!confdiff_listeners_equal(ons, nns)) {
			parent_server_retire(ons->name);
			parent_server_start(new, nns);
		} else if (!confdiff_serve_equal(old, ons, new, nns)) {
			parent_server_reconf(ons->name, text, len);
		}
	}
	TAILQ_FOREACH(nns, &new->namespaces, entry)
		if (config_find_netns(old, nns->name) == NULL)
			parent_server_start(new, nns);
}

static void
reload_apply(const struct ntpd_conf *old, struct ntpd_conf *new,
    const struct conf_diff *d, const char *who, struct say_ctx *sc)
{
	char	 msg[256];
	size_t	 i;

	clock_reconfigure(&new->clock);
	timekeep_reconfigure(new);
	if (strcmp(old->timezone, new->timezone) != 0 &&
	    new->timezone[0] != '\0') {
		if (timekeep_set_timezone(new->timezone, who, msg,
		    sizeof(msg)) == -1)
			log_warnx("time zone: %s", msg);
		say(sc, "%s", msg);
	}
	if (strcmp(old->statistics_file, new->statistics_file) != 0)
		parent_stats_open(new->statistics_file);
	/* The changes go to the trail they were made under. */
	for (i = 0; i < d->n; i++)
		audit_change(&d->changes[i], who);
	if (strcmp(old->audit_file, new->audit_file) != 0)
		(void)auditlog_open(new->audit_file);
}

int
reload_config(const char *path, struct ntpd_conf **confp, const char *who,
    say_fn sayfn, void *arg)
{
	struct say_ctx		 sc = { sayfn, arg };
	struct ntpd_conf	*old = *confp, *new;
	struct conf_diff	 d;
	char			*text, line[CTL_TEXT_MAX], err[256];
	char			 count[32];
	size_t			 len, i;

	capture = &sc;
	log_set_sink(capture_sink);
	new = reconf_read(path, &text, &len);
	log_set_sink(NULL);
	capture = NULL;
	if (new != NULL && reload_check(old, new, path, &sc) == -1) {
		config_free(new);
		free(text);
		new = NULL;
	}
	if (new != NULL && confdiff_make(old, new, &d, err, sizeof(err)) ==
	    -1) {
		say(&sc, "%s: %s", path, err);
		config_free(new);
		free(text);
		new = NULL;
	}
	if (new == NULL) {
		log_warnx("reload of %s refused: the configuration in force "
		    "is unchanged", path);
		auditlog_event(AUDIT_EV_RELOAD, who, "file", path, "result",
		    "refused", NULL);
		return -1;
	}

	for (i = 0; i < d.n; i++) {
		confdiff_format(&d.changes[i], line, sizeof(line));
		say(&sc, "%s", line);
		log_info("reload: %s", line);
	}
	if (d.dropped > 0)
		say(&sc, "... and %zu more", d.dropped);
	reload_apply(old, new, &d, who, &sc);
	if (d.n > 0)
		reload_processes(old, new, text, len);
	snprintf(count, sizeof(count), "%zu", d.n + d.dropped);
	auditlog_event(AUDIT_EV_RELOAD, who, "file", path, "result",
	    "applied", "changes", count, NULL);
	log_info("reloaded %s: %s change%s", path, count,
	    d.n + d.dropped == 1 ? "" : "s");
	if (d.n == 0)
		say(&sc, "no changes");
	confdiff_free(&d);
	free(text);
	config_free(old);
	*confp = new;
	return 0;
}
