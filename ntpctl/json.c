/*
 * The views as JSON (RFC 8259), from a small emitter: strings are
 * escaped (quote, backslash, every control character), well-formed
 * UTF-8 passes through and any other byte becomes U+FFFD; numbers that
 * are not finite, and values the daemon has not given, are null.  Times
 * are in seconds unless the name says otherwise.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "ntpctl.h"

#define JSON_DEPTH	8

struct json {
	FILE	*f;
	int	 depth;
	int	 count[JSON_DEPTH];	/* members so far, per open level */
};

static void
json_string(struct json *j, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n = strlen(s), len;

	fputc('"', j->f);
	while (n > 0) {
		switch (*p) {
		case '"':
			fputs("\\\"", j->f);
			break;
		case '\\':
			fputs("\\\\", j->f);
			break;
		case '\b':
			fputs("\\b", j->f);
			break;
		case '\f':
			fputs("\\f", j->f);
			break;
		case '\n':
			fputs("\\n", j->f);
			break;
		case '\r':
			fputs("\\r", j->f);
			break;
		case '\t':
			fputs("\\t", j->f);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				fprintf(j->f, "\\u%04x", *p);
				break;
			}
			if ((len = utf8_valid(p, n)) == 0) {
				fputs("\\ufffd", j->f);
				break;
			}
			fwrite(p, 1, len, j->f);
			p += len;
			n -= len;
			continue;
		}
		p++;
		n--;
	}
	fputc('"', j->f);
}

/* The comma, newline and indent before a value, and its key if any. */
static void
json_member(struct json *j, const char *key)
{
	int	 i;

	if (j->depth > 0) {
		if (j->count[j->depth - 1]++ > 0)
			fputc(',', j->f);
		fputc('\n', j->f);
		for (i = 0; i < j->depth; i++)
			fputs("  ", j->f);
	}
	if (key != NULL) {
		json_string(j, key);
		fputs(": ", j->f);
	}
}

static void
json_open(struct json *j, const char *key, char c)
{
	json_member(j, key);
	if (j->depth == JSON_DEPTH)
		abort();	/* the views never nest this deep */
	fputc(c, j->f);
	j->count[j->depth++] = 0;
}

static void
json_close(struct json *j, char c)
{
	int	 i;

	if (j->depth == 0)
		abort();
	if (j->count[--j->depth] > 0) {
		fputc('\n', j->f);
		for (i = 0; i < j->depth; i++)
			fputs("  ", j->f);
	}
	fputc(c, j->f);
}

static void
json_str(struct json *j, const char *key, const char *val)
{
	json_member(j, key);
	if (val == NULL)
		fputs("null", j->f);
	else
		json_string(j, val);
}

static void
json_null(struct json *j, const char *key)
{
	json_member(j, key);
	fputs("null", j->f);
}

static void
json_bool(struct json *j, const char *key, int val)
{
	json_member(j, key);
	fputs(val ? "true" : "false", j->f);
}

static void
json_uint(struct json *j, const char *key, uint64_t val)
{
	json_member(j, key);
	fprintf(j->f, "%llu", (unsigned long long)val);
}

static void
json_int(struct json *j, const char *key, int64_t val)
{
	json_member(j, key);
	fprintf(j->f, "%lld", (long long)val);
}

/* 15 significant digits: more than any figure here means. */
static void
json_num(struct json *j, const char *key, double val)
{
	json_member(j, key);
	if (!isfinite(val))
		fputs("null", j->f);
	else
		fprintf(j->f, "%.15g", val);
}

static void
json_num_if(struct json *j, const char *key, int known, double val)
{
	if (known)
		json_num(j, key, val);
	else
		json_null(j, key);
}

static void
json_uint_if(struct json *j, const char *key, int known, uint64_t val)
{
	if (known)
		json_uint(j, key, val);
	else
		json_null(j, key);
}

/* RFC 3339: "2026-11-21T22:40:01Z", "2026-11-21T23:40:01+01:00". */
static void
json_time(struct json *j, const struct timespec *now)
{
	struct tm	 tm;
	time_t		 t = now->tv_sec;
	char		 buf[64], zone[16];
	size_t		 n;

	json_open(j, "time", '{');
	json_num(j, "unix", (double)now->tv_sec + now->tv_nsec / 1e9);
	if (gmtime_r(&t, &tm) != NULL &&
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) > 0)
		json_str(j, "utc", buf);
	else
		json_null(j, "utc");
	tzset();
	if (localtime_r(&t, &tm) != NULL &&
	    (n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S%z", &tm)) > 5 &&
	    n + 2 < sizeof(buf)) {
		/* +0100 to +01:00 */
		memmove(buf + n - 1, buf + n - 2, 3);
		buf[n - 2] = ':';
		json_str(j, "local", buf);
		if (strftime(zone, sizeof(zone), "%Z", &tm) > 0)
			json_str(j, "zone", zone);
		else
			json_null(j, "zone");
	} else {
		json_null(j, "local");
		json_null(j, "zone");
	}
	json_close(j, '}');
}

