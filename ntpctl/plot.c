/*
 * ntpctl plot: the statistics log as an SVG picture.  The top panel has
 * the clock offset of each update as a line and the samples of each
 * source as dots; the bottom panel the frequency; steps are marked
 * across both.
 *
 * Memory and output are bounded by the width, not by the log: records
 * go into a fixed number of time bins (four per pixel column) in one
 * pass over the input.  The time range is not known until the end, so
 * the bins start narrow and, whenever a record falls outside them, pairs
 * of neighbours merge and the range doubles (towards that record).
 * A log in time order then covers at least half of the bins, two or more
 * per pixel column (records out of order only make the bins coarser,
 * never lost).  One pass, rather than two over the
 * file, also reads a pipe (zcat old.log.gz | ntpctl plot -) without a
 * temporary copy.  Each bin keeps, per series, the count, the minimum
 * and maximum and the first and last values: per pixel column a line
 * needs at most four points and a source at most two dots.
 */
#include <err.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ntpctl.h"
#include "plot.h"

#define VALUE_MAX	64		/* bytes of a number */
#define SECONDS_MAX	4294967296.0	/* an NTP era: no offset is larger */
#define PPM_MAX		1e6
#define TIME_MAX	253402300799LL	/* 9999-12-31 23:59:59 UTC */
#define TIME_DIGITS	12
#define BIN_WIDTH_FIRST	1e-3		/* s, before the range is known */
#define BINS_PER_PIXEL	4
#define NSERIES		(PLOT_SOURCES_MAX + 1)	/* the last: other sources */

/* Series that are not sources' dots. */
#define SER_OFFSET	(-1)
#define SER_FREQ	(-2)

/* ---- Parsing ---------------------------------------------------------- */

enum key_type {
	KT_SECONDS,	/* finite, within an NTP era either way */
	KT_PPM,		/* finite, within +-1e6 */
	KT_STRATUM,	/* 0 to 255 */
	KT_COUNT,	/* 0 to 65535 */
	KT_ACTION,
	KT_SOURCE,
};

enum key_use {
	KU_CHECK,	/* checked, not plotted */
	KU_OFFSET,
	KU_FREQ,
	KU_ACTION,
	KU_SOURCE,
};

#define FOR_UPDATE	0x01
#define FOR_SAMPLE	0x02

/* The keys this version knows; any other is skipped. */
static const struct key {
	const char	*name;
	enum key_type	 type;
	int		 kinds;
	enum key_use	 use;
} keys[] = {
	{ "action",	KT_ACTION,	FOR_UPDATE,		KU_ACTION },
	{ "delay",	KT_SECONDS,	FOR_SAMPLE,		KU_CHECK },
	{ "disp",	KT_SECONDS,	FOR_SAMPLE,		KU_CHECK },
	{ "freq",	KT_PPM,		FOR_UPDATE,		KU_FREQ },
	{ "jitter",	KT_SECONDS,	FOR_SAMPLE,		KU_CHECK },
	{ "offset",	KT_SECONDS,	FOR_UPDATE | FOR_SAMPLE, KU_OFFSET },
	{ "rootdelay",	KT_SECONDS,	FOR_UPDATE,		KU_CHECK },
	{ "rootdisp",	KT_SECONDS,	FOR_UPDATE,		KU_CHECK },
	{ "skew",	KT_PPM,		FOR_UPDATE,		KU_CHECK },
	{ "source",	KT_SOURCE,	FOR_SAMPLE,		KU_SOURCE },
	{ "sources",	KT_COUNT,	FOR_UPDATE,		KU_CHECK },
	{ "stratum",	KT_STRATUM,	FOR_UPDATE | FOR_SAMPLE, KU_CHECK },
};
#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

static const char *const actions[] = {
	[PLOT_ACT_NONE] = "none",
	[PLOT_ACT_SLEW] = "slew",
	[PLOT_ACT_STEP] = "step",
	[PLOT_ACT_REFUSED] = "refused",
};

struct tok {
	const char	*p;
	size_t		 len;
};

