/*
 * The views for people: labels and columns that stay where they are
 * whatever the values, units on every time, and "-" for what the daemon
 * has not said.  Strings from the daemon go through safe_str(), so that
 * a confused or compromised daemon cannot write to the terminal.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "ntpctl.h"

#define LABEL	"%-17s"		/* "root dispersion: " */

static void
print_uptime(int64_t secs)
{
	if (secs < 0)
		secs = 0;
	printf("up %lldd %02lld:%02lld:%02lld", (long long)(secs / 86400),
	    (long long)(secs / 3600 % 24), (long long)(secs / 60 % 60),
	    (long long)(secs % 60));
}

static void
print_times(const struct timespec *now)
{
	char	 utc[32], local[32], zone[64];

	if (time_strings(now, utc, sizeof(utc), local, sizeof(local), zone,
	    sizeof(zone)) == -1) {
		printf(LABEL "-\n" LABEL "-\n", "time:", "local time:");
		return;
	}
	printf(LABEL "%s UTC\n", "time:", utc);
	printf(LABEL "%s %s\n", "local time:", local, zone);
}

static const char *
plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

/* What the discipline made of the sources: chronyc's "tracking". */
static void
print_clock(const struct ctl_system *s)
{
	char	 a[32], b[32];
	int	 known = discipline_known(s);

	if (!known)
		printf(LABEL "-\n", "clock control:");
	else if (s->clock_control)
		printf(LABEL "yes\n", "clock control:");
	else
		printf(LABEL "no: measuring only (ntpd -x)\n",
		    "clock control:");

	if (!known)
		printf(LABEL "-\n", "reference:");
	else
		printf(LABEL "%s\n", "reference:",
		    s->refid[0] != '\0' ? safe_str(s->refid) : "none");
	if (!known)
		printf(LABEL "-\n", "stratum:");
	else
		printf(LABEL "%u\n", "stratum:", s->stratum);
	if (!known)
		printf(LABEL "-\n", "leap:");
	else
		printf(LABEL "%s%s\n", "leap:", leap_text(s->leap),
		    s->leap_armed == 1 ? ", insertion armed in the kernel" :
		    s->leap_armed == 2 ? ", deletion armed in the kernel" : "");

	/* The sources' time minus ours, as selection combined it. */
	if (offset_known(s))
		printf(LABEL "%s, jitter %s\n", "offset:",
		    fmt_offset(s->offset, a, sizeof(a)),
		    fmt_span(s->jitter, b, sizeof(b)));
	else
		printf(LABEL "-\n", "offset:");
	if (!known || s->updates == 0)
		printf(LABEL "-\n", "last correction:");
	else
		printf(LABEL "%s\n", "last correction:",
		    fmt_offset(s->last_correction, a, sizeof(a)));
	if (!known)
		printf(LABEL "-\n", "last update:");
	else if (!since_update_known(s))
		printf(LABEL "never\n", "last update:");
	else
		printf(LABEL "%.0fs ago, %llu update%s, %llu step%s\n",
		    "last update:", s->since_update,
		    (unsigned long long)s->updates, plural(s->updates),
		    (unsigned long long)s->steps, plural(s->steps));

	if (!known || !isfinite(s->frequency))
		printf(LABEL "-\n", "frequency:");
	else
		printf(LABEL "%+.3f ppm\n", "frequency:", s->frequency);
	if (!known || !isfinite(s->skew))
		printf(LABEL "-\n", "skew:");
	else
		printf(LABEL "%.3f ppm\n", "skew:", s->skew);
	printf(LABEL "%s\n", "root delay:",
	    known ? fmt_span(s->root_delay, a, sizeof(a)) : "-");
	printf(LABEL "%s\n", "root dispersion:",
	    known ? fmt_span(s->root_dispersion, a, sizeof(a)) : "-");

	if (!known)
		printf(LABEL "-\n", "tolerance:");
	else {
		if (s->tolerance > 0)
			printf(LABEL "%s", "tolerance:",
			    fmt_span(s->tolerance, a, sizeof(a)));
		else
			printf(LABEL "none", "tolerance:");
		printf(", %llu correction%s refused",
		    (unsigned long long)s->refused, plural(s->refused));
		if (s->refused > 0)
			printf(" (last %s)",
			    fmt_offset(s->last_refused, a, sizeof(a)));
		printf("\n");
	}
}

