/*
 * ntpd.conf parser: a line-oriented lexer feeding a small recursive
 * descent parser.  One statement per line; a keyword table maps each
 * statement to its handler and says where it may appear, and "listen"
 * has an option table, so new statements and options are one entry plus
 * one function each.
 *
 * Errors are reported as "FILE:LINE: message" and parsing goes on at the
 * next line, so one run shows every mistake in the file.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "config.h"
#include "log.h"
#include "tz.h"

#define WORD_MAX	1023		/* longest word or quoted string */
#define LINE_WORDS_MAX	64		/* words on one line */
#define CONF_LINES_MAX	1000000		/* keeps line numbers in range */
#define HOST_NAME_LEN	253		/* DNS name without trailing dot */
#define LABEL_LEN	63
#define USER_NAME_LEN	(USER_NAME_MAX - 1)
#define NETNS_NAME_LEN	(NETNS_NAME_MAX - 1)

/* Any word fits chroot_dir, so its length needs no check of its own. */
_Static_assert(WORD_MAX < PATH_MAX, "chroot path must fit chroot_dir");
_Static_assert(HOST_NAME_LEN + 1 < SOURCE_NAME_MAX, "host must fit");

enum tok_type {
	TOK_WORD,
	TOK_LBRACE,
	TOK_RBRACE,
};

struct token {
	enum tok_type	 type;
	char		 text[WORD_MAX + 1];	/* "{" and "}" for braces */
};

struct line {
	int		 lineno;
	int		 ntok;
	int		 bad;		/* a lexical error was reported */
	struct token	 tok[LINE_WORDS_MAX];
};

struct parser {
	FILE			*fp;
	const char		*name;
	int			 lineno;	/* lines read so far */
	int			 eof;
	int			 errors;
	struct ntpd_conf	*conf;
	struct netns_cfg	*own;		/* "": listed at end if used */
	struct netns_cfg	*block;		/* open namespace block */
	int			 block_keep;	/* 0: dropped at "}" */
	int			 nest;		/* nested blocks skipped */
	int			 nnamed;	/* named namespaces listed */
	int			 nsources;
	int			 user_line;
	int			 socket_line;
	int			 chroot_line;
	int			 makestep_line;
	int			 tolerance_line;
	int			 holdover_line;
	int			 minsources_line;
	int			 driftfile_line;
	int			 audit_line;
	int			 rtc_line;
	int			 lastknown_line;
	int			 statistics_line;
	struct line		 line;
};

/* Where a statement may appear. */
#define IN_TOP		0x01
#define IN_NETNS	0x02

struct keyword {
	const char	*name;
	int		 where;
	void		(*parse)(struct parser *, const struct line *);
};

struct listen_opt {
	const char	*name;
	/* Consumes its words starting at *i (the option name). */
	int		(*parse)(struct parser *, const struct line *, int *i,
			    struct listen_cfg *);
};

