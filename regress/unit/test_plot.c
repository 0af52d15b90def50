/*
 * ntpctl plot: the parser of the statistics log line by line, the
 * reader's warnings, the decimation that bounds the picture by its width
 * whatever the log, the escaping of names, and a picture that is
 * well-formed XML (checked here, and by xmllint where it is installed).
 */
#include <sys/stat.h>
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../ntpctl/ntpctl.h"
#include "../../ntpctl/plot.h"

#define T0		1763720400LL	/* 2025-11-21 10:20:00 UTC */

static const char *const good_update =
    "1763720400.123456 update offset=-0.000012345 freq=-36.990 "
    "skew=0.012 action=slew stratum=2 rootdelay=0.000200 "
    "rootdisp=0.000300 sources=3";
static const char *const good_sample =
    "1763720400.120001 sample source=127.0.5.1 offset=-0.000012 "
    "delay=0.000101 disp=0.000002 jitter=0.000003 stratum=1";

static int
parse(const char *line, struct plot_rec *rec, char *why, size_t len)
{
	why[0] = '\0';
	return plot_parse_line(line, rec, why, len);
}

START_TEST(test_parse_update)
{
	struct plot_rec	 r;
	char		 why[160];

	ck_assert_int_eq(parse(good_update, &r, why, sizeof(why)), 1);
	ck_assert_int_eq(r.kind, PLOT_UPDATE);
	ck_assert_int_eq(r.t.sec, T0);
	ck_assert_int_eq(r.t.nsec, 123456000);
	ck_assert_double_eq_tol(r.offset, -0.000012345, 1e-15);
	ck_assert_int_eq(r.has_freq, 1);
	ck_assert_double_eq_tol(r.freq, -36.99, 1e-12);
	ck_assert_int_eq(r.action, PLOT_ACT_SLEW);

	/* Any order; only the offset is needed. */
	ck_assert_int_eq(parse("1763720400 update action=step offset=+1.5",
	    &r, why, sizeof(why)), 1);
	ck_assert_int_eq(r.t.nsec, 0);
	ck_assert_int_eq(r.action, PLOT_ACT_STEP);
	ck_assert_int_eq(r.has_freq, 0);
	ck_assert_double_eq(r.offset, 1.5);
	ck_assert_int_eq(parse("0.000000001 update offset=1e-3 action=refused",
	    &r, why, sizeof(why)), 1);
	ck_assert_int_eq(r.t.sec, 0);
	ck_assert_int_eq(r.t.nsec, 1);
	ck_assert_int_eq(r.action, PLOT_ACT_REFUSED);
	/* Too small to hold is zero, not an error. */
	ck_assert_int_eq(parse("1 update offset=1e-400", &r, why,
	    sizeof(why)), 1);
	ck_assert_double_eq(r.offset, 0);
}
END_TEST

START_TEST(test_parse_sample)
{
	struct plot_rec	 r;
	char		 why[160];

	ck_assert_int_eq(parse(good_sample, &r, why, sizeof(why)), 1);
	ck_assert_int_eq(r.kind, PLOT_SAMPLE);
	ck_assert_str_eq(r.source, "127.0.5.1");
	ck_assert_double_eq_tol(r.offset, -0.000012, 1e-15);
	ck_assert_int_eq(r.t.nsec, 120001000);
	ck_assert_int_eq(parse("1 sample offset=0 source=2001:db8::1", &r, why,
	    sizeof(why)), 1);
	ck_assert_str_eq(r.source, "2001:db8::1");
}
END_TEST

/* Comments, blank lines, later kinds and later keys: no record, no fuss. */
START_TEST(test_parse_skipped)
{
	static const char *const skipped[] = {
		"# ntpd statistics 1",
		"#",
		"",
		"1763720400.5 leap armed=insert",
		"1763720400.5 reload whatever it says, even \x01 this",
		"1763720400.5 Update offset=1",
	};
	struct plot_rec	 r;
	char		 why[160];
	size_t		 i;

	for (i = 0; i < sizeof(skipped) / sizeof(skipped[0]); i++)
		ck_assert_msg(parse(skipped[i], &r, why, sizeof(why)) == 0,
		    "line %zu: %s", i, why);
	/* Unknown keys, and keys of the other kind, are ignored. */
	ck_assert_int_eq(parse("1 update offset=1 future=x.y=z source=a",
	    &r, why, sizeof(why)), 1);
	ck_assert_int_eq(parse("1 sample source=a offset=1 freq=banana "
	    "action=jump", &r, why, sizeof(why)), 1);
}
END_TEST

