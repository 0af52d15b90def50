/*
 * The difference between two configurations, statement by statement.
 * Sources, rules and listeners compare as sets: their order in the file
 * means nothing to the daemon, so moving a line is not a change.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "audit.h"
#include "confdiff.h"

static int
diff_add(struct conf_diff *d, enum conf_change_op op, const char *event,
    const struct netns_cfg *ns, const char *old, const char *new)
{
	struct conf_change	*c, *grown;
	size_t			 cap;

	if (d->n == CONFDIFF_MAX) {
		d->dropped++;
		return 0;
	}
	if (d->n == d->cap) {
		cap = d->cap == 0 ? 16 : d->cap * 2;
		if ((grown = reallocarray(d->changes, cap, sizeof(*c))) ==
		    NULL)
			return -1;
		d->changes = grown;
		d->cap = cap;
	}
	c = &d->changes[d->n++];
	memset(c, 0, sizeof(*c));
	c->op = op;
	c->event = event;
	if (ns != NULL) {
		c->in_netns = 1;
		strlcpy(c->netns, ns->name, sizeof(c->netns));
	}
	strlcpy(c->old, old, sizeof(c->old));
	strlcpy(c->new, new, sizeof(c->new));
	return 0;
}

/* A setting given as text on both sides: "" is "not given". */
static int
diff_setting(struct conf_diff *d, const char *event,
    const struct netns_cfg *ns, const char *old, const char *new)
{
	enum conf_change_op	 op = CHANGE_SET;

	if (strcmp(old, new) == 0)
		return 0;
	if (old[0] == '\0')
		op = CHANGE_ADD;
	else if (new[0] == '\0')
		op = CHANGE_REMOVE;
	return diff_add(d, op, event, ns, old, new);
}

