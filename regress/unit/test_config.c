/*
 * Unit tests for ntpd/config.c.  Configurations are parsed from memory;
 * error messages are captured through a log sink and compared verbatim.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "addr.h"
#include "config.h"
#include "log.h"

#define MAX_MSGS	16
#define EXAMPLE_CONF	"etc/ntpd.conf"

static char	msgs[MAX_MSGS][LOG_LINE_MAX];
static int	nmsgs;
static int	msg_prio;

static void
sink(int priority, const char *msg)
{
	msg_prio = priority;
	if (nmsgs < MAX_MSGS)
		strlcpy(msgs[nmsgs], msg, sizeof(msgs[nmsgs]));
	nmsgs++;
}

static void
setup(void)
{
	nmsgs = 0;
	msg_prio = -1;
	log_set_sink(sink);
}

static void
teardown(void)
{
	log_set_sink(NULL);
}

static struct ntpd_conf *
parse_buf(const char *text, size_t len)
{
	struct ntpd_conf	*conf;
	FILE			*fp;

	fp = fmemopen((void *)(uintptr_t)text, len, "r");
	ck_assert_ptr_nonnull(fp);
	conf = config_parse_stream(fp, "test.conf");
	fclose(fp);
	return conf;
}

static struct ntpd_conf *
parse(const char *text)
{
	return parse_buf(text, strlen(text));
}

/* Parse, expect success and no message at all. */
static struct ntpd_conf *
parse_ok(const char *text)
{
	struct ntpd_conf	*conf;

	nmsgs = 0;
	conf = parse(text);
	ck_assert_msg(nmsgs == 0, "unexpected message: %s",
	    nmsgs > 0 ? msgs[0] : "");
	ck_assert_ptr_nonnull(conf);
	return conf;
}

/* Parse, expect NULL and exactly the one message. */
static void
parse_fail1(const char *text, const char *want)
{
	struct ntpd_conf	*conf;

	nmsgs = 0;
	conf = parse(text);
	ck_assert_ptr_null(conf);
	ck_assert_int_eq(nmsgs, 1);
	ck_assert_str_eq(msgs[0], want);
	ck_assert_int_eq(msg_prio, LOG_ERR);
}

static int
count_sources(const struct ntpd_conf *conf)
{
	const struct source_cfg	*s;
	int			 n = 0;

	TAILQ_FOREACH(s, &conf->sources, entry)
		n++;
	return n;
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

static const char *
fmt_listener(const struct listen_cfg *lc, char *buf, size_t len)
{
	if (lc->wildcard) {
		snprintf(buf, len, "*:%u", lc->port);
		return buf;
	}
	return addr_format((const struct sockaddr *)&lc->ss, buf, len);
}

/* Accept paths. */

START_TEST(clock_settings)
{
	struct ntpd_conf	*conf;

	conf = parse_ok("");
	ck_assert(conf->clock.step_threshold == 0.1);
	ck_assert_uint_eq(conf->clock.step_updates, 3);
	ck_assert(conf->clock.tolerance == 0);
	ck_assert_uint_eq(conf->clock.holdover, 0);
	ck_assert_uint_eq(conf->clock.min_sources, 1);
	ck_assert_str_eq(conf->clock.drift_file, "/var/lib/ntpd/ntpd.drift");
	config_free(conf);

	conf = parse_ok("makestep 1.5 0\ntolerance 0.5\nminsources 3\n"
	    "driftfile /tmp/x.drift\nholdover 3600\n");
	ck_assert(conf->clock.step_threshold == 1.5);
	ck_assert_uint_eq(conf->clock.step_updates, 0);
	ck_assert(conf->clock.tolerance == 0.5);
	ck_assert_uint_eq(conf->clock.holdover, 3600);
	ck_assert_uint_eq(conf->clock.min_sources, 3);
	ck_assert_str_eq(conf->clock.drift_file, "/tmp/x.drift");
	config_free(conf);

	conf = parse_ok("tolerance none\ndriftfile none\nholdover none\n");
	ck_assert(conf->clock.tolerance == 0);
	ck_assert_uint_eq(conf->clock.holdover, 0);
	ck_assert_str_eq(conf->clock.drift_file, "");
	config_free(conf);
}
END_TEST

START_TEST(file_settings)
{
	struct ntpd_conf	*conf;

	conf = parse_ok("");
	ck_assert_str_eq(conf->audit_file, "/var/lib/ntpd/audit.log");
	ck_assert_str_eq(conf->rtc_path, "/dev/rtc0");
	ck_assert_str_eq(conf->lastknown_file, "/var/lib/ntpd/lastknown");
	ck_assert_str_eq(conf->statistics_file, "");
	ck_assert_str_eq(conf->timezone, "");
	config_free(conf);

	conf = parse_ok("audit /tmp/a.log\nrtc /dev/rtc1\n"
	    "lastknown /tmp/lk\nstatistics /var/log/ntpd/stats\n"
	    "timezone America/Argentina/Buenos_Aires\n");
	ck_assert_str_eq(conf->audit_file, "/tmp/a.log");
	ck_assert_str_eq(conf->rtc_path, "/dev/rtc1");
	ck_assert_str_eq(conf->lastknown_file, "/tmp/lk");
	ck_assert_str_eq(conf->statistics_file, "/var/log/ntpd/stats");
	ck_assert_str_eq(conf->timezone, "America/Argentina/Buenos_Aires");
	ck_assert_int_eq(conf->timezone_line, 5);
	config_free(conf);

	conf = parse_ok("audit none\nrtc none\nlastknown none\n"
	    "statistics none\n");
	ck_assert_str_eq(conf->audit_file, "");
	ck_assert_str_eq(conf->rtc_path, "");
	ck_assert_str_eq(conf->lastknown_file, "");
	ck_assert_str_eq(conf->statistics_file, "");
	config_free(conf);
}
END_TEST

START_TEST(empty_gives_defaults)
{
	static const char	*inputs[] = {
		"",
		"\n",
		"\n\n\n",
		"# only a comment",
		"# comment\n   \n\t\n  # indented comment\n",
		" \t \t",
	};
	struct ntpd_conf	*conf;
	size_t			 i;

	for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		conf = parse_ok(inputs[i]);
		ck_assert_str_eq(conf->user, "_ntp");
		ck_assert_str_eq(conf->socket_path, "/run/ntpd.sock");
		ck_assert_str_eq(conf->chroot_dir, "/var/empty");
		ck_assert(TAILQ_EMPTY(&conf->sources));
		ck_assert(TAILQ_EMPTY(&conf->namespaces));
		ck_assert_int_eq(config_count_netns(conf), 0);
		ck_assert_ptr_null(config_find_netns(conf, ""));
		config_free(conf);
	}
}
END_TEST

START_TEST(settings)
{
	struct ntpd_conf	*conf;

	conf = parse_ok(
	    "user ntpuser # trailing comment\n"
	    "socket /run/ntpd/ctl.sock\n"
	    "\tchroot\t/var/lib/ntpd/empty\t\n");
	ck_assert_str_eq(conf->user, "ntpuser");
	ck_assert_str_eq(conf->socket_path, "/run/ntpd/ctl.sock");
	ck_assert_str_eq(conf->chroot_dir, "/var/lib/ntpd/empty");
	config_free(conf);

	/* Last line without newline; mixed case and all allowed chars. */
	conf = parse_ok("user Ntp_D.9-x");
	ck_assert_str_eq(conf->user, "Ntp_D.9-x");
	config_free(conf);

	conf = parse_ok("user _");
	ck_assert_str_eq(conf->user, "_");
	config_free(conf);
}
END_TEST

START_TEST(quoted_words)
{
	struct ntpd_conf	*conf;

	conf = parse_ok(
	    "\"user\" \"ntp\"\n"
	    "socket \"/run/a b/\\\"q\\\"\\\\.sock\"\n"
	    "chroot \"/var/with\ttab #not a comment {}\"# comment\n"
	    "server \"192.0.2.1\"\n");
	ck_assert_str_eq(conf->user, "ntp");
	ck_assert_str_eq(conf->socket_path, "/run/a b/\"q\"\\.sock");
	ck_assert_str_eq(conf->chroot_dir, "/var/with\ttab #not a comment {}");
	ck_assert_str_eq(TAILQ_FIRST(&conf->sources)->host, "192.0.2.1");
	config_free(conf);

	/* A quoted brace is a word, not a brace. */
	parse_fail1("namespace blue \"{\"\n",
	    "test.conf:1: unexpected \"{\" after namespace name "
	    "(expected \"{\")");
}
END_TEST