static void	conf_err(struct parser *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	*conf_calloc(struct parser *, int, size_t);
static int	is_alpha(int);
static int	is_digit(int);
static int	is_name_char(int);
static int	is_word_end(int);
static int	add_token(struct parser *, enum tok_type, const char *,
		    size_t);
static void	lex_error(struct parser *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	lex_bad_char(struct parser *, int);
static int	is_bad_char(int);
static int	lex_comment(struct parser *);
static int	lex_quoted(struct parser *);
static int	lex_word(struct parser *, int);
static void	lex_skip_line(struct parser *);
static int	read_line(struct parser *);
static int	valid_user(const char *);
static int	valid_netns_name(const char *);
static int	valid_host(const char *);
static int	same_host(const char *, const char *);
static int	parse_number(const char *, unsigned int, unsigned int *);
static const char *one_arg(struct parser *, const struct line *,
		    const char *);
static void	parse_user(struct parser *, const struct line *);
static void	parse_socket(struct parser *, const struct line *);
static int	absolute_path(struct parser *, const struct line *,
		    const char *, const char *, char *, size_t);
static void	parse_chroot(struct parser *, const struct line *);
static int	source_flag(struct parser *, const struct line *,
		    const char *, int *);
static int	source_number(struct parser *, const struct line *, int *,
		    unsigned int, unsigned int, unsigned int *);
static int	source_options(struct parser *, const struct line *,
		    struct source_cfg *);
static void	parse_source(struct parser *, const struct line *,
		    enum source_kind);
static void	parse_server(struct parser *, const struct line *);
static void	parse_servers(struct parser *, const struct line *);
static int	listen_port(struct parser *, const struct line *, int *,
		    struct listen_cfg *);
static const char *listener_name(const struct listen_cfg *, char *,
		    size_t);
static int	count_listeners(const struct netns_cfg *);
static void	parse_listen(struct parser *, const struct line *);
static int	line_has_lbrace(const struct line *);
static struct netns_cfg *find_named(const struct parser *, const char *);
static void	parse_namespace(struct parser *, const struct line *);
static void	free_netns(struct netns_cfg *);
static void	close_block(struct parser *, int);
static void	parse_close(struct parser *, const struct line *);
static const struct keyword *find_keyword(const char *);
static void	parse_statement(struct parser *, const struct line *);
static void	serve_init(struct serve_cfg *, int global);
static void	serve_free(struct serve_cfg *);
static struct serve_cfg *scope_serve(struct parser *);
static int	parse_decimal(const char *, double, double, double *);
static int	add_rule(struct parser *, const struct line *,
		    const struct cidr *, int, int);
static void	parse_acl(struct parser *, const struct line *, int);
static void	parse_allow(struct parser *, const struct line *);
static void	parse_deny(struct parser *, const struct line *);
static void	parse_ratelimit(struct parser *, const struct line *);
static void	parse_local(struct parser *, const struct line *);
static void	parse_makestep(struct parser *, const struct line *);
static void	parse_tolerance(struct parser *, const struct line *);
static void	parse_holdover(struct parser *, const struct line *);
static void	parse_minsources(struct parser *, const struct line *);
static int	parse_path(struct parser *, const struct line *,
		    const char *, const char *, char *, size_t, int *, int);
static int	parse_file_setting(struct parser *, const struct line *,
		    const char *, char *, size_t, int *);
static void	parse_driftfile(struct parser *, const struct line *);
static void	parse_audit(struct parser *, const struct line *);
static void	parse_rtc(struct parser *, const struct line *);
static void	parse_lastknown(struct parser *, const struct line *);
static void	parse_statistics(struct parser *, const struct line *);
static void	parse_timezone(struct parser *, const struct line *);

/* Statements, in alphabetical order; looked up linearly. */
static const struct keyword keywords[] = {
	{ "allow",	IN_TOP | IN_NETNS,	parse_allow },
	{ "audit",	IN_TOP,			parse_audit },
	{ "chroot",	IN_TOP,			parse_chroot },
	{ "deny",	IN_TOP | IN_NETNS,	parse_deny },
	{ "driftfile",	IN_TOP,			parse_driftfile },
	{ "holdover",	IN_TOP,			parse_holdover },
	{ "lastknown",	IN_TOP,			parse_lastknown },
	{ "listen",	IN_TOP | IN_NETNS,	parse_listen },
	{ "local",	IN_TOP | IN_NETNS,	parse_local },
	{ "makestep",	IN_TOP,			parse_makestep },
	{ "minsources",	IN_TOP,			parse_minsources },
	{ "namespace",	IN_TOP | IN_NETNS,	parse_namespace },
	{ "pool",	IN_TOP,			parse_servers },
	{ "ratelimit",	IN_TOP | IN_NETNS,	parse_ratelimit },
	{ "rtc",	IN_TOP,			parse_rtc },
	{ "server",	IN_TOP,			parse_server },
	{ "servers",	IN_TOP,			parse_servers },
	{ "socket",	IN_TOP,			parse_socket },
	{ "statistics",	IN_TOP,			parse_statistics },
	{ "timezone",	IN_TOP,			parse_timezone },
	{ "tolerance",	IN_TOP,			parse_tolerance },
	{ "user",	IN_TOP,			parse_user },
};

static const struct listen_opt listen_opts[] = {
	{ "port",	listen_port },
};

static void
conf_err(struct parser *p, int lineno, const char *fmt, ...)
{
	char	msg[LOG_LINE_MAX];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("%s:%d: %s", p->name, lineno, msg);
	p->errors++;
}

static void *
conf_calloc(struct parser *p, int lineno, size_t size)
{
	void	*ptr;

	if ((ptr = calloc(1, size)) == NULL)
		conf_err(p, lineno, "out of memory");
	return ptr;
}

/* Locale-independent character classes: the grammar is ASCII. */
static int
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* Characters of user and namespace names. */
static int
is_name_char(int c)
{
	return is_alpha(c) || is_digit(c) || c == '_' || c == '.' || c == '-';
}

static int
is_word_end(int c)
{
	return c == EOF || c == ' ' || c == '\t' || c == '\n' || c == '#' ||
	    c == '{' || c == '}';
}

/* Lexer. */

static int
add_token(struct parser *p, enum tok_type type, const char *text,
    size_t len)
{
	struct line	*l = &p->line;
	struct token	*t;

	if (l->ntok >= LINE_WORDS_MAX) {
		lex_error(p, "too many words on one line (max %d)",
		    LINE_WORDS_MAX);
		return -1;
	}
	t = &l->tok[l->ntok++];
	t->type = type;
	memcpy(t->text, text, len);
	t->text[len] = '\0';
	return 0;
}

/* Report, then drop the rest of the line: one message per line. */
static void
lex_error(struct parser *p, const char *fmt, ...)
{
	char	msg[LOG_LINE_MAX];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	conf_err(p, p->line.lineno, "%s", msg);
	p->line.bad = 1;
	lex_skip_line(p);
}

static void
lex_bad_char(struct parser *p, int c)
{
	if (c == '\0')
		lex_error(p, "NUL byte in file");
	else
		lex_error(p, "invalid character 0x%02x", (unsigned int)c);
}

/* A control character (tab aside) is never part of a word. */
static int
is_bad_char(int c)
{
	return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7f;
}

/* Drop the rest of the line, its newline included. */
static void
lex_skip_line(struct parser *p)
{
	int	c;

	do {
		c = getc(p->fp);
	} while (c != '\n' && c != EOF);
}

/* Skip a comment, up to but not including its newline. */
static int
lex_comment(struct parser *p)
{
	int	c;

	for (;;) {
		c = getc(p->fp);
		if (c == '\n' || c == EOF) {
			ungetc(c, p->fp);
			return 0;
		}
		if (c == '\0') {
			lex_bad_char(p, c);
			return -1;
		}
	}
}

/* After the opening quote: "...", with \" and \\ as the only escapes. */
static int
lex_quoted(struct parser *p)
{
	char	buf[WORD_MAX + 1];
	size_t	len = 0;
	int	c;

	for (;;) {
		c = getc(p->fp);
		if (c == '\n' || c == EOF) {
			ungetc(c, p->fp);
			lex_error(p, "unterminated quoted string");
			return -1;
		}
		if (c == '"')
			break;
		if (c == '\\') {
			c = getc(p->fp);
			if (c == '\n' || c == EOF) {
				ungetc(c, p->fp);
				lex_error(p, "unterminated quoted string");
				return -1;
			}
			if (is_bad_char(c)) {
				lex_bad_char(p, c);
				return -1;
			}
			if (c != '"' && c != '\\') {
				lex_error(p, "invalid escape \"\\%c\" in "
				    "quoted string", c);
				return -1;
			}
		} else if (is_bad_char(c)) {
			lex_bad_char(p, c);
			return -1;
		}
		if (len >= WORD_MAX) {
			lex_error(p, "word too long (more than %d characters)",
			    WORD_MAX);
			return -1;
		}
		buf[len++] = (char)c;
	}

	/* "a"b or "a""b" is a typo more likely than two words. */
	c = getc(p->fp);
	ungetc(c, p->fp);
	if (!is_word_end(c)) {
		lex_error(p, "missing space after quoted string");
		return -1;
	}
	return add_token(p, TOK_WORD, buf, len);
}

/* A bare word starting with c. */
static int
lex_word(struct parser *p, int c)
{
	char	buf[WORD_MAX + 1];
	size_t	len = 0;

	for (;;) {
		if (is_word_end(c)) {
			ungetc(c, p->fp);
			break;
		}
		if (c == '"') {
			lex_error(p, "unexpected quote inside a word");
			return -1;
		}
		if (is_bad_char(c)) {
			lex_bad_char(p, c);
			return -1;
		}
		if (len >= WORD_MAX) {
			lex_error(p, "word too long (more than %d characters)",
			    WORD_MAX);
			return -1;
		}
		buf[len++] = (char)c;
		c = getc(p->fp);
	}
	return add_token(p, TOK_WORD, buf, len);
}

/*
 * Read the next line into p->line.  Returns 0 at the end of the input,
 * else 1; a line with a lexical error has been reported and has bad set.
 */
static int
read_line(struct parser *p)
{
	struct line	*l = &p->line;
	int		 c;

	if (p->eof)
		return 0;
	c = getc(p->fp);
	if (c == EOF) {
		if (ferror(p->fp)) {
			log_warn("%s", p->name);
			p->errors++;
		}
		p->eof = 1;
		return 0;
	}
	if (p->lineno >= CONF_LINES_MAX) {
		conf_err(p, p->lineno, "too many lines (max %d)",
		    CONF_LINES_MAX);
		p->eof = 1;
		return 0;
	}
	l->lineno = ++p->lineno;
	l->ntok = 0;
	l->bad = 0;

	for (;; c = getc(p->fp)) {
		switch (c) {
		case EOF:
			if (ferror(p->fp)) {
				/* A cut-off line would only add errors. */
				log_warn("%s", p->name);
				p->errors++;
				l->bad = 1;
			}
			p->eof = 1;
			return 1;
		case '\n':
			return 1;
		case ' ':
		case '\t':
			break;
		case '#':
			if (lex_comment(p) == -1)
				return 1;
			break;
		case '{':
			if (add_token(p, TOK_LBRACE, "{", 1) == -1)
				return 1;
			break;
		case '}':
			if (add_token(p, TOK_RBRACE, "}", 1) == -1)
				return 1;
			break;
		case '"':
			if (lex_quoted(p) == -1)
				return 1;
			break;
		default:
			if (lex_word(p, c) == -1)
				return 1;
			break;
		}
	}
}

/* Validation of words. */

/* 1..32 of [A-Za-z0-9_.-], not starting with '-'. */
static int
valid_user(const char *s)
{
	size_t	i, len = strlen(s);

	if (len == 0 || len > USER_NAME_LEN || s[0] == '-')
		return 0;
	for (i = 0; i < len; i++)
		if (!is_name_char(s[i]))
			return 0;
	return 1;
}

/*
 * A file name under /run/netns: 1..63 of [A-Za-z0-9_.-], not "." or
 * "..", not starting with '-' (it would look like an option to ip(8)).
 */
static int
valid_netns_name(const char *s)
{
	size_t	i, len = strlen(s);

	if (len == 0 || len > NETNS_NAME_LEN || s[0] == '-')
		return 0;
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!is_name_char(s[i]))
			return 0;
	return 1;
}

/*
 * A numeric address, or a DNS name: labels of 1..63 letters, digits and
 * '-' (not at either end), at most 253 characters plus an optional
 * trailing dot.  An all-digit last label is refused: the resolver would
 * read "127.1" or "192.0.2.300"-like typos as IPv4 shorthand.
 */
static int
valid_host(const char *s)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	size_t			 i, len, label = 0;
	int			 numeric = 1;

	len = strlen(s);
	if (len == 0 || len >= SOURCE_NAME_MAX)
		return 0;
	if (addr_parse(s, 0, &ss, &sslen) == 0)
		return 1;
	if (s[len - 1] == '.')
		len--;
	if (len == 0 || len > HOST_NAME_LEN)
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
			numeric = 1;
			continue;
		}
		if (!is_alpha(s[i]) && !is_digit(s[i]) && s[i] != '-')
			return 0;
		if (s[i] == '-' && label == 0)
			return 0;
		if (!is_digit(s[i]))
			numeric = 0;
		if (++label > LABEL_LEN)
			return 0;
	}
	if (label == 0 || s[len - 1] == '-' || numeric)
		return 0;
	return 1;
}

