/*
 * ntpctl check: a Nagios/Icinga plugin.  One line on stdout, the state,
 * what is wrong, a summary and performance data:
 *
 *	NTPD OK: offset +0.000012 s, 3 sources usable, stratum 3 | ...
 *
 * and the exit status of the convention: 0 OK, 1 WARNING, 2 CRITICAL,
 * 3 UNKNOWN (no daemon, a bad answer, a usage error).  A source is
 * usable when the time rests on it: it agrees with the majority and is
 * neither refused by the tolerance nor refusing us.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "ntpctl.h"

#define CHECK_WARN_MS		50
#define CHECK_CRIT_MS		200
#define CHECK_MIN_SOURCES	2
#define CHECK_TIMEOUT		5	/* under check_nrpe's 10 s */

struct check_conf {
	double			 warn;		/* s, offset */
	double			 crit;
	long			 min_warn;	/* usable sources */
	long			 min_crit;
	enum check_state	 unsync_level;
	enum check_state	 leap_level;
	int			 timeout;	/* s */
};

struct check_result {
	enum check_state	 state;
	char			 problems[512];
};

static const char *const state_names[] = {
	"OK", "WARNING", "CRITICAL", "UNKNOWN",
};

/* Nothing of the daemon's or the user's may end the text early. */
static void
put_line(const char *s)
{
	for (; *s != '\0'; s++)
		putchar(*s == '|' || *s == '\n' ? '/' : *s);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
check_usage(const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[256];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("NTPD UNKNOWN: ");
	put_line(safe_str(msg));
	printf("\n");
	fprintf(stderr, "usage: ntpctl [-S socket] check [-c offset_ms] "
	    "[-l level] [-M min_sources]\n"
	    "              [-m min_sources] [-t seconds] [-u level] "
	    "[-w offset_ms]\n");
	exit(CHECK_UNKNOWN);
}

static double
parse_ms(const char *s, char opt)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (s[0] == '\0' || *end != '\0' || errno != 0 || !isfinite(v) ||
	    v < 0 || v > 1e9)
		check_usage("-%c: \"%s\" is not a number of milliseconds",
		    opt, s);
	return v / 1000;
}

static long
parse_count(const char *s, char opt, long max)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (s[0] == '\0' || *end != '\0' || errno != 0 || v < 0 || v > max)
		check_usage("-%c: \"%s\" is not a number from 0 to %ld", opt,
		    s, max);
	return v;
}

static enum check_state
parse_level(const char *s, char opt)
{
	if (strcmp(s, "ok") == 0)
		return CHECK_OK;
	if (strcmp(s, "warning") == 0)
		return CHECK_WARNING;
	if (strcmp(s, "critical") == 0)
		return CHECK_CRITICAL;
	check_usage("-%c: \"%s\" is not ok, warning or critical", opt, s);
}