static int __attribute__((format(printf, 3, 4)))
bad(char *why, size_t len, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * A piece of the line for a message: printable ASCII as it is, other
 * bytes as \ooo, cut after 24 bytes, so that a message stays one short
 * line whatever the input.
 */
static const char *
shown(const struct tok *t, char *buf, size_t len)
{
	size_t		 i, n = 0;
	unsigned char	 c;

	for (i = 0; i < t->len && i < 24 && n + 5 < len; i++) {
		c = (unsigned char)t->p[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf[n++] = (char)c;
		else
			n += (size_t)snprintf(buf + n, len - n, "\\%03o", c);
	}
	if (i < t->len && n + 4 < len) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

static int
tok_is(const struct tok *t, const char *s)
{
	return strlen(s) == t->len && memcmp(t->p, s, t->len) == 0;
}

/*
 * The next field at *p: 1 with it in t, 0 at the end of the line.  A
 * field may be empty (two spaces, a space at either end).
 */
static int
next_field(const char **p, int *more, struct tok *t)
{
	if (!*more)
		return 0;
	t->p = *p;
	t->len = strcspn(*p, " ");
	*p += t->len;
	*more = **p == ' ';
	if (*more)
		(*p)++;
	return 1;
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Seconds since 1970: digits, then '.' and 1 to 9 digits, or not. */
static int
parse_time(const struct tok *t, struct plot_time *out)
{
	size_t	 i = 0, nd = 0, fd = 0;
	int64_t	 sec = 0;
	int32_t	 nsec = 0;

	for (; i < t->len && is_digit(t->p[i]); i++) {
		if (++nd > TIME_DIGITS)
			return -1;
		sec = sec * 10 + (t->p[i] - '0');
	}
	if (nd == 0 || sec > TIME_MAX)
		return -1;
	if (i < t->len) {
		if (t->p[i++] != '.')
			return -1;
		for (; i < t->len; i++) {
			if (!is_digit(t->p[i]) || ++fd > 9)
				return -1;
			nsec = nsec * 10 + (t->p[i] - '0');
		}
		if (fd == 0)
			return -1;
		for (; fd < 9; fd++)
			nsec *= 10;
	}
	out->sec = sec;
	out->nsec = nsec;
	return 0;
}

/*
 * A decimal number, [+-]digits[.digits][e[+-]digits]: strtod() alone
 * would also take "nan", "inf" and hexadecimal.  Then it must be finite
 * (1e999 is not).  0, or -1 with the reason.
 */
static int
parse_number(const struct tok *t, double *v, const char **reason)
{
	char	 buf[VALUE_MAX + 1], *end;
	size_t	 i = 0, mant = 0, exp = 0;

	*reason = "not a decimal number";
	if (t->len > VALUE_MAX) {
		*reason = "too long";
		return -1;
	}
	if (i < t->len && (t->p[i] == '+' || t->p[i] == '-'))
		i++;
	for (; i < t->len && is_digit(t->p[i]); i++)
		mant++;
	if (i < t->len && t->p[i] == '.')
		for (i++; i < t->len && is_digit(t->p[i]); i++)
			mant++;
	if (mant == 0)
		return -1;
	if (i < t->len && (t->p[i] == 'e' || t->p[i] == 'E')) {
		i++;
		if (i < t->len && (t->p[i] == '+' || t->p[i] == '-'))
			i++;
		for (; i < t->len && is_digit(t->p[i]); i++)
			exp++;
		if (exp == 0 || exp > 4)
			return -1;
	}
	if (i != t->len)
		return -1;
	memcpy(buf, t->p, t->len);
	buf[t->len] = '\0';
	*v = strtod(buf, &end);
	if (end != buf + t->len)
		return -1;
	if (!isfinite(*v)) {
		*reason = "not a finite number";
		return -1;
	}
	return 0;
}

/* A whole number from 0 to max, in decimal. */
static int
parse_count(const struct tok *t, long max)
{
	size_t	 i;
	long	 v = 0;

	if (t->len == 0 || t->len > 6)
		return -1;
	for (i = 0; i < t->len; i++) {
		if (!is_digit(t->p[i]))
			return -1;
		v = v * 10 + (t->p[i] - '0');
	}
	return v <= max ? 0 : -1;
}

/* A name or address: no control bytes, no more than the daemon writes. */
static int
parse_source(const struct tok *t, char *dst, const char **reason)
{
	size_t	 i;

	if (t->len == 0 || t->len > PLOT_SOURCE_MAX) {
		*reason = t->len == 0 ? "empty" : "longer than 255 bytes";
		return -1;
	}
	for (i = 0; i < t->len; i++) {
		if ((unsigned char)t->p[i] < 0x20 || t->p[i] == 0x7f) {
			*reason = "a control character";
			return -1;
		}
	}
	memcpy(dst, t->p, t->len);
	dst[t->len] = '\0';
	return 0;
}

static int
parse_action(const struct tok *t, enum plot_action *a)
{
	size_t	 i;

	for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		if (tok_is(t, actions[i])) {
			*a = (enum plot_action)i;
			return 0;
		}
	}
	return -1;
}

/* One known KEY=VALUE into rec: 0, or -1 with the reason. */
static int
parse_value(const struct key *k, const struct tok *v, struct plot_rec *rec,
    char *why, size_t whylen)
{
	const char	*reason = "invalid";
	char		 buf[128];
	double		 d;

	switch (k->type) {
	case KT_SECONDS:
	case KT_PPM:
		if (parse_number(v, &d, &reason) == -1)
			break;
		reason = "out of range";
		if (fabs(d) > (k->type == KT_PPM ? PPM_MAX : SECONDS_MAX))
			break;
		if (k->use == KU_OFFSET)
			rec->offset = d;
		else if (k->use == KU_FREQ) {
			rec->freq = d;
			rec->has_freq = 1;
		}
		return 0;
	case KT_STRATUM:
	case KT_COUNT:
		reason = "not a whole number in range";
		if (parse_count(v, k->type == KT_STRATUM ? 255 : 65535) == -1)
			break;
		return 0;
	case KT_ACTION:
		reason = "not none, slew, step or refused";
		if (parse_action(v, &rec->action) == -1)
			break;
		return 0;
	case KT_SOURCE:
		if (parse_source(v, rec->source, &reason) == -1)
			break;
		return 0;
	}
	return bad(why, whylen, "%s: %s: \"%s\"", k->name, reason,
	    shown(v, buf, sizeof(buf)));
}

static const struct key *
find_key(const struct tok *name, int kind, size_t *idx)
{
	size_t	 i;

	for (i = 0; i < NKEYS; i++) {
		if ((keys[i].kinds & kind) && tok_is(name, keys[i].name)) {
			*idx = i;
			return &keys[i];
		}
	}
	return NULL;
}

/* The KEY=VALUE fields after the kind. */
static int
parse_fields(const char *p, int more, int kind, struct plot_rec *rec,
    char *why, size_t whylen)
{
	const struct key	*k;
	struct tok		 f, name, val;
	const char		*eq;
	char			 buf[128];
	uint32_t		 seen = 0;
	size_t			 idx;

	while (next_field(&p, &more, &f)) {
		if (f.len == 0)
			return bad(why, whylen, "an empty field (two spaces, "
			    "or one at the end)");
		if ((eq = memchr(f.p, '=', f.len)) == NULL || eq == f.p)
			return bad(why, whylen, "not KEY=VALUE: \"%s\"",
			    shown(&f, buf, sizeof(buf)));
		name.p = f.p;
		name.len = (size_t)(eq - f.p);
		val.p = eq + 1;
		val.len = f.len - name.len - 1;
		if ((k = find_key(&name, kind, &idx)) == NULL)
			continue;	/* a later version's: not ours */
		if (seen & (1U << idx))
			return bad(why, whylen, "%s given twice", k->name);
		seen |= 1U << idx;
		if (parse_value(k, &val, rec, why, whylen) == -1)
			return -1;
	}
	for (idx = 0; idx < NKEYS; idx++) {
		if (keys[idx].use == KU_OFFSET && !(seen & (1U << idx)))
			return bad(why, whylen, "no offset");
		if (kind == FOR_SAMPLE && keys[idx].use == KU_SOURCE &&
		    !(seen & (1U << idx)))
			return bad(why, whylen, "a sample without its source");
	}
	return 1;
}

int
plot_parse_line(const char *line, struct plot_rec *rec, char *why,
    size_t whylen)
{
	struct tok	 f;
	const char	*p = line;
	char		 buf[128];
	int		 more = 1, kind;

	if (*line == '\0' || *line == '#')
		return 0;
	memset(rec, 0, sizeof(*rec));
	(void)next_field(&p, &more, &f);
	if (parse_time(&f, &rec->t) == -1)
		return bad(why, whylen, "not a time in seconds since 1970: "
		    "\"%s\"", shown(&f, buf, sizeof(buf)));
	if (!next_field(&p, &more, &f) || f.len == 0)
		return bad(why, whylen, "no kind of record after the time");
	if (tok_is(&f, "update")) {
		rec->kind = PLOT_UPDATE;
		kind = FOR_UPDATE;
	} else if (tok_is(&f, "sample")) {
		rec->kind = PLOT_SAMPLE;
		kind = FOR_SAMPLE;
	} else
		return 0;	/* a later version's kind */
	return parse_fields(p, more, kind, rec, why, whylen);
}

/* ---- Aggregates --------------------------------------------------------- */

/* A line series in a bin or a column: times are s after the origin. */
struct line_agg {
	uint64_t	 n;
	double		 min, max, first, last;
	double		 tfirst, tlast;
};

/* A source's dots in a bin. */
struct dot_agg {
	uint64_t	 n;
	double		 min, max;
};

struct bin {
	struct line_agg	 offset;
	struct line_agg	 freq;
	uint64_t	 steps;
	uint64_t	 refused;
	double		 step;		/* the largest step in it */
};

struct plot_data {
	size_t		 nbins;
	struct bin	*bins;
	struct dot_agg	*dots;		/* nbins rows of NSERIES */
	int		 placed;	/* b0 and bw are set */
	double		 b0;		/* where bin 0 starts */
	double		 bw;		/* the width of each bin, s */
	struct plot_time origin;	/* the first record's time */
	double		 tmin, tmax;	/* of all records */
	double		 utmin, utmax;	/* of the updates */
	char		 names[PLOT_SOURCES_MAX][PLOT_SOURCE_MAX + 1];
	size_t		 nnames;
	int		 others;	/* samples of sources beyond names[] */
	uint64_t	 nupdates, nsamples, nsteps, nrefused, nfreq;
};

struct plot_data *
plot_data_new(int width)
{
	struct plot_data	*d;

	if (width < PLOT_WIDTH_MIN)
		width = PLOT_WIDTH_MIN;
	if (width > PLOT_WIDTH_MAX)
		width = PLOT_WIDTH_MAX;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->nbins = (size_t)width * BINS_PER_PIXEL;
	d->bins = calloc(d->nbins, sizeof(*d->bins));
	d->dots = calloc(d->nbins * NSERIES, sizeof(*d->dots));
	if (d->bins == NULL || d->dots == NULL) {
		plot_data_free(d);
		return NULL;
	}
	return d;
}

void
plot_data_free(struct plot_data *d)
{
	if (d == NULL)
		return;
	free(d->bins);
	free(d->dots);
	free(d);
}

uint64_t
plot_data_records(const struct plot_data *d)
{
	return d->nupdates + d->nsamples;
}

static void
line_add(struct line_agg *a, double t, double v)
{
	if (a->n == 0) {
		a->min = a->max = a->first = a->last = v;
		a->tfirst = a->tlast = t;
	} else {
		a->min = fmin(a->min, v);
		a->max = fmax(a->max, v);
		if (t < a->tfirst) {
			a->tfirst = t;
			a->first = v;
		}
		if (t >= a->tlast) {
			a->tlast = t;
			a->last = v;
		}
	}
	a->n++;
}

static void
line_merge(struct line_agg *a, const struct line_agg *b)
{
	if (b->n == 0)
		return;
	if (a->n == 0) {
		*a = *b;
		return;
	}
	a->min = fmin(a->min, b->min);
	a->max = fmax(a->max, b->max);
	if (b->tfirst < a->tfirst) {
		a->tfirst = b->tfirst;
		a->first = b->first;
	}
	if (b->tlast >= a->tlast) {
		a->tlast = b->tlast;
		a->last = b->last;
	}
	a->n += b->n;
}

static void
dot_merge(struct dot_agg *a, const struct dot_agg *b)
{
	if (b->n == 0)
		return;
	if (a->n == 0) {
		*a = *b;
		return;
	}
	a->min = fmin(a->min, b->min);
	a->max = fmax(a->max, b->max);
	a->n += b->n;
}

/* Bin src into dst; merging a bin into itself changes nothing. */
static void
bin_merge(struct plot_data *d, size_t dst, size_t src)
{
	struct bin	*a = &d->bins[dst], *b = &d->bins[src];
	size_t		 s;

	if (dst == src)
		return;
	line_merge(&a->offset, &b->offset);
	line_merge(&a->freq, &b->freq);
	a->steps += b->steps;
	a->refused += b->refused;
	if (fabs(b->step) > fabs(a->step))
		a->step = b->step;
	for (s = 0; s < NSERIES; s++)
		dot_merge(&d->dots[dst * NSERIES + s],
		    &d->dots[src * NSERIES + s]);
}

static void
bin_clear(struct plot_data *d, size_t i)
{
	memset(&d->bins[i], 0, sizeof(d->bins[i]));
	memset(&d->dots[i * NSERIES], 0, NSERIES * sizeof(*d->dots));
}

/* Bins 2j and 2j+1 into j, in place: the range doubles to the right. */
static void
grow_right(struct plot_data *d)
{
	size_t	 j, half = d->nbins / 2;

	for (j = 0; j < half; j++) {
		/* Bin 0 is its own first half; every other j is read by now. */
		if (j > 0) {
			bin_clear(d, j);
			bin_merge(d, j, 2 * j);
		}
		bin_merge(d, j, 2 * j + 1);
	}
	for (j = half; j < d->nbins; j++)
		bin_clear(d, j);
	d->bw *= 2;
}

/*
 * The range doubles to the left: the old bins become the right half,
 * bins 2i and 2i+1 into half + i.  From the top down, so that every
 * bin is read before it is written.
 */
static void
grow_left(struct plot_data *d)
{
	size_t	 i, j, half = d->nbins / 2;

	for (j = d->nbins; j-- > half;) {
		i = j - half;
		/* Bin j is 2i + 1 only at the very top: read it first. */
		if (2 * i + 1 != j) {
			bin_clear(d, j);
			bin_merge(d, j, 2 * i + 1);
		}
		bin_merge(d, j, 2 * i);
	}
	for (j = 0; j < half; j++)
		bin_clear(d, j);
	d->b0 -= (double)d->nbins * d->bw;
	d->bw *= 2;
}

static double
rel_time(const struct plot_data *d, const struct plot_time *t)
{
	return (double)(t->sec - d->origin.sec) +
	    (double)(t->nsec - d->origin.nsec) * 1e-9;
}

/* The bin of t, the range grown to hold it. */
static size_t
bin_of(struct plot_data *d, double t)
{
	double	 i;

	if (!d->placed) {
		d->b0 = t;
		d->bw = BIN_WIDTH_FIRST;
		d->placed = 1;
	}
	while (t < d->b0)
		grow_left(d);
	while (t >= d->b0 + (double)d->nbins * d->bw)
		grow_right(d);
	i = floor((t - d->b0) / d->bw);
	if (i < 0)
		return 0;
	if (i >= (double)d->nbins)
		return d->nbins - 1;
	return (size_t)i;
}

/* The series of a source: one of its own while there are colours left. */
static size_t
source_series(struct plot_data *d, const char *name)
{
	size_t	 i;

	for (i = 0; i < d->nnames; i++)
		if (strcmp(d->names[i], name) == 0)
			return i;
	if (d->nnames < PLOT_SOURCES_MAX) {
		strlcpy(d->names[d->nnames], name, sizeof(d->names[0]));
		return d->nnames++;
	}
	/* Not counted: that would take memory without bound. */
	d->others = 1;
	return PLOT_SOURCES_MAX;
}

void
plot_data_add(struct plot_data *d, const struct plot_rec *r)
{
	struct dot_agg	*dot;
	struct bin	*b;
	double		 t;

	if (d->nupdates + d->nsamples == 0) {
		d->origin = r->t;
		d->tmin = d->tmax = 0;
	}
	t = rel_time(d, &r->t);
	d->tmin = fmin(d->tmin, t);
	d->tmax = fmax(d->tmax, t);
	b = &d->bins[bin_of(d, t)];
	if (r->kind == PLOT_SAMPLE) {
		dot = &d->dots[(size_t)(b - d->bins) * NSERIES +
		    source_series(d, r->source)];
		if (dot->n == 0)
			dot->min = dot->max = r->offset;
		dot->min = fmin(dot->min, r->offset);
		dot->max = fmax(dot->max, r->offset);
		dot->n++;
		d->nsamples++;
		return;
	}
	if (d->nupdates == 0)
		d->utmin = d->utmax = t;
	d->utmin = fmin(d->utmin, t);
	d->utmax = fmax(d->utmax, t);
	d->nupdates++;
	line_add(&b->offset, t, r->offset);
	if (r->has_freq) {
		line_add(&b->freq, t, r->freq);
		d->nfreq++;
	}
	if (r->action == PLOT_ACT_STEP) {
		b->steps++;
		if (fabs(r->offset) > fabs(b->step))
			b->step = r->offset;
		d->nsteps++;
	} else if (r->action == PLOT_ACT_REFUSED) {
		b->refused++;
		d->nrefused++;
	}
}

/* ---- Reading ------------------------------------------------------------ */

long long
plot_read(struct plot_data *d, FILE *fp, const char *name, FILE *warn)
{
	struct plot_rec	 rec;
	char		 line[PLOT_LINE_MAX + 1], why[160];
	uint64_t	 lineno = 0;
	long long	 nbad = 0;
	size_t		 len;
	int		 c, rc, toolong, nul;

	for (;;) {
		len = 0;
		toolong = nul = 0;
		while ((c = getc_unlocked(fp)) != EOF && c != '\n') {
			nul |= c == '\0';
			if (len < PLOT_LINE_MAX)
				line[len++] = (char)c;
			else
				toolong = 1;
		}
		if (c == EOF && len == 0)
			break;
		lineno++;
		line[len] = '\0';
		if (toolong)
			rc = bad(why, sizeof(why), "longer than %d bytes",
			    PLOT_LINE_MAX);
		else if (nul)
			rc = bad(why, sizeof(why), "a NUL byte");
		else if (c == EOF)
			rc = bad(why, sizeof(why), "no newline at the end: "
			    "cut short?");
		else
			rc = plot_parse_line(line, &rec, why, sizeof(why));
		if (rc == 1)
			plot_data_add(d, &rec);
		else if (rc == -1 && ++nbad <= PLOT_WARN_MAX)
			fprintf(warn, "%s:%" PRIu64 ": %s\n", name, lineno,
			    why);
		if (c == EOF)
			break;
	}
	if (ferror(fp))
		return -1;
	if (nbad > PLOT_WARN_MAX)
		fprintf(warn, "%s: %lld more malformed lines, %lld in all\n",
		    name, nbad - PLOT_WARN_MAX, nbad);
	return nbad;
}

/* ---- Drawing ------------------------------------------------------------ */

#define FONT_PX		12
#define CHAR_PX		7.0	/* a guess at the average advance */
#define MARGIN_LEFT	84
#define MARGIN_RIGHT	24
#define MARGIN_BOTTOM	54
#define TITLE_PX	44	/* the title and the summary */
#define TITLE_X		12
#define LEGEND_ROW_PX	18
#define PANEL_GAP	24
#define PANELS_MIN_PX	120	/* for both panels, or no picture */
#define Y_TICK_PX	40	/* at least between value ticks */
#define X_TICK_PX	110	/* at least between time ticks */
#define STEP_LABEL_PX	90	/* at least between labels of steps */

#define COLOUR_LINE	"#222222"
#define COLOUR_STEP	"#d62728"
#define COLOUR_REFUSED	"#8b0000"
#define COLOUR_GRID	"#e6e6e6"
#define COLOUR_ZERO	"#9a9a9a"
#define COLOUR_OTHERS	"#b0b0b0"
#define COLOUR_FREQ	"#1f5fa8"
/* Text over data: a white outline keeps it legible. */
#define HALO		"stroke=\"#ffffff\" stroke-width=\"3\" " \
			"stroke-linejoin=\"round\" paint-order=\"stroke\""
#define SPARSE_COLUMNS	6	/* fewer columns than 1 in this: dots too */

/* A panel: the plot area and the values at its bottom and top. */
struct panel {
	const char	*id;
	double		 x, y, w, h;
	double		 vmin, vmax, step;
	double		 unit;		/* 1, 1e-3, 1e-6, 1e-9 s, or 1 ppm */
	const char	*unit_name;
	const char	*label;
};

struct layout {
	int		 width, height;
	size_t		 ncols;
	double		 v0, v1;	/* the times shown, after origin */
	double		 legend_y;
	int		 legend_rows;
	size_t		 name_chars;	/* of a source's name in the legend */
	size_t		 legend_names;	/* sources named in the legend */
	struct panel	 top, bottom;
};

static int	draw_legend(FILE *, const struct plot_data *,
		    const struct layout *);

/* Colours that stay apart on white (Tableau 10); red is left to the steps. */
static const char *const palette[] = {
	"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2",
	"#17becf", "#bcbd22", "#7f7f7f",
};
#define NPALETTE	(sizeof(palette) / sizeof(palette[0]))

/* A source's colour: the palette, then hues a golden angle apart. */
static const char *
source_colour(size_t i, char *buf, size_t len)
{
	double	 h, c, x, r = 0, g = 0, b = 0, l = 0.42, s = 0.65;

	if (i >= PLOT_SOURCES_MAX)
		return COLOUR_OTHERS;
	if (i < NPALETTE)
		return palette[i];
	h = fmod(37.0 + (double)i * 137.508, 360.0) / 60.0;
	c = (1 - fabs(2 * l - 1)) * s;
	x = c * (1 - fabs(fmod(h, 2.0) - 1));
	if (h < 1) {
		r = c;
		g = x;
	} else if (h < 2) {
		r = x;
		g = c;
	} else if (h < 3) {
		g = c;
		b = x;
	} else if (h < 4) {
		g = x;
		b = c;
	} else if (h < 5) {
		r = x;
		b = c;
	} else {
		r = c;
		b = x;
	}
	snprintf(buf, len, "#%02x%02x%02x",
	    (unsigned int)lround((r + l - c / 2) * 255),
	    (unsigned int)lround((g + l - c / 2) * 255),
	    (unsigned int)lround((b + l - c / 2) * 255));
	return buf;
}

/* The code point of a well-formed sequence of len bytes. */
static uint32_t
utf8_cp(const unsigned char *p, size_t len)
{
	uint32_t	 cp;
	size_t		 i;

	if (len == 1)
		return p[0];
	cp = p[0] & (0xff >> (len + 1));
	for (i = 1; i < len; i++)
		cp = cp << 6 | (p[i] & 0x3f);
	return cp;
}

/* The XML for one character of a name, NULL for the character itself. */
static const char *
xml_char(const unsigned char *p, size_t len)
{
	uint32_t	 cp;

	if (len == 0)
		return "\xef\xbf\xbd";	/* not UTF-8: U+FFFD */
	cp = utf8_cp(p, len);
	/* What XML 1.0 forbids, and what would drive a terminal. */
	if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0xfffe ||
	    cp == 0xffff)
		return "\xef\xbf\xbd";
	switch (cp) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&apos;";
	}
	return NULL;
}

/*
 * Text for XML: the markup characters as entities, anything that is not
 * well-formed UTF-8 or not allowed as U+FFFD; at most max characters,
 * then an ellipsis.  Returns how many characters that is; with f NULL
 * it only counts, for the layout.
 */
static size_t
xml_text(FILE *f, const char *s, size_t max)
{
	const unsigned char	*p = (const unsigned char *)s;
	const char		*x;
	size_t			 n = strlen(s), len, chars = 0;

	for (; n > 0; p += len, n -= len, chars++) {
		if (chars == max) {
			if (f != NULL)
				fputs("\xe2\x80\xa6", f);	/* U+2026 */
			return chars + 1;
		}
		len = utf8_valid(p, n);
		x = xml_char(p, len);
		if (len == 0)
			len = 1;
		if (f == NULL)
			continue;
		if (x != NULL)
			fputs(x, f);
		else
			fwrite(p, 1, len, f);
	}
	return chars;
}

/* 1, 2 or 5 times a power of ten, near range / ticks. */
static double
nice_step(double range, int ticks)
{
	double	 raw = range / (ticks > 1 ? ticks : 1), mag, norm;

	mag = pow(10, floor(log10(raw)));
	norm = raw / mag;
	if (norm <= 1)
		return mag;
	if (norm <= 2)
		return 2 * mag;
	if (norm <= 5)
		return 5 * mag;
	return 10 * mag;
}

/* Round lo and hi out to ticks, with a little room at both ends. */
static void
axis_fit(struct panel *p, double lo, double hi, double minspan)
{
	double	 mid, pad;
	int	 ticks = (int)(p->h / Y_TICK_PX);

	if (hi - lo < minspan) {
		mid = lo / 2 + hi / 2;
		lo = mid - minspan / 2;
		hi = mid + minspan / 2;
	}
	pad = (hi - lo) * 0.03;
	lo -= pad;
	hi += pad;
	p->step = nice_step(hi - lo, ticks < 2 ? 2 : ticks);
	p->vmin = floor(lo / p->step) * p->step;
	p->vmax = ceil(hi / p->step) * p->step;
}

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * The range of the offsets: every point, but for outliers far from the
 * rest (a step of seconds in a day of microseconds), which would leave
 * the rest a flat line.  The bulk is what lies between the 1st and 99th
 * percentiles of the bins' extremes; whatever lies within the bulk's
 * own width beyond it is kept too, so that well-behaved data loses
 * nothing, and the rest is off the scale.
 */
static int
offset_range(const struct plot_data *d, double *lo, double *hi)
{
	double		*v, qlo, qhi, w;
	size_t		 n = 0, i, s;

	if ((v = calloc(d->nbins * (NSERIES + 1) * 2, sizeof(*v))) == NULL)
		return -1;
	for (i = 0; i < d->nbins; i++) {
		if (d->bins[i].offset.n > 0) {
			v[n++] = d->bins[i].offset.min;
			v[n++] = d->bins[i].offset.max;
		}
		for (s = 0; s < NSERIES; s++) {
			if (d->dots[i * NSERIES + s].n == 0)
				continue;
			v[n++] = d->dots[i * NSERIES + s].min;
			v[n++] = d->dots[i * NSERIES + s].max;
		}
	}
	if (n == 0) {
		free(v);
		return -1;
	}
	qsort(v, n, sizeof(*v), cmp_double);
	qlo = v[(size_t)floor(0.01 * (double)(n - 1))];
	qhi = v[(size_t)ceil(0.99 * (double)(n - 1))];
	w = qhi - qlo;
	/* The extremes of what is kept, not the bounds of what might be. */
	for (i = 0; v[i] < qlo - w; i++)
		;
	*lo = v[i];
	for (i = n - 1; v[i] > qhi + w; i--)
		;
	*hi = v[i];
	free(v);
	return 0;
}

static void
freq_range(const struct plot_data *d, double *lo, double *hi)
{
	size_t	 i;
	int	 any = 0;

	*lo = *hi = 0;
	for (i = 0; i < d->nbins; i++) {
		if (d->bins[i].freq.n == 0)
			continue;
		*lo = any ? fmin(*lo, d->bins[i].freq.min) :
		    d->bins[i].freq.min;
		*hi = any ? fmax(*hi, d->bins[i].freq.max) :
		    d->bins[i].freq.max;
		any = 1;
	}
}

/* The unit of an offset axis: the largest that its ends reach. */
static void
offset_unit(struct panel *p)
{
	double	 m = fmax(fabs(p->vmin), fabs(p->vmax));

	if (m >= 1) {
		p->unit = 1;
		p->unit_name = "s";
	} else if (m >= 1e-3) {
		p->unit = 1e-3;
		p->unit_name = "ms";
	} else if (m >= 1e-6) {
		p->unit = 1e-6;
		p->unit_name = "\xc2\xb5s";	/* µs */
	} else {
		p->unit = 1e-9;
		p->unit_name = "ns";
	}
}

/* The height left for the panels below the legend as it is laid out. */
static double
legend_room(struct layout *l, const struct plot_data *d)
{
	l->legend_rows = draw_legend(NULL, d, l);
	return l->height - (l->legend_y + l->legend_rows * LEGEND_ROW_PX + 6) -
	    MARGIN_BOTTOM - PANEL_GAP;
}

/*
 * Shorter names in the legend rather than no room for the plot; then,
 * in a small picture, fewer of them.  Returns the height left.
 */
static double
legend_fit(struct layout *l, const struct plot_data *d)
{
	static const size_t	 name_chars[] = { 32, 20, 12 };
	double			 avail = 0;
	size_t			 i;

	l->legend_names = d->nnames;
	for (i = 0; i < sizeof(name_chars) / sizeof(name_chars[0]); i++) {
		l->name_chars = name_chars[i];
		if ((avail = legend_room(l, d)) >= PANELS_MIN_PX)
			return avail;
	}
	while (l->legend_names > 0) {
		l->legend_names--;
		if ((avail = legend_room(l, d)) >= PANELS_MIN_PX)
			break;
	}
	return avail;
}

static int
layout_make(struct layout *l, const struct plot_data *d, int width,
    int height)
{
	double	 lo, hi, avail;

	memset(l, 0, sizeof(*l));
	l->width = width;
	l->height = height;
	l->legend_y = TITLE_PX + 6;
	if ((avail = legend_fit(l, d)) < PANELS_MIN_PX)
		return -1;
	l->top.id = "offset";
	l->top.x = l->bottom.x = MARGIN_LEFT;
	l->top.w = l->bottom.w = width - MARGIN_LEFT - MARGIN_RIGHT;
	l->top.y = l->legend_y + l->legend_rows * LEGEND_ROW_PX + 6;
	l->top.h = floor(avail * 0.62);
	l->bottom.id = "freq";
	l->bottom.y = l->top.y + l->top.h + PANEL_GAP;
	l->bottom.h = avail - l->top.h;
	l->ncols = (size_t)l->top.w;

	l->v0 = d->tmin;
	l->v1 = d->tmax;
	if (l->v1 - l->v0 < 1e-6) {
		/* One moment: a minute either side. */
		l->v0 -= 60;
		l->v1 += 60;
	}
	if (offset_range(d, &lo, &hi) == -1)
		return -1;
	axis_fit(&l->top, lo, hi, 2e-6);
	offset_unit(&l->top);
	l->top.label = "offset";
	freq_range(d, &lo, &hi);
	axis_fit(&l->bottom, lo, hi, 0.02);
	l->bottom.unit = 1;
	l->bottom.unit_name = "ppm";
	l->bottom.label = "frequency";
	return 0;
}

static double
ymap(const struct panel *p, double v)
{
	double	 y = p->y + (p->vmax - v) / (p->vmax - p->vmin) * p->h;

	/* Far outside is clipped anyway: keep the numbers short. */
	return fmin(fmax(y, p->y - 4 * p->h), p->y + 5 * p->h);
}

/* The pixel column of bin i. */
static size_t
column_of(const struct plot_data *d, const struct layout *l, size_t i)
{
	double	 t = d->b0 + ((double)i + 0.5) * d->bw, c;

	t = fmin(fmax(t, d->tmin), d->tmax);
	c = round((t - l->v0) / (l->v1 - l->v0) * (double)(l->ncols - 1));
	if (c < 0)
		return 0;
	if (c > (double)(l->ncols - 1))
		return l->ncols - 1;
	return (size_t)c;
}

/* A series of bin i as a line aggregate: dots have no times of their own. */
static void
bin_series(const struct plot_data *d, size_t i, int series,
    struct line_agg *a)
{
	const struct dot_agg	*dot;

	if (series == SER_OFFSET) {
		*a = d->bins[i].offset;
		return;
	}
	if (series == SER_FREQ) {
		*a = d->bins[i].freq;
		return;
	}
	dot = &d->dots[i * NSERIES + (size_t)series];
	memset(a, 0, sizeof(*a));
	if ((a->n = dot->n) == 0)
		return;
	a->min = a->first = dot->min;
	a->max = a->last = dot->max;
	a->tfirst = d->b0 + (double)i * d->bw;
	a->tlast = a->tfirst + d->bw;
}

/*
 * The next pixel column with data in a series, from bin *i on: 1 with
 * its column and aggregate, 0 when there is none.
 */
static int
next_column(const struct plot_data *d, const struct layout *l, int series,
    size_t *i, size_t *col, struct line_agg *out)
{
	struct line_agg	 a;
	size_t		 c;

	memset(out, 0, sizeof(*out));
	for (; *i < d->nbins; (*i)++) {
		bin_series(d, *i, series, &a);
		if (a.n == 0)
			continue;
		c = column_of(d, l, *i);
		if (out->n > 0 && c != *col)
			return 1;
		*col = c;
		line_merge(out, &a);
	}
	return out->n > 0;
}

/* A dot: a zero-length stroke with round caps. */
static void
dot_at(FILE *f, double x, double y)
{
	fprintf(f, "M%.1f %.1fh0", x, round(y * 10) / 10);
}

/* A path's points, with the repeats left out. */
struct pen {
	FILE	*f;
	double	 lastx, lasty;
	int	 down;
	size_t	 points;
	size_t	 sub;		/* points since the last move */
};

/* A lone point still shows: a zero-length segment, with round caps. */
static void
pen_lift(struct pen *p)
{
	if (p->down && p->sub == 1)
		fputs("h0", p->f);
	p->sub = 0;
}

static void
pen_to(struct pen *p, double x, double y, int move)
{
	y = round(y * 10) / 10;
	if (!move && p->down && x == p->lastx && y == p->lasty)
		return;
	if (move || !p->down)
		pen_lift(p);
	fprintf(p->f, "%c%.1f %.1f", move || !p->down ? 'M' : 'L', x, y);
	p->lastx = x;
	p->lasty = y;
	p->down = 1;
	p->points++;
	p->sub++;
}

/*
 * A line series: per column its first value, its extremes (the nearer
 * one first) and its last, so that no excursion is lost.  A pause far
 * longer than the usual spacing of the updates breaks the line.  Where
 * the columns with data are few, each also gets a dot: a short log is
 * a few points, not a line.
 */
static void
draw_line(FILE *f, const struct plot_data *d, const struct layout *l,
    const struct panel *p, int series, const char *colour)
{
	struct line_agg	 a;
	struct pen	 pen = { .f = f };
	double		 x, gap, prev_t = 0;
	size_t		 i = 0, col = 0, cols = 0;
	int		 any = 0;

	gap = d->nupdates > 1 ?
	    10 * (d->utmax - d->utmin) / (double)(d->nupdates - 1) : 0;
	gap = fmax(gap, 3 * (l->v1 - l->v0) / (double)l->ncols);
	fprintf(f, "<path id=\"%s-line\" clip-path=\"url(#clip-%s)\" "
	    "fill=\"none\" stroke=\"%s\" stroke-width=\"1.25\" "
	    "stroke-linejoin=\"round\" stroke-linecap=\"round\" d=\"", p->id,
	    p->id, colour);
	while (next_column(d, l, series, &i, &col, &a)) {
		cols++;
		x = p->x + (double)col + 0.5;
		pen_to(&pen, x, ymap(p, a.first), any &&
		    a.tfirst - prev_t > gap);
		if (fabs(a.first - a.min) <= fabs(a.first - a.max)) {
			pen_to(&pen, x, ymap(p, a.min), 0);
			pen_to(&pen, x, ymap(p, a.max), 0);
		} else {
			pen_to(&pen, x, ymap(p, a.max), 0);
			pen_to(&pen, x, ymap(p, a.min), 0);
		}
		pen_to(&pen, x, ymap(p, a.last), 0);
		prev_t = a.tlast;
		any = 1;
	}
	pen_lift(&pen);
	fputs("\"/>\n", f);
	if (cols > l->ncols / SPARSE_COLUMNS)
		return;
	fprintf(f, "<path clip-path=\"url(#clip-%s)\" fill=\"none\" "
	    "stroke=\"%s\" stroke-width=\"4\" stroke-linecap=\"round\" "
	    "d=\"", p->id, colour);
	for (i = 0; next_column(d, l, series, &i, &col, &a);) {
		x = p->x + (double)col + 0.5;
		dot_at(f, x, ymap(p, a.first));
		if (a.last != a.first)
			dot_at(f, x, ymap(p, a.last));
	}
	fputs("\"/>\n", f);
}

/* A triangle at the panel's edge, pointing at a value beyond it. */
static void
beyond_at(FILE *f, const struct panel *p, double x, int above)
{
	if (above)
		fprintf(f, "M%.1f %.1fl-4 7h8z", x, p->y + 1);
	else
		fprintf(f, "M%.1f %.1fl-4 -7h8z", x, p->y + p->h - 1);
}

/*
 * Per column: a source's lowest and highest sample as dots, or for the
 * offset line nothing (it is drawn); then, in a path of their own, the
 * triangles for what lies beyond the scale.  Returns how many columns
 * have something beyond it.
 */
static size_t
draw_dots(FILE *f, const struct plot_data *d, const struct layout *l,
    int series, const char *colour)
{
	const struct panel	*p = &l->top;
	struct line_agg		 a;
	size_t			 i = 0, col = 0, beyond = 0;
	double			 x, ylo, yhi;

	if (series != SER_OFFSET) {
		fprintf(f, "<path id=\"src-%d\" "
		    "clip-path=\"url(#clip-offset)\" fill=\"none\" "
		    "stroke=\"%s\" stroke-width=\"4\" stroke-linecap=\"round\" "
		    "d=\"", series, colour);
		while (next_column(d, l, series, &i, &col, &a)) {
			x = p->x + (double)col + 0.5;
			ylo = ymap(p, a.min);
			yhi = ymap(p, a.max);
			if (a.min >= p->vmin && a.min <= p->vmax)
				dot_at(f, x, ylo);
			if (a.max >= p->vmin && a.max <= p->vmax &&
			    fabs(ylo - yhi) >= 1)
				dot_at(f, x, yhi);
		}
		fputs("\"/>\n", f);
	}
	fprintf(f, "<path fill=\"%s\" d=\"", colour);
	for (i = 0; next_column(d, l, series, &i, &col, &a);) {
		x = p->x + (double)col + 0.5;
		if (a.max > p->vmax)
			beyond_at(f, p, x, 1);
		if (a.min < p->vmin)
			beyond_at(f, p, x, 0);
		beyond += a.max > p->vmax || a.min < p->vmin;
	}
	fputs("\"/>\n", f);
	return beyond;
}

/* Steps: a dashed line across both panels; refusals: a mark on top. */
static void
draw_events(FILE *f, const struct plot_data *d, const struct layout *l)
{
	const struct panel	*t = &l->top, *b = &l->bottom;
	char			 buf[32];
	double			 x, label_x = -1e9;
	size_t			 i, col;
	int			 end;

	for (i = 0; i < d->nbins; i++) {
		if (d->bins[i].steps == 0 && d->bins[i].refused == 0)
			continue;
		col = column_of(d, l, i);
		x = t->x + (double)col + 0.5;
		if (d->bins[i].refused > 0)
			fprintf(f, "<path fill=\"%s\" "
			    "d=\"M%.1f %.1fl-5 -8h10z\"/>\n", COLOUR_REFUSED, x,
			    t->y - 1);
		if (d->bins[i].steps == 0)
			continue;
		fprintf(f, "<path stroke=\"%s\" stroke-dasharray=\"4 3\" "
		    "d=\"M%.1f %.1fV%.1fM%.1f %.1fV%.1f\"/>\n", COLOUR_STEP,
		    x, t->y, t->y + t->h, x, b->y, b->y + b->h);
		/* Labels where there is room: the lines say the rest. */
		if (x - label_x < STEP_LABEL_PX)
			continue;
		label_x = x;
		fmt_offset(d->bins[i].step, buf, sizeof(buf));
		/* Left of the line where the right of it has no room. */
		end = x + STEP_LABEL_PX > t->x + t->w;
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\" "
		    "font-size=\"10\" " HALO "%s>step %s</text>\n",
		    end ? x - 3 : x + 3,
		    t->y + 22, COLOUR_STEP, end ? " text-anchor=\"end\"" : "",
		    buf);
	}
}