START_TEST(sources)
{
	struct ntpd_conf	*conf;
	struct source_cfg	*s;
	static const struct {
		enum source_kind	 kind;
		const char		*host;
		int			 lineno;
	} want[] = {
		{ SOURCE_SERVER,	"192.0.2.1",		1 },
		{ SOURCE_SERVER,	"2001:db8::123",	2 },
		{ SOURCE_SERVERS,	"pool.ntp.org",		3 },
		{ SOURCE_SERVERS,	"ntp.example.org.",	4 },
		{ SOURCE_SERVER,	"ntp.example.org",	5 },
		{ SOURCE_SERVER,	"x",			7 },
		{ SOURCE_SERVER,	"a-b.c-d.X1",		8 },
		{ SOURCE_SERVER,	"1.2.3.example",	9 },
		{ SOURCE_SERVER,	"0.pool.ntp.org",	10 },
		{ SOURCE_SERVER,	"::ffff:192.0.2.9",	11 },
	};
	size_t			 i = 0;

	conf = parse_ok(
	    "server 192.0.2.1\n"
	    "server 2001:db8::123\n"
	    "servers pool.ntp.org\n"
	    "pool ntp.example.org.\n"
	    "server ntp.example.org\n"	/* other kind: not a duplicate */
	    "\n"
	    "server x\n"
	    "server a-b.c-d.X1\n"
	    "server 1.2.3.example\n"
	    "server 0.pool.ntp.org\n"
	    "server ::ffff:192.0.2.9\n");
	TAILQ_FOREACH(s, &conf->sources, entry) {
		ck_assert_uint_lt(i, sizeof(want) / sizeof(want[0]));
		ck_assert_int_eq(s->kind, want[i].kind);
		ck_assert_str_eq(s->host, want[i].host);
		ck_assert_int_eq(s->lineno, want[i].lineno);
		i++;
	}
	ck_assert_uint_eq(i, sizeof(want) / sizeof(want[0]));
	ck_assert(TAILQ_EMPTY(&conf->namespaces));
	config_free(conf);
}
END_TEST

/* Longest label, longest name, with and without the trailing dot. */
START_TEST(source_name_limits)
{
	struct ntpd_conf	*conf;
	char			 label[64], name[300], text[400], want[400];
	size_t			 i;

	memset(label, 'a', 63);
	label[63] = '\0';
	snprintf(text, sizeof(text), "server %s.org\n", label);
	conf = parse_ok(text);
	config_free(conf);

	/* 4 labels of 63 + 3 dots = 255; trim to exactly 253. */
	snprintf(name, sizeof(name), "%s.%s.%s.%s", label, label, label,
	    label);
	name[253] = '\0';
	name[252] = 'b';
	ck_assert_uint_eq(strlen(name), 253);
	snprintf(text, sizeof(text), "server %s\n", name);
	conf = parse_ok(text);
	ck_assert_str_eq(TAILQ_FIRST(&conf->sources)->host, name);
	config_free(conf);

	snprintf(text, sizeof(text), "server %s.\n", name);
	conf = parse_ok(text);
	ck_assert_uint_eq(strlen(TAILQ_FIRST(&conf->sources)->host), 254);
	config_free(conf);

	/* One more character is too long. */
	snprintf(text, sizeof(text), "server %sc\n", name);
	snprintf(want, sizeof(want), "test.conf:1: invalid host name or "
	    "address \"%sc\"", name);
	parse_fail1(text, want);

	/* A 64-character label is too long. */
	snprintf(text, sizeof(text), "server %sa.org\n", label);
	snprintf(want, sizeof(want), "test.conf:1: invalid host name or "
	    "address \"%sa.org\"", label);
	parse_fail1(text, want);

	/* Over SOURCE_NAME_MAX altogether. */
	for (i = 0; i < 260; i++)
		name[i] = 'a' + (i % 2 == 0 ? 0 : 1);
	for (i = 10; i < 260; i += 11)
		name[i] = '.';
	name[260] = '\0';
	snprintf(text, sizeof(text), "server %s\n", name);
	snprintf(want, sizeof(want), "test.conf:1: invalid host name or "
	    "address \"%s\"", name);
	parse_fail1(text, want);
}
END_TEST

START_TEST(source_max)
{
	struct ntpd_conf	*conf;
	char			 text[64 * 40], *p = text;
	size_t			 left = sizeof(text);
	int			 i, n;

	for (i = 0; i < CONF_MAX_SOURCES; i++) {
		n = snprintf(p, left, "server s%d.example.org\n", i);
		ck_assert(n > 0 && (size_t)n < left);
		p += n;
		left -= n;
	}
	conf = parse_ok(text);
	ck_assert_int_eq(count_sources(conf), CONF_MAX_SOURCES);
	config_free(conf);

	snprintf(p, left, "pool one.too.many\n");
	parse_fail1(text, "test.conf:65: too many sources (max 64)");
}
END_TEST

START_TEST(listeners_own)
{
	struct ntpd_conf	*conf;
	struct netns_cfg	*ns;
	struct listen_cfg	*lc;
	char			 buf[ADDR_STRLEN];
	static const char	*want[] = {
		"192.0.2.1:123",
		"192.0.2.1:1123",
		"[2001:db8::1]:123",
		"*:10123",
		"192.0.2.2:65535",
		"192.0.2.3:1",
	};
	size_t			 i = 0;

	conf = parse_ok(
	    "listen on 192.0.2.1\n"
	    "listen on 192.0.2.1 port 1123\n"
	    "listen on 2001:db8::1 port 123\n"
	    "listen on * port 10123\n"
	    "listen on 192.0.2.2 port 65535\n"
	    "listen \"on\" \"192.0.2.3\" \"port\" \"1\"\n");
	ck_assert_int_eq(config_count_netns(conf), 1);
	ns = TAILQ_FIRST(&conf->namespaces);
	ck_assert_str_eq(ns->name, "");
	ck_assert_int_eq(ns->lineno, 1);
	ck_assert_ptr_eq(config_find_netns(conf, ""), ns);
	ck_assert_str_eq(netns_display_name(ns->name), "default");
	TAILQ_FOREACH(lc, &ns->listeners, entry) {
		ck_assert_uint_lt(i, sizeof(want) / sizeof(want[0]));
		ck_assert_str_eq(fmt_listener(lc, buf, sizeof(buf)), want[i]);
		ck_assert_int_eq(lc->lineno, (int)i + 1);
		if (!lc->wildcard) {
			ck_assert_uint_eq(addr_port(
			    (struct sockaddr *)&lc->ss), lc->port);
			ck_assert_uint_eq(lc->sslen,
			    lc->ss.ss_family == AF_INET ?
			    sizeof(struct sockaddr_in) :
			    sizeof(struct sockaddr_in6));
		}
		i++;
	}
	ck_assert_uint_eq(i, sizeof(want) / sizeof(want[0]));
	config_free(conf);

	conf = parse_ok("listen on *\n");
	lc = TAILQ_FIRST(&TAILQ_FIRST(&conf->namespaces)->listeners);
	ck_assert_int_eq(lc->wildcard, 1);
	ck_assert_uint_eq(lc->port, 123);
	config_free(conf);
}
END_TEST

START_TEST(namespaces)
{
	struct ntpd_conf	*conf;
	struct netns_cfg	*ns;
	struct listen_cfg	*lc;
	char			 buf[ADDR_STRLEN];

	conf = parse_ok(
	    "namespace tenant-a {\n"
	    "\tlisten on 192.0.2.10\n"
	    "\tlisten on 2001:db8::10 port 1234\n"
	    "}\n"
	    "namespace B_2.x{ # brace right after the name\n"
	    "  listen on *\n"
	    "} # comment after the brace\n"
	    "listen on 127.0.0.1\n"
	    "namespace \"quoted\" {\n"
	    "listen on 192.0.2.10\n"	/* same address, other namespace */
	    "listen on * port 124\n"	/* wildcard, other port */
	    "}");
	ck_assert_int_eq(config_count_netns(conf), 4);

	/* The own namespace comes first although it was used last. */
	ns = TAILQ_FIRST(&conf->namespaces);
	ck_assert_str_eq(ns->name, "");
	ck_assert_int_eq(ns->lineno, 8);
	ck_assert_int_eq(count_listeners(ns), 1);
	lc = TAILQ_FIRST(&ns->listeners);
	ck_assert_str_eq(fmt_listener(lc, buf, sizeof(buf)), "127.0.0.1:123");

	ns = TAILQ_NEXT(ns, entry);
	ck_assert_str_eq(ns->name, "tenant-a");
	ck_assert_str_eq(netns_display_name(ns->name), "tenant-a");
	ck_assert_int_eq(ns->lineno, 1);
	ck_assert_int_eq(count_listeners(ns), 2);
	lc = TAILQ_FIRST(&ns->listeners);
	ck_assert_str_eq(fmt_listener(lc, buf, sizeof(buf)),
	    "192.0.2.10:123");
	ck_assert_int_eq(lc->lineno, 2);
	lc = TAILQ_NEXT(lc, entry);
	ck_assert_str_eq(fmt_listener(lc, buf, sizeof(buf)),
	    "[2001:db8::10]:1234");
	ck_assert_int_eq(lc->lineno, 3);
	ck_assert_ptr_eq(config_find_netns(conf, "tenant-a"), ns);

	ns = TAILQ_NEXT(ns, entry);
	ck_assert_str_eq(ns->name, "B_2.x");
	ck_assert_int_eq(ns->lineno, 5);
	ck_assert_int_eq(count_listeners(ns), 1);
	ck_assert_int_eq(TAILQ_FIRST(&ns->listeners)->wildcard, 1);

	ns = TAILQ_NEXT(ns, entry);
	ck_assert_str_eq(ns->name, "quoted");
	ck_assert_int_eq(ns->lineno, 9);
	ck_assert_int_eq(count_listeners(ns), 2);
	ck_assert_ptr_null(TAILQ_NEXT(ns, entry));

	ck_assert_ptr_null(config_find_netns(conf, "nope"));
	ck_assert_ptr_null(config_find_netns(conf, NULL));
	ck_assert_ptr_null(config_find_netns(NULL, "quoted"));
	config_free(conf);

	/* Without own listeners, the list is the named ones only. */
	conf = parse_ok("namespace a {\nlisten on *\n}\nserver 192.0.2.1\n");
	ck_assert_int_eq(config_count_netns(conf), 1);
	ck_assert_str_eq(TAILQ_FIRST(&conf->namespaces)->name, "a");
	ck_assert_ptr_null(config_find_netns(conf, ""));
	config_free(conf);
}
END_TEST

