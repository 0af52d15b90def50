/*
 * The daemon's state in the Prometheus text exposition format 0.0.4:
 * every family with its HELP and TYPE, names prefixed ntpd_, times in
 * seconds and frequencies as ratios.  ntpd_up says whether the daemon
 * answered; when it did not, that is the only sample, so that a scrape
 * of a stopped daemon still succeeds.  A value the daemon has not given
 * yet has no sample; its family is still announced.
 */
#include <err.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "ntpctl.h"

struct label {
	const char	*name;
	const char	*value;
};

static void
family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, quote and newline escaped, UTF-8 only. */
static void
label_value(FILE *f, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n = strlen(s), len;

	while (n > 0) {
		if (*p == '\\' || *p == '"') {
			fputc('\\', f);
			fputc(*p, f);
		} else if (*p == '\n')
			fputs("\\n", f);
		else if ((len = utf8_valid(p, n)) == 0)
			fputs("\xef\xbf\xbd", f);	/* U+FFFD */
		else {
			fwrite(p, 1, len, f);
			p += len;
			n -= len;
			continue;
		}
		p++;
		n--;
	}
}

static void
sample_name(FILE *f, const char *name, const struct label *l, size_t nl)
{
	size_t	 i;

	fputs(name, f);
	if (nl == 0)
		return;
	fputc('{', f);
	for (i = 0; i < nl; i++) {
		fprintf(f, "%s%s=\"", i > 0 ? "," : "", l[i].name);
		label_value(f, l[i].value);
		fputc('"', f);
	}
	fputc('}', f);
}

static void
sample(FILE *f, const char *name, const struct label *l, size_t nl,
    double v)
{
	char	 buf[64];

	sample_name(f, name, l, nl);
	if (isnan(v))
		strlcpy(buf, "NaN", sizeof(buf));
	else if (isinf(v))
		strlcpy(buf, v > 0 ? "+Inf" : "-Inf", sizeof(buf));
	else
		snprintf(buf, sizeof(buf), "%.15g", v);
	fprintf(f, " %s\n", buf);
}

static void
sample_u64(FILE *f, const char *name, const struct label *l, size_t nl,
    uint64_t v)
{
	sample_name(f, name, l, nl);
	fprintf(f, " %llu\n", (unsigned long long)v);
}

/* A family with a single sample, or none when the value is not known. */
static void
gauge(FILE *f, const char *name, const char *help, int known, double v)
{
	family(f, name, "gauge", help);
	if (known)
		sample(f, name, NULL, 0, v);
}

static void
counter(FILE *f, const char *name, const char *help, int known, uint64_t v)
{
	family(f, name, "counter", help);
	if (known)
		sample_u64(f, name, NULL, 0, v);
}

static void
metrics_daemon(FILE *f, const struct status_view *v)
{
	struct label	 l[] = {
		{ "version", v->status.version },
		{ "user", v->status.user },
	};

	family(f, "ntpd_info", "gauge", "The daemon's version and the user "
	    "its jailed processes run as.");
	sample(f, "ntpd_info", l, 2, 1);
	gauge(f, "ntpd_uptime_seconds", "How long the daemon has been "
	    "running.", 1, (double)v->status.uptime);
	gauge(f, "ntpd_synchronised", "1 when the clock is synchronised, "
	    "0 when not.", 1, v->status.sync_state == CTL_SYNC_SYNCHRONISED);
}

