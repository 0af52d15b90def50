/*
 * The virtual clock model: see vclock.h for the clocks and their signs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vclock.h"

#define LINE_MAX_LEN	128	/* the shim's lines are under 64 */
#define NS_PER_S	1000000000LL
/* Largest integer part a 9-decimal fixed-point value can have. */
#define FIXED_INT_MAX	(INT64_MAX / NS_PER_S - 1)

static const struct {
	const char		*name;
	enum vclock_kind	 kind;
} kinds[] = {
	{ "freq",	VCLOCK_FREQ },
	{ "slew",	VCLOCK_SLEW },
	{ "step",	VCLOCK_STEP },
	{ "status",	VCLOCK_STATUS },
	{ "maxerror",	VCLOCK_MAXERROR },
	{ "esterror",	VCLOCK_ESTERROR },
	{ "denied",	VCLOCK_DENIED },
	{ "rtcset",	VCLOCK_RTCSET },
};

void
vclock_init(struct vclock *vc, double freq0, int64_t origin)
{
	memset(vc, 0, sizeof(*vc));
	vc->freq0 = freq0;
	vc->origin = origin;
}

void
vclock_free(struct vclock *vc)
{
	free(vc->ev);
	vc->ev = NULL;
	vc->nev = vc->cap = 0;
}

/* Digits only, at least one, no sign: strtoll would take " +1". */
static int
parse_uint(const char *s, int64_t max, int64_t *out)
{
	int64_t	 v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (max - (*s - '0')) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return 0;
}

static int
parse_int(const char *s, int64_t *out)
{
	int	 neg = (*s == '-');

	if (parse_uint(s + neg, INT64_MAX, out) == -1)
		return -1;
	if (neg)
		*out = -*out;
	return 0;
}

/* [-]digits[.1 to 9 digits] into billionths. */
static int
parse_fixed9(const char *s, int64_t *out)
{
	char		 ip[24];
	const char	*dot;
	int64_t		 whole, frac = 0;
	size_t		 n;
	int		 neg = (*s == '-');

	s += neg;
	if ((dot = strchr(s, '.')) == NULL)
		dot = s + strlen(s);
	if ((n = dot - s) == 0 || n >= sizeof(ip))
		return -1;
	memcpy(ip, s, n);
	ip[n] = '\0';
	if (parse_uint(ip, FIXED_INT_MAX, &whole) == -1)
		return -1;
	if (*dot == '.') {
		if ((n = strlen(dot + 1)) == 0 || n > 9 ||
		    parse_uint(dot + 1, INT64_MAX, &frac) == -1)
			return -1;
		for (; n < 9; n++)
			frac *= 10;
	}
	*out = whole * NS_PER_S + frac;
	if (neg)
		*out = -*out;
	return 0;
}

/* 0x and 1 to 8 hex digits. */
static int
parse_hex(const char *s, int64_t *out)
{
	int64_t	 v = 0;
	size_t	 n;
	int	 d;

	if (s[0] != '0' || s[1] != 'x')
		return -1;
	s += 2;
	if ((n = strlen(s)) == 0 || n > 8)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return -1;
		v = v * 16 + d;
	}
	*out = v;
	return 0;
}

static int
parse_name(const char *s, char name[VCLOCK_NAME_MAX])
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i + 1 >= VCLOCK_NAME_MAX)
			return -1;
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return -1;
		name[i] = s[i];
	}
	if (i == 0)
		return -1;
	name[i] = '\0';
	return 0;
}

/* One line, without its newline, into ev; NULL or why not. */
static const char *
parse_line(const char *p, size_t len, struct vclock_event *ev)
{
	char	 buf[LINE_MAX_LEN];
	char	*kind, *value;
	size_t	 i;

	if (len >= sizeof(buf))
		return "line too long";
	memcpy(buf, p, len);
	buf[len] = '\0';
	if (memchr(buf, '\0', len) != NULL)
		return "NUL in line";
	if ((kind = strchr(buf, ' ')) == NULL)
		return "expected three fields";
	*kind++ = '\0';
	if ((value = strchr(kind, ' ')) == NULL)
		return "expected three fields";
	*value++ = '\0';
	if (strchr(value, ' ') != NULL)
		return "expected three fields";
	if (parse_uint(buf, INT64_MAX, &ev->time) == -1)
		return "bad time";

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kind, kinds[i].name) == 0)
			break;
	if (i == sizeof(kinds) / sizeof(kinds[0]))
		return "unknown kind";
	ev->kind = kinds[i].kind;
	ev->value = 0;
	ev->name[0] = '\0';

	switch (ev->kind) {
	case VCLOCK_FREQ:
	case VCLOCK_SLEW:
	case VCLOCK_STEP:
		if (parse_fixed9(value, &ev->value) == -1)
			return "bad seconds or ppm";
		break;
	case VCLOCK_STATUS:
		if (parse_hex(value, &ev->value) == -1)
			return "bad status";
		break;
	case VCLOCK_MAXERROR:
	case VCLOCK_ESTERROR:
	case VCLOCK_RTCSET:
		if (parse_int(value, &ev->value) == -1)
			return "bad integer";
		break;
	case VCLOCK_DENIED:
		if (parse_name(value, ev->name) == -1)
			return "bad call name";
		break;
	}
	return NULL;
}