/*
 * Same source?  Addresses compare by value ("2001:DB8::1" is
 * "2001:db8:0::1"), names without regard to case or a trailing dot.
 */
static int
same_host(const char *a, const char *b)
{
	struct sockaddr_storage	 sa, sb;
	socklen_t		 la, lb;
	int			 na, nb;
	size_t			 lena, lenb;

	na = addr_parse(a, 0, &sa, &la) == 0;
	nb = addr_parse(b, 0, &sb, &lb) == 0;
	if (na || nb)
		return na && nb && la == lb && memcmp(&sa, &sb, la) == 0;

	lena = strlen(a);
	lenb = strlen(b);
	if (lena > 0 && a[lena - 1] == '.')
		lena--;
	if (lenb > 0 && b[lenb - 1] == '.')
		lenb--;
	return lena == lenb && strncasecmp(a, b, lena) == 0;
}

/*
 * Decimal 1..max (max < UINT_MAX / 10): digits only, no sign, no blank,
 * no leading zero.
 */
static int
parse_number(const char *s, unsigned int max, unsigned int *res)
{
	unsigned int	v = 0;
	size_t		i;

	if (s[0] == '\0' || s[0] == '0')
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (unsigned int)(s[i] - '0');
		if (v > max)
			return -1;
	}
	*res = v;
	return 0;
}

/* Statements. */

/* The single argument of "KEYWORD ARG", or NULL after reporting. */
static const char *
one_arg(struct parser *p, const struct line *l, const char *what)
{
	if (l->ntok < 2) {
		conf_err(p, l->lineno, "\"%s\" needs %s", l->tok[0].text,
		    what);
		return NULL;
	}
	if (l->tok[1].type != TOK_WORD) {
		conf_err(p, l->lineno, "unexpected \"%s\" after \"%s\"",
		    l->tok[1].text, l->tok[0].text);
		return NULL;
	}
	if (l->ntok > 2) {
		conf_err(p, l->lineno, "unexpected \"%s\" after \"%s %s\"",
		    l->tok[2].text, l->tok[0].text, l->tok[1].text);
		return NULL;
	}
	return l->tok[1].text;
}

/* A setting may be given once; reports and returns 1 on a second time. */
static int
already_set(struct parser *p, const struct line *l, int first_line)
{
	if (first_line == 0)
		return 0;
	conf_err(p, l->lineno, "\"%s\" already set on line %d",
	    l->tok[0].text, first_line);
	return 1;
}

static void
parse_user(struct parser *p, const struct line *l)
{
	const char	*s;

	if ((s = one_arg(p, l, "a user name")) == NULL)
		return;
	if (already_set(p, l, p->user_line))
		return;
	if (!valid_user(s)) {
		conf_err(p, l->lineno, "invalid user name \"%s\" (1 to %d of "
		    "A-Z a-z 0-9 _ . -, not starting with -)", s,
		    USER_NAME_LEN);
		return;
	}
	strlcpy(p->conf->user, s, sizeof(p->conf->user));
	p->user_line = l->lineno;
}

/* An absolute path that fits dst, or a report naming it as what. */
static int
absolute_path(struct parser *p, const struct line *l, const char *what,
    const char *s, char *dst, size_t len)
{
	if (s[0] != '/') {
		conf_err(p, l->lineno, "%s \"%s\" is not absolute", what, s);
		return -1;
	}
	if (strlen(s) >= len) {
		conf_err(p, l->lineno, "%s is too long (max %zu bytes)", what,
		    len - 1);
		return -1;
	}
	strlcpy(dst, s, len);
	return 0;
}

static void
parse_socket(struct parser *p, const struct line *l)
{
	(void)parse_path(p, l, "a path", "socket path", p->conf->socket_path,
	    sizeof(p->conf->socket_path), &p->socket_line, 0);
}

static void
parse_chroot(struct parser *p, const struct line *l)
{
	(void)parse_path(p, l, "a directory", "chroot directory",
	    p->conf->chroot_dir, sizeof(p->conf->chroot_dir), &p->chroot_line,
	    0);
}

/* A flag option given twice is an error too: one of them was a typo. */
static int
source_flag(struct parser *p, const struct line *l, const char *opt,
    int *flag)
{
	if (*flag) {
		conf_err(p, l->lineno, "\"%s\" given twice", opt);
		return -1;
	}
	*flag = 1;
	return 0;
}

static int
source_number(struct parser *p, const struct line *l, int *i,
    unsigned int min, unsigned int max, unsigned int *v)
{
	const char	*opt = l->tok[*i].text;

	if (*i + 1 >= l->ntok || l->tok[*i + 1].type != TOK_WORD) {
		conf_err(p, l->lineno, "\"%s\" needs a number", opt);
		return -1;
	}
	(*i)++;
	if (parse_number(l->tok[*i].text, max, v) == -1 || *v < min) {
		conf_err(p, l->lineno, "invalid %s \"%s\" (%u to %u)", opt,
		    l->tok[*i].text, min, max);
		return -1;
	}
	return 0;
}

/*
 * server|servers|pool HOST [port N] [iburst] [minpoll N] [maxpoll N]
 *     [prefer] [noselect] [trusted]
 */
static int
source_options(struct parser *p, const struct line *l,
    struct source_cfg *src)
{
	const char	*opt;
	unsigned int	 v;
	int		 i, seen_port = 0, seen_min = 0, seen_max = 0;