START_TEST(test_parse_malformed)
{
	static const struct {
		const char	*line;
		const char	*why;
	} bad[] = {
		{ "abc update offset=1", "not a time" },
		{ "-1 update offset=1", "not a time" },
		{ "1. update offset=1", "not a time" },
		{ ".5 update offset=1", "not a time" },
		{ "1.1234567890 update offset=1", "not a time" },
		{ "1234567890123 update offset=1", "not a time" },
		{ "253402300800 update offset=1", "not a time" },
		{ "1e9 update offset=1", "not a time" },
		{ " 1 update offset=1", "not a time" },
		{ "1763720400", "no kind" },
		{ "1763720400 ", "no kind" },
		{ "1 update", "no offset" },
		{ "1 update freq=1", "no offset" },
		{ "1 sample offset=1", "without its source" },
		{ "1 sample source=a", "no offset" },
		{ "1 update offset=nan", "offset: not a decimal number" },
		{ "1 update offset=NaN", "offset: not a decimal number" },
		{ "1 update offset=inf", "offset: not a decimal number" },
		{ "1 update offset=-infinity", "offset: not a decimal number" },
		{ "1 update offset=1e999", "offset: not a finite number" },
		{ "1 update offset=-1e400", "offset: not a finite number" },
		{ "1 update offset=0x10", "offset: not a decimal number" },
		{ "1 update offset=", "offset: not a decimal number" },
		{ "1 update offset=1..2", "offset: not a decimal number" },
		{ "1 update offset=1e", "offset: not a decimal number" },
		{ "1 update offset=1e+", "offset: not a decimal number" },
		{ "1 update offset=+", "offset: not a decimal number" },
		{ "1 update offset=1,5", "offset: not a decimal number" },
		{ "1 update offset=1 offset=2", "offset given twice" },
		{ "1 update offset=4294967296.5", "offset: out of range" },
		{ "1 update offset=0 freq=1000001", "freq: out of range" },
		{ "1 update offset=0 freq=nan", "freq: not a decimal" },
		{ "1 update offset=0 skew=inf", "skew: not a decimal" },
		{ "1 update offset=0 rootdelay=1e99", "rootdelay: out of" },
		{ "1 update offset=0 action=jump", "action: not none" },
		{ "1 update offset=0 action=", "action: not none" },
		{ "1 update offset=0 stratum=256", "stratum: not a whole" },
		{ "1 update offset=0 stratum=-1", "stratum: not a whole" },
		{ "1 update offset=0 stratum=1.5", "stratum: not a whole" },
		{ "1 update offset=0 sources=65536", "sources: not a whole" },
		{ "1 sample source=a\tb offset=0", "source: a control" },
		{ "1 sample source=a\x7f offset=0", "source: a control" },
		{ "1 sample source= offset=0", "source: empty" },
		{ "1 sample source=a offset=0 delay=x", "delay: not a" },
		{ "1 sample source=a offset=0 jitter=1e999", "jitter: not a" },
		{ "1  update offset=1", "no kind" },
		{ "1 update  offset=1", "an empty field" },
		{ "1 update offset=1 ", "an empty field" },
		{ "1 update offset=1 junk", "not KEY=VALUE: \"junk\"" },
		{ "1 update offset=1 =5", "not KEY=VALUE" },
	};
	struct plot_rec	 r;
	char		 why[160];
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(parse(bad[i].line, &r, why, sizeof(why)) == -1,
		    "accepted: %s", bad[i].line);
		ck_assert_msg(strstr(why, bad[i].why) != NULL,
		    "%s: \"%s\", not \"%s\"", bad[i].line, why, bad[i].why);
	}
}
END_TEST