/* A tick value: no more decimals than the step needs, and no "-0". */
static void
tick_label(char *buf, size_t len, double v, double step, double unit)
{
	int	 dec;

	step /= unit;
	v /= unit;
	dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
	if (dec > 9)
		dec = 9;
	if (fabs(v) < step * 1e-6)
		v = 0;
	snprintf(buf, len, "%.*f", dec, v);
}

static void
draw_value_axis(FILE *f, const struct panel *p)
{
	char	 buf[64];
	double	 v, y;
	int	 k, k0, k1;

	k0 = (int)lround(p->vmin / p->step);
	k1 = (int)lround(p->vmax / p->step);
	for (k = k0; k <= k1 && k - k0 <= 200; k++) {
		v = (double)k * p->step;
		y = round(ymap(p, v)) + 0.5;
		fprintf(f, "<path stroke=\"%s\" d=\"M%.1f %.1fH%.1f\"/>\n",
		    k == 0 ? COLOUR_ZERO : COLOUR_GRID, p->x, y, p->x + p->w);
		tick_label(buf, sizeof(buf), v, p->step, p->unit);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">"
		    "%s</text>\n", p->x - 6, y + 4, buf);
	}
	fprintf(f, "<text transform=\"translate(%d %.1f) rotate(-90)\" "
	    "text-anchor=\"middle\">%s (%s)</text>\n", 16,
	    p->y + p->h / 2, p->label, p->unit_name);
}