	for (i = 2; i < l->ntok; i++) {
		opt = l->tok[i].text;
		if (l->tok[i].type != TOK_WORD) {
			conf_err(p, l->lineno, "unexpected \"%s\"", opt);
			return -1;
		}
		if (strcmp(opt, "iburst") == 0) {
			if (source_flag(p, l, opt, &src->iburst) == -1)
				return -1;
		} else if (strcmp(opt, "prefer") == 0) {
			if (source_flag(p, l, opt, &src->prefer) == -1)
				return -1;
		} else if (strcmp(opt, "noselect") == 0) {
			if (source_flag(p, l, opt, &src->noselect) == -1)
				return -1;
		} else if (strcmp(opt, "trusted") == 0) {
			if (source_flag(p, l, opt, &src->trusted) == -1)
				return -1;
		} else if (strcmp(opt, "port") == 0) {
			if (source_flag(p, l, opt, &seen_port) == -1 ||
			    source_number(p, l, &i, 1, 65535, &v) == -1)
				return -1;
			src->port = (uint16_t)v;
		} else if (strcmp(opt, "minpoll") == 0) {
			if (source_flag(p, l, opt, &seen_min) == -1 ||
			    source_number(p, l, &i, POLL_MIN, POLL_MAX,
			    &v) == -1)
				return -1;
			src->minpoll = (int)v;
		} else if (strcmp(opt, "maxpoll") == 0) {
			if (source_flag(p, l, opt, &seen_max) == -1 ||
			    source_number(p, l, &i, POLL_MIN, POLL_MAX,
			    &v) == -1)
				return -1;
			src->maxpoll = (int)v;
		} else {
			conf_err(p, l->lineno, "unknown %s option \"%s\"",
			    l->tok[0].text, opt);
			return -1;
		}
	}
	/* One bound given alone moves the other with it if need be. */
	if (seen_min && !seen_max && src->maxpoll < src->minpoll)
		src->maxpoll = src->minpoll;
	if (seen_max && !seen_min && src->minpoll > src->maxpoll)
		src->minpoll = src->maxpoll;
	if (src->maxpoll < src->minpoll) {
		conf_err(p, l->lineno, "maxpoll %d is below minpoll %d",
		    src->maxpoll, src->minpoll);
		return -1;
	}
	return 0;
}

static void
parse_source(struct parser *p, const struct line *l, enum source_kind kind)
{
	struct source_cfg	*src, opts;
	const char		*s;

	if (l->ntok < 2) {
		conf_err(p, l->lineno, "\"%s\" needs a host name or address",
		    l->tok[0].text);
		return;
	}
	if (l->tok[1].type != TOK_WORD) {
		conf_err(p, l->lineno, "unexpected \"%s\" after \"%s\"",
		    l->tok[1].text, l->tok[0].text);
		return;
	}
	s = l->tok[1].text;
	if (!valid_host(s)) {
		conf_err(p, l->lineno, "invalid host name or address \"%s\"",
		    s);
		return;
	}
	memset(&opts, 0, sizeof(opts));
	opts.port = NTP_PORT;
	opts.minpoll = POLL_DEFAULT_MIN;
	opts.maxpoll = POLL_DEFAULT_MAX;
	if (source_options(p, l, &opts) == -1)
		return;
	TAILQ_FOREACH(src, &p->conf->sources, entry) {
		if (src->kind == kind && same_host(src->host, s) &&
		    src->port == opts.port) {
			conf_err(p, l->lineno, "duplicate source \"%s\" "
			    "(first on line %d)", s, src->lineno);
			return;
		}
	}
	if (p->nsources >= CONF_MAX_SOURCES) {
		conf_err(p, l->lineno, "too many sources (max %d)",
		    CONF_MAX_SOURCES);
		return;
	}
	if ((src = conf_calloc(p, l->lineno, sizeof(*src))) == NULL)
		return;
	*src = opts;
	src->kind = kind;
	strlcpy(src->host, s, sizeof(src->host));
	src->lineno = l->lineno;
	TAILQ_INSERT_TAIL(&p->conf->sources, src, entry);
	p->nsources++;
}

static void
parse_server(struct parser *p, const struct line *l)
{
	parse_source(p, l, SOURCE_SERVER);
}

static void
parse_servers(struct parser *p, const struct line *l)
{
	parse_source(p, l, SOURCE_SERVERS);
}

static int
listen_port(struct parser *p, const struct line *l, int *i,
    struct listen_cfg *lc)
{
	unsigned int	v;

	if (*i + 1 >= l->ntok || l->tok[*i + 1].type != TOK_WORD) {
		conf_err(p, l->lineno, "\"port\" needs a number");
		return -1;
	}
	if (parse_number(l->tok[*i + 1].text, 65535, &v) == -1) {
		conf_err(p, l->lineno, "invalid port \"%s\" (1 to 65535)",
		    l->tok[*i + 1].text);
		return -1;
	}
	lc->port = (uint16_t)v;
	*i += 2;
	return 0;
}

static const char *
listener_name(const struct listen_cfg *lc, char *buf, size_t len)
{
	if (lc->wildcard) {
		snprintf(buf, len, "*:%u", lc->port);
		return buf;
	}
	return addr_format((const struct sockaddr *)&lc->ss, buf, len);
}

static int
count_listeners(const struct netns_cfg *ns)
{
	const struct listen_cfg	*lc;
	int			 n = 0;

	TAILQ_FOREACH(lc, &ns->listeners, entry)
		n++;
	return n;
}