START_TEST(netns_name_limits)
{
	struct ntpd_conf	*conf;
	char			 name[80], text[200], want[300];

	memset(name, 'n', 63);
	name[63] = '\0';
	snprintf(text, sizeof(text), "namespace %s {\nlisten on *\n}\n",
	    name);
	conf = parse_ok(text);
	ck_assert_ptr_nonnull(config_find_netns(conf, name));
	config_free(conf);

	conf = parse_ok("namespace ... {\nlisten on *\n}\n"
	    "namespace .a {\nlisten on *\n}\n"
	    "namespace a- {\nlisten on *\n}\n"
	    "namespace 0 {\nlisten on *\n}\n");
	ck_assert_int_eq(config_count_netns(conf), 4);
	config_free(conf);

	strlcat(name, "n", sizeof(name));
	snprintf(text, sizeof(text), "namespace %s {\nlisten on *\n}\n",
	    name);
	snprintf(want, sizeof(want), "test.conf:1: invalid namespace name "
	    "\"%s\" (1 to 63 of A-Z a-z 0-9 _ . -, not starting with -, "
	    "not . or ..)", name);
	parse_fail1(text, want);
}
END_TEST

START_TEST(user_limits)
{
	struct ntpd_conf	*conf;
	char			 name[40], text[80], want[200];

	memset(name, 'u', 32);
	name[32] = '\0';
	snprintf(text, sizeof(text), "user %s\n", name);
	conf = parse_ok(text);
	ck_assert_str_eq(conf->user, name);
	config_free(conf);

	strlcat(name, "u", sizeof(name));
	snprintf(text, sizeof(text), "user %s\n", name);
	snprintf(want, sizeof(want), "test.conf:1: invalid user name \"%s\" "
	    "(1 to 32 of A-Z a-z 0-9 _ . -, not starting with -)", name);
	parse_fail1(text, want);
}
END_TEST

START_TEST(socket_limits)
{
	struct ntpd_conf	*conf;
	char			 path[200], text[300];

	ck_assert_uint_eq(SOCKET_PATH_MAX, 108);
	path[0] = '/';
	memset(path + 1, 's', 106);
	path[107] = '\0';
	snprintf(text, sizeof(text), "socket %s\n", path);
	conf = parse_ok(text);
	ck_assert_str_eq(conf->socket_path, path);
	config_free(conf);

	strlcat(path, "s", sizeof(path));
	snprintf(text, sizeof(text), "socket %s\n", path);
	parse_fail1(text,
	    "test.conf:1: socket path is too long (max 107 bytes)");
}
END_TEST

START_TEST(chroot_longest)
{
	struct ntpd_conf	*conf;
	char			 text[1100];

	/* The longest word is 1023 characters; it always fits. */
	strlcpy(text, "chroot /", sizeof(text));
	memset(text + 8, 'c', 1022);
	text[8 + 1022] = '\0';
	conf = parse_ok(text);
	ck_assert_uint_eq(strlen(conf->chroot_dir), 1023);
	config_free(conf);
}
END_TEST

START_TEST(listener_max)
{
	struct ntpd_conf	*conf;
	char			 text[64 * 40 + 100], *p;
	size_t			 left;
	int			 i, n;

	p = text;
	left = sizeof(text);
	n = snprintf(p, left, "namespace big {\n");
	p += n;
	left -= n;
	for (i = 0; i < CONF_MAX_LISTENERS; i++) {
		n = snprintf(p, left, "listen on 192.0.2.%d\n", i + 1);
		p += n;
		left -= n;
	}
	snprintf(p, left, "}\n");
	conf = parse_ok(text);
	ck_assert_int_eq(count_listeners(TAILQ_FIRST(&conf->namespaces)),
	    CONF_MAX_LISTENERS);
	config_free(conf);

	snprintf(p, left, "listen on 192.0.2.200\n}\n");
	parse_fail1(text, "test.conf:66: too many listeners in namespace "
	    "\"big\" (max 64)");

	/* The same for the own namespace, named "default" in messages. */
	p = text;
	left = sizeof(text);
	for (i = 0; i < CONF_MAX_LISTENERS; i++) {
		n = snprintf(p, left, "listen on * port %d\n", i + 1);
		p += n;
		left -= n;
	}
	conf = parse_ok(text);
	ck_assert_int_eq(count_listeners(TAILQ_FIRST(&conf->namespaces)),
	    CONF_MAX_LISTENERS);
	config_free(conf);

	snprintf(p, left, "listen on * port 1000\n");
	parse_fail1(text, "test.conf:65: too many listeners in namespace "
	    "\"default\" (max 64)");
}
END_TEST

/* Text with n namespace blocks, each with one listener. */
static char *
many_namespaces(int n, const char *tail)
{
	char	*text, *p;
	size_t	 len, left;
	int	 i, k;

	len = (size_t)n * 40 + strlen(tail) + 1;
	text = malloc(len);
	ck_assert_ptr_nonnull(text);
	p = text;
	left = len;
	for (i = 0; i < n; i++) {
		k = snprintf(p, left, "namespace ns%d {\nlisten on *\n}\n", i);
		ck_assert(k > 0 && (size_t)k < left);
		p += k;
		left -= k;
	}
	strlcpy(p, tail, left);
	return text;
}

START_TEST(namespace_max)
{
	struct ntpd_conf	*conf;
	char			*text, *t2;
	size_t			 len;

	/* 255 named plus the own one: the limit exactly. */
	text = many_namespaces(CONF_MAX_NAMESPACES - 1, "listen on *\n");
	conf = parse_ok(text);
	ck_assert_int_eq(config_count_netns(conf), CONF_MAX_NAMESPACES);
	ck_assert_str_eq(TAILQ_FIRST(&conf->namespaces)->name, "");
	config_free(conf);
	free(text);

	/* 256 named. */
	text = many_namespaces(CONF_MAX_NAMESPACES, "");
	conf = parse_ok(text);
	ck_assert_int_eq(config_count_netns(conf), CONF_MAX_NAMESPACES);
	config_free(conf);
	free(text);

	/* 256 named, then the own namespace would be one more. */
	text = many_namespaces(CONF_MAX_NAMESPACES,
	    "listen on *\n");
	parse_fail1(text, "test.conf:769: too many namespaces (max 256)");
	free(text);

	/* 256 named, one more block: its lines are still checked. */
	text = many_namespaces(CONF_MAX_NAMESPACES,
	    "namespace x {\nlisten on * port 0\nlisten on *\n}\n");
	nmsgs = 0;
	conf = parse(text);
	ck_assert_ptr_null(conf);
	ck_assert_int_eq(nmsgs, 2);
	ck_assert_str_eq(msgs[0],
	    "test.conf:769: too many namespaces (max 256)");
	ck_assert_str_eq(msgs[1],
	    "test.conf:770: invalid port \"0\" (1 to 65535)");
	free(text);

	/* Own listener first, then 256 named: the last block is over. */
	text = many_namespaces(CONF_MAX_NAMESPACES, "");
	len = strlen(text) + 32;
	t2 = malloc(len);
	ck_assert_ptr_nonnull(t2);
	snprintf(t2, len, "listen on *\n%s", text);
	parse_fail1(t2, "test.conf:767: too many namespaces (max 256)");
	free(t2);
	free(text);
}
END_TEST

START_TEST(line_limit)
{
	struct ntpd_conf	*conf;
	char			*text;
	size_t			 n = 1000000;

	text = malloc(n + 16);
	ck_assert_ptr_nonnull(text);
	memset(text, '\n', n);
	text[n] = '\0';
	conf = parse_ok(text);
	config_free(conf);

	/* The last of a million lines may hold a statement. */
	memcpy(text + n - 1, "user x\n", 8);
	conf = parse_ok(text);
	ck_assert_str_eq(conf->user, "x");
	config_free(conf);

	memcpy(text + n + 6, "user y\n", 8);
	parse_fail1(text, "test.conf:1000000: too many lines (max 1000000)");
	free(text);
}
END_TEST