static const double time_steps[] = {
	1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15,
	30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
	86400, 172800, 604800, 1209600, 2592000, 7776000, 31536000,
};

/* The spacing of time ticks: the smallest that leaves room for labels. */
static double
time_step(double span, int ticks)
{
	size_t	 i;

	for (i = 0; i < sizeof(time_steps) / sizeof(time_steps[0]); i++)
		if (span / time_steps[i] <= ticks)
			return time_steps[i];
	return 31536000 * nice_step(span / 31536000, ticks);
}

/* "2026-11-21" and "10:20" (or finer) for a tick at t. */
static void
time_label(double t, double step, char *date, size_t dlen, char *tod,
    size_t tlen)
{
	struct tm	 tm;
	time_t		 s = (time_t)floor(t);
	double		 frac = t - floor(t);
	int		 dec;

	if (gmtime_r(&s, &tm) == NULL) {
		strlcpy(date, "?", dlen);
		strlcpy(tod, "?", tlen);
		return;
	}
	strftime(date, dlen, "%Y-%m-%d", &tm);
	if (step >= 86400)
		tod[0] = '\0';
	else if (step >= 60)
		strftime(tod, tlen, "%H:%M", &tm);
	else if (step >= 1)
		strftime(tod, tlen, "%H:%M:%S", &tm);
	else {
		dec = (int)ceil(-log10(step) - 1e-9);
		strftime(tod, tlen, "%H:%M:%S", &tm);
		snprintf(tod + strlen(tod), tlen - strlen(tod), ".%0*ld", dec,
		    lround(frac * pow(10, dec)) % lround(pow(10, dec)));
	}
}