/* listen on ADDRESS|* [port N] */
static void
parse_listen(struct parser *p, const struct line *l)
{
	struct netns_cfg	*ns;
	struct listen_cfg	 tmp, *lc;
	const struct sockaddr_in6 *sin6;
	const struct sockaddr_in *sin;
	const char		*addr;
	char			 a[ADDR_STRLEN], b[ADDR_STRLEN];
	unsigned int		 seen = 0;
	size_t			 o;
	int			 i;

	ns = p->block != NULL ? p->block : p->own;
	if (l->ntok < 3 || l->tok[1].type != TOK_WORD ||
	    strcmp(l->tok[1].text, "on") != 0 || l->tok[2].type != TOK_WORD) {
		conf_err(p, l->lineno, "\"listen\" needs \"on\" and an "
		    "address");
		return;
	}

	memset(&tmp, 0, sizeof(tmp));
	tmp.port = NTP_PORT;
	tmp.lineno = l->lineno;
	addr = l->tok[2].text;
	if (strcmp(addr, "*") == 0)
		tmp.wildcard = 1;
	else if (addr_parse(addr, 0, &tmp.ss, &tmp.sslen) == -1) {
		conf_err(p, l->lineno, "invalid listen address \"%s\" (need "
		    "a numeric IPv4 or IPv6 address or \"*\")", addr);
		return;
	} else if (tmp.ss.ss_family == AF_INET) {
		sin = (const struct sockaddr_in *)&tmp.ss;
		if (sin->sin_addr.s_addr == htonl(INADDR_ANY)) {
			conf_err(p, l->lineno, "use \"*\" instead of \"%s\" "
			    "to listen on all addresses", addr);
			return;
		}
	} else {
		sin6 = (const struct sockaddr_in6 *)&tmp.ss;
		if (IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr)) {
			conf_err(p, l->lineno, "use \"*\" instead of \"%s\" "
			    "to listen on all addresses", addr);
			return;
		}
		/* Would bind the IPv4 address a second time, unnoticed. */
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			conf_err(p, l->lineno, "use the IPv4 address instead "
			    "of \"%s\"", addr);
			return;
		}
	}

	for (i = 3; i < l->ntok; ) {
		for (o = 0; o < sizeof(listen_opts) / sizeof(listen_opts[0]);
		    o++) {
			if (l->tok[i].type == TOK_WORD &&
			    strcmp(l->tok[i].text, listen_opts[o].name) == 0)
				break;
		}
		if (o == sizeof(listen_opts) / sizeof(listen_opts[0])) {
			conf_err(p, l->lineno, "unknown listen option \"%s\"",
			    l->tok[i].text);
			return;
		}
		if (seen & (1U << o)) {
			conf_err(p, l->lineno, "\"%s\" given twice",
			    listen_opts[o].name);
			return;
		}
		seen |= 1U << o;
		if (listen_opts[o].parse(p, l, &i, &tmp) == -1)
			return;
	}
	/* A block with a bad header is only checked, never used. */
	if (p->block != NULL && !p->block_keep)
		return;
	/* Parse again, now with the port: it succeeded above. */
	if (!tmp.wildcard)
		addr_parse(addr, tmp.port, &tmp.ss, &tmp.sslen);

	TAILQ_FOREACH(lc, &ns->listeners, entry) {
		if (lc->port != tmp.port)
			continue;
		if (lc->wildcard != tmp.wildcard) {
			/* One bind would fail with EADDRINUSE. */
			conf_err(p, l->lineno, "listener %s conflicts with "
			    "%s on line %d", listener_name(&tmp, a, sizeof(a)),
			    listener_name(lc, b, sizeof(b)), lc->lineno);
			return;
		}
		if (lc->wildcard || (lc->sslen == tmp.sslen &&
		    memcmp(&lc->ss, &tmp.ss, tmp.sslen) == 0)) {
			conf_err(p, l->lineno, "duplicate listener %s (first "
			    "on line %d)", listener_name(&tmp, a, sizeof(a)),
			    lc->lineno);
			return;
		}
	}
	if (count_listeners(ns) >= CONF_MAX_LISTENERS) {
		conf_err(p, l->lineno, "too many listeners in namespace "
		    "\"%s\" (max %d)", netns_display_name(ns->name),
		    CONF_MAX_LISTENERS);
		return;
	}
	/* The first own listener adds a namespace, and a server process. */
	if (ns == p->own && TAILQ_EMPTY(&ns->listeners) &&
	    p->nnamed >= CONF_MAX_NAMESPACES) {
		conf_err(p, l->lineno, "too many namespaces (max %d)",
		    CONF_MAX_NAMESPACES);
		return;
	}

	if ((lc = conf_calloc(p, l->lineno, sizeof(*lc))) == NULL)
		return;
	*lc = tmp;
	if (ns == p->own && TAILQ_EMPTY(&ns->listeners))
		ns->lineno = l->lineno;
	TAILQ_INSERT_TAIL(&ns->listeners, lc, entry);
}

static int
line_has_lbrace(const struct line *l)
{
	int	i;

	for (i = 0; i < l->ntok; i++)
		if (l->tok[i].type == TOK_LBRACE)
			return 1;
	return 0;
}

static struct netns_cfg *
find_named(const struct parser *p, const char *name)
{
	return config_find_netns(p->conf, name);
}

/*
 * namespace NAME {
 * A header with an error still opens a block when it has a "{", so the
 * statements inside and the closing "}" are checked and do not cascade
 * into errors of their own; such a block is dropped at its "}".
 */
static void
parse_namespace(struct parser *p, const struct line *l)
{
	struct netns_cfg	*ns, *prev;
	const char		*name = NULL;
	int			 ok = 0, total;

	if (p->block != NULL) {
		conf_err(p, l->lineno, "namespace blocks do not nest (block "
		    "opened on line %d is still open)", p->block->lineno);
		if (line_has_lbrace(l))
			p->nest++;
		return;
	}

	total = p->nnamed + (TAILQ_EMPTY(&p->own->listeners) ? 0 : 1);
	if (l->ntok >= 2 && l->tok[1].type == TOK_WORD)
		name = l->tok[1].text;
	if (name == NULL)
		conf_err(p, l->lineno, "\"namespace\" needs a name and \"{\"");
	else if (!valid_netns_name(name))
		conf_err(p, l->lineno, "invalid namespace name \"%s\" (1 to "
		    "%d of A-Z a-z 0-9 _ . -, not starting with -, not . or "
		    "..)", name, NETNS_NAME_LEN);
	else if (strcmp(name, "default") == 0)
		/* Titles, logs and status call the daemon's own that. */
		conf_err(p, l->lineno, "namespace name \"default\" is "
		    "reserved for the daemon's own namespace");
	else if (l->ntok < 3)
		conf_err(p, l->lineno, "\"namespace %s\" needs \"{\" at the "
		    "end of the line", name);
	else if (l->tok[2].type != TOK_LBRACE)
		conf_err(p, l->lineno, "unexpected \"%s\" after namespace "
		    "name (expected \"{\")", l->tok[2].text);
	else if (l->ntok > 3)
		conf_err(p, l->lineno, "unexpected \"%s\" after \"{\"",
		    l->tok[3].text);
	else if ((prev = find_named(p, name)) != NULL)
		conf_err(p, l->lineno, "namespace \"%s\" already defined on "
		    "line %d", name, prev->lineno);
	else if (total >= CONF_MAX_NAMESPACES)
		conf_err(p, l->lineno, "too many namespaces (max %d)",
		    CONF_MAX_NAMESPACES);
	else
		ok = 1;

	if (!line_has_lbrace(l))
		return;
	if ((ns = conf_calloc(p, l->lineno, sizeof(*ns))) == NULL) {
		/* Still skip the block's statements. */
		p->nest++;
		return;
	}
	TAILQ_INIT(&ns->listeners);
	serve_init(&ns->serve, 0);
	ns->lineno = l->lineno;
	if (ok) {
		strlcpy(ns->name, name, sizeof(ns->name));
		TAILQ_INSERT_TAIL(&p->conf->namespaces, ns, entry);
		p->nnamed++;
	}
	p->block = ns;
	p->block_keep = ok;
}

static void
free_netns(struct netns_cfg *ns)
{
	struct listen_cfg	*lc;

	if (ns == NULL)
		return;
	while ((lc = TAILQ_FIRST(&ns->listeners)) != NULL) {
		TAILQ_REMOVE(&ns->listeners, lc, entry);
		free(lc);
	}
	serve_free(&ns->serve);
	free(ns);
}

/* check: the block was closed by "}", so it must not be empty. */
static void
close_block(struct parser *p, int check)
{
	struct netns_cfg	*ns = p->block;

	if (ns == NULL)
		return;
	p->block = NULL;
	if (!p->block_keep) {
		free_netns(ns);
		return;
	}
	if (check && TAILQ_EMPTY(&ns->listeners))
		conf_err(p, ns->lineno, "namespace \"%s\" has no listener",
		    ns->name);
}

static void
parse_close(struct parser *p, const struct line *l)
{
	if (p->block == NULL) {
		conf_err(p, l->lineno, "\"}\" without an open namespace "
		    "block");
		return;
	}
	if (l->ntok > 1)
		conf_err(p, l->lineno, "unexpected \"%s\" after \"}\"",
		    l->tok[1].text);
	close_block(p, 1);
}