/* Limits hold exactly at their bounds, and a long source is refused. */
START_TEST(test_parse_bounds)
{
	struct plot_rec	 r;
	char		 why[160], line[PLOT_LINE_MAX];
	char		 name[PLOT_SOURCE_MAX + 2];

	ck_assert_int_eq(parse("253402300799.999999999 update "
	    "offset=-4294967296 freq=-1000000 stratum=255 sources=65535",
	    &r, why, sizeof(why)), 1);
	memset(name, 'a', sizeof(name) - 1);
	name[PLOT_SOURCE_MAX] = '\0';
	snprintf(line, sizeof(line), "1 sample source=%s offset=0", name);
	ck_assert_int_eq(parse(line, &r, why, sizeof(why)), 1);
	ck_assert_uint_eq(strlen(r.source), PLOT_SOURCE_MAX);
	name[PLOT_SOURCE_MAX] = 'a';
	name[PLOT_SOURCE_MAX + 1] = '\0';
	snprintf(line, sizeof(line), "1 sample source=%s offset=0", name);
	ck_assert_int_eq(parse(line, &r, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "longer than 255 bytes"));
	/* What the message shows of the input is short and printable. */
	ck_assert_uint_lt(strlen(why), 80);
	ck_assert_int_eq(parse("1 update offset=\x1b[31mred", &r, why,
	    sizeof(why)), -1);
	ck_assert_ptr_null(strchr(why, '\x1b'));
	ck_assert_ptr_nonnull(strstr(why, "\\033"));
}
END_TEST

/* ---- Reading a file ---------------------------------------------------- */

static char	*warn_buf;
static size_t	 warn_len;

static long long
read_text(struct plot_data *d, const char *text, size_t len)
{
	FILE		*in, *warn;
	long long	 n;

	ck_assert_ptr_nonnull(in = fmemopen((void *)text, len, "r"));
	free(warn_buf);
	ck_assert_ptr_nonnull(warn = open_memstream(&warn_buf, &warn_len));
	n = plot_read(d, in, "stats.log", warn);
	fclose(in);
	fclose(warn);
	return n;
}

static size_t
count_lines(const char *s)
{
	size_t	 n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

START_TEST(test_read_warnings)
{
	struct plot_data	*d;
	char			*text;
	size_t			 len = 0, cap = 1 << 16, i;

	ck_assert_ptr_nonnull(text = malloc(cap));
	len += (size_t)snprintf(text + len, cap - len,
	    "# ntpd statistics 1\n%s\n%s\n", good_update, good_sample);
	/* Line 4: a later kind; lines 5 to 19: fifteen bad ones. */
	len += (size_t)snprintf(text + len, cap - len, "1 later kind\n");
	for (i = 0; i < 15; i++)
		len += (size_t)snprintf(text + len, cap - len,
		    "1763720401 update offset=nan\n");
	/* Line 20: too long; 21: a NUL; 22: good; 23: cut short. */
	memset(text + len, 'x', PLOT_LINE_MAX + 10);
	len += PLOT_LINE_MAX + 10;
	text[len++] = '\n';
	memcpy(text + len, "1 update\0 offset=1\n", 19);
	len += 19;
	len += (size_t)snprintf(text + len, cap - len, "%s\n", good_update);
	len += (size_t)snprintf(text + len, cap - len, "1763720402 update "
	    "offset=0.1");

	ck_assert_ptr_nonnull(d = plot_data_new(800));
	ck_assert_int_eq(read_text(d, text, len), 18);
	ck_assert_uint_eq(plot_data_records(d), 3);
	/* The first ten, then the count; no word about the later kind. */
	ck_assert_uint_eq(count_lines(warn_buf), PLOT_WARN_MAX + 1);
	ck_assert_msg(strncmp(warn_buf, "stats.log:5: offset: not a decimal "
	    "number: \"nan\"\n", 49) == 0, "%s", warn_buf);
	ck_assert_ptr_null(strstr(warn_buf, ":4:"));
	ck_assert_ptr_nonnull(strstr(warn_buf, "stats.log:14: "));
	ck_assert_ptr_null(strstr(warn_buf, "stats.log:15: "));
	ck_assert_ptr_nonnull(strstr(warn_buf,
	    "stats.log: 8 more malformed lines, 18 in all\n"));
	plot_data_free(d);

	/* Each kind of broken line, on its own. */
	ck_assert_ptr_nonnull(d = plot_data_new(800));
	memset(text, 'x', PLOT_LINE_MAX + 1);
	text[PLOT_LINE_MAX + 1] = '\n';
	ck_assert_int_eq(read_text(d, text, PLOT_LINE_MAX + 2), 1);
	ck_assert_str_eq(warn_buf, "stats.log:1: longer than 4096 bytes\n");
	ck_assert_int_eq(read_text(d, "1 update\0 offset=1\n", 19), 1);
	ck_assert_str_eq(warn_buf, "stats.log:1: a NUL byte\n");
	ck_assert_int_eq(read_text(d, "#\n1 update offset=1", 19), 1);
	ck_assert_str_eq(warn_buf, "stats.log:2: no newline at the end: "
	    "cut short?\n");
	ck_assert_uint_eq(plot_data_records(d), 0);
	/* Exactly the longest line there may be is fine. */
	len = (size_t)snprintf(text, cap, "1 update offset=1 x=");
	memset(text + len, 'y', PLOT_LINE_MAX - len);
	text[PLOT_LINE_MAX] = '\n';
	ck_assert_int_eq(read_text(d, text, PLOT_LINE_MAX + 1), 0);
	ck_assert_uint_eq(plot_data_records(d), 1);
	plot_data_free(d);
	free(text);
}
END_TEST

/* ---- The picture ------------------------------------------------------- */

static char	*svg;
static size_t	 svg_len;

static int
render(const struct plot_data *d, int width, int height)
{
	FILE	*f;
	int	 rc;

	free(svg);
	svg = NULL;
	ck_assert_ptr_nonnull(f = open_memstream(&svg, &svg_len));
	rc = plot_render(f, d, width, height);
	ck_assert_int_eq(fclose(f), 0);
	return rc;
}

static int
name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == ':' ||
	    c == '.';
}