START_TEST(word_limits)
{
	struct ntpd_conf	*conf;
	char			 text[1200];

	/* 1023 characters quoted (the bare case is chroot_longest). */
	strlcpy(text, "chroot \"/", sizeof(text));
	memset(text + 9, 'w', 1022);
	strlcpy(text + 9 + 1022, "\"\n", 3);
	conf = parse_ok(text);
	ck_assert_uint_eq(strlen(conf->chroot_dir), 1023);
	config_free(conf);

	/* 1024, quoted; the next line is still read. */
	strlcpy(text, "chroot \"/", sizeof(text));
	memset(text + 9, 'w', 1023);
	strlcpy(text + 9 + 1023, "\"\nbogus\n", 9);
	nmsgs = 0;
	ck_assert_ptr_null(parse(text));
	ck_assert_int_eq(nmsgs, 2);
	ck_assert_str_eq(msgs[0],
	    "test.conf:1: word too long (more than 1023 characters)");
	ck_assert_str_eq(msgs[1], "test.conf:2: unknown keyword \"bogus\"");

	/* 1024, bare. */
	strlcpy(text, "chroot /", sizeof(text));
	memset(text + 8, 'w', 1023);
	strlcpy(text + 8 + 1023, "\n", 2);
	parse_fail1(text,
	    "test.conf:1: word too long (more than 1023 characters)");
}
END_TEST

START_TEST(word_count)
{
	char	text[400];
	int	i;

	/* 64 words reach the parser, 65 do not. */
	strlcpy(text, "user", sizeof(text));
	for (i = 1; i < 64; i++)
		strlcat(text, " w", sizeof(text));
	parse_fail1(text, "test.conf:1: unexpected \"w\" after \"user w\"");

	strlcat(text, " {", sizeof(text));
	parse_fail1(text, "test.conf:1: too many words on one line (max 64)");

	/* A brace counts as a word too, and a bare word does. */
	text[strlen(text) - 1] = '}';
	parse_fail1(text, "test.conf:1: too many words on one line (max 64)");
	text[strlen(text) - 1] = 'w';
	parse_fail1(text, "test.conf:1: too many words on one line (max 64)");
	text[strlen(text) - 1] = '\0';
	strlcat(text, "\"q\"", sizeof(text));
	parse_fail1(text, "test.conf:1: too many words on one line (max 64)");
}
END_TEST

/* Every error is reported, each with its own line; parsing goes on. */
START_TEST(all_errors_reported)
{
	struct ntpd_conf	*conf;
	static const char	*want[] = {
		"test.conf:1: unknown keyword \"foo\"",
		"test.conf:2: unterminated quoted string",
		"test.conf:4: invalid listen address \"999.1.1.1\" (need a "
		    "numeric IPv4 or IPv6 address or \"*\")",
		"test.conf:8: unknown keyword \"bogus\"",
		"test.conf:11: duplicate source \"192.0.2.1\" (first on "
		    "line 5)",
		"test.conf:12: namespace \"n\" already defined on line 6",
		"test.conf:13: invalid port \"0\" (1 to 65535)",
		"test.conf:15: namespace block opened on line 15 is not "
		    "closed",
	};
	int			 i;

	conf = parse(
	    "foo bar\n"
	    "user \"x\n"
	    "user ok\n"
	    "listen on 999.1.1.1\n"
	    "server 192.0.2.1\n"
	    "namespace n {\n"
	    "listen on *\n"
	    "bogus\n"
	    "}\n"
	    "\n"
	    "server 192.0.2.1\n"
	    "namespace n {\n"
	    "listen on * port 0\n"
	    "}\n"
	    "namespace open {\n");
	ck_assert_ptr_null(conf);
	ck_assert_int_eq(nmsgs, (int)(sizeof(want) / sizeof(want[0])));
	for (i = 0; i < nmsgs; i++)
		ck_assert_str_eq(msgs[i], want[i]);
}
END_TEST

START_TEST(source_options)
{
	struct ntpd_conf	*conf;
	struct source_cfg	*a, *b, *c, *d;

	conf = parse_ok("server 192.0.2.1\n"
	    "server 192.0.2.2 port 10123 iburst minpoll 4 maxpoll 4 prefer\n"
	    "pool pool.example.net noselect minpoll 12\n"
	    "server 192.0.2.1 port 124 maxpoll 4 trusted\n");
	a = TAILQ_FIRST(&conf->sources);
	b = TAILQ_NEXT(a, entry);
	c = TAILQ_NEXT(b, entry);
	d = TAILQ_NEXT(c, entry);
	ck_assert_uint_eq(a->port, 123);
	ck_assert_int_eq(a->minpoll, POLL_DEFAULT_MIN);
	ck_assert_int_eq(a->maxpoll, POLL_DEFAULT_MAX);
	ck_assert(!a->iburst && !a->prefer && !a->noselect && !a->trusted);
	ck_assert_uint_eq(b->port, 10123);
	ck_assert(b->iburst && b->prefer && !b->noselect);
	ck_assert_int_eq(b->minpoll, 4);
	ck_assert_int_eq(b->maxpoll, 4);
	/* A bound given alone takes the other with it. */
	ck_assert_int_eq(c->minpoll, 12);
	ck_assert_int_eq(c->maxpoll, 12);
	ck_assert(c->noselect);
	ck_assert_int_eq(d->minpoll, 4);
	ck_assert_int_eq(d->maxpoll, 4);
	/* The same address on another port is another source. */
	ck_assert_uint_eq(d->port, 124);
	ck_assert(d->trusted && !c->trusted);
	config_free(conf);
}
END_TEST

/* Serving policy: allow, deny, ratelimit, local stratum. */

static const struct acl_rule_cfg *
nth_rule(const struct acl_rule_list *rules, int n)
{
	const struct acl_rule_cfg	*r;

	TAILQ_FOREACH(r, rules, entry)
		if (n-- == 0)
			return r;
	return NULL;
}

START_TEST(serve_defaults)
{
	struct ntpd_conf	*conf;
	struct serve_policy	 pol;

	conf = parse_ok("listen on *\n");
	ck_assert(TAILQ_EMPTY(&conf->serve.rules));
	config_serve_policy(conf, TAILQ_FIRST(&conf->namespaces), &pol);
	ck_assert_int_eq(pol.ratelimit_off, 0);
	ck_assert(pol.rate == RATELIMIT_DEFAULT_RATE);
	ck_assert(pol.burst == RATELIMIT_DEFAULT_BURST);
	ck_assert_uint_eq(pol.clients, RATELIMIT_DEFAULT_CLIENTS);
	ck_assert_int_eq(pol.ratelimit_kod, 0);
	ck_assert_int_eq(pol.local_stratum, 0);
	config_free(conf);
}
END_TEST

START_TEST(serve_rules)
{
	struct ntpd_conf		*conf;
	const struct acl_rule_cfg	*r;

	conf = parse_ok("allow 192.0.2.0/24\n"
	    "deny 192.0.2.7 kod\n"
	    "allow 2001:db8::/32\n"
	    "deny all\n");
	r = nth_rule(&conf->serve.rules, 0);
	ck_assert_int_eq(r->allow, 1);
	ck_assert_int_eq(r->prefix.family, AF_INET);
	ck_assert_uint_eq(r->prefix.prefixlen, 24);
	ck_assert_int_eq(r->lineno, 1);
	r = nth_rule(&conf->serve.rules, 1);
	ck_assert_int_eq(r->allow, 0);
	ck_assert_int_eq(r->kod, 1);
	ck_assert_uint_eq(r->prefix.prefixlen, 32);
	r = nth_rule(&conf->serve.rules, 2);
	ck_assert_int_eq(r->prefix.family, AF_INET6);
	ck_assert_uint_eq(r->prefix.prefixlen, 32);
	/* "all" is one rule per family, both from line 4. */
	r = nth_rule(&conf->serve.rules, 3);
	ck_assert_int_eq(r->prefix.family, AF_INET);
	ck_assert_uint_eq(r->prefix.prefixlen, 0);
	ck_assert_int_eq(r->lineno, 4);
	r = nth_rule(&conf->serve.rules, 4);
	ck_assert_int_eq(r->prefix.family, AF_INET6);
	ck_assert_uint_eq(r->prefix.prefixlen, 0);
	ck_assert_int_eq(r->kod, 0);
	ck_assert_ptr_null(nth_rule(&conf->serve.rules, 5));
	config_free(conf);
}
END_TEST