static void
json_clock(struct json *j, const struct ctl_system *s)
{
	int	 known = discipline_known(s);

	json_open(j, "clock", '{');
	json_bool(j, "reported", known);
	if (known)
		json_bool(j, "control", s->clock_control != 0);
	else
		json_null(j, "control");
	json_str(j, "reference", known && s->refid[0] != '\0' ? s->refid :
	    NULL);
	json_uint_if(j, "stratum", known, s->stratum);
	json_str(j, "leap", known ? leap_key(s->leap) : NULL);
	json_str(j, "leap_armed", !known ? NULL : s->leap_armed == 1 ?
	    "insert" : s->leap_armed == 2 ? "delete" : "none");
	json_num_if(j, "offset", offset_known(s), s->offset);
	json_num_if(j, "jitter", offset_known(s), s->jitter);
	json_num_if(j, "last_correction", known && s->updates > 0,
	    s->last_correction);
	json_num_if(j, "since_update", since_update_known(s),
	    s->since_update);
	json_uint_if(j, "updates", known, s->updates);
	json_uint_if(j, "steps", known, s->steps);
	json_num_if(j, "frequency_ppm", known, s->frequency);
	json_num_if(j, "skew_ppm", known, s->skew);
	json_num_if(j, "root_delay", known, s->root_delay);
	json_num_if(j, "root_dispersion", known, s->root_dispersion);
	json_num_if(j, "tolerance", known && s->tolerance > 0, s->tolerance);
	json_uint_if(j, "refused", known, s->refused);
	json_num_if(j, "last_refused", known && s->refused > 0,
	    s->last_refused);
	json_close(j, '}');
}

static void
json_status(struct json *j, const char *key, const struct snapshot *snap)
{
	const struct status_view	*v = snap->status;
	const struct ctl_proc		*p;
	const struct ctl_listener	*l;
	size_t				 i;

	json_open(j, key, '{');
	json_str(j, "version", v->status.version);
	json_uint(j, "protocol", v->status.proto_version);
	json_int(j, "uptime", v->status.uptime);
	json_time(j, &snap->taken);
	json_bool(j, "synchronised",
	    v->status.sync_state == CTL_SYNC_SYNCHRONISED);
	json_str(j, "user", v->status.user);
	json_clock(j, &snap->peers->sys);

	json_open(j, "processes", '[');
	for (i = 0; i < v->nprocs; i++) {
		p = &v->procs[i];
		json_open(j, NULL, '{');
		json_str(j, "role", role_name(p->role));
		json_int(j, "pid", p->pid);
		json_uint(j, "uid", p->uid);
		json_str(j, "namespace", p->role == CTL_PROC_SERVER ?
		    netns_name(p->netns) : NULL);
		json_close(j, '}');
	}
	json_close(j, ']');

	json_open(j, "sources", '[');
	for (i = 0; i < v->nsources; i++) {
		json_open(j, NULL, '{');
		json_str(j, "host", v->sources[i].host);
		json_bool(j, "pool", v->sources[i].pool != 0);
		json_close(j, '}');
	}
	json_close(j, ']');

	json_open(j, "listeners", '[');
	for (i = 0; i < v->nlisteners; i++) {
		l = &v->listeners[i];
		json_open(j, NULL, '{');
		json_str(j, "namespace", netns_name(l->netns));
		json_str(j, "address", l->addr);
		json_uint(j, "port", l->port);
		json_close(j, '}');
	}
	json_close(j, ']');
	json_close(j, '}');
}