/* An entity at s: one of XML's five, or a character reference. */
static size_t
entity(const char *s)
{
	static const char *const named[] = {
		"&amp;", "&lt;", "&gt;", "&quot;", "&apos;",
	};
	size_t	 i;

	for (i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (strncmp(s, named[i], strlen(named[i])) == 0)
			return strlen(named[i]);
	if (strncmp(s, "&#", 2) == 0) {
		for (i = 2; s[i] != ';'; i++)
			if (!name_char(s[i]))
				return 0;
		return i > 2 ? i + 1 : 0;
	}
	return 0;
}

/* Character data up to the next '<' or quote: entities only. */
static const char *
chars(const char *s, char stop)
{
	size_t	 n;

	for (; *s != '\0' && *s != '<' && *s != stop; s++) {
		if (*s != '&')
			continue;
		if ((n = entity(s)) == 0)
			return NULL;
		s += n - 1;
	}
	return s;
}

/*
 * Enough of XML to say that the picture is well-formed: a declaration,
 * one root, tags that nest and close, attributes quoted once each with
 * no '<' in them, entities that exist, UTF-8 throughout.
 */
static int
well_formed(const char *doc, size_t len, char *why, size_t wlen)
{
	const char	*s = doc, *name, *stack[64];
	size_t		 depth = 0, n, i, roots = 0, nattr;
	const char	*attr[32];
	size_t		 attrlen[32];

	for (i = 0; i < len; i += n)
		if ((n = utf8_valid((const unsigned char *)doc + i,
		    len - i)) == 0)
			return snprintf(why, wlen, "not UTF-8 at %zu", i), 0;
	if (strncmp(s, "<?xml ", 6) != 0 || (s = strstr(s, "?>")) == NULL)
		return snprintf(why, wlen, "no declaration"), 0;
	for (s += 2;;) {
		if ((s = chars(s, '\0')) == NULL)
			return snprintf(why, wlen, "bad entity"), 0;
		if (*s == '\0')
			break;
		if (s[1] == '/') {
			name = s + 2;
			for (n = 0; name_char(name[n]); n++)
				;
			if (depth == 0 || strncmp(stack[depth - 1], name, n) ||
			    name_char(stack[depth - 1][n]) || name[n] != '>')
				return snprintf(why, wlen, "bad close at %td",
				    s - doc), 0;
			depth--;
			s = name + n + 1;
			continue;
		}
		name = ++s;
		for (n = 0; name_char(name[n]); n++)
			;
		if (n == 0)
			return snprintf(why, wlen, "bad tag at %td", s - doc),
			    0;
		if (depth == 0 && roots++ > 0)
			return snprintf(why, wlen, "two roots"), 0;
		s = name + n;
		for (nattr = 0;;) {
			while (*s == ' ' || *s == '\n')
				s++;
			if (*s == '>' || strncmp(s, "/>", 2) == 0)
				break;
			attr[nattr] = s;
			for (n = 0; name_char(s[n]); n++)
				;
			if (n == 0 || s[n] != '=' || s[n + 1] != '"' ||
			    nattr == 32)
				return snprintf(why, wlen, "bad attribute at "
				    "%td", s - doc), 0;
			attrlen[nattr] = n;
			for (i = 0; i < nattr; i++)
				if (attrlen[i] == n &&
				    strncmp(attr[i], s, n) == 0)
					return snprintf(why, wlen, "attribute "
					    "twice at %td", s - doc), 0;
			nattr++;
			if ((s = chars(s + n + 2, '"')) == NULL || *s != '"')
				return snprintf(why, wlen, "bad value"), 0;
			s++;
		}
		if (*s == '>') {
			if (depth == 64)
				return snprintf(why, wlen, "too deep"), 0;
			stack[depth++] = name;
			s++;
		} else
			s += 2;
	}
	if (depth != 0 || roots != 1)
		return snprintf(why, wlen, "%zu open at the end", depth), 0;
	return 1;
}

static void
assert_well_formed(void)
{
	FILE	*x;
	char	 why[128];

	ck_assert_msg(well_formed(svg, svg_len, why, sizeof(why)), "%s", why);
	/* A second opinion where there is one. */
	if (access("/usr/bin/xmllint", X_OK) != 0)
		return;
	ck_assert_ptr_nonnull(x = popen("/usr/bin/xmllint --noout -", "w"));
	ck_assert_uint_eq(fwrite(svg, 1, svg_len, x), svg_len);
	ck_assert_int_eq(pclose(x), 0);
}

/* The checker itself: it must see what is wrong. */
START_TEST(test_checker)
{
	static const char *const broken[] = {
		"<?xml version=\"1.0\"?><a><b></a>",
		"<?xml version=\"1.0\"?><a x=\"<\"/>",
		"<?xml version=\"1.0\"?><a>&evil;</a>",
		"<?xml version=\"1.0\"?><a x=\"1\" x=\"2\"/>",
		"<?xml version=\"1.0\"?><a/><b/>",
		"<?xml version=\"1.0\"?><a>\xff</a>",
		"<?xml version=\"1.0\"?><a>a & b</a>",
		"<a/>",
	};
	char	 why[128];
	size_t	 i;

	ck_assert(well_formed("<?xml version=\"1.0\"?><a x=\"&amp;\"><b/>"
	    "t&lt;</a>\n", 42, why, sizeof(why)));
	for (i = 0; i < sizeof(broken) / sizeof(broken[0]); i++)
		ck_assert_msg(!well_formed(broken[i], strlen(broken[i]), why,
		    sizeof(why)), "%s", broken[i]);
}
END_TEST

static void
add_update(struct plot_data *d, double t, double offset, double freq,
    enum plot_action a)
{
	struct plot_rec	 r;

	memset(&r, 0, sizeof(r));
	r.kind = PLOT_UPDATE;
	r.t.sec = T0 + (int64_t)floor(t);
	r.t.nsec = (int32_t)((t - floor(t)) * 1e9);
	r.offset = offset;
	r.freq = freq;
	r.has_freq = 1;
	r.action = a;
	plot_data_add(d, &r);
}

static void
add_sample(struct plot_data *d, double t, const char *source, double offset)
{
	struct plot_rec	 r;

	memset(&r, 0, sizeof(r));
	r.kind = PLOT_SAMPLE;
	r.t.sec = T0 + (int64_t)floor(t);
	r.t.nsec = (int32_t)((t - floor(t)) * 1e9);
	r.offset = offset;
	strlcpy(r.source, source, sizeof(r.source));
	plot_data_add(d, &r);
}

/* The points of the path with this id. */
static size_t
path_points(const char *id)
{
	char	 key[64];
	char	*p, *end;
	size_t	 n = 0;

	snprintf(key, sizeof(key), "id=\"%s\"", id);
	ck_assert_ptr_nonnull(p = strstr(svg, key));
	ck_assert_ptr_nonnull(p = strstr(p, " d=\""));
	ck_assert_ptr_nonnull(end = strchr(p + 4, '"'));
	for (; p < end; p++)
		n += *p == 'M' || *p == 'L';
	return n;
}

/*
 * A million records or a thousand: the picture holds at most four
 * points per pixel column for a line and two dots for a source, so its
 * size depends on the width alone.
 */
START_TEST(test_decimation)
{
	static const size_t	 counts[] = { 1000, 400000 };
	struct plot_data	*d;
	size_t			 i, k, cols, sizes[2];
	double			 t;

	for (k = 0; k < 2; k++) {
		ck_assert_ptr_nonnull(d = plot_data_new(800));
		for (i = 0; i < counts[k]; i++) {
			t = (double)i * 86400.0 / (double)counts[k];
			add_update(d, t, 1e-4 * sin((double)i) +
			    (i % 97 == 0 ? 1e-3 : 0), -36 + sin(t / 9000),
			    i == counts[k] / 2 ? PLOT_ACT_STEP : PLOT_ACT_SLEW);
			add_sample(d, t + 0.3, i % 2 ? "192.0.2.1" :
			    "192.0.2.2", 1e-4 * cos((double)i));
		}
		ck_assert_int_eq(render(d, 800, 500), 0);
		assert_well_formed();
		cols = 800 - 84 - 24;
		ck_assert_uint_le(path_points("offset-line"), 4 * cols);
		ck_assert_uint_le(path_points("freq-line"), 4 * cols);
		ck_assert_uint_le(path_points("src-0"), 2 * cols);
		ck_assert_uint_le(path_points("src-1"), 2 * cols);
		sizes[k] = svg_len;
		plot_data_free(d);
	}
	/* 400 times the input, not even twice the picture. */
	ck_assert_uint_lt(sizes[1], 2 * sizes[0] + 50000);
	ck_assert_uint_lt(sizes[1], 400000);
	/* The extremes survive: the spikes reach the top of the scale. */
	ck_assert_ptr_nonnull(strstr(svg, ">1.0</text>"));
}
END_TEST

/* Records in any order land in the same picture. */
START_TEST(test_out_of_order)
{
	struct plot_data	*a, *b;
	char			*first, *end;
	size_t			 i, j, n = 5000;

	ck_assert_ptr_nonnull(a = plot_data_new(600));
	ck_assert_ptr_nonnull(b = plot_data_new(600));
	for (i = 0; i < n; i++) {
		add_update(a, (double)i * 17, 1e-5 * (double)(i % 10), -3,
		    PLOT_ACT_SLEW);
		/* The middle first, then outwards both ways. */
		j = i % 2 ? n / 2 + i / 2 + 1 : n / 2 - i / 2;
		if (j < n)
			add_update(b, (double)j * 17,
			    1e-5 * (double)(j % 10), -3, PLOT_ACT_SLEW);
	}
	add_update(b, 0, 0, -3, PLOT_ACT_SLEW);
	ck_assert_int_eq(render(a, 600, 400), 0);
	assert_well_formed();
	first = strdup(svg);
	ck_assert_int_eq(render(b, 600, 400), 0);
	assert_well_formed();
	ck_assert_ptr_nonnull(strstr(svg, "5000 clock updates"));
	/*
	 * Same range, same axes.  The line may differ by a pixel: where
	 * the bins' edges fall depends on which record came first.
	 */
	ck_assert_ptr_nonnull(end = strstr(first, "<path id=\"offset-line\""));
	ck_assert(strncmp(first, svg, (size_t)(end - first)) == 0);
	free(first);
	plot_data_free(a);
	plot_data_free(b);
}
END_TEST

START_TEST(test_hostile_names)
{
	static const char *const hostile = "<s>alert(\"x\")</s>&amp;'--";
	struct plot_data	*d;
	char			 line[PLOT_LINE_MAX];
	struct plot_rec		 r;
	char			 why[160];

	ck_assert_ptr_nonnull(d = plot_data_new(600));
	snprintf(line, sizeof(line), "1763720400 sample source=%s "
	    "offset=0.001", hostile);
	ck_assert_int_eq(parse(line, &r, why, sizeof(why)), 1);
	ck_assert_str_eq(r.source, hostile);
	plot_data_add(d, &r);
	/* Not UTF-8, and a character XML forbids even as a reference. */
	add_sample(d, 10, "bad\xff\xfe\xc0\xafutf8", 0.002);
	add_sample(d, 20, "no\xef\xbf\xbfpe", 0.002);
	add_sample(d, 30, "\xc3\xa9t\xc3\xa9-long-name-that-goes-on-and-on-"
	    "and-on.example.org", 0.003);
	ck_assert_int_eq(render(d, 600, 400), 0);
	assert_well_formed();
	ck_assert_ptr_null(strstr(svg, "<s>"));
	ck_assert_ptr_nonnull(strstr(svg, ">&lt;s&gt;alert(&quot;x&quot;)"
	    "&lt;/s&gt;&amp;amp;&apos;--<"));
	ck_assert_ptr_nonnull(strstr(svg, "bad\xef\xbf\xbd\xef\xbf\xbd"
	    "\xef\xbf\xbd\xef\xbf\xbdutf8"));
	ck_assert_ptr_nonnull(strstr(svg, "no\xef\xbf\xbdpe"));
	/* Cut at 32 characters, not bytes, with an ellipsis. */
	ck_assert_ptr_nonnull(strstr(svg, "\xc3\xa9t\xc3\xa9-long-name-that-"
	    "goes-on-and-o\xe2\x80\xa6<"));
	plot_data_free(d);
}
END_TEST

/* More sources than colours: the rest share one series. */
START_TEST(test_many_sources)
{
	struct plot_data	*d;
	char			 name[32];
	size_t			 i;

	ck_assert_ptr_nonnull(d = plot_data_new(1000));
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "10.0.%zu.%zu", i / 250, i % 250);
		add_sample(d, (double)i, name, 1e-5 * (double)(i % 7));
	}
	ck_assert_int_eq(render(d, 1000, 600), 0);
	assert_well_formed();
	ck_assert_ptr_nonnull(strstr(svg, "from more than 24 sources"));
	ck_assert_ptr_nonnull(strstr(svg, "other sources"));
	ck_assert_ptr_nonnull(strstr(svg, "id=\"src-23\""));
	ck_assert_ptr_nonnull(strstr(svg, "id=\"src-24\""));
	ck_assert_ptr_null(strstr(svg, "id=\"src-25\""));
	/* No updates: no offset line, and the frequency panel says so. */
	ck_assert_ptr_null(strstr(svg, "offset-line"));
	ck_assert_ptr_nonnull(strstr(svg, "no frequency in the log"));
	/* The smallest picture names as many as it has room for. */
	ck_assert_int_eq(render(d, PLOT_WIDTH_MIN, PLOT_HEIGHT_MIN), 0);
	assert_well_formed();
	ck_assert_ptr_nonnull(strstr(svg, " more sources<"));
	ck_assert_ptr_nonnull(strstr(svg, "id=\"src-23\""));
	plot_data_free(d);
}
END_TEST