/* A block's rules are its own; its ratelimit and stratum replace. */
START_TEST(serve_namespace_layer)
{
	struct ntpd_conf	*conf;
	struct netns_cfg	*a, *b;
	struct serve_policy	 pol;

	conf = parse_ok("allow 10.0.0.0/8\n"
	    "ratelimit 4 burst 32 clients 1000 kod\n"
	    "local stratum 10\n"
	    "namespace a {\n"
	    "	listen on 10.1.0.1\n"
	    "	allow 10.1.0.0/16\n"
	    "	deny 10.1.2.0/24\n"
	    "	ratelimit 0.5\n"
	    "}\n"
	    "namespace b {\n"
	    "	listen on 10.2.0.1\n"
	    "	ratelimit off\n"
	    "	local stratum 3\n"
	    "}\n");
	ck_assert_ptr_nonnull(nth_rule(&conf->serve.rules, 0));
	ck_assert_ptr_null(nth_rule(&conf->serve.rules, 1));
	a = config_find_netns(conf, "a");
	b = config_find_netns(conf, "b");
	ck_assert_uint_eq(nth_rule(&a->serve.rules, 0)->prefix.prefixlen, 16);
	ck_assert_int_eq(nth_rule(&a->serve.rules, 1)->allow, 0);
	ck_assert(TAILQ_EMPTY(&b->serve.rules));

	config_serve_policy(conf, NULL, &pol);
	ck_assert(pol.rate == 4 && pol.burst == 32);
	ck_assert_uint_eq(pol.clients, 1000);
	ck_assert_int_eq(pol.ratelimit_kod, 1);
	ck_assert_int_eq(pol.local_stratum, 10);

	/* a: its own ratelimit, with defaults for what it did not say. */
	config_serve_policy(conf, a, &pol);
	ck_assert(pol.rate == 0.5);
	ck_assert(pol.burst == RATELIMIT_DEFAULT_BURST);
	ck_assert_uint_eq(pol.clients, RATELIMIT_DEFAULT_CLIENTS);
	ck_assert_int_eq(pol.ratelimit_kod, 0);
	ck_assert_int_eq(pol.local_stratum, 10);

	config_serve_policy(conf, b, &pol);
	ck_assert_int_eq(pol.ratelimit_off, 1);
	ck_assert_int_eq(pol.local_stratum, 3);
	config_free(conf);
}
END_TEST

struct err_case {
	const char	*text;
	size_t		 len;		/* 0: strlen(text) */
	const char	*want[3];
};

#define NEEDS_ON	"\"listen\" needs \"on\" and an address"
#define BAD_LADDR(a)	"invalid listen address \"" a "\" (need a numeric " \
			"IPv4 or IPv6 address or \"*\")"
#define BAD_PORT(p)	"invalid port \"" p "\" (1 to 65535)"
#define BAD_HOST(h)	"invalid host name or address \"" h "\""
#define BAD_USER(u)	"invalid user name \"" u "\" (1 to 32 of A-Z a-z " \
			"0-9 _ . -, not starting with -)"
#define BAD_NETNS(n)	"invalid namespace name \"" n "\" (1 to 63 of " \
			"A-Z a-z 0-9 _ . -, not starting with -, not . or ..)"
#define NS_NEST		"namespace blocks do not nest (block opened on " \
			"line 1 is still open)"
#define L1		"test.conf:1: "
#define L2		"test.conf:2: "
#define L3		"test.conf:3: "
#define L4		"test.conf:4: "