static const struct keyword *
find_keyword(const char *s)
{
	size_t	i;

	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (strcmp(keywords[i].name, s) == 0)
			return &keywords[i];
	return NULL;
}

static void
parse_statement(struct parser *p, const struct line *l)
{
	const struct keyword	*kw;
	const struct token	*t = &l->tok[0];

	if (t->type == TOK_RBRACE) {
		parse_close(p, l);
		return;
	}
	if (t->type == TOK_LBRACE) {
		conf_err(p, l->lineno, "unexpected \"{\"");
		return;
	}
	if ((kw = find_keyword(t->text)) == NULL) {
		conf_err(p, l->lineno, "unknown keyword \"%s\"", t->text);
		return;
	}
	if (p->block != NULL && !(kw->where & IN_NETNS)) {
		conf_err(p, l->lineno, "\"%s\" is not allowed inside a "
		    "namespace block", kw->name);
		return;
	}
	if (p->block == NULL && !(kw->where & IN_TOP)) {
		conf_err(p, l->lineno, "\"%s\" is only allowed inside a "
		    "namespace block", kw->name);
		return;
	}
	kw->parse(p, l);
}

/*
 * Serving policy: allow, deny, ratelimit, local stratum.  At the top
 * level they are global; inside a namespace block they are that
 * namespace's own.
 */

static void
serve_init(struct serve_cfg *sc, int global)
{
	TAILQ_INIT(&sc->rules);
	memset(&sc->policy, 0, sizeof(sc->policy));
	sc->ratelimit_line = 0;
	sc->local_line = 0;
	if (!global)
		return;
	sc->policy.rate = RATELIMIT_DEFAULT_RATE;
	sc->policy.burst = RATELIMIT_DEFAULT_BURST;
	sc->policy.clients = RATELIMIT_DEFAULT_CLIENTS;
}

static void
serve_free(struct serve_cfg *sc)
{
	struct acl_rule_cfg	*r;

	while ((r = TAILQ_FIRST(&sc->rules)) != NULL) {
		TAILQ_REMOVE(&sc->rules, r, entry);
		free(r);
	}
}

/* The policy the statement being parsed belongs to. */
static struct serve_cfg *
scope_serve(struct parser *p)
{
	return p->block != NULL ? &p->block->serve : &p->conf->serve;
}

/*
 * A plain decimal number ("2", "0.5", "16"): digits with at most one
 * point, no sign, no exponent, within [min, max].  Returns 0 or -1.
 */
static int
parse_decimal(const char *s, double min, double max, double *res)
{
	size_t	 i, digits = 0, points = 0;
	double	 v;

	for (i = 0; s[i] != '\0'; i++) {
		if (is_digit(s[i]))
			digits++;
		else if (s[i] == '.')
			points++;
		else
			return -1;
	}
	if (digits == 0 || points > 1 || i > 16)
		return -1;
	v = strtod(s, NULL);
	if (!(v >= min && v <= max))
		return -1;
	*res = v;
	return 0;
}

static int
add_rule(struct parser *p, const struct line *l, const struct cidr *prefix,
    int allow, int kod)
{
	struct serve_cfg	*sc = scope_serve(p);
	struct acl_rule_cfg	*r;
	char			 buf[ADDR_STRLEN];
	int			 n = 0;

	TAILQ_FOREACH(r, &sc->rules, entry) {
		if (r->prefix.family == prefix->family &&
		    r->prefix.prefixlen == prefix->prefixlen &&
		    memcmp(r->prefix.addr, prefix->addr,
		    sizeof(prefix->addr)) == 0) {
			if (inet_ntop(prefix->family, prefix->addr, buf,
			    sizeof(buf)) == NULL)
				strlcpy(buf, "?", sizeof(buf));
			conf_err(p, l->lineno, "a rule for %s/%u is already "
			    "on line %d", buf, prefix->prefixlen, r->lineno);
			return -1;
		}
		n++;
	}
	if (n >= CONF_MAX_RULES) {
		conf_err(p, l->lineno, "too many allow and deny rules (max "
		    "%d)", CONF_MAX_RULES);
		return -1;
	}
	if ((r = conf_calloc(p, l->lineno, sizeof(*r))) == NULL)
		return -1;
	r->prefix = *prefix;
	r->allow = allow;
	r->kod = kod;
	r->lineno = l->lineno;
	TAILQ_INSERT_TAIL(&sc->rules, r, entry);
	return 0;
}

/*
 * allow PREFIX|all
 * deny PREFIX|all [kod]
 * "all" is 0.0.0.0/0 and ::/0.
 */
static void
parse_acl(struct parser *p, const struct line *l, int allow)
{
	const char	*what = l->tok[0].text;
	struct cidr	 prefix;
	int		 kod = 0;

	if (l->ntok < 2 || l->tok[1].type != TOK_WORD) {
		conf_err(p, l->lineno, "\"%s\" needs an address, a prefix "
		    "or \"all\"", what);
		return;
	}
	if (l->ntok >= 3) {
		if (allow || l->tok[2].type != TOK_WORD ||
		    strcmp(l->tok[2].text, "kod") != 0) {
			conf_err(p, l->lineno, "unexpected \"%s\" after "
			    "\"%s %s\"", l->tok[2].text, what,
			    l->tok[1].text);
			return;
		}
		if (l->ntok > 3) {
			conf_err(p, l->lineno, "unexpected \"%s\" after "
			    "\"kod\"", l->tok[3].text);
			return;
		}
		kod = 1;
	}
	if (strcmp(l->tok[1].text, "all") == 0) {
		(void)cidr_parse("0.0.0.0/0", &prefix);
		if (add_rule(p, l, &prefix, allow, kod) == -1)
			return;
		(void)cidr_parse("::/0", &prefix);
		(void)add_rule(p, l, &prefix, allow, kod);
		return;
	}
	if (cidr_parse(l->tok[1].text, &prefix) == -1) {
		conf_err(p, l->lineno, "invalid address or prefix \"%s\" "
		    "(host bits must be zero: 10.1.0.0/16, not 10.1.2.3/16)",
		    l->tok[1].text);
		return;
	}
	(void)add_rule(p, l, &prefix, allow, kod);
}

static void
parse_allow(struct parser *p, const struct line *l)
{
	parse_acl(p, l, 1);
}

static void
parse_deny(struct parser *p, const struct line *l)
{
	parse_acl(p, l, 0);
}

/*
 * ratelimit off
 * ratelimit RATE [burst N] [clients N] [kod]
 */