static void
status_print(const struct status_view *v, const struct peers_view *pv,
    const struct timespec *now)
{
	const struct ctl_proc	*p;
	const struct ctl_listener *l;
	size_t			 i;

	printf("ntpd %s, ", safe_str(v->status.version));
	print_uptime(v->status.uptime);
	printf("\n");
	print_times(now);
	printf(LABEL "%s\n", "clock:",
	    v->status.sync_state == CTL_SYNC_SYNCHRONISED ?
	    "synchronised" : "unsynchronised");
	if (pv != NULL)
		print_clock(&pv->sys);
	printf(LABEL "%s\n", "user:", safe_str(v->status.user));

	printf("\nprocesses (%zu):\n", v->nprocs);
	printf("  %-8s %8s %6s  %s\n", "ROLE", "PID", "UID", "NAMESPACE");
	for (i = 0; i < v->nprocs; i++) {
		p = &v->procs[i];
		printf("  %-8s %8d %6u  %s\n", role_name(p->role), (int)p->pid,
		    p->uid, p->role == CTL_PROC_SERVER ?
		    safe_str(netns_name(p->netns)) : "-");
	}

	printf("\nsources (%zu):\n", v->nsources);
	if (v->nsources == 0)
		printf("  none configured\n");
	for (i = 0; i < v->nsources; i++)
		printf("  %-8s %s\n", v->sources[i].pool ? "servers" : "server",
		    safe_str(v->sources[i].host));

	printf("\nlisteners (%zu):\n", v->nlisteners);
	if (v->nlisteners == 0)
		printf("  none: this host serves no time\n");
	else
		printf("  %-20s %-40s %5s\n", "NAMESPACE", "ADDRESS", "PORT");
	for (i = 0; i < v->nlisteners; i++) {
		l = &v->listeners[i];
		printf("  %-20s %-40s %5u\n", safe_str(netns_name(l->netns)),
		    safe_str(l->addr), l->port);
	}
}

static void
peers_print(const struct peers_view *v)
{
	const struct ctl_peer	*p;
	char			 a[32], b[32], c[32], age[32], poll[16];
	char			 st[16];
	long long		 secs;
	size_t			 i, w = 26, len;

	printf("selection: %s; %u sources, %u usable, %u agreeing, "
	    "%u combined\n", select_text(v->sys.select_status),
	    v->sys.nsources, v->sys.nusable, v->sys.ntruechimers,
	    v->sys.ncombined);
	if (offset_known(&v->sys))
		printf("combined offset %s, jitter %s\n",
		    fmt_offset(v->sys.offset, a, sizeof(a)),
		    fmt_span(v->sys.jitter, b, sizeof(b)));

	/* Long IPv6 addresses widen the column rather than shift the rest. */
	for (i = 0; i < v->npeers; i++)
		if ((len = strlen(safe_str(peer_source(&v->peers[i])))) > w)
			w = len;
	printf("\n  %-*s %2s %4s %5s %5s %10s %10s %10s %5s %5s %5s %4s "
	    "%-14s %s\n", (int)w, "SOURCE", "ST", "POLL", "REACH", "AGE",
	    "OFFSET", "DELAY", "JITTER", "SENT", "LOST", "BAD", "KOD",
	    "STATE", "NAME");
	for (i = 0; i < v->npeers; i++) {
		p = &v->peers[i];
		if (p->have_sample && isfinite(p->age) && p->age >= 0)
			snprintf(age, sizeof(age), "%.0fs", p->age);
		else
			strlcpy(age, "-", sizeof(age));
		if (poll_seconds(p->poll, &secs) == 0 && p->poll > 0)
			snprintf(poll, sizeof(poll), "%lld", secs);
		else
			strlcpy(poll, "-", sizeof(poll));
		if (p->stratum != 0)
			snprintf(st, sizeof(st), "%u", p->stratum);
		else
			strlcpy(st, "-", sizeof(st));
		printf("%c %-*s %2s %4s %5o %5s %10s %10s %10s %5llu %5llu "
		    "%5llu %4llu %-14s %s\n", peer_mark(p), (int)w,
		    safe_str(peer_source(p)), st, poll, p->reach & 0xff, age,
		    p->have_sample ? fmt_offset(p->offset, a, sizeof(a)) : "-",
		    p->have_sample ? fmt_span(p->delay, b, sizeof(b)) : "-",
		    p->have_sample ? fmt_span(p->jitter, c, sizeof(c)) : "-",
		    (unsigned long long)p->sent,
		    (unsigned long long)p->timeouts,
		    (unsigned long long)p->rejected,
		    (unsigned long long)p->kod, peer_state_word(p),
		    safe_str(p->host));
	}
	if (v->npeers == 0)
		printf("  no sources configured\n");
	printf("\n* system peer, + combined, - agrees but not combined, "
	    "x falseticker,\n~ refused: beyond the tolerance, ? unusable, "
	    "! refused us (kiss-o'-death)\n");
}