static const struct err_case err_cases[] = {
	/* The clock. */
	{ "makestep 1\n", 0, { L1 "\"makestep\" needs a threshold in "
	    "seconds and a number of updates" } },
	{ "makestep -1 3\n", 0, { L1 "invalid step threshold \"-1\" "
	    "(0.001 s or more)" } },
	{ "makestep 0.1 1001\n", 0, { L1 "invalid number of updates "
	    "\"1001\" (0 to 1000)" } },
	{ "makestep 0.1 3\nmakestep 1 1\n", 0, { "test.conf:2: \"makestep\" "
	    "already set on line 1" } },
	{ "tolerance\n", 0, { L1 "\"tolerance\" needs a number of seconds "
	    "or \"none\"" } },
	{ "tolerance 0\n", 0, { L1 "invalid tolerance \"0\" (0.001 s or "
	    "more, or none)" } },
	{ "tolerance 1h\n", 0, { L1 "invalid tolerance \"1h\" (0.001 s or "
	    "more, or none)" } },
	{ "holdover\n", 0, { L1 "\"holdover\" needs a number of seconds "
	    "or \"none\"" } },
	{ "holdover 0\n", 0, { L1 "invalid holdover \"0\" (1 to 604800 s, "
	    "or none)" } },
	{ "holdover 604801\n", 0, { L1 "invalid holdover \"604801\" (1 to "
	    "604800 s, or none)" } },
	{ "holdover 1.5\n", 0, { L1 "invalid holdover \"1.5\" (1 to "
	    "604800 s, or none)" } },
	{ "holdover 1h\n", 0, { L1 "invalid holdover \"1h\" (1 to "
	    "604800 s, or none)" } },
	{ "holdover 20 30\n", 0, { L1 "unexpected \"30\" after "
	    "\"holdover 20\"" } },
	{ "holdover 20\nholdover none\n", 0, { L2 "\"holdover\" already "
	    "set on line 1" } },
	{ "namespace a {\nholdover 20\nlisten on *\n}\n", 0, { L2
	    "\"holdover\" is not allowed inside a namespace block" } },
	{ "minsources 0\n", 0, { L1 "invalid number of sources \"0\" (1 to "
	    "64)" } },
	{ "minsources 65\n", 0, { L1 "invalid number of sources \"65\" (1 "
	    "to 64)" } },
	{ "driftfile drift\n", 0, { L1 "drift file \"drift\" is not "
	    "absolute" } },
	{ "audit log\n", 0, { L1 "audit file \"log\" is not absolute" } },
	{ "rtc\n", 0, { L1 "\"rtc\" needs a path or \"none\"" } },
	{ "lastknown /a /b\n", 0, { L1 "unexpected \"/b\" after "
	    "\"lastknown /a\"" } },
	{ "statistics none\nstatistics /x\n", 0, { "test.conf:2: "
	    "\"statistics\" already set on line 1" } },
	{ "timezone ../../etc/passwd\n", 0, { L1 "\"../../etc/passwd\" is "
	    "not a time zone name" } },
	{ "timezone /Europe/Paris\n", 0, { L1 "\"/Europe/Paris\" is not a "
	    "time zone name" } },
	{ "namespace a {\nrtc none\nlisten on *\n}\n", 0, { L2
	    "\"rtc\" is not allowed inside a namespace block" } },
	{ "namespace a {\ntolerance 1\nlisten on *\n}\n", 0, { L2
	    "\"tolerance\" is not allowed inside a namespace block" } },
	/* Serving policy. */
	{ "allow\n", 0, { L1 "\"allow\" needs an address, a prefix or "
	    "\"all\"" } },
	{ "deny {\n", 0, { L1 "\"deny\" needs an address, a prefix or "
	    "\"all\"" } },
	{ "allow 10.1.2.3/16\n", 0, { L1 "invalid address or prefix "
	    "\"10.1.2.3/16\" (host bits must be zero: 10.1.0.0/16, not "
	    "10.1.2.3/16)" } },
	{ "allow 10.0.0.0/8 kod\n", 0, { L1 "unexpected \"kod\" after "
	    "\"allow 10.0.0.0/8\"" } },
	{ "deny 10.0.0.0/8 please\n", 0, { L1 "unexpected \"please\" after "
	    "\"deny 10.0.0.0/8\"" } },
	{ "deny 10.0.0.0/8 kod x\n", 0, { L1 "unexpected \"x\" after "
	    "\"kod\"" } },
	{ "allow 10.0.0.0/8\ndeny 10.0.0.0/8\n", 0, { L2 "a rule for "
	    "10.0.0.0/8 is already on line 1" } },
	{ "allow all\ndeny ::/0\n", 0, { L2 "a rule for ::/0 is already on "
	    "line 1" } },
	{ "ratelimit\n", 0, { L1 "\"ratelimit\" needs a rate in requests "
	    "per second, or \"off\"" } },
	{ "ratelimit -1\n", 0, { L1 "invalid rate \"-1\" (requests per "
	    "second, 0.001 to 1000000)" } },
	{ "ratelimit 1e3\n", 0, { L1 "invalid rate \"1e3\" (requests per "
	    "second, 0.001 to 1000000)" } },
	{ "ratelimit 0\n", 0, { L1 "invalid rate \"0\" (requests per "
	    "second, 0.001 to 1000000)" } },
	{ "ratelimit 1.2.3\n", 0, { L1 "invalid rate \"1.2.3\" (requests "
	    "per second, 0.001 to 1000000)" } },
	{ "ratelimit off 5\n", 0, { L1 "unexpected \"5\" after "
	    "\"ratelimit off\"" } },
	{ "ratelimit 1 burst\n", 0, { L1 "\"burst\" needs a number" } },
	{ "ratelimit 1 burst 0.5\n", 0, { L1 "invalid burst \"0.5\" (1 to "
	    "1000000 requests)" } },
	{ "ratelimit 1 clients 0\n", 0, { L1 "invalid clients \"0\" (1 to "
	    "16777216)" } },
	{ "ratelimit 1 fast\n", 0, { L1 "unknown ratelimit option "
	    "\"fast\"" } },
	{ "ratelimit 1\nratelimit 2\n", 0, { L2 "\"ratelimit\" already set "
	    "on line 1" } },
	{ "local\n", 0, { L1 "\"local\" needs \"stratum\" and a number" } },
	{ "local stratum\n", 0, { L1 "\"local\" needs \"stratum\" and a "
	    "number" } },
	{ "local stratum 16\n", 0, { L1 "invalid stratum \"16\" (1 to 15)" } },
	{ "local stratum 0\n", 0, { L1 "invalid stratum \"0\" (1 to 15)" } },
	{ "local stratum 3\nlocal stratum 4\n", 0, { L2 "\"local\" already "
	    "set on line 1" } },
	/* Statements. */
	{ "foo\n", 0, { L1 "unknown keyword \"foo\"" } },
	{ "\"\"\n", 0, { L1 "unknown keyword \"\"" } },
	{ "User x\n", 0, { L1 "unknown keyword \"User\"" } },
	{ "\n\n  listens on *\n", 0, { L3 "unknown keyword \"listens\"" } },
	{ "{\n", 0, { L1 "unexpected \"{\"" } },
	{ "}\n", 0, { L1 "\"}\" without an open namespace block" } },
	{ "foo\nuser a\nbar\n", 0, { L1 "unknown keyword \"foo\"",
	    L3 "unknown keyword \"bar\"" } },

	/* One-argument statements. */
	{ "user\n", 0, { L1 "\"user\" needs a user name" } },
	{ "user # name\n", 0, { L1 "\"user\" needs a user name" } },
	{ "socket\n", 0, { L1 "\"socket\" needs a path" } },
	{ "chroot", 0, { L1 "\"chroot\" needs a directory" } },
	{ "server\n", 0, { L1 "\"server\" needs a host name or address" } },
	{ "servers\n", 0, { L1 "\"servers\" needs a host name or address" } },
	{ "pool\n", 0, { L1 "\"pool\" needs a host name or address" } },
	{ "user {\n", 0, { L1 "unexpected \"{\" after \"user\"" } },
	{ "server }\n", 0, { L1 "unexpected \"}\" after \"server\"" } },
	{ "user a b\n", 0, { L1 "unexpected \"b\" after \"user a\"" } },
	{ "user a {\n", 0, { L1 "unexpected \"{\" after \"user a\"" } },
	{ "server 192.0.2.1 fast\n", 0,
	    { L1 "unknown server option \"fast\"" } },
	{ "pool a.example.net {\n", 0, { L1 "unexpected \"{\"" } },
	{ "server 192.0.2.1 iburst iburst\n", 0,
	    { L1 "\"iburst\" given twice" } },
	{ "server 192.0.2.1 trusted trusted\n", 0,
	    { L1 "\"trusted\" given twice" } },
	{ "server 192.0.2.1 minpoll\n", 0,
	    { L1 "\"minpoll\" needs a number" } },
	{ "server 192.0.2.1 minpoll 2\n", 0,
	    { L1 "invalid minpoll \"2\" (3 to 17)" } },
	{ "server 192.0.2.1 maxpoll 18\n", 0,
	    { L1 "invalid maxpoll \"18\" (3 to 17)" } },
	{ "server 192.0.2.1 minpoll 8 maxpoll 6\n", 0,
	    { L1 "maxpoll 6 is below minpoll 8" } },
	{ "server 192.0.2.1 port 0\n", 0,
	    { L1 "invalid port \"0\" (1 to 65535)" } },
	{ "server 192.0.2.1 port 1 port 2\n", 0,
	    { L1 "\"port\" given twice" } },
	{ "chroot \"/a b\" c\n", 0,
	    { L1 "unexpected \"c\" after \"chroot /a b\"" } },
	{ "user a\nuser b\n", 0, { L2 "\"user\" already set on line 1" } },
	{ "socket /a\n\nsocket /b\n", 0,
	    { L3 "\"socket\" already set on line 1" } },
	{ "chroot /a\nchroot /a\n", 0,
	    { L2 "\"chroot\" already set on line 1" } },

	/* User names. */
	{ "user \"\"\n", 0, { L1 BAD_USER("") } },
	{ "user -ntp\n", 0, { L1 BAD_USER("-ntp") } },
	{ "user \"a b\"\n", 0, { L1 BAD_USER("a b") } },
	{ "user ntp!\n", 0, { L1 BAD_USER("ntp!") } },
	{ "user ntp:x\n", 0, { L1 BAD_USER("ntp:x") } },
	{ "user a/b\n", 0, { L1 BAD_USER("a/b") } },
	{ "user \xc3\xbc\n", 0, { L1 BAD_USER("\xc3\xbc") } },

	/* Paths. */
	{ "socket run/ntpd.sock\n", 0,
	    { L1 "socket path \"run/ntpd.sock\" is not absolute" } },
	{ "socket \"\"\n", 0, { L1 "socket path \"\" is not absolute" } },
	{ "chroot var/empty\n", 0,
	    { L1 "chroot directory \"var/empty\" is not absolute" } },
	{ "chroot \"\"\n", 0,
	    { L1 "chroot directory \"\" is not absolute" } },

	/* Hosts. */
	{ "server \"\"\n", 0, { L1 BAD_HOST("") } },
	{ "server -a.org\n", 0, { L1 BAD_HOST("-a.org") } },
	{ "server a-.org\n", 0, { L1 BAD_HOST("a-.org") } },
	{ "server a.-b\n", 0, { L1 BAD_HOST("a.-b") } },
	{ "server a.b-\n", 0, { L1 BAD_HOST("a.b-") } },
	{ "server a..org\n", 0, { L1 BAD_HOST("a..org") } },
	{ "server .org\n", 0, { L1 BAD_HOST(".org") } },
	{ "server a.org..\n", 0, { L1 BAD_HOST("a.org..") } },
	{ "server .\n", 0, { L1 BAD_HOST(".") } },
	{ "server ..\n", 0, { L1 BAD_HOST("..") } },
	{ "server a_b.org\n", 0, { L1 BAD_HOST("a_b.org") } },
	{ "server \"a b\"\n", 0, { L1 BAD_HOST("a b") } },
	{ "server 192.0.2.300\n", 0, { L1 BAD_HOST("192.0.2.300") } },
	{ "server 127.1\n", 0, { L1 BAD_HOST("127.1") } },
	{ "server 1.2.3.4.5\n", 0, { L1 BAD_HOST("1.2.3.4.5") } },
	{ "server 0x7f.1\n", 0, { L1 BAD_HOST("0x7f.1") } },
	{ "server host.123\n", 0, { L1 BAD_HOST("host.123") } },
	{ "server 123\n", 0, { L1 BAD_HOST("123") } },
	{ "server 123.\n", 0, { L1 BAD_HOST("123.") } },
	{ "server [2001:db8::1]\n", 0, { L1 BAD_HOST("[2001:db8::1]") } },
	{ "server 2001:db8::1%eth0\n", 0,
	    { L1 BAD_HOST("2001:db8::1%eth0") } },
	{ "server 192.0.2.1:123\n", 0, { L1 BAD_HOST("192.0.2.1:123") } },
	{ "pool \xc3\xbc.org\n", 0, { L1 BAD_HOST("\xc3\xbc.org") } },
	{ "pool *\n", 0, { L1 BAD_HOST("*") } },

	/* Duplicate sources. */
	{ "server 192.0.2.1\nserver 192.0.2.1\n", 0,
	    { L2 "duplicate source \"192.0.2.1\" (first on line 1)" } },
	{ "server 2001:db8::1\n\nserver 2001:DB8:0:0::1\n", 0,
	    { L3 "duplicate source \"2001:DB8:0:0::1\" (first on line 1)" } },
	{ "pool Pool.NTP.org\nservers pool.ntp.org.\n", 0,
	    { L2 "duplicate source \"pool.ntp.org.\" (first on line 1)" } },
	{ "server a.org.\nserver A.ORG\n", 0,
	    { L2 "duplicate source \"A.ORG\" (first on line 1)" } },

	/* listen. */
	{ "listen\n", 0, { L1 NEEDS_ON } },
	{ "listen on\n", 0, { L1 NEEDS_ON } },
	{ "listen at 192.0.2.1\n", 0, { L1 NEEDS_ON } },
	{ "listen on {\n", 0, { L1 NEEDS_ON } },
	{ "listen { 192.0.2.1\n", 0, { L1 NEEDS_ON } },
	{ "listen 192.0.2.1\n", 0, { L1 NEEDS_ON } },
	{ "listen on localhost\n", 0, { L1 BAD_LADDR("localhost") } },
	{ "listen on 192.0.2.0/24\n", 0, { L1 BAD_LADDR("192.0.2.0/24") } },
	{ "listen on [2001:db8::1]\n", 0,
	    { L1 BAD_LADDR("[2001:db8::1]") } },
	{ "listen on fe80::1%lo\n", 0, { L1 BAD_LADDR("fe80::1%lo") } },
	{ "listen on **\n", 0, { L1 BAD_LADDR("**") } },
	{ "listen on \"\"\n", 0, { L1 BAD_LADDR("") } },
	{ "listen on 0.0.0.0\n", 0, { L1 "use \"*\" instead of \"0.0.0.0\" "
	    "to listen on all addresses" } },
	{ "listen on ::\n", 0, { L1 "use \"*\" instead of \"::\" to listen "
	    "on all addresses" } },
	{ "listen on ::ffff:192.0.2.1\n", 0,
	    { L1 "use the IPv4 address instead of \"::ffff:192.0.2.1\"" } },
	{ "listen on * port\n", 0, { L1 "\"port\" needs a number" } },
	{ "listen on * port }\n", 0, { L1 "\"port\" needs a number" } },
	{ "listen on * port 0\n", 0, { L1 BAD_PORT("0") } },
	{ "listen on * port 65536\n", 0, { L1 BAD_PORT("65536") } },
	{ "listen on * port 99999\n", 0, { L1 BAD_PORT("99999") } },
	{ "listen on * port 123456\n", 0, { L1 BAD_PORT("123456") } },
	{ "listen on * port +123\n", 0, { L1 BAD_PORT("+123") } },
	{ "listen on * port -1\n", 0, { L1 BAD_PORT("-1") } },
	{ "listen on * port 0123\n", 0, { L1 BAD_PORT("0123") } },
	{ "listen on * port 12a\n", 0, { L1 BAD_PORT("12a") } },
	{ "listen on * port 0x7b\n", 0, { L1 BAD_PORT("0x7b") } },
	{ "listen on * port \"\"\n", 0, { L1 BAD_PORT("") } },
	{ "listen on * port \" 1\"\n", 0, { L1 BAD_PORT(" 1") } },
	{ "listen on * port 1 port 2\n", 0, { L1 "\"port\" given twice" } },
	{ "listen on * 123\n", 0, { L1 "unknown listen option \"123\"" } },
	{ "listen on * Port 5\n", 0, { L1 "unknown listen option \"Port\"" } },
	{ "listen on * {\n", 0, { L1 "unknown listen option \"{\"" } },
	{ "listen on * port 5 x\n", 0, { L1 "unknown listen option \"x\"" } },

	/* Listener clashes. */
	{ "listen on 192.0.2.1\nlisten on 192.0.2.1 port 123\n", 0,
	    { L2 "duplicate listener 192.0.2.1:123 (first on line 1)" } },
	{ "listen on 2001:db8::1\nlisten on 2001:DB8:0::1\n", 0,
	    { L2 "duplicate listener [2001:db8::1]:123 (first on line 1)" } },
	{ "listen on *\nlisten on * port 123\n", 0,
	    { L2 "duplicate listener *:123 (first on line 1)" } },
	{ "listen on * port 5\nlisten on 192.0.2.1 port 5\n", 0,
	    { L2 "listener 192.0.2.1:5 conflicts with *:5 on line 1" } },
	{ "listen on 2001:db8::1\nlisten on *\n", 0,
	    { L2 "listener *:123 conflicts with [2001:db8::1]:123 on "
	    "line 1" } },
	{ "namespace a {\nlisten on *\nlisten on *\n}\n", 0,
	    { L3 "duplicate listener *:123 (first on line 2)" } },

	/* namespace headers. */
	{ "namespace\n", 0, { L1 "\"namespace\" needs a name and \"{\"" } },
	{ "namespace {\nlisten on *\n}\n", 0,
	    { L1 "\"namespace\" needs a name and \"{\"" } },
	{ "namespace blue\n", 0,
	    { L1 "\"namespace blue\" needs \"{\" at the end of the line" } },
	{ "namespace blue x {\nlisten on *\n}\n", 0,
	    { L1 "unexpected \"x\" after namespace name (expected \"{\")" } },
	{ "namespace blue }\n", 0,
	    { L1 "unexpected \"}\" after namespace name (expected \"{\")" } },
	{ "namespace blue { listen on *\n}\n", 0,
	    { L1 "unexpected \"listen\" after \"{\"" } },
	{ "namespace blue {}\n", 0, { L1 "unexpected \"}\" after \"{\"",
	    L1 "namespace block opened on line 1 is not closed" } },
	{ "namespace default {\nlisten on *\n}\n", 0, { L1 "namespace name "
	    "\"default\" is reserved for the daemon's own namespace" } },
	{ "namespace -x {\nlisten on *\n}\n", 0, { L1 BAD_NETNS("-x") } },
	{ "namespace . {\nlisten on *\n}\n", 0, { L1 BAD_NETNS(".") } },
	{ "namespace .. {\nlisten on *\n}\n", 0, { L1 BAD_NETNS("..") } },
	{ "namespace a/b {\nlisten on *\n}\n", 0, { L1 BAD_NETNS("a/b") } },
	{ "namespace \"a b\" {\nlisten on *\n}\n", 0,
	    { L1 BAD_NETNS("a b") } },
	{ "namespace ns! {\nlisten on *\n}\n", 0, { L1 BAD_NETNS("ns!") } },
	{ "namespace \"\" {\nlisten on *\n}\n", 0, { L1 BAD_NETNS("") } },

	/* Statements in a block dropped for its bad header are checked. */
	{ "namespace -x {\nlisten on * port 0\nlisten on *\nlisten on *\n}\n",
	    0, { L1 BAD_NETNS("-x"), L2 BAD_PORT("0") } },

	/* Blocks. */
	{ "namespace a {\nlisten on *\n}\nnamespace a {\nlisten on "
	    "192.0.2.1\n}\n", 0,
	    { L4 "namespace \"a\" already defined on line 1" } },
	{ "namespace a {\n}\n", 0,
	    { L1 "namespace \"a\" has no listener" } },
	{ "namespace a {\n# nothing\n\n}\n", 0,
	    { L1 "namespace \"a\" has no listener" } },
	{ "namespace a {\nlisten on *\n", 0,
	    { L2 "namespace block opened on line 1 is not closed" } },
	{ "namespace a {", 0,
	    { L1 "namespace block opened on line 1 is not closed" } },
	{ "namespace a {\n\n\n", 0,
	    { L3 "namespace block opened on line 1 is not closed" } },
	{ "namespace a {\nuser x\nlisten on *\n}\n", 0,
	    { L2 "\"user\" is not allowed inside a namespace block" } },
	{ "namespace a {\nserver 192.0.2.1\nlisten on *\n}\n", 0,
	    { L2 "\"server\" is not allowed inside a namespace block" } },
	{ "namespace a {\nlisten on *\n} x\n", 0,
	    { L3 "unexpected \"x\" after \"}\"" } },
	{ "namespace a {\nlisten on *\n} }\n", 0,
	    { L3 "unexpected \"}\" after \"}\"" } },
	{ "namespace a {\nlisten on *\n}\n}\n", 0,
	    { L4 "\"}\" without an open namespace block" } },
	{ "namespace a {\nlisten on *\n{\n}\n", 0,
	    { L3 "unexpected \"{\"" } },
	{ "namespace a {\nlisten on *\nnamespace b {\nlisten on 192.0.2.1\n"
	    "}\n}\n", 0, { L3 NS_NEST } },
	{ "namespace a {\nnamespace b\nlisten on *\n}\n", 0,
	    { L2 NS_NEST } },
	{ "namespace a {\nlisten on *\nnamespace b {\nnamespace c {\n}\n"
	    "user x\n}\n}\n", 0, { L3 NS_NEST } },
	{ "namespace a {\nlisten on *\nnamespace b {\n", 0,
	    { L3 NS_NEST, L3 "namespace block opened on line 1 is not "
	    "closed" } },

	/* Lexer. */
	{ "user \"ntp\n", 0, { L1 "unterminated quoted string" } },
	{ "user \"ntp", 0, { L1 "unterminated quoted string" } },
	{ "user \"ntp\\\nuser x\n", 0, { L1 "unterminated quoted string" } },
	{ "user \"ntp\\", 0, { L1 "unterminated quoted string" } },
	{ "user \"n\\tp\"\n", 0,
	    { L1 "invalid escape \"\\t\" in quoted string" } },
	{ "user \"n\\'\"\n", 0,
	    { L1 "invalid escape \"\\'\" in quoted string" } },
	{ "user \"a\"b\n", 0, { L1 "missing space after quoted string" } },
	{ "user \"a\"\"b\"\n", 0, { L1 "missing space after quoted string" } },
	{ "user a\"b\"\n", 0, { L1 "unexpected quote inside a word" } },
	{ "user ntp\r\n", 0, { L1 "invalid character 0x0d" } },
	{ "user \"a\x01\"\n", 0, { L1 "invalid character 0x01" } },
	{ "user \"a\\\x01\"\n", 0, { L1 "invalid character 0x01" } },
	{ "user a\x7f\n", 0, { L1 "invalid character 0x7f" } },
	{ "\x1b\n", 0, { L1 "invalid character 0x1b" } },
	{ "user \"a\x0b\" x y\nfoo\n", 0, { L1 "invalid character 0x0b",
	    L2 "unknown keyword \"foo\"" } },
	{ "user a\0b\n", 9, { L1 "NUL byte in file" } },
	{ "user \"a\0\"\n", 10, { L1 "NUL byte in file" } },
	{ "user \"a\\\0\"\n", 11, { L1 "NUL byte in file" } },
	{ "# comm\0ent\nuser x\n", 18, { L1 "NUL byte in file" } },
	{ "\0\n\0", 3, { L1 "NUL byte in file", L2 "NUL byte in file" } },
};