static void
text(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
text(char *buf, size_t len, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* "keyword PATH" or "keyword none". */
static void
file_text(char *buf, size_t len, const char *keyword, const char *path)
{
	text(buf, len, "%s %s", keyword, path[0] != '\0' ? path : "none");
}

static int
diff_files(struct conf_diff *d, const struct ntpd_conf *o,
    const struct ntpd_conf *n)
{
	static const struct {
		const char	*keyword;
		size_t		 off;
	} files[] = {
		{ "audit", offsetof(struct ntpd_conf, audit_file) },
		{ "driftfile", offsetof(struct ntpd_conf, clock.drift_file) },
		{ "lastknown", offsetof(struct ntpd_conf, lastknown_file) },
		{ "rtc", offsetof(struct ntpd_conf, rtc_path) },
		{ "statistics", offsetof(struct ntpd_conf, statistics_file) },
	};
	char	 a[CONFDIFF_TEXT_MAX], b[CONFDIFF_TEXT_MAX];
	size_t	 i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		file_text(a, sizeof(a), files[i].keyword,
		    (const char *)o + files[i].off);
		file_text(b, sizeof(b), files[i].keyword,
		    (const char *)n + files[i].off);
		if (diff_setting(d, AUDIT_EV_SETTING, NULL, a, b) == -1)
			return -1;
	}
	return 0;
}

static void
holdover_text(char *buf, size_t len, unsigned int holdover)
{
	if (holdover > 0)
		text(buf, len, "holdover %u", holdover);
	else
		text(buf, len, "holdover none");
}

static int
diff_clock(struct conf_diff *d, const struct clock_cfg *o,
    const struct clock_cfg *n)
{
	char	 a[CONFDIFF_TEXT_MAX], b[CONFDIFF_TEXT_MAX];

	text(a, sizeof(a), "makestep %g %u", o->step_threshold,
	    o->step_updates);
	text(b, sizeof(b), "makestep %g %u", n->step_threshold,
	    n->step_updates);
	if (diff_setting(d, AUDIT_EV_SETTING, NULL, a, b) == -1)
		return -1;
	text(a, sizeof(a), "minsources %u", o->min_sources);
	text(b, sizeof(b), "minsources %u", n->min_sources);
	if (diff_setting(d, AUDIT_EV_SETTING, NULL, a, b) == -1)
		return -1;
	holdover_text(a, sizeof(a), o->holdover);
	holdover_text(b, sizeof(b), n->holdover);
	if (diff_setting(d, AUDIT_EV_SETTING, NULL, a, b) == -1)
		return -1;
	if (o->tolerance > 0)
		text(a, sizeof(a), "tolerance %g", o->tolerance);
	else
		text(a, sizeof(a), "tolerance none");
	if (n->tolerance > 0)
		text(b, sizeof(b), "tolerance %g", n->tolerance);
	else
		text(b, sizeof(b), "tolerance none");
	return diff_setting(d, AUDIT_EV_TOLERANCE, NULL, a, b);
}

/* A source as it would be written, non-default options only. */
static void
source_text(const struct source_cfg *s, char *buf, size_t len)
{
	char	 opts[128] = "";
	char	 num[32];

	if (s->port != NTP_PORT) {
		text(num, sizeof(num), " port %u", s->port);
		strlcat(opts, num, sizeof(opts));
	}
	if (s->minpoll != POLL_DEFAULT_MIN) {
		text(num, sizeof(num), " minpoll %d", s->minpoll);
		strlcat(opts, num, sizeof(opts));
	}
	if (s->maxpoll != POLL_DEFAULT_MAX) {
		text(num, sizeof(num), " maxpoll %d", s->maxpoll);
		strlcat(opts, num, sizeof(opts));
	}
	if (s->iburst)
		strlcat(opts, " iburst", sizeof(opts));
	if (s->prefer)
		strlcat(opts, " prefer", sizeof(opts));
	if (s->noselect)
		strlcat(opts, " noselect", sizeof(opts));
	if (s->trusted)
		strlcat(opts, " trusted", sizeof(opts));
	text(buf, len, "%s %s%s", s->kind == SOURCE_SERVERS ? "servers" :
	    "server", s->host, opts);
}

static int
source_listed(const struct source_cfg *s, const struct ntpd_conf *conf)
{
	const struct source_cfg	*t;

	TAILQ_FOREACH(t, &conf->sources, entry)
		if (config_source_equal(s, t))
			return 1;
	return 0;
}

static int
diff_sources(struct conf_diff *d, const struct ntpd_conf *o,
    const struct ntpd_conf *n)
{
	const struct source_cfg	*s;
	char			 buf[CONFDIFF_TEXT_MAX];

	TAILQ_FOREACH(s, &o->sources, entry) {
		if (source_listed(s, n))
			continue;
		source_text(s, buf, sizeof(buf));
		if (diff_add(d, CHANGE_REMOVE, AUDIT_EV_SOURCE_DEL, NULL, buf,
		    "") == -1)
			return -1;
	}
	TAILQ_FOREACH(s, &n->sources, entry) {
		if (source_listed(s, o))
			continue;
		source_text(s, buf, sizeof(buf));
		if (diff_add(d, CHANGE_ADD, AUDIT_EV_SOURCE_ADD, NULL, "",
		    buf) == -1)
			return -1;
	}
	return 0;
}

static void
rule_text(const struct acl_rule_cfg *r, char *buf, size_t len)
{
	char	 addr[INET6_ADDRSTRLEN];

	if (inet_ntop(r->prefix.family, r->prefix.addr, addr,
	    sizeof(addr)) == NULL)
		strlcpy(addr, "?", sizeof(addr));
	text(buf, len, "%s %s/%u%s", r->allow ? "allow" : "deny", addr,
	    r->prefix.prefixlen, r->kod ? " kod" : "");
}

static int
rule_equal(const struct acl_rule_cfg *a, const struct acl_rule_cfg *b)
{
	return a->allow == b->allow && a->kod == b->kod &&
	    a->prefix.family == b->prefix.family &&
	    a->prefix.prefixlen == b->prefix.prefixlen &&
	    memcmp(a->prefix.addr, b->prefix.addr,
	    sizeof(a->prefix.addr)) == 0;
}

static int
rule_listed(const struct acl_rule_cfg *r, const struct acl_rule_list *l)
{
	const struct acl_rule_cfg	*t;

	TAILQ_FOREACH(t, l, entry)
		if (rule_equal(r, t))
			return 1;
	return 0;
}

static int
rules_equal(const struct acl_rule_list *a, const struct acl_rule_list *b)
{
	const struct acl_rule_cfg	*r;

	TAILQ_FOREACH(r, a, entry)
		if (!rule_listed(r, b))
			return 0;
	TAILQ_FOREACH(r, b, entry)
		if (!rule_listed(r, a))
			return 0;
	return 1;
}

static int
diff_rules(struct conf_diff *d, const struct netns_cfg *ns,
    const struct acl_rule_list *o, const struct acl_rule_list *n)
{
	const struct acl_rule_cfg	*r;
	char				 buf[CONFDIFF_TEXT_MAX];

	if (o != NULL) {
		TAILQ_FOREACH(r, o, entry) {
			if (n != NULL && rule_listed(r, n))
				continue;
			rule_text(r, buf, sizeof(buf));
			if (diff_add(d, CHANGE_REMOVE, AUDIT_EV_ACL_DEL, ns, buf,
			    "") == -1)
				return -1;
		}
	}
	if (n == NULL)
		return 0;
	TAILQ_FOREACH(r, n, entry) {
		if (o != NULL && rule_listed(r, o))
			continue;
		rule_text(r, buf, sizeof(buf));
		if (diff_add(d, CHANGE_ADD, AUDIT_EV_ACL_ADD, ns, "", buf) ==
		    -1)
			return -1;
	}
	return 0;
}

/* A scope's ratelimit and local statements as written; "" if absent. */
static void
ratelimit_text(const struct serve_cfg *sc, char *buf, size_t len)
{
	const struct serve_policy	*p = &sc->policy;

	if (sc->ratelimit_line == 0)
		buf[0] = '\0';
	else if (p->ratelimit_off)
		text(buf, len, "ratelimit off");
	else
		text(buf, len, "ratelimit %g burst %g clients %u%s", p->rate,
		    p->burst, p->clients, p->ratelimit_kod ? " kod" : "");
}

static void
local_text(const struct serve_cfg *sc, char *buf, size_t len)
{
	if (sc->local_line == 0)
		buf[0] = '\0';
	else
		text(buf, len, "local stratum %d", sc->policy.local_stratum);
}

static int
diff_serve(struct conf_diff *d, const struct netns_cfg *ns,
    const struct serve_cfg *o, const struct serve_cfg *n)
{
	char	 a[CONFDIFF_TEXT_MAX] = "", b[CONFDIFF_TEXT_MAX] = "";

	if (diff_rules(d, ns, o != NULL ? &o->rules : NULL,
	    n != NULL ? &n->rules : NULL) == -1)
		return -1;
	if (o != NULL)
		ratelimit_text(o, a, sizeof(a));
	if (n != NULL)
		ratelimit_text(n, b, sizeof(b));
	if (diff_setting(d, AUDIT_EV_RATELIMIT, ns, a, b) == -1)
		return -1;
	a[0] = b[0] = '\0';
	if (o != NULL)
		local_text(o, a, sizeof(a));
	if (n != NULL)
		local_text(n, b, sizeof(b));
	return diff_setting(d, AUDIT_EV_SETTING, ns, a, b);
}

static void
listener_text(const struct listen_cfg *l, char *buf, size_t len)
{
	char	 addr[INET6_ADDRSTRLEN];
	char	 port[16] = "";

	if (l->wildcard)
		strlcpy(addr, "*", sizeof(addr));
	else
		addr_ntop((const struct sockaddr *)&l->ss, addr, sizeof(addr));
	if (l->port != NTP_PORT)
		text(port, sizeof(port), " port %u", l->port);
	text(buf, len, "listen on %s%s", addr, port);
}

static int
listener_equal(const struct listen_cfg *a, const struct listen_cfg *b)
{
	if (a->wildcard != b->wildcard || a->port != b->port)
		return 0;
	if (a->wildcard)
		return 1;
	return a->sslen == b->sslen && memcmp(&a->ss, &b->ss, a->sslen) == 0;
}

static int
listener_listed(const struct listen_cfg *l, const struct netns_cfg *ns)
{
	const struct listen_cfg	*t;

	if (ns == NULL)
		return 0;
	TAILQ_FOREACH(t, &ns->listeners, entry)
		if (listener_equal(l, t))
			return 1;
	return 0;
}

int
confdiff_listeners_equal(const struct netns_cfg *a, const struct netns_cfg *b)
{
	const struct listen_cfg	*l;

	TAILQ_FOREACH(l, &a->listeners, entry)
		if (!listener_listed(l, b))
			return 0;
	TAILQ_FOREACH(l, &b->listeners, entry)
		if (!listener_listed(l, a))
			return 0;
	return 1;
}

static int
diff_listeners(struct conf_diff *d, const struct netns_cfg *ns,
    const struct netns_cfg *o, const struct netns_cfg *n)
{
	const struct listen_cfg	*l;
	char			 buf[CONFDIFF_TEXT_MAX];

	if (o != NULL) {
		TAILQ_FOREACH(l, &o->listeners, entry) {
			if (listener_listed(l, n))
				continue;
			listener_text(l, buf, sizeof(buf));
			if (diff_add(d, CHANGE_REMOVE, AUDIT_EV_LISTEN_DEL, ns,
			    buf, "") == -1)
				return -1;
		}
	}
	if (n == NULL)
		return 0;
	TAILQ_FOREACH(l, &n->listeners, entry) {
		if (listener_listed(l, o))
			continue;
		listener_text(l, buf, sizeof(buf));
		if (diff_add(d, CHANGE_ADD, AUDIT_EV_LISTEN_ADD, ns, "", buf) ==
		    -1)
			return -1;
	}
	return 0;
}

/* One namespace present in old, new or both. */
static int
diff_netns(struct conf_diff *d, const struct netns_cfg *o,
    const struct netns_cfg *n)
{
	const struct netns_cfg	*ns = n != NULL ? n : o;
	char			 buf[CONFDIFF_TEXT_MAX];

	text(buf, sizeof(buf), "namespace %s", netns_display_name(ns->name));
	if (o == NULL && diff_add(d, CHANGE_ADD, AUDIT_EV_NETNS_ADD, ns, "",
	    buf) == -1)
		return -1;
	if (n == NULL && diff_add(d, CHANGE_REMOVE, AUDIT_EV_NETNS_DEL, ns,
	    buf, "") == -1)
		return -1;
	if (diff_listeners(d, ns, o, n) == -1)
		return -1;
	return diff_serve(d, ns, o != NULL ? &o->serve : NULL,
	    n != NULL ? &n->serve : NULL);
}

static int
restart_only(const struct ntpd_conf *o, const struct ntpd_conf *n, char *err,
    size_t errlen)
{
	const char	*what = NULL;

	if (strcmp(o->user, n->user) != 0)
		what = "user";
	else if (strcmp(o->socket_path, n->socket_path) != 0)
		what = "socket";
	else if (strcmp(o->chroot_dir, n->chroot_dir) != 0)
		what = "chroot";
	if (what == NULL)
		return 0;
	text(err, errlen, "\"%s\" cannot change while ntpd runs: restart it "
	    "to change it", what);
	return -1;
}

int
confdiff_make(const struct ntpd_conf *o, const struct ntpd_conf *n,
    struct conf_diff *d, char *err, size_t errlen)
{
	const struct netns_cfg	*ns;
	char			 a[CONFDIFF_TEXT_MAX], b[CONFDIFF_TEXT_MAX];

	memset(d, 0, sizeof(*d));
	if (restart_only(o, n, err, errlen) == -1)
		return -1;
	file_text(a, sizeof(a), "timezone", o->timezone);
	file_text(b, sizeof(b), "timezone", n->timezone);
	if (diff_clock(d, &o->clock, &n->clock) == -1 ||
	    diff_files(d, o, n) == -1 ||
	    diff_setting(d, AUDIT_EV_TIMEZONE, NULL, a, b) == -1 ||
	    diff_sources(d, o, n) == -1 ||
	    diff_serve(d, NULL, &o->serve, &n->serve) == -1)
		goto nomem;
	TAILQ_FOREACH(ns, &o->namespaces, entry)
		if (diff_netns(d, ns, config_find_netns(n, ns->name)) == -1)
			goto nomem;
	TAILQ_FOREACH(ns, &n->namespaces, entry)
		if (config_find_netns(o, ns->name) == NULL &&
		    diff_netns(d, NULL, ns) == -1)
			goto nomem;
	return 0;
 nomem:
	text(err, errlen, "%s", strerror(ENOMEM));
	confdiff_free(d);
	return -1;
}

void
confdiff_free(struct conf_diff *d)
{
	free(d->changes);
	memset(d, 0, sizeof(*d));
}

int
confdiff_format(const struct conf_change *c, char *buf, size_t len)
{
	char	 where[NETNS_NAME_MAX + 16] = "";

	if (c->in_netns && strcmp(c->event, AUDIT_EV_NETNS_ADD) != 0 &&
	    strcmp(c->event, AUDIT_EV_NETNS_DEL) != 0)
		text(where, sizeof(where), " (namespace %s)",
		    netns_display_name(c->netns));
	switch (c->op) {
	case CHANGE_ADD:
		return snprintf(buf, len, "+ %s%s", c->new, where);
	case CHANGE_REMOVE:
		return snprintf(buf, len, "- %s%s", c->old, where);
	case CHANGE_SET:
		break;
	}
	return snprintf(buf, len, "~ %s -> %s%s", c->old, c->new, where);
}

static int
policy_equal(const struct serve_policy *a, const struct serve_policy *b)
{
	return a->ratelimit_off == b->ratelimit_off && a->rate == b->rate &&
	    a->burst == b->burst && a->clients == b->clients &&
	    a->ratelimit_kod == b->ratelimit_kod &&
	    a->local_stratum == b->local_stratum;
}

int
confdiff_serve_equal(const struct ntpd_conf *ca, const struct netns_cfg *a,
    const struct ntpd_conf *cb, const struct netns_cfg *b)
{
	struct serve_policy	 pa, pb;

	config_serve_policy(ca, a, &pa);
	config_serve_policy(cb, b, &pb);
	return policy_equal(&pa, &pb) &&
	    rules_equal(&ca->serve.rules, &cb->serve.rules) &&
	    rules_equal(&a->serve.rules, &b->serve.rules);
}