static int
event_cmp(const void *a, const void *b)
{
	const struct vclock_event	*x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return 0;
}

static int
fail(struct vclock *vc, size_t line, const char *why)
{
	vc->nev = 0;
	vc->errline = line;
	vc->errstr = why;
	return -1;
}

int
vclock_parse(struct vclock *vc, const char *buf, size_t len)
{
	struct vclock_event	*ev;
	const char		*p = buf, *end = buf + len, *nl, *why;
	size_t			 line = 0, ncap;

	vc->nev = 0;
	vc->errline = 0;
	vc->errstr = NULL;
	/* Only whole lines: one without its newline is still being written. */
	while (p < end && (nl = memchr(p, '\n', end - p)) != NULL) {
		line++;
		if (vc->nev == vc->cap) {
			if (vc->cap >= VCLOCK_MAX_EVENTS)
				return fail(vc, line, "too many events");
			ncap = vc->cap == 0 ? 64 : vc->cap * 2;
			if ((ev = reallocarray(vc->ev, ncap,
			    sizeof(*ev))) == NULL)
				return fail(vc, 0, "out of memory");
			vc->ev = ev;
			vc->cap = ncap;
		}
		ev = &vc->ev[vc->nev];
		if ((why = parse_line(p, nl - p, ev)) != NULL)
			return fail(vc, line, why);
		ev->line = line;
		vc->nev++;
		p = nl + 1;
	}
	/* One process writes in order, but the real clock may be stepped. */
	if (vc->nev > 1)
		qsort(vc->ev, vc->nev, sizeof(*vc->ev), event_cmp);
	return 0;
}

int
vclock_parse_file(struct vclock *vc, FILE *fp)
{
	char	*buf = NULL, *nbuf;
	size_t	 len = 0, cap = 0, n;
	int	 rv;

	for (;;) {
		if (cap - len < 4096) {
			if (cap >= (size_t)VCLOCK_MAX_EVENTS * LINE_MAX_LEN) {
				free(buf);
				return fail(vc, 0, "log too large");
			}
			cap = cap == 0 ? 65536 : cap * 2;
			if ((nbuf = realloc(buf, cap)) == NULL) {
				free(buf);
				return fail(vc, 0, "out of memory");
			}
			buf = nbuf;
		}
		n = fread(buf + len, 1, cap - len, fp);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(fp)) {
		free(buf);
		return fail(vc, 0, "read error");
	}
	rv = vclock_parse(vc, buf, len);
	free(buf);
	return rv;
}

/* How far a slew of a ns has gone after dt ns, at 500 us per second. */
static double
slewed(double a, int64_t dt)
{
	double	 done = (double)dt * 500e-6;

	if (dt <= 0)
		return 0;
	if (a >= 0)
		return done < a ? done : a;
	return done < -a ? -done : a;
}

void
vclock_at(const struct vclock *vc, int64_t t, struct vclock_sum *sum)
{
	const struct vclock_event	*e;
	double				 v = 0, freq = vc->freq0, slew = 0;
	double				 stepped = 0, done;
	int64_t				 since = vc->origin, slew_at = 0;
	size_t				 i, steps = 0;
	int				 slewing = 0;

	for (i = 0; i < vc->nev && vc->ev[i].time <= t; i++) {
		e = &vc->ev[i];
		switch (e->kind) {
		case VCLOCK_STEP:
			v += (double)e->value;
			stepped += (double)e->value;
			steps++;
			break;
		case VCLOCK_FREQ:
			/* The old one ran until now, from origin at most. */
			if (e->time > since) {
				v += freq * 1e-6 * (double)(e->time - since);
				since = e->time;
			}
			freq = (double)e->value * 1e-9;
			break;
		case VCLOCK_SLEW:
			/* What the last one did stays; the rest is gone. */
			if (slewing)
				v += slewed(slew, e->time - slew_at);
			slew = (double)e->value;
			slew_at = e->time;
			slewing = 1;
			break;
		default:
			break;
		}
	}
	if (t > since)
		v += freq * 1e-6 * (double)(t - since);
	done = slewing ? slewed(slew, t - slew_at) : 0;
	v += done;

	sum->correction = v / NS_PER_S;
	sum->freq = freq;
	sum->slew_left = (slew - done) / NS_PER_S;
	sum->steps = steps;
	sum->stepped = stepped / NS_PER_S;
}

double
vclock_correction(const struct vclock *vc, int64_t t)
{
	struct vclock_sum	 sum;

	vclock_at(vc, t, &sum);
	return sum.correction;
}