START_TEST(errors)
{
	const struct err_case	*c = &err_cases[_i];
	struct ntpd_conf	*conf;
	size_t			 len;
	int			 i, n;

	len = c->len != 0 ? c->len : strlen(c->text);
	conf = parse_buf(c->text, len);
	for (n = 0; n < 3 && c->want[n] != NULL; n++)
		;
	ck_assert_msg(conf == NULL, "case %d accepted", _i);
	ck_assert_msg(nmsgs == n, "case %d: %d messages, want %d; first: %s",
	    _i, nmsgs, n, nmsgs > 0 ? msgs[0] : "");
	for (i = 0; i < n; i++)
		ck_assert_str_eq(msgs[i], c->want[i]);
	ck_assert_int_eq(msg_prio, LOG_ERR);
}
END_TEST

START_TEST(not_duplicates)
{
	struct ntpd_conf	*conf;

	/* Other kind, other family, other port, other namespace. */
	conf = parse_ok(
	    "server 192.0.2.1\n"
	    "servers 192.0.2.1\n"
	    "server ::ffff:192.0.2.1\n"
	    "listen on 192.0.2.1\n"
	    "listen on 192.0.2.1 port 124\n"
	    "listen on 2001:db8::1 port 124\n"
	    "listen on * port 125\n"
	    "namespace a {\n"
	    "listen on *\n"
	    "}\n");
	ck_assert_int_eq(count_sources(conf), 3);
	ck_assert_int_eq(count_listeners(config_find_netns(conf, "")), 4);
	ck_assert_int_eq(count_listeners(config_find_netns(conf, "a")), 1);
	config_free(conf);
}
END_TEST