static double
origin_abs(const struct plot_data *d)
{
	return (double)d->origin.sec + (double)d->origin.nsec * 1e-9;
}

/*
 * Time ticks through both panels, labelled under the bottom one with
 * the time of day, and the date where it changes.
 */
static void
draw_time_axis(FILE *f, const struct plot_data *d, const struct layout *l)
{
	const struct panel	*t = &l->top, *b = &l->bottom;
	char			 date[32], tod[32], prev[32] = "";
	double			 base = origin_abs(d), step, tick, x, lab_y;
	double			 k;
	int			 n = 0;

	step = time_step(l->v1 - l->v0, (int)(t->w / X_TICK_PX));
	lab_y = b->y + b->h + 16;
	for (k = ceil((base + l->v0) / step); n < 100; k++, n++) {
		tick = k * step;
		if (tick - base > l->v1 + step * 1e-9)
			break;
		x = round(t->x + (tick - base - l->v0) / (l->v1 - l->v0) *
		    (double)(l->ncols - 1)) + 0.5;
		fprintf(f, "<path stroke=\"%s\" d=\"M%.1f %.1fV%.1fM%.1f "
		    "%.1fV%.1f\"/>\n", COLOUR_GRID, x, t->y, t->y + t->h, x,
		    b->y, b->y + b->h + 4);
		time_label(tick, step, date, sizeof(date), tod, sizeof(tod));
		/* A label the picture's edge would cut is left out. */
		if (x + CHAR_PX * (double)strlen(tod[0] != '\0' ? tod : date) /
		    2 > l->width)
			continue;
		if (tod[0] == '\0')
			fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" "
			    "text-anchor=\"middle\">%s</text>\n", x, lab_y,
			    date);
		else {
			fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" "
			    "text-anchor=\"middle\">%s</text>\n", x, lab_y,
			    tod);
			if (strcmp(date, prev) != 0)
				fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" "
				    "text-anchor=\"middle\" fill=\"#555\">"
				    "%s</text>\n", x, lab_y + 14, date);
		}
		strlcpy(prev, date, sizeof(prev));
	}
	fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"end\" "
	    "fill=\"#555\">time (UTC)</text>\n", t->x + t->w, l->height - 6);
}