static void
metrics_clock(FILE *f, const struct ctl_system *s)
{
	static const char *const sel[] = {
		"none", "ok", "no_sources", "no_majority", "too_few",
		"waiting",
	};
	struct label	 l;
	size_t		 i;
	int		 k = discipline_known(s);

	gauge(f, "ntpd_clock_control", "1 when the daemon disciplines the "
	    "clock, 0 when it only measures (ntpd -x).", k,
	    s->clock_control != 0);
	gauge(f, "ntpd_stratum", "The stratum the daemon announces; 16 "
	    "while unsynchronised.", k, s->stratum);
	gauge(f, "ntpd_leap", "The leap indicator the daemon announces: 0 "
	    "none, 1 insert, 2 delete, 3 unsynchronised.", k, s->leap);
	gauge(f, "ntpd_leap_armed", "The leap second armed in the kernel: "
	    "0 none, 1 insert, 2 delete.", k, s->leap_armed);
	gauge(f, "ntpd_offset_seconds", "The combined offset of the "
	    "selected sources: their time minus ours.", offset_known(s),
	    s->offset);
	gauge(f, "ntpd_jitter_seconds", "The jitter of the combined "
	    "offset.", offset_known(s), s->jitter);
	gauge(f, "ntpd_frequency_ratio", "The frequency correction in "
	    "force, as a ratio (1e-06 is 1 ppm).", k, s->frequency / 1e6);
	gauge(f, "ntpd_skew_ratio", "The error bound of the frequency "
	    "estimate, as a ratio.", k, s->skew / 1e6);
	gauge(f, "ntpd_root_delay_seconds", "The round-trip delay to the "
	    "primary reference.", k, s->root_delay);
	gauge(f, "ntpd_root_dispersion_seconds", "The dispersion to the "
	    "primary reference.", k, s->root_dispersion);
	gauge(f, "ntpd_since_update_seconds", "Time since the last clock "
	    "update.", since_update_known(s), s->since_update);
	gauge(f, "ntpd_last_correction_seconds", "The last offset "
	    "corrected.", k && s->updates > 0, s->last_correction);
	counter(f, "ntpd_clock_updates_total", "Clock updates.", k,
	    s->updates);
	counter(f, "ntpd_clock_steps_total", "Clock steps.", k, s->steps);
	gauge(f, "ntpd_tolerance_seconds", "The largest offset the daemon "
	    "corrects; 0 for no bound.", k, s->tolerance);
	counter(f, "ntpd_corrections_refused_total", "Corrections refused "
	    "as beyond the tolerance.", k, s->refused);
	gauge(f, "ntpd_last_refused_seconds", "The last offset refused as "
	    "beyond the tolerance.", k && s->refused > 0, s->last_refused);

	gauge(f, "ntpd_sources", "Sources the daemon queries.", 1,
	    s->nsources);
	gauge(f, "ntpd_sources_usable", "Sources fit to take part in "
	    "selection.", 1, s->nusable);
	gauge(f, "ntpd_sources_agreeing", "Sources that agree with the "
	    "majority (truechimers).", 1, s->ntruechimers);
	gauge(f, "ntpd_sources_combined", "Sources in the combined offset.",
	    1, s->ncombined);
	family(f, "ntpd_selection", "gauge", "The outcome of source "
	    "selection, one sample per outcome: 1 for the current one.");
	for (i = 0; i < sizeof(sel) / sizeof(sel[0]); i++) {
		l.name = "status";
		l.value = sel[i];
		sample(f, "ntpd_selection", &l, 1,
		    strcmp(select_key(s->select_status), sel[i]) == 0);
	}
}

static const struct source_counter {
	const char	*name;
	const char	*help;
	size_t		 off;
} source_counters[] = {
	{ "ntpd_source_requests_total", "Requests sent to the source.",
	    offsetof(struct ctl_peer, sent) },
	{ "ntpd_source_samples_total", "Replies taken as samples.",
	    offsetof(struct ctl_peer, samples) },
	{ "ntpd_source_timeouts_total", "Requests that had no reply in "
	    "time.", offsetof(struct ctl_peer, timeouts) },
	{ "ntpd_source_rejected_total", "Replies refused, kisses aside.",
	    offsetof(struct ctl_peer, rejected) },
	{ "ntpd_source_kod_total", "Kiss-o'-death packets received.",
	    offsetof(struct ctl_peer, kod) },
};

enum source_gauge {
	SG_REACH,
	SG_STRATUM,
	SG_POLL,
	SG_AGE,
	SG_OFFSET,
	SG_DELAY,
	SG_JITTER,
	SG_ROOTDIST,
};