/* Units, steps, refusals, what is off the scale, and one moment. */
START_TEST(test_axes_and_marks)
{
	struct plot_data	*d;
	size_t			 i;

	ck_assert_ptr_nonnull(d = plot_data_new(800));
	add_update(d, 0, 0.5, -20, PLOT_ACT_STEP);
	for (i = 1; i < 2000; i++)
		add_update(d, (double)i * 64, 2e-6 * sin((double)i), -20.5,
		    i == 900 ? PLOT_ACT_REFUSED : PLOT_ACT_SLEW);
	ck_assert_int_eq(render(d, 800, 500), 0);
	assert_well_formed();
	ck_assert_ptr_nonnull(strstr(svg, "offset (\xc2\xb5s)"));
	ck_assert_ptr_nonnull(strstr(svg, "frequency (ppm)"));
	ck_assert_ptr_nonnull(strstr(svg, ">step +500.000ms</text>"));
	ck_assert_ptr_nonnull(strstr(svg, "refused correction"));
	ck_assert_ptr_nonnull(strstr(svg, "beyond the scale in 1 column"));
	ck_assert_ptr_nonnull(strstr(svg, "2000 clock updates, 1 step, "
	    "1 refused; 0 samples<"));
	ck_assert_ptr_nonnull(strstr(svg, "ntpd statistics, 2025-11-21 "
	    "10:20:00 to 2025-11-22 21:52:16 UTC"));
	plot_data_free(d);

	ck_assert_ptr_nonnull(d = plot_data_new(800));
	add_update(d, 0.5, 0.25, 1, PLOT_ACT_SLEW);
	ck_assert_int_eq(render(d, 800, 500), 0);
	assert_well_formed();
	ck_assert_ptr_nonnull(strstr(svg, "offset (ms)"));
	ck_assert_ptr_nonnull(strstr(svg, ">10:20:00<"));
	plot_data_free(d);
}
END_TEST