static void
clients_print(const struct clients_view *v)
{
	const struct ctl_netns_stats	*ns;
	const struct ctl_client		*c;
	char				 who[CTL_ADDR_MAX * 4 + 16];
	size_t				 i, j, shown;

	for (i = 0; i < v->nns; i++) {
		ns = &v->ns[i];
		if (i > 0)
			printf("\n");
		printf("namespace %s:", safe_str(netns_name(ns->netns)));
		if (!ns->reporting) {
			printf(" no requests yet\n");
			continue;
		}
		printf("\n  %llu received, %llu answered, %llu denied, "
		    "%llu rate-limited,\n  %llu malformed, %llu ignored "
		    "(other modes), %llu kiss-o'-death sent\n",
		    (unsigned long long)ns->received,
		    (unsigned long long)ns->replies,
		    (unsigned long long)ns->denied,
		    (unsigned long long)ns->ratelimited,
		    (unsigned long long)ns->malformed,
		    (unsigned long long)ns->ignored,
		    (unsigned long long)ns->kod);
		if (ns->ratelimit_off) {
			printf("  rate limit off: no per-client counts\n");
			continue;
		}
		printf("  %u clients known, %llu forgotten to make room\n",
		    ns->nclients, (unsigned long long)ns->evictions);
		shown = 0;
		for (j = 0; j < v->nclients; j++) {
			if (v->owner[j] != i)
				continue;
			if (shown++ == 0)
				printf("  %-44s %12s %12s\n", "CLIENT",
				    "REQUESTS", "LIMITED");
			c = &v->clients[j];
			snprintf(who, sizeof(who), "%s/%u", safe_str(c->addr),
			    c->prefixlen);
			printf("  %-44s %12llu %12llu\n", who,
			    (unsigned long long)c->requests,
			    (unsigned long long)c->limited);
		}
	}
	if (v->nns == 0)
		printf("no listeners: this host serves no time\n");
}

void
view_print(const struct snapshot *snap, enum view view)
{
	switch (view) {
	case VIEW_STATUS:
		status_print(snap->status, snap->peers, &snap->taken);
		break;
	case VIEW_PEERS:
		peers_print(snap->peers);
		break;
	case VIEW_CLIENTS:
		clients_print(snap->clients);
		break;
	case VIEW_ALL:
		status_print(snap->status, snap->peers, &snap->taken);
		printf("\n");
		peers_print(snap->peers);
		printf("\n");
		clients_print(snap->clients);
		break;
	}
}