static void
parse_ratelimit(struct parser *p, const struct line *l)
{
	struct serve_cfg	*sc = scope_serve(p);
	struct serve_policy	 pol;
	const char		*opt;
	unsigned int		 n;
	int			 i;

	if (already_set(p, l, sc->ratelimit_line))
		return;
	if (l->ntok < 2 || l->tok[1].type != TOK_WORD) {
		conf_err(p, l->lineno, "\"ratelimit\" needs a rate in "
		    "requests per second, or \"off\"");
		return;
	}
	/* What the line does not say takes the defaults, not another line. */
	memset(&pol, 0, sizeof(pol));
	pol.rate = RATELIMIT_DEFAULT_RATE;
	pol.burst = RATELIMIT_DEFAULT_BURST;
	pol.clients = RATELIMIT_DEFAULT_CLIENTS;
	if (strcmp(l->tok[1].text, "off") == 0) {
		if (l->ntok > 2) {
			conf_err(p, l->lineno, "unexpected \"%s\" after "
			    "\"ratelimit off\"", l->tok[2].text);
			return;
		}
		pol.ratelimit_off = 1;
	} else if (parse_decimal(l->tok[1].text, 0.001, 1e6,
	    &pol.rate) == -1) {
		conf_err(p, l->lineno, "invalid rate \"%s\" (requests per "
		    "second, 0.001 to 1000000)", l->tok[1].text);
		return;
	}
	for (i = 2; i < l->ntok; i++) {
		opt = l->tok[i].text;
		if (strcmp(opt, "kod") == 0) {
			pol.ratelimit_kod = 1;
			continue;
		}
		if (strcmp(opt, "burst") != 0 && strcmp(opt, "clients") != 0) {
			conf_err(p, l->lineno, "unknown ratelimit option "
			    "\"%s\"", opt);
			return;
		}
		if (++i >= l->ntok) {
			conf_err(p, l->lineno, "\"%s\" needs a number", opt);
			return;
		}
		if (strcmp(opt, "burst") == 0 &&
		    parse_decimal(l->tok[i].text, 1, 1e6, &pol.burst) == -1) {
			conf_err(p, l->lineno, "invalid burst \"%s\" (1 to "
			    "1000000 requests)", l->tok[i].text);
			return;
		}
		if (strcmp(opt, "clients") == 0) {
			if (parse_number(l->tok[i].text,
			    RATELIMIT_MAX_CLIENTS, &n) == -1) {
				conf_err(p, l->lineno, "invalid clients "
				    "\"%s\" (1 to %d)", l->tok[i].text,
				    RATELIMIT_MAX_CLIENTS);
				return;
			}
			pol.clients = n;
		}
	}
	pol.local_stratum = sc->policy.local_stratum;
	sc->policy = pol;
	sc->ratelimit_line = l->lineno;
}

/* local stratum N */
static void
parse_local(struct parser *p, const struct line *l)
{
	struct serve_cfg	*sc = scope_serve(p);
	unsigned int		 n;

	if (already_set(p, l, sc->local_line))
		return;
	if (l->ntok != 3 || l->tok[1].type != TOK_WORD ||
	    strcmp(l->tok[1].text, "stratum") != 0 ||
	    l->tok[2].type != TOK_WORD) {
		conf_err(p, l->lineno, "\"local\" needs \"stratum\" and a "
		    "number");
		return;
	}
	if (parse_number(l->tok[2].text, 15, &n) == -1) {
		conf_err(p, l->lineno, "invalid stratum \"%s\" (1 to 15)",
		    l->tok[2].text);
		return;
	}
	sc->policy.local_stratum = (int)n;
	sc->local_line = l->lineno;
}

/* makestep SECONDS UPDATES: step when off by more, in the first updates. */
static void
parse_makestep(struct parser *p, const struct line *l)
{
	struct clock_cfg	*cc = &p->conf->clock;
	double			 threshold;
	unsigned int		 n;

	if (already_set(p, l, p->makestep_line))
		return;
	if (l->ntok != 3 || l->tok[1].type != TOK_WORD ||
	    l->tok[2].type != TOK_WORD) {
		conf_err(p, l->lineno, "\"makestep\" needs a threshold in "
		    "seconds and a number of updates");
		return;
	}
	if (parse_decimal(l->tok[1].text, 0.001, TOLERANCE_MAX,
	    &threshold) == -1) {
		conf_err(p, l->lineno, "invalid step threshold \"%s\" "
		    "(0.001 s or more)", l->tok[1].text);
		return;
	}
	if (strcmp(l->tok[2].text, "0") == 0)
		n = 0;
	else if (parse_number(l->tok[2].text, STEP_MAX_UPDATES, &n) == -1) {
		conf_err(p, l->lineno, "invalid number of updates \"%s\" "
		    "(0 to %d)", l->tok[2].text, STEP_MAX_UPDATES);
		return;
	}
	cc->step_threshold = threshold;
	cc->step_updates = n;
	p->makestep_line = l->lineno;
}

/* tolerance SECONDS | none: the largest correction after the first. */
static void
parse_tolerance(struct parser *p, const struct line *l)
{
	const char	*s;
	double		 v;

	if ((s = one_arg(p, l, "a number of seconds or \"none\"")) == NULL)
		return;
	if (already_set(p, l, p->tolerance_line))
		return;
	if (strcmp(s, "none") == 0)
		v = 0;
	else if (parse_decimal(s, 0.001, TOLERANCE_MAX, &v) == -1) {
		conf_err(p, l->lineno, "invalid tolerance \"%s\" (0.001 s or "
		    "more, or none)", s);
		return;
	}
	p->conf->clock.tolerance = v;
	p->tolerance_line = l->lineno;
}

/*
 * holdover SECONDS | none: how long after the last update the clock
 * still counts as synchronised.
 */
static void
parse_holdover(struct parser *p, const struct line *l)
{
	const char	*s;
	unsigned int	 n;

	if ((s = one_arg(p, l, "a number of seconds or \"none\"")) == NULL)
		return;
	if (already_set(p, l, p->holdover_line))
		return;
	if (strcmp(s, "none") == 0)
		n = 0;
	else if (parse_number(s, HOLDOVER_MAX, &n) == -1) {
		conf_err(p, l->lineno, "invalid holdover \"%s\" (1 to %d s, "
		    "or none)", s, HOLDOVER_MAX);
		return;
	}
	p->conf->clock.holdover = n;
	p->holdover_line = l->lineno;
}

/* minsources N: agreeing sources needed before the clock is touched. */
static void
parse_minsources(struct parser *p, const struct line *l)
{
	const char	*s;
	unsigned int	 n;

	if ((s = one_arg(p, l, "a number")) == NULL)
		return;
	if (already_set(p, l, p->minsources_line))
		return;
	if (parse_number(s, CONF_MAX_SOURCES, &n) == -1 || n == 0) {
		conf_err(p, l->lineno, "invalid number of sources \"%s\" "
		    "(1 to %d)", s, CONF_MAX_SOURCES);
		return;
	}
	p->conf->clock.min_sources = n;
	p->minsources_line = l->lineno;
}

/* driftfile PATH | none */
/*
 * A statement of one absolute path, given once; want says what the
 * argument is.  With none_ok, "none" leaves dst empty: no such file.
 * Returns 0 when it was set.
 */
static int
parse_path(struct parser *p, const struct line *l, const char *want,
    const char *what, char *dst, size_t len, int *set_line, int none_ok)
{
	const char	*s;

	if ((s = one_arg(p, l, want)) == NULL)
		return -1;
	if (already_set(p, l, *set_line))
		return -1;
	if (none_ok && strcmp(s, "none") == 0)
		dst[0] = '\0';
	else if (absolute_path(p, l, what, s, dst, len) == -1)
		return -1;
	*set_line = l->lineno;
	return 0;
}

static int
parse_file_setting(struct parser *p, const struct line *l, const char *what,
    char *dst, size_t len, int *set_line)
{
	return parse_path(p, l, "a path or \"none\"", what, dst, len,
	    set_line, 1);
}

static void
parse_driftfile(struct parser *p, const struct line *l)
{
	(void)parse_file_setting(p, l, "drift file",
	    p->conf->clock.drift_file, sizeof(p->conf->clock.drift_file),
	    &p->driftfile_line);
}