static void __attribute__((format(printf, 3, 4)))
raise_to(struct check_result *r, enum check_state level, const char *fmt,
    ...)
{
	va_list	 ap;
	size_t	 n;

	if (level == CHECK_OK)
		return;
	if (level > r->state)
		r->state = level;
	n = strlen(r->problems);
	if (n > 0 && n + 2 < sizeof(r->problems)) {
		strlcat(r->problems, "; ", sizeof(r->problems));
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(r->problems + n, sizeof(r->problems) - n, fmt, ap);
	va_end(ap);
}

/*
 * A threshold in seconds as plain decimals, which is all that
 * performance data may hold: at least milliseconds, at most nanoseconds.
 */
static const char *
fmt_threshold(double s, char *buf, size_t len)
{
	size_t	 n;
	char	*dot;

	snprintf(buf, len, "%.9f", s);
	if ((dot = strchr(buf, '.')) == NULL)
		return buf;
	n = strlen(buf);
	while (n > (size_t)(dot - buf) + 4 && buf[n - 1] == '0')
		buf[--n] = '\0';
	return buf;
}

static enum check_state
evaluate(const struct check_conf *c, const struct snapshot *snap)
{
	const struct ctl_system	*s = &snap->peers->sys;
	struct check_result	 r;
	char			 tw[32], tc[32];
	size_t			 usable = sources_usable(snap->peers);
	int			 synced, known, have_offset;

	memset(&r, 0, sizeof(r));
	synced = snap->status->status.sync_state == CTL_SYNC_SYNCHRONISED;
	known = discipline_known(s);
	have_offset = offset_known(s);

	if (!synced)
		raise_to(&r, c->unsync_level, "unsynchronised");
	/* Leap 3 is the unsynchronised state, said once. */
	if (known && s->leap != 0 && (synced || s->leap != 3))
		raise_to(&r, c->leap_level, "leap %s", leap_key(s->leap));
	if (have_offset && fabs(s->offset) > c->crit)
		raise_to(&r, CHECK_CRITICAL, "offset %+.6f s beyond %s s",
		    s->offset, fmt_threshold(c->crit, tw, sizeof(tw)));
	else if (have_offset && fabs(s->offset) > c->warn)
		raise_to(&r, CHECK_WARNING, "offset %+.6f s beyond %s s",
		    s->offset, fmt_threshold(c->warn, tw, sizeof(tw)));
	if (usable < (size_t)c->min_crit)
		raise_to(&r, CHECK_CRITICAL, "%zu usable source%s, "
		    "fewer than %ld", usable, usable == 1 ? "" : "s",
		    c->min_crit);
	else if (usable < (size_t)c->min_warn)
		raise_to(&r, CHECK_WARNING, "%zu usable source%s, "
		    "fewer than %ld", usable, usable == 1 ? "" : "s",
		    c->min_warn);

	printf("NTPD %s: ", state_names[r.state]);
	if (r.problems[0] != '\0') {
		put_line(r.problems);
		printf("; ");
	}
	if (have_offset)
		printf("offset %+.6f s", s->offset);
	else
		printf("offset unknown");
	printf(", %zu source%s usable", usable, usable == 1 ? "" : "s");
	if (known)
		printf(", stratum %u", s->stratum);
	else
		printf(", stratum unknown");

	/* Performance data: 'label'=value[UOM];[warn];[crit] */
	printf(" | offset=");
	if (have_offset)
		printf("%.6fs;", s->offset);
	else
		printf("U;");
	printf("%s;%s", fmt_threshold(c->warn, tw, sizeof(tw)),
	    fmt_threshold(c->crit, tc, sizeof(tc)));
	printf(" sources=%zu;", usable);
	if (c->min_warn > 0)
		printf("%ld:", c->min_warn);
	printf(";");
	if (c->min_crit > 0)
		printf("%ld:", c->min_crit);
	if (known)
		printf(" stratum=%u\n", s->stratum);
	else
		printf(" stratum=U\n");
	return r.state;
}

int
cmd_check(int argc, char *argv[])
{
	struct check_conf	 c;
	struct snapshot		 snap;
	char			 ebuf[ERR_LEN];
	int			 ch;

	c.warn = CHECK_WARN_MS / 1000.0;
	c.crit = CHECK_CRIT_MS / 1000.0;
	c.min_warn = CHECK_MIN_SOURCES;
	c.min_crit = 0;
	c.unsync_level = CHECK_CRITICAL;
	c.leap_level = CHECK_CRITICAL;
	c.timeout = CHECK_TIMEOUT;

	while ((ch = getopt(argc, argv, "+c:l:M:m:t:u:w:")) != -1) {
		switch (ch) {
		case 'c':
			c.crit = parse_ms(optarg, ch);
			break;
		case 'l':
			c.leap_level = parse_level(optarg, ch);
			break;
		case 'M':
			c.min_crit = parse_count(optarg, ch, MAX_LINES);
			break;
		case 'm':
			c.min_warn = parse_count(optarg, ch, MAX_LINES);
			break;
		case 't':
			c.timeout = (int)parse_count(optarg, ch, 3600);
			if (c.timeout == 0)
				check_usage("-t: 0 is no time-out");
			break;
		case 'u':
			c.unsync_level = parse_level(optarg, ch);
			break;
		case 'w':
			c.warn = parse_ms(optarg, ch);
			break;
		default:
			check_usage("unknown option or missing argument");
		}
	}
	if (optind != argc)
		check_usage("unexpected argument \"%s\"", argv[optind]);

	if (snapshot_take(&snap, SNAP_STATUS | SNAP_PEERS, c.timeout * 1000,
	    ebuf, sizeof(ebuf)) == -1) {
		printf("NTPD UNKNOWN: ");
		put_line(ebuf);
		printf("\n");
		return CHECK_UNKNOWN;
	}
	ch = evaluate(&c, &snap);
	snapshot_free(&snap);
	return ch;
}