static void
panel_frame(FILE *f, const struct panel *p)
{
	fprintf(f, "<clipPath id=\"clip-%s\"><rect x=\"%.1f\" y=\"%.1f\" "
	    "width=\"%.1f\" height=\"%.1f\"/></clipPath>\n", p->id, p->x,
	    p->y, p->w, p->h);
}

static void
panel_border(FILE *f, const struct panel *p)
{
	fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
	    "height=\"%.1f\" fill=\"none\" stroke=\"#888\"/>\n", p->x + 0.5,
	    p->y + 0.5, p->w - 1, p->h - 1);
}

/* "1d 02:03:04", "02:03:04", or seconds for less than a minute. */
static void
span_text(double s, char *buf, size_t len)
{
	long long	 t = llround(s);

	if (s < 60)
		snprintf(buf, len, "%.3g s", s);
	else if (t < 86400)
		snprintf(buf, len, "%02lld:%02lld:%02lld", t / 3600,
		    t / 60 % 60, t % 60);
	else
		snprintf(buf, len, "%lldd %02lld:%02lld:%02lld", t / 86400,
		    t / 3600 % 24, t / 60 % 60, t % 60);
}

static void
utc_text(double t, char *buf, size_t len)
{
	struct tm	 tm;
	time_t		 s = (time_t)floor(t);

	if (gmtime_r(&s, &tm) == NULL)
		strlcpy(buf, "?", len);
	else
		strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

/* The range of the log, in UTC; the date once when it is one day. */
static void
range_text(const struct plot_data *d, char *from, char *to, size_t len)
{
	double	 base = origin_abs(d);

	utc_text(base + d->tmin, from, len);
	utc_text(base + d->tmax, to, len);
	/* "YYYY-MM-DD " */
	if (strlen(from) > 11 && strncmp(from, to, 11) == 0)
		memmove(to, to + 11, strlen(to + 11) + 1);
}

static void
draw_title(FILE *f, const struct plot_data *d)
{
	char	 from[32], to[32], span[48], nsrc[48];

	range_text(d, from, to, sizeof(from));
	span_text(d->tmax - d->tmin, span, sizeof(span));
	if (d->others)
		snprintf(nsrc, sizeof(nsrc), " from more than %d sources",
		    PLOT_SOURCES_MAX);
	else if (d->nnames > 0)
		snprintf(nsrc, sizeof(nsrc), " from %zu source%s", d->nnames,
		    d->nnames == 1 ? "" : "s");
	else
		nsrc[0] = '\0';
	fprintf(f, "<text x=\"%d\" y=\"20\" font-size=\"15\" "
	    "font-weight=\"bold\">ntpd statistics, %s to %s UTC</text>\n",
	    TITLE_X, from, to);
	fprintf(f, "<text x=\"%d\" y=\"38\" fill=\"#555\">%s: %" PRIu64
	    " clock update%s, %" PRIu64 " step%s, %" PRIu64 " refused; %"
	    PRIu64 " sample%s%s</text>\n", TITLE_X, span, d->nupdates,
	    d->nupdates == 1 ? "" : "s", d->nsteps, d->nsteps == 1 ? "" : "s",
	    d->nrefused, d->nsamples, d->nsamples == 1 ? "" : "s", nsrc);
}

/*
 * The legend's cursor: entries left to right, rows top to bottom.  With
 * no stream it only counts the rows, for the layout.
 */
struct legend {
	FILE	*f;
	double	 x, y;
	int	 right;
	int	 rows;
};

/* An entry: its swatch, then a name (escaped here) or a fixed label. */
static void
legend_entry(struct legend *g, const char *swatch, const char *name,
    size_t name_chars, const char *label)
{
	double	 w;

	w = 26 + CHAR_PX * (double)(name != NULL ?
	    xml_text(NULL, name, name_chars) : strlen(label));
	if (g->x + w > g->right && g->x > MARGIN_LEFT) {
		g->x = MARGIN_LEFT;
		g->y += LEGEND_ROW_PX;
		g->rows++;
	}
	if (g->f != NULL) {
		fprintf(g->f, "<g transform=\"translate(%.1f %.1f)\">%s"
		    "<text x=\"20\" y=\"4\">", g->x, g->y, swatch);
		if (name != NULL)
			(void)xml_text(g->f, name, name_chars);
		else
			fputs(label, g->f);
		fputs("</text></g>\n", g->f);
	}
	g->x += w;
}

#define SWATCH_DOT	"<path stroke=\"%s\" stroke-width=\"6\" " \
			"stroke-linecap=\"round\" d=\"M7 0h0\"/>"

/* Returns the rows it takes. */
static int
draw_legend(FILE *f, const struct plot_data *d, const struct layout *l)
{
	struct legend	 g = { f, MARGIN_LEFT, l->legend_y + 8,
			    l->width - MARGIN_RIGHT, 1 };
	char		 sw[128], cbuf[16], more[48];
	size_t		 i;

	if (d->nupdates > 0)
		legend_entry(&g, "<path stroke=\"" COLOUR_LINE "\" "
		    "stroke-width=\"1.5\" d=\"M0 0H14\"/>", NULL, 0,
		    "clock offset");
	for (i = 0; i < l->legend_names; i++) {
		snprintf(sw, sizeof(sw), SWATCH_DOT,
		    source_colour(i, cbuf, sizeof(cbuf)));
		legend_entry(&g, sw, d->names[i], l->name_chars, NULL);
	}
	if (l->legend_names < d->nnames) {
		snprintf(more, sizeof(more), "%zu more source%s",
		    d->nnames - l->legend_names,
		    d->nnames - l->legend_names == 1 ? "" : "s");
		legend_entry(&g, "", NULL, 0, more);
	}
	if (d->others) {
		snprintf(sw, sizeof(sw), SWATCH_DOT, COLOUR_OTHERS);
		legend_entry(&g, sw, NULL, 0, "other sources");
	}
	if (d->nsteps > 0)
		legend_entry(&g, "<path stroke=\"" COLOUR_STEP "\" "
		    "stroke-dasharray=\"4 3\" d=\"M7 -7V7\"/>", NULL, 0,
		    "step");
	if (d->nrefused > 0)
		legend_entry(&g, "<path fill=\"" COLOUR_REFUSED "\" "
		    "d=\"M7 4l-5 -8h10z\"/>", NULL, 0, "refused correction");
	return g.rows;
}

/* A note in a panel's top right corner. */
static void
panel_note(FILE *f, const struct panel *p, const char *text)
{
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
	    "fill=\"#555\" " HALO ">%s</text>\n", p->x + p->w - 6, p->y + 14,
	    text);
}