static void
json_peer(struct json *j, const struct ctl_peer *p)
{
	long long	 secs;
	size_t		 i;
	int		 s = p->have_sample != 0;

	json_open(j, NULL, '{');
	json_str(j, "address", p->addr[0] != '\0' ? p->addr : NULL);
	json_str(j, "name", p->host);
	json_str(j, "state", peer_state_key(p));
	json_open(j, "why", '[');
	for (i = 0; i < NWHY; i++)
		if (p->state == CTL_PEER_UNUSABLE &&
		    (p->why & why_names[i].bit))
			json_str(j, NULL, why_names[i].key);
	json_close(j, ']');
	json_uint_if(j, "stratum", p->stratum != 0, p->stratum);
	if (poll_seconds(p->poll, &secs) == 0 && p->poll > 0)
		json_int(j, "poll", secs);
	else
		json_null(j, "poll");
	json_uint(j, "reach", p->reach & 0xff);
	json_bool(j, "sample", s);
	json_num_if(j, "age", s, p->age);
	json_num_if(j, "offset", s, p->offset);
	json_num_if(j, "delay", s, p->delay);
	json_num_if(j, "jitter", s, p->jitter);
	json_num_if(j, "root_distance", s, p->rootdist);
	json_uint(j, "sent", p->sent);
	json_uint(j, "samples", p->samples);
	json_uint(j, "timeouts", p->timeouts);
	json_uint(j, "rejected", p->rejected);
	json_uint(j, "kod", p->kod);
	json_bool(j, "prefer", (p->flags & 1) != 0);
	json_bool(j, "noselect", (p->flags & 2) != 0);
	json_bool(j, "trusted", (p->flags & 4) != 0);
	json_close(j, '}');
}

static void
json_peers(struct json *j, const char *key, const struct peers_view *v)
{
	const struct ctl_system	*s = &v->sys;
	size_t			 i;

	json_open(j, key, '{');
	json_open(j, "selection", '{');
	json_str(j, "status", select_key(s->select_status));
	json_uint(j, "sources", s->nsources);
	json_uint(j, "usable", s->nusable);
	json_uint(j, "agreeing", s->ntruechimers);
	json_uint(j, "combined", s->ncombined);
	json_num_if(j, "offset", offset_known(s), s->offset);
	json_num_if(j, "jitter", offset_known(s), s->jitter);
	json_str(j, "system_peer", s->syspeer >= 0 ?
	    peer_source(&v->peers[s->syspeer]) : NULL);
	json_close(j, '}');
	json_open(j, "sources", '[');
	for (i = 0; i < v->npeers; i++)
		json_peer(j, &v->peers[i]);
	json_close(j, ']');
	json_close(j, '}');
}

static void
json_clients(struct json *j, const char *key, const struct clients_view *v)
{
	const struct ctl_netns_stats	*ns;
	const struct ctl_client		*c;
	size_t				 i, k;

	json_open(j, key, '{');
	json_open(j, "namespaces", '[');
	for (i = 0; i < v->nns; i++) {
		ns = &v->ns[i];
		json_open(j, NULL, '{');
		json_str(j, "name", netns_name(ns->netns));
		json_bool(j, "reporting", ns->reporting != 0);
		json_uint(j, "received", ns->received);
		json_uint(j, "replies", ns->replies);
		json_uint(j, "denied", ns->denied);
		json_uint(j, "ratelimited", ns->ratelimited);
		json_uint(j, "kod", ns->kod);
		json_uint(j, "malformed", ns->malformed);
		json_uint(j, "ignored", ns->ignored);
		json_bool(j, "ratelimit", ns->ratelimit_off == 0);
		json_uint(j, "clients_known", ns->nclients);
		json_uint(j, "evictions", ns->evictions);
		json_open(j, "clients", '[');
		for (k = 0; k < v->nclients; k++) {
			if (v->owner[k] != i)
				continue;
			c = &v->clients[k];
			json_open(j, NULL, '{');
			json_str(j, "address", c->addr);
			json_uint(j, "prefixlen", c->prefixlen);
			json_uint(j, "requests", c->requests);
			json_uint(j, "limited", c->limited);
			json_close(j, '}');
		}
		json_close(j, ']');
		json_close(j, '}');
	}
	json_close(j, ']');
	json_close(j, '}');
}

void
json_print(FILE *f, const struct snapshot *snap, enum view view)
{
	struct json	 j;

	memset(&j, 0, sizeof(j));
	j.f = f;
	switch (view) {
	case VIEW_STATUS:
		json_status(&j, NULL, snap);
		break;
	case VIEW_PEERS:
		json_peers(&j, NULL, snap->peers);
		break;
	case VIEW_CLIENTS:
		json_clients(&j, NULL, snap->clients);
		break;
	case VIEW_ALL:
		json_open(&j, NULL, '{');
		json_status(&j, "status", snap);
		json_peers(&j, "peers", snap->peers);
		json_clients(&j, "clients", snap->clients);
		json_close(&j, '}');
		break;
	}
	fputc('\n', f);
}