START_TEST(missing_file)
{
	ck_assert_ptr_null(config_parse_file("/nonexistent/ntpd.conf"));
	ck_assert_int_eq(nmsgs, 1);
	ck_assert_str_eq(msgs[0],
	    "/nonexistent/ntpd.conf: No such file or directory");

	nmsgs = 0;
	ck_assert_ptr_null(config_parse_file(NULL));
	ck_assert_int_eq(nmsgs, 1);
	ck_assert_str_eq(msgs[0], "no configuration file given");
}
END_TEST

/* fopen() of a directory works; the first read fails. */
START_TEST(directory)
{
	ck_assert_ptr_null(config_parse_file("regress"));
	ck_assert_int_eq(nmsgs, 1);
	ck_assert_str_eq(msgs[0], "regress: Is a directory");
}
END_TEST

static ssize_t
failing_read(void *cookie, char *buf, size_t len)
{
	int		*calls = cookie;
	const char	*text = "bogus x";

	if ((*calls)++ > 0) {
		errno = EIO;
		return -1;
	}
	if (len > strlen(text))
		len = strlen(text);
	memcpy(buf, text, len);
	return (ssize_t)len;
}

/* A read error in the middle of a line. */
START_TEST(read_error)
{
	cookie_io_functions_t	 io = { .read = failing_read };
	FILE			*fp;
	int			 calls = 0;

	fp = fopencookie(&calls, "r", io);
	ck_assert_ptr_nonnull(fp);
	ck_assert_ptr_null(config_parse_stream(fp, "cookie"));
	fclose(fp);
	ck_assert_int_ge(calls, 2);
	ck_assert_int_eq(nmsgs, 1);
	ck_assert_str_eq(msgs[0], "cookie: Input/output error");
}
END_TEST

START_TEST(stream_args)
{
	FILE	*fp;

	ck_assert_ptr_null(config_parse_stream(NULL, "x.conf"));
	ck_assert_int_eq(nmsgs, 1);
	ck_assert_str_eq(msgs[0], "x.conf: no input");

	nmsgs = 0;
	ck_assert_ptr_null(config_parse_stream(NULL, NULL));
	ck_assert_int_eq(nmsgs, 1);
	ck_assert_str_eq(msgs[0], "(config): no input");

	nmsgs = 0;
	fp = fmemopen("bad\n", 4, "r");
	ck_assert_ptr_nonnull(fp);
	ck_assert_ptr_null(config_parse_stream(fp, NULL));
	fclose(fp);
	ck_assert_int_eq(nmsgs, 1);
	ck_assert_str_eq(msgs[0], "(config):1: unknown keyword \"bad\"");
}
END_TEST

/* Through a real file: messages carry its path. */
START_TEST(real_file)
{
	struct ntpd_conf	*conf;
	char			 path[] = "/tmp/test_config.XXXXXX";
	char			 want[128];
	FILE			*fp;
	int			 fd;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	fp = fdopen(fd, "w");
	ck_assert_ptr_nonnull(fp);
	fputs("user tester\nlisten on 127.0.0.1 port 1123\n", fp);
	fclose(fp);
	conf = config_parse_file(path);
	ck_assert_int_eq(nmsgs, 0);
	ck_assert_ptr_nonnull(conf);
	ck_assert_str_eq(conf->user, "tester");
	ck_assert_int_eq(config_count_netns(conf), 1);
	config_free(conf);

	fp = fopen(path, "a");
	ck_assert_ptr_nonnull(fp);
	fputs("oops\n", fp);
	fclose(fp);
	ck_assert_ptr_null(config_parse_file(path));
	ck_assert_int_eq(nmsgs, 1);
	snprintf(want, sizeof(want), "%s:3: unknown keyword \"oops\"", path);
	ck_assert_str_eq(msgs[0], want);
	unlink(path);
}
END_TEST

START_TEST(example_file)
{
	struct ntpd_conf	*conf;
	struct netns_cfg	*ns;
	struct source_cfg	*s;

	conf = config_parse_file(EXAMPLE_CONF);
	ck_assert_msg(nmsgs == 0, "%s", nmsgs > 0 ? msgs[0] : "");
	ck_assert_ptr_nonnull(conf);

	ck_assert_str_eq(conf->user, "_ntp");
	ck_assert_str_eq(conf->socket_path, "/run/ntpd.sock");
	ck_assert_str_eq(conf->chroot_dir, "/var/empty");

	s = TAILQ_FIRST(&conf->sources);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(s->kind, SOURCE_SERVERS);
	ck_assert_str_eq(s->host, "pool.example.net");
	s = TAILQ_NEXT(s, entry);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(s->kind, SOURCE_SERVER);
	ck_assert_str_eq(s->host, "192.0.2.123");
	s = TAILQ_NEXT(s, entry);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(s->kind, SOURCE_SERVER);
	ck_assert_str_eq(s->host, "2001:db8::123");
	ck_assert_ptr_null(TAILQ_NEXT(s, entry));

	ck_assert_int_eq(config_count_netns(conf), 3);
	ns = TAILQ_FIRST(&conf->namespaces);
	ck_assert_str_eq(ns->name, "");
	ck_assert_int_eq(count_listeners(ns), 2);
	ns = TAILQ_NEXT(ns, entry);
	ck_assert_str_eq(ns->name, "tenant-a");
	ck_assert_int_eq(count_listeners(ns), 2);
	ns = TAILQ_NEXT(ns, entry);
	ck_assert_str_eq(ns->name, "tenant-b");
	ck_assert_int_eq(count_listeners(ns), 1);
	ck_assert_int_eq(TAILQ_FIRST(&ns->listeners)->wildcard, 1);
	config_free(conf);
}
END_TEST

START_TEST(helpers)
{
	config_free(NULL);
	ck_assert_str_eq(netns_display_name(NULL), "default");
	ck_assert_str_eq(netns_display_name(""), "default");
	ck_assert_str_eq(netns_display_name("blue"), "blue");
	ck_assert_int_eq(config_count_netns(NULL), 0);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("config");
	tc = tcase_create("accept");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, empty_gives_defaults);
	tcase_add_test(tc, settings);
	tcase_add_test(tc, quoted_words);
	tcase_add_test(tc, sources);
	tcase_add_test(tc, source_name_limits);
	tcase_add_test(tc, source_max);
	tcase_add_test(tc, listeners_own);
	tcase_add_test(tc, namespaces);
	tcase_add_test(tc, source_options);
	tcase_add_test(tc, serve_defaults);
	tcase_add_test(tc, serve_rules);
	tcase_add_test(tc, serve_namespace_layer);
	tcase_add_test(tc, netns_name_limits);
	tcase_add_test(tc, user_limits);
	tcase_add_test(tc, socket_limits);
	tcase_add_test(tc, chroot_longest);
	tcase_add_test(tc, listener_max);
	tcase_add_test(tc, namespace_max);
	tcase_add_test(tc, line_limit);
	tcase_add_test(tc, word_limits);
	tcase_add_test(tc, not_duplicates);
	tcase_add_test(tc, example_file);
	tcase_add_test(tc, real_file);
	tcase_add_test(tc, helpers);
	tcase_add_test(tc, clock_settings);
	tcase_add_test(tc, file_settings);
	suite_add_tcase(s, tc);

	tc = tcase_create("reject");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, errors, 0,
	    sizeof(err_cases) / sizeof(err_cases[0]));
	tcase_add_test(tc, word_count);
	tcase_add_test(tc, all_errors_reported);
	tcase_add_test(tc, missing_file);
	tcase_add_test(tc, directory);
	tcase_add_test(tc, read_error);
	tcase_add_test(tc, stream_args);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(config_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