static void
draw_panels(FILE *f, const struct plot_data *d, const struct layout *l)
{
	char	 cbuf[16], note[64];
	size_t	 s, beyond = 0;

	draw_value_axis(f, &l->top);
	draw_value_axis(f, &l->bottom);
	draw_time_axis(f, d, l);
	for (s = 0; s < NSERIES; s++) {
		if (s < d->nnames || (s == PLOT_SOURCES_MAX && d->others))
			beyond += draw_dots(f, d, l, (int)s,
			    source_colour(s, cbuf, sizeof(cbuf)));
	}
	if (d->nupdates > 0) {
		draw_line(f, d, l, &l->top, SER_OFFSET, COLOUR_LINE);
		beyond += draw_dots(f, d, l, SER_OFFSET, COLOUR_LINE);
	}
	if (d->nfreq > 0)
		draw_line(f, d, l, &l->bottom, SER_FREQ, COLOUR_FREQ);
	else
		panel_note(f, &l->bottom, "no frequency in the log");
	draw_events(f, d, l);
	if (beyond > 0) {
		snprintf(note, sizeof(note), "\xe2\x96\xb2\xe2\x96\xbc beyond "
		    "the scale in %zu column%s", beyond,
		    beyond == 1 ? "" : "s");
		panel_note(f, &l->top, note);
	}
	panel_border(f, &l->top);
	panel_border(f, &l->bottom);
}

