/*
 * make bench-sim: every scenario (or one, -S) over -n seeds from -s,
 * a row of means for ours and chrony's figures below it.  It prints,
 * it asserts nothing.
 *
 *	sim [-v] [-n seeds] [-s first_seed] [-S scenario] [-t trace]
 *
 * -v adds a row per seed; -t writes a line per clock update to a file.
 */
#include <err.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"

#define CELL	12		/* characters a figure takes */
#define NCOLS	12

struct totals {
	unsigned int	 n;
	double		 rms, max, mean, spread, freq_rms;
	double		 settle_1ms, settle_100us;
	unsigned int	 never_1ms, never_100us;
	double		 steps, first_step, after_step;
	unsigned int	 stepped;
	unsigned int	 fts;		/* seeds where a liar was combined */
	unsigned int	 fts_used;	/* ... and in a clock update */
	double		 updates, polls;
};

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: sim [-v] [-n seeds] [-s first_seed] "
	    "[-S scenario] [-t trace]\n");
	exit(1);
}

/* A time or offset with its unit, in a cell; "-" for none. */
static const char *
fmt_s(char *buf, size_t len, double s)
{
	double	a = fabs(s);

	if (isnan(s))
		snprintf(buf, len, "-");
	else if (a < 1e-3)
		snprintf(buf, len, "%.1f us", s * 1e6);
	else if (a < 1)
		snprintf(buf, len, "%.3f ms", s * 1e3);
	else
		snprintf(buf, len, "%.1f s", s);
	return buf;
}

/* v with decimals and a unit, or "-". */
static const char *
fmt_num(char *buf, size_t len, double v, int decimals, const char *unit)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.*f%s", decimals, v, unit);
	return buf;
}

/* A settling time: the mean where it settled, and how many never did. */
static const char *
fmt_settle(char *buf, size_t len, double sum, unsigned int n,
    unsigned int never)
{
	char	t[CELL + 1];

	if (never == n)
		snprintf(buf, len, "never");
	else if (never > 0)
		snprintf(buf, len, "%s,%u!", fmt_s(t, sizeof(t),
		    sum / (n - never)), never);
	else
		fmt_s(buf, len, sum / n);
	return buf;
}

static const struct {
	const char	*name;
	int		 width;
} columns[NCOLS] = {
	{ "rms offset", 10 }, { "max |offset|", 12 }, { "mean offset", 11 },
	{ "spread", 10 }, { "rms freq err", 12 }, { "<1ms from", 11 },
	{ "<100us from", 11 }, { "steps", 5 }, { "first step", 10 },
	{ "after step", 10 }, { "liar sel.", 9 }, { "liar used", 9 },
};

/* A row: its two names, then NCOLS cells right-aligned, then a note. */
static void
row(const char *name, const char *who, char cells[NCOLS][CELL + 1],
    const char *note)
{
	int	i;

	printf("%-11s %-10s", name, who);
	for (i = 0; i < NCOLS; i++)
		printf(" %*s", columns[i].width, cells[i]);
	printf("%s%s\n", note != NULL ? "  " : "", note != NULL ? note : "");
}

static void
header(void)
{
	char	c[NCOLS][CELL + 1];
	int	i;

	for (i = 0; i < NCOLS; i++)
		strlcpy(c[i], columns[i].name, sizeof(c[i]));
	row("scenario", "who", c, NULL);
}

static void
row_result(const char *name, const char *who, const struct totals *t)
{
	char	c[NCOLS][CELL + 1];

	fmt_s(c[0], CELL + 1, t->rms / t->n);
	fmt_s(c[1], CELL + 1, t->max / t->n);
	fmt_s(c[2], CELL + 1, t->mean / t->n);
	fmt_s(c[3], CELL + 1, t->spread / t->n);
	fmt_num(c[4], CELL + 1, t->freq_rms / t->n, 4, " ppm");
	fmt_settle(c[5], CELL + 1, t->settle_1ms, t->n, t->never_1ms);
	fmt_settle(c[6], CELL + 1, t->settle_100us, t->n, t->never_100us);
	fmt_num(c[7], CELL + 1, t->steps / t->n, 2, "");
	fmt_s(c[8], CELL + 1, t->stepped > 0 ? t->first_step / t->stepped :
	    NAN);
	fmt_s(c[9], CELL + 1, t->stepped > 0 ? t->after_step / t->stepped :
	    NAN);
	snprintf(c[10], CELL + 1, "%u/%u", t->fts, t->n);
	snprintf(c[11], CELL + 1, "%u/%u", t->fts_used, t->n);
	row(name, who, c, NULL);
}