static const struct {
	enum source_gauge	 which;
	const char		*name;
	const char		*help;
} source_gauges[] = {
	{ SG_REACH, "ntpd_source_reach", "The reach register, the last 8 "
	    "polls as bits (255: all answered)." },
	{ SG_STRATUM, "ntpd_source_stratum", "The source's stratum." },
	{ SG_POLL, "ntpd_source_poll_seconds", "The poll interval." },
	{ SG_AGE, "ntpd_source_sample_age_seconds", "The age of the sample "
	    "in use." },
	{ SG_OFFSET, "ntpd_source_offset_seconds", "The filtered offset: "
	    "the source's time minus ours." },
	{ SG_DELAY, "ntpd_source_delay_seconds", "The round-trip delay of "
	    "the sample in use." },
	{ SG_JITTER, "ntpd_source_jitter_seconds", "The source's jitter." },
	{ SG_ROOTDIST, "ntpd_source_root_distance_seconds", "The source's "
	    "distance to the primary reference." },
};

/* A source's value for one gauge: 0, or -1 when it has none. */
static int
source_value(const struct ctl_peer *p, enum source_gauge which, double *v)
{
	long long	 secs;

	*v = 0;
	switch (which) {
	case SG_REACH:
		*v = p->reach & 0xff;
		return 0;
	case SG_STRATUM:
		*v = p->stratum;
		return p->stratum != 0 ? 0 : -1;
	case SG_POLL:
		if (poll_seconds(p->poll, &secs) == -1 || p->poll <= 0)
			return -1;
		*v = (double)secs;
		return 0;
	case SG_AGE:
		*v = p->age;
		break;
	case SG_OFFSET:
		*v = p->offset;
		break;
	case SG_DELAY:
		*v = p->delay;
		break;
	case SG_JITTER:
		*v = p->jitter;
		break;
	case SG_ROOTDIST:
		*v = p->rootdist;
		break;
	}
	return p->have_sample ? 0 : -1;
}

static void
metrics_sources(FILE *f, const struct peers_view *v)
{
	const struct ctl_peer	*p;
	struct label		 l[3];
	uint64_t		 u;
	double			 d;
	size_t			 i, k, s;

	family(f, "ntpd_source_state", "gauge", "The source's state, one "
	    "sample per state: 1 for the current one.");
	for (i = 0; i < v->npeers; i++) {
		p = &v->peers[i];
		l[0].name = "source";
		l[0].value = peer_source(p);
		l[1].name = "name";
		l[1].value = p->host;
		l[2].name = "state";
		for (s = 0; s < NPEER_STATES; s++) {
			l[2].value = peer_state_keys[s];
			sample(f, "ntpd_source_state", l, 3,
			    strcmp(peer_state_key(p), peer_state_keys[s]) == 0);
		}
	}
	for (k = 0; k < sizeof(source_gauges) / sizeof(source_gauges[0]);
	    k++) {
		family(f, source_gauges[k].name, "gauge",
		    source_gauges[k].help);
		for (i = 0; i < v->npeers; i++) {
			p = &v->peers[i];
			if (source_value(p, source_gauges[k].which, &d) == -1)
				continue;
			l[0].name = "source";
			l[0].value = peer_source(p);
			l[1].name = "name";
			l[1].value = p->host;
			sample(f, source_gauges[k].name, l, 2, d);
		}
	}
	for (k = 0; k < sizeof(source_counters) / sizeof(source_counters[0]);
	    k++) {
		family(f, source_counters[k].name, "counter",
		    source_counters[k].help);
		for (i = 0; i < v->npeers; i++) {
			p = &v->peers[i];
			memcpy(&u, (const char *)p + source_counters[k].off,
			    sizeof(u));
			l[0].name = "source";
			l[0].value = peer_source(p);
			l[1].name = "name";
			l[1].value = p->host;
			sample_u64(f, source_counters[k].name, l, 2, u);
		}
	}
}