static void
parse_audit(struct parser *p, const struct line *l)
{
	(void)parse_file_setting(p, l, "audit file", p->conf->audit_file,
	    sizeof(p->conf->audit_file), &p->audit_line);
}

static void
parse_rtc(struct parser *p, const struct line *l)
{
	(void)parse_file_setting(p, l, "RTC device", p->conf->rtc_path,
	    sizeof(p->conf->rtc_path), &p->rtc_line);
}

static void
parse_lastknown(struct parser *p, const struct line *l)
{
	(void)parse_file_setting(p, l, "last-known-time file",
	    p->conf->lastknown_file, sizeof(p->conf->lastknown_file),
	    &p->lastknown_line);
}

static void
parse_statistics(struct parser *p, const struct line *l)
{
	(void)parse_file_setting(p, l, "statistics file",
	    p->conf->statistics_file, sizeof(p->conf->statistics_file),
	    &p->statistics_line);
}

/*
 * Only the name's form is checked here; whether the tz database has such
 * a zone is the parent's to check (tz_zone_check), with this line.
 */
static void
parse_timezone(struct parser *p, const struct line *l)
{
	const char	*s;

	if ((s = one_arg(p, l, "a zone name such as Europe/Paris")) == NULL)
		return;
	if (already_set(p, l, p->conf->timezone_line))
		return;
	if (!tz_name_valid(s)) {
		conf_err(p, l->lineno, "\"%s\" is not a time zone name", s);
		return;
	}
	strlcpy(p->conf->timezone, s, sizeof(p->conf->timezone));
	p->conf->timezone_line = l->lineno;
}

void
config_serve_policy(const struct ntpd_conf *conf,
    const struct netns_cfg *ns, struct serve_policy *out)
{
	*out = conf->serve.policy;
	if (ns == NULL)
		return;
	if (ns->serve.ratelimit_line != 0) {
		out->ratelimit_off = ns->serve.policy.ratelimit_off;
		out->rate = ns->serve.policy.rate;
		out->burst = ns->serve.policy.burst;
		out->clients = ns->serve.policy.clients;
		out->ratelimit_kod = ns->serve.policy.ratelimit_kod;
	}
	if (ns->serve.local_line != 0)
		out->local_stratum = ns->serve.policy.local_stratum;
}

/* Public interface. */

struct ntpd_conf *
config_parse_stream(FILE *fp, const char *name)
{
	struct parser		*p;
	struct ntpd_conf	*conf;
	const struct line	*l;

	if (name == NULL)
		name = "(config)";
	if (fp == NULL) {
		log_warnx("%s: no input", name);
		return NULL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		log_warn("%s", name);
		return NULL;
	}
	if ((conf = calloc(1, sizeof(*conf))) == NULL ||
	    (p->own = calloc(1, sizeof(*p->own))) == NULL) {
		log_warn("%s", name);
		free(conf);
		free(p);
		return NULL;
	}
	strlcpy(conf->user, NTPD_USER, sizeof(conf->user));
	strlcpy(conf->socket_path, NTPD_SOCKET_PATH,
	    sizeof(conf->socket_path));
	strlcpy(conf->chroot_dir, NTPD_CHROOT_DIR, sizeof(conf->chroot_dir));
	conf->clock.step_threshold = STEP_DEFAULT_THRESHOLD;
	conf->clock.step_updates = STEP_DEFAULT_UPDATES;
	conf->clock.min_sources = 1;
	strlcpy(conf->clock.drift_file, NTPD_DRIFT_FILE,
	    sizeof(conf->clock.drift_file));
	strlcpy(conf->audit_file, NTPD_AUDIT_FILE, sizeof(conf->audit_file));
	strlcpy(conf->rtc_path, NTPD_RTC_PATH, sizeof(conf->rtc_path));
	strlcpy(conf->lastknown_file, NTPD_LASTKNOWN_FILE,
	    sizeof(conf->lastknown_file));
	TAILQ_INIT(&conf->sources);
	TAILQ_INIT(&conf->namespaces);
	serve_init(&conf->serve, 1);
	TAILQ_INIT(&p->own->listeners);
	serve_init(&p->own->serve, 0);
	p->fp = fp;
	p->name = name;
	p->conf = conf;
	l = &p->line;

	while (read_line(p)) {
		if (l->bad || l->ntok == 0)
			continue;
		if (p->nest > 0) {
			/* Inside a nested block: only track its braces. */
			if (l->tok[0].type == TOK_RBRACE)
				p->nest--;
			else if (line_has_lbrace(l))
				p->nest++;
			continue;
		}
		parse_statement(p, l);
	}
	if (p->block != NULL) {
		conf_err(p, p->lineno, "namespace block opened on line %d is "
		    "not closed", p->block->lineno);
		close_block(p, 0);
	}

	if (TAILQ_EMPTY(&p->own->listeners))
		free_netns(p->own);
	else
		TAILQ_INSERT_HEAD(&conf->namespaces, p->own, entry);
	p->own = NULL;

	if (p->errors > 0) {
		config_free(conf);
		conf = NULL;
	}
	free(p);
	return conf;
}

struct ntpd_conf *
config_parse_file(const char *path)
{
	struct ntpd_conf	*conf;
	FILE			*fp;

	if (path == NULL) {
		log_warnx("no configuration file given");
		return NULL;
	}
	if ((fp = fopen(path, "re")) == NULL) {
		log_warn("%s", path);
		return NULL;
	}
	conf = config_parse_stream(fp, path);
	fclose(fp);
	return conf;
}

void
config_free(struct ntpd_conf *conf)
{
	struct source_cfg	*src;
	struct netns_cfg	*ns;

	if (conf == NULL)
		return;
	while ((src = TAILQ_FIRST(&conf->sources)) != NULL) {
		TAILQ_REMOVE(&conf->sources, src, entry);
		free(src);
	}
	while ((ns = TAILQ_FIRST(&conf->namespaces)) != NULL) {
		TAILQ_REMOVE(&conf->namespaces, ns, entry);
		free_netns(ns);
	}
	serve_free(&conf->serve);
	free(conf);
}

struct netns_cfg *
config_find_netns(const struct ntpd_conf *conf, const char *name)
{
	struct netns_cfg	*ns;

	if (conf == NULL || name == NULL)
		return NULL;
	TAILQ_FOREACH(ns, &conf->namespaces, entry)
		if (strcmp(ns->name, name) == 0)
			return ns;
	return NULL;
}

const char *
netns_display_name(const char *name)
{
	if (name == NULL || name[0] == '\0')
		return "default";
	return name;
}

int
config_count_netns(const struct ntpd_conf *conf)
{
	const struct netns_cfg	*ns;
	int			 n = 0;

	if (conf == NULL)
		return 0;
	TAILQ_FOREACH(ns, &conf->namespaces, entry)
		n++;
	return n;
}

int
config_source_equal(const struct source_cfg *a, const struct source_cfg *b)
{
	return a->kind == b->kind && a->port == b->port &&
	    same_host(a->host, b->host) && a->minpoll == b->minpoll &&
	    a->maxpoll == b->maxpoll && a->iburst == b->iburst &&
	    a->prefer == b->prefer && a->noselect == b->noselect &&
	    a->trusted == b->trusted;
}