static void
row_ref(const struct sim_ref *r)
{
	char	c[NCOLS][CELL + 1];
	int	i;

	for (i = 0; i < NCOLS; i++)
		strlcpy(c[i], "-", sizeof(c[i]));
	fmt_s(c[0], CELL + 1, r->rms);
	fmt_s(c[1], CELL + 1, r->max);
	fmt_s(c[3], CELL + 1, r->spread);
	fmt_num(c[7], CELL + 1, r->steps, 0, "");
	fmt_s(c[8], CELL + 1, r->first_step);
	fmt_s(c[9], CELL + 1, r->after_step);
	if (!isnan(r->fts_selected))
		strlcpy(c[10], r->fts_selected == 0 ? "never" : "yes",
		    sizeof(c[10]));
	row("", "chrony 4.3", c, r->note);
}

static void
add(struct totals *t, const struct sim_result *r)
{
	t->n++;
	t->rms += r->rms;
	t->max += r->max;
	t->mean += r->mean;
	t->spread += r->spread;
	t->freq_rms += r->freq_rms;
	if (r->settle_1ms < 0)
		t->never_1ms++;
	else
		t->settle_1ms += r->settle_1ms;
	if (r->settle_100us < 0)
		t->never_100us++;
	else
		t->settle_100us += r->settle_100us;
	t->steps += r->steps;
	if (r->first_step >= 0) {
		t->first_step += r->first_step;
		t->after_step += r->after_step;
		t->stepped++;
	}
	if (r->fts_selected > 0)
		t->fts++;
	if (r->fts_used > 0)
		t->fts_used++;
	t->updates += (double)r->updates;
	t->polls += (double)r->polls;
}

static void
scenario(const struct sim_scenario *sc, uint64_t seed0, unsigned int n,
    int verbose, const struct sim_opts *opts)
{
	struct sim_result	 r;
	struct totals		 t, one;
	char			 who[32];
	unsigned int		 i;

	memset(&t, 0, sizeof(t));
	for (i = 0; i < n; i++) {
		if (sim_run(sc, seed0 + i, opts, &r) == -1)
			errx(1, "scenario %s: invalid", sc->name);
		add(&t, &r);
		if (verbose) {
			memset(&one, 0, sizeof(one));
			add(&one, &r);
			snprintf(who, sizeof(who), "seed %llu",
			    (unsigned long long)(seed0 + i));
			row_result(sc->name, who, &one);
		}
	}
	row_result(sc->name, "ntpd", &t);
	row_ref(&sc->ref);
	printf("%-22s %s; %.0f polls, %.0f clock updates a run\n\n", "",
	    sc->title, t.polls / t.n, t.updates / t.n);
}

static unsigned long long
number(const char *s, unsigned long long max)
{
	unsigned long long	 v;
	char			*end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v > max || *s == '-')
		usage();
	return v;
}

int
main(int argc, char *argv[])
{
	const struct sim_scenario	*sc, *only = NULL;
	struct sim_opts			 opts;
	struct timespec			 a, b;
	unsigned long long		 seed0 = 1;
	unsigned int			 n = 20;
	int				 ch, verbose = 0;

	memset(&opts, 0, sizeof(opts));
	while ((ch = getopt(argc, argv, "n:s:S:t:v")) != -1) {
		switch (ch) {
		case 'n':
			n = (unsigned int)number(optarg, 100000);
			break;
		case 's':
			seed0 = number(optarg, UINT64_MAX / 2);
			break;
		case 'S':
			if ((only = sim_scenario_find(optarg)) == NULL)
				errx(1, "no scenario %s", optarg);
			break;
		case 't':
			if ((opts.trace = fopen(optarg, "w")) == NULL)
				err(1, "%s", optarg);
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || n == 0)
		usage();

	clock_gettime(CLOCK_MONOTONIC, &a);
	printf("Simulated accuracy, %u seeds from %llu; figures from %.0f s "
	    "on, means over seeds (\",N!\": N seeds never got there)\n\n",
	    n, seed0, SIM_SETTLE);
	header();
	for (sc = sim_scenarios; sc->name != NULL; sc++)
		if (only == NULL || only == sc)
			scenario(sc, seed0, n, verbose, &opts);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.1f s of computing\n", (double)(b.tv_sec - a.tv_sec) +
	    (double)(b.tv_nsec - a.tv_nsec) / 1e9);
	if (opts.trace != NULL && fclose(opts.trace) == EOF)
		err(1, "trace");
	return 0;
}