START_TEST(test_nothing)
{
	struct plot_data	*d;

	ck_assert_ptr_nonnull(d = plot_data_new(800));
	ck_assert_int_eq(read_text(d, "# ntpd statistics 1\n1 later x=1\n",
	    32), 0);
	ck_assert_uint_eq(plot_data_records(d), 0);
	ck_assert_int_eq(render(d, 800, 500), -1);
	/* Sizes beyond the bounds are refused, not drawn. */
	add_update(d, 0, 0, 0, PLOT_ACT_SLEW);
	ck_assert_int_eq(render(d, PLOT_WIDTH_MAX + 1, 500), -1);
	ck_assert_int_eq(render(d, 800, PLOT_HEIGHT_MIN - 1), -1);
	plot_data_free(d);
}
END_TEST

/* ---- The command ------------------------------------------------------- */

static char	 dir[] = "/tmp/test_plot.XXXXXX";

static int
run(const char *a0, const char *a1, const char *a2, const char *a3,
    const char *a4, const char *a5, const char *a6)
{
	const char	*v[] = { "plot", a0, a1, a2, a3, a4, a5, a6, NULL };
	int		 argc = 1;

	while (v[argc] != NULL)
		argc++;
	optind = 0;	/* getopt starts afresh */
	return cmd_plot(argc, (char **)v);
}