static const struct server_counter {
	const char	*name;
	const char	*help;
	size_t		 off;
} server_counters[] = {
	{ "ntpd_server_requests_total", "Requests received.",
	    offsetof(struct ctl_netns_stats, received) },
	{ "ntpd_server_replies_total", "Requests answered with the time.",
	    offsetof(struct ctl_netns_stats, replies) },
	{ "ntpd_server_denied_total", "Requests denied by the allow and "
	    "deny rules.", offsetof(struct ctl_netns_stats, denied) },
	{ "ntpd_server_ratelimited_total", "Requests over their client's "
	    "rate limit.", offsetof(struct ctl_netns_stats, ratelimited) },
	{ "ntpd_server_kod_total", "Kiss-o'-death packets sent.",
	    offsetof(struct ctl_netns_stats, kod) },
	{ "ntpd_server_malformed_total", "Requests too short or of an "
	    "unknown version.", offsetof(struct ctl_netns_stats, malformed) },
	{ "ntpd_server_ignored_total", "Packets that are no client "
	    "request.", offsetof(struct ctl_netns_stats, ignored) },
	{ "ntpd_server_evictions_total", "Clients the rate limit forgot to "
	    "make room.", offsetof(struct ctl_netns_stats, evictions) },
};

static void
metrics_servers(FILE *f, const struct clients_view *v)
{
	const struct ctl_netns_stats	*ns;
	struct label			 l;
	uint64_t			 u;
	size_t				 i, k;

	l.name = "netns";
	for (k = 0; k < sizeof(server_counters) / sizeof(server_counters[0]);
	    k++) {
		family(f, server_counters[k].name, "counter",
		    server_counters[k].help);
		for (i = 0; i < v->nns; i++) {
			ns = &v->ns[i];
			memcpy(&u, (const char *)ns + server_counters[k].off,
			    sizeof(u));
			l.value = netns_name(ns->netns);
			sample_u64(f, server_counters[k].name, &l, 1, u);
		}
	}
	family(f, "ntpd_server_clients", "gauge", "Clients the rate limit "
	    "knows.");
	for (i = 0; i < v->nns; i++) {
		l.value = netns_name(v->ns[i].netns);
		sample_u64(f, "ntpd_server_clients", &l, 1, v->ns[i].nclients);
	}
	family(f, "ntpd_server_reporting", "gauge", "1 once the namespace's "
	    "server has reported its counts.");
	for (i = 0; i < v->nns; i++) {
		l.value = netns_name(v->ns[i].netns);
		sample_u64(f, "ntpd_server_reporting", &l, 1,
		    v->ns[i].reporting != 0);
	}
}

void
metrics_write(FILE *f, const struct snapshot *snap)
{
	family(f, "ntpd_up", "gauge", "1 when ntpd answered on its control "
	    "socket, 0 when not.");
	sample(f, "ntpd_up", NULL, 0, snap != NULL);
	if (snap == NULL)
		return;
	metrics_daemon(f, snap->status);
	metrics_clock(f, &snap->peers->sys);
	metrics_sources(f, snap->peers);
	metrics_servers(f, snap->clients);
}

/* ntpctl metrics: a daemon that does not answer is ntpd_up 0, status 0. */
int
cmd_metrics(int argc, char *argv[])
{
	struct snapshot	 snap;
	char		 ebuf[ERR_LEN];
	int		 up;

	if (getopt(argc, argv, "+") != -1 || optind != argc) {
		fprintf(stderr, "usage: ntpctl [-S socket] metrics\n");
		return 1;
	}
	up = snapshot_take(&snap, SNAP_ALL, NTPCTL_TIMEOUT * 1000, ebuf,
	    sizeof(ebuf)) == 0;
	if (!up)
		warnx("%s", ebuf);
	metrics_write(stdout, up ? &snap : NULL);
	if (up)
		snapshot_free(&snap);
	if (fflush(stdout) == EOF || ferror(stdout))
		err(1, "stdout");
	return 0;
}