int
plot_render(FILE *f, const struct plot_data *d, int width, int height)
{
	struct layout	 l;
	char		 from[32], to[32];

	if (plot_data_records(d) == 0)
		return -1;
	if (width < PLOT_WIDTH_MIN || width > PLOT_WIDTH_MAX ||
	    height < PLOT_HEIGHT_MIN || height > PLOT_HEIGHT_MAX ||
	    layout_make(&l, d, width, height) == -1)
		return -1;
	range_text(d, from, to, sizeof(from));
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
	    "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
	    "font-family=\"sans-serif\" font-size=\"%d\">\n"
	    "<title>ntpd statistics, %s to %s UTC</title>\n<defs>\n",
	    width, height, width, height, FONT_PX, from, to);
	panel_frame(f, &l.top);
	panel_frame(f, &l.bottom);
	fprintf(f, "</defs>\n<rect width=\"%d\" height=\"%d\" "
	    "fill=\"#ffffff\"/>\n", width, height);
	draw_title(f, d);
	(void)draw_legend(f, d, &l);
	draw_panels(f, d, &l);
	fputs("</svg>\n", f);
	return 0;
}

/* ---- The command -------------------------------------------------------- */

static int
plot_usage(void)
{
	fprintf(stderr, "usage: ntpctl plot [-o file] [-w width] "
	    "[-h height] statsfile\n");
	return 1;
}

static int
plot_size(const char *arg, int min, int max, const char *what, int *v)
{
	const char	*errstr;

	*v = (int)strtonum(arg, min, max, &errstr);
	if (errstr != NULL) {
		warnx("%s %s: %s (%d to %d)", what, safe_str(arg), errstr, min,
		    max);
		return -1;
	}
	return 0;
}

/* Write the picture to path, or stdout for NULL or "-". */
static int
plot_write(const struct plot_data *d, const char *path, int width,
    int height)
{
	FILE	*out = stdout;
	int	 file = path != NULL && strcmp(path, "-") != 0;

	if (file && (out = fopen(path, "we")) == NULL) {
		warn("%s", safe_str(path));
		return 1;
	}
	if (plot_render(out, d, width, height) == -1) {
		warnx("the picture does not fit in %d x %d", width, height);
		if (file) {
			fclose(out);
			unlink(path);
		}
		return 1;
	}
	if (fflush(out) == EOF || ferror(out) || (file && fclose(out) == EOF)) {
		warn("%s", file ? safe_str(path) : "stdout");
		if (file)
			unlink(path);
		return 1;
	}
	return 0;
}

int
cmd_plot(int argc, char *argv[])
{
	struct plot_data	*d;
	const char		*out = NULL, *name;
	FILE			*in;
	long long		 nbad;
	int			 ch, width = PLOT_WIDTH_DEFAULT;
	int			 height = PLOT_HEIGHT_DEFAULT, rc;

	while ((ch = getopt(argc, argv, "+o:w:h:")) != -1) {
		switch (ch) {
		case 'o':
			out = optarg;
			break;
		case 'w':
			if (plot_size(optarg, PLOT_WIDTH_MIN, PLOT_WIDTH_MAX,
			    "width", &width) == -1)
				return 1;
			break;
		case 'h':
			if (plot_size(optarg, PLOT_HEIGHT_MIN, PLOT_HEIGHT_MAX,
			    "height", &height) == -1)
				return 1;
			break;
		default:
			return plot_usage();
		}
	}
	if (argc - optind != 1)
		return plot_usage();
	name = argv[optind];
	if (strcmp(name, "-") == 0) {
		in = stdin;
		name = "stdin";
	} else if ((in = fopen(name, "re")) == NULL) {
		warn("%s", safe_str(name));
		return 1;
	}
	if ((d = plot_data_new(width)) == NULL) {
		warnx("out of memory");
		if (in != stdin)
			fclose(in);
		return 1;
	}
	nbad = plot_read(d, in, safe_str(name), stderr);
	if (nbad == -1)
		warn("%s", safe_str(name));
	if (in != stdin)
		fclose(in);
	rc = 1;
	if (nbad != -1 && plot_data_records(d) == 0)
		warnx("%s: nothing to plot: no clock updates and no samples",
		    safe_str(name));
	else if (nbad != -1)
		rc = plot_write(d, out, width, height);
	plot_data_free(d);
	return rc;
}