static void
write_file(const char *path, const char *text)
{
	FILE	*f;

	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_command)
{
	char		 in[64], out[64], empty[64], text[1024];
	struct stat	 st;
	FILE		*f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(in, sizeof(in), "%s/stats.log", dir);
	snprintf(out, sizeof(out), "%s/out.svg", dir);
	snprintf(empty, sizeof(empty), "%s/empty.log", dir);
	snprintf(text, sizeof(text), "# ntpd statistics 1\n%s\n%s\n"
	    "1763720464 update offset=0.00001 freq=-36.9 action=slew\n",
	    good_sample, good_update);
	write_file(in, text);
	write_file(empty, "# ntpd statistics 1\n");

	ck_assert_int_eq(run("-o", out, "-w", "600", "-h", "400", in), 0);
	ck_assert_ptr_nonnull(f = fopen(out, "r"));
	free(svg);
	svg = NULL;
	svg_len = 0;
	ck_assert_int_ne(getdelim(&svg, &svg_len, '\0', f), -1);
	svg_len = strlen(svg);
	fclose(f);
	assert_well_formed();
	ck_assert_ptr_nonnull(strstr(svg, "width=\"600\" height=\"400\""));

	/* Nothing to plot: status 1, and no picture left behind. */
	ck_assert_int_eq(unlink(out), 0);
	ck_assert_int_eq(run("-o", out, empty, NULL, NULL, NULL, NULL), 1);
	ck_assert_int_eq(stat(out, &st), -1);
	/* Usage errors. */
	ck_assert_int_eq(run(NULL, NULL, NULL, NULL, NULL, NULL, NULL), 1);
	ck_assert_int_eq(run(in, in, NULL, NULL, NULL, NULL, NULL), 1);
	ck_assert_int_eq(run("-w", "10", in, NULL, NULL, NULL, NULL), 1);
	ck_assert_int_eq(run("-h", "9999", in, NULL, NULL, NULL, NULL), 1);
	ck_assert_int_eq(run("-w", "x", in, NULL, NULL, NULL, NULL), 1);
	ck_assert_int_eq(run("-x", in, NULL, NULL, NULL, NULL, NULL), 1);
	ck_assert_int_eq(run("-o", out, "/nonexistent/stats", NULL, NULL,
	    NULL, NULL), 1);
	ck_assert_int_eq(run("-o", out, dir, NULL, NULL, NULL, NULL), 1);
	ck_assert_int_eq(stat(out, &st), -1);
	ck_assert_int_eq(run("-o", "/nonexistent/out.svg", in, NULL, NULL,
	    NULL, NULL), 1);

	unlink(in);
	unlink(empty);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("plot");
	TCase	*tc = tcase_create("plot");
	SRunner	*sr;
	int	 failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_parse_update);
	tcase_add_test(tc, test_parse_sample);
	tcase_add_test(tc, test_parse_skipped);
	tcase_add_test(tc, test_parse_malformed);
	tcase_add_test(tc, test_parse_bounds);
	tcase_add_test(tc, test_read_warnings);
	tcase_add_test(tc, test_checker);
	tcase_add_test(tc, test_decimation);
	tcase_add_test(tc, test_out_of_order);
	tcase_add_test(tc, test_hostile_names);
	tcase_add_test(tc, test_many_sources);
	tcase_add_test(tc, test_axes_and_marks);
	tcase_add_test(tc, test_nothing);
	tcase_add_test(tc, test_command);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	free(svg);
	free(warn_buf);
	return failed == 0 ? 0 : 1;
}
