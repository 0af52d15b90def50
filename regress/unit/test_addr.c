/*
 * Unit tests for common/addr.c: numeric address parsing, CIDR prefixes,
 * matching and formatting.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

static struct sockaddr_storage
mkaddr(const char *s, uint16_t port)
{
	struct sockaddr_storage	ss;
	socklen_t		len;

	ck_assert_int_eq(addr_parse(s, port, &ss, &len), 0);
	return ss;
}

START_TEST(parse_ipv4)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	socklen_t		 len = 0;

	ck_assert_int_eq(addr_parse("192.0.2.1", 123, &ss, &len), 0);
	ck_assert_int_eq(sin->sin_family, AF_INET);
	ck_assert_uint_eq(len, sizeof(struct sockaddr_in));
	ck_assert_uint_eq(ntohs(sin->sin_port), 123);
	ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), 0xc0000201);
	ck_assert_uint_eq(addr_port((struct sockaddr *)&ss), 123);
}
END_TEST

START_TEST(parse_ipv6)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len = 0;
	static const uint8_t	 want[16] = { 0x20, 0x01, 0x0d, 0xb8,
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 };

	ck_assert_int_eq(addr_parse("2001:db8::1", 65535, &ss, &len), 0);
	ck_assert_int_eq(sin6->sin6_family, AF_INET6);
	ck_assert_uint_eq(len, sizeof(struct sockaddr_in6));
	ck_assert_uint_eq(ntohs(sin6->sin6_port), 65535);
	ck_assert_mem_eq(&sin6->sin6_addr, want, 16);
	ck_assert_uint_eq(sin6->sin6_scope_id, 0);
	ck_assert_uint_eq(addr_port((struct sockaddr *)&ss), 65535);

	ck_assert_int_eq(addr_parse("::", 0, &ss, &len), 0);
	ck_assert_int_eq(sin6->sin6_family, AF_INET6);
	ck_assert_int_eq(addr_parse("::ffff:192.0.2.1", 0, &ss, &len), 0);
	ck_assert_int_eq(sin6->sin6_family, AF_INET6);
}
END_TEST

static const char *bad_addrs[] = {
	"",
	" 192.0.2.1",
	"192.0.2.1 ",
	"192.0.2",
	"192.0.2.256",
	"192.0.2.1.5",
	"+192.0.2.1",
	"192.0.2.1/32",
	"0x7f.0.0.1",
	"127.1",
	"[2001:db8::1]",
	"2001:db8::1%eth0",
	"fe80::1%1",
	"2001:db8:::1",
	"2001:db8::g",
	"localhost",
	"pool.ntp.org",
};

START_TEST(parse_bad)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = 77;
	const char		*s = bad_addrs[_i];

	memset(&ss, 0xa5, sizeof(ss));
	ck_assert_msg(addr_parse(s, 123, &ss, &len) == -1, "accepted \"%s\"",
	    s);
	/* A failed parse leaves nothing that looks like an address. */
	ck_assert_int_eq(ss.ss_family, AF_UNSPEC);
	ck_assert_uint_eq(len, 77);
}
END_TEST

START_TEST(parse_null)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;

	ck_assert_int_eq(addr_parse(NULL, 1, &ss, &len), -1);
	ck_assert_int_eq(addr_parse("192.0.2.1", 1, NULL, &len), -1);
	ck_assert_int_eq(addr_parse("192.0.2.1", 1, &ss, NULL), -1);
}
END_TEST

START_TEST(cidr_good)
{
	struct cidr		c;
	static const uint8_t	v4[4] = { 192, 0, 2, 0 };
	static const uint8_t	v6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	static const uint8_t	host6[16] = { 0x20, 0x01, 0x0d, 0xb8,
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 };
	static const uint8_t	zero[16];

	ck_assert_int_eq(cidr_parse("192.0.2.0/24", &c), 0);
	ck_assert_int_eq(c.family, AF_INET);
	ck_assert_uint_eq(c.prefixlen, 24);
	ck_assert_mem_eq(c.addr, v4, 4);

	ck_assert_int_eq(cidr_parse("192.0.2.0", &c), 0);
	ck_assert_uint_eq(c.prefixlen, 32);

	ck_assert_int_eq(cidr_parse("192.0.2.1/32", &c), 0);
	ck_assert_uint_eq(c.prefixlen, 32);

	ck_assert_int_eq(cidr_parse("0.0.0.0/0", &c), 0);
	ck_assert_int_eq(c.family, AF_INET);
	ck_assert_uint_eq(c.prefixlen, 0);
	ck_assert_mem_eq(c.addr, zero, 16);

	/* A prefix that ends inside a byte. */
	ck_assert_int_eq(cidr_parse("192.0.2.128/25", &c), 0);
	ck_assert_uint_eq(c.prefixlen, 25);
	ck_assert_int_eq(cidr_parse("10.0.0.0/7", &c), 0);
	ck_assert_uint_eq(c.prefixlen, 7);

	ck_assert_int_eq(cidr_parse("2001:db8::/32", &c), 0);
	ck_assert_int_eq(c.family, AF_INET6);
	ck_assert_uint_eq(c.prefixlen, 32);
	ck_assert_mem_eq(c.addr, v6, 16);

	ck_assert_int_eq(cidr_parse("2001:db8::1", &c), 0);
	ck_assert_uint_eq(c.prefixlen, 128);
	ck_assert_mem_eq(c.addr, host6, 16);

	ck_assert_int_eq(cidr_parse("2001:db8::1/128", &c), 0);
	ck_assert_uint_eq(c.prefixlen, 128);

	ck_assert_int_eq(cidr_parse("::/0", &c), 0);
	ck_assert_int_eq(c.family, AF_INET6);
	ck_assert_uint_eq(c.prefixlen, 0);

	ck_assert_int_eq(cidr_parse("2001:db8:8000::/33", &c), 0);
	ck_assert_uint_eq(c.prefixlen, 33);
}
END_TEST

static const char *bad_cidrs[] = {
	"",
	"/",
	"/8",
	"1.2.3.4/",
	"1.2.3.4/33",
	"1.2.3.4/-1",
	"1.2.3.4/+8",
	"1.2.3.4/ 8",
	"1.2.3.4/8 ",
	" 1.2.3.4/8",
	"1.2.3.4 /8",
	"+1.2.3.4/8",
	"1.2.3.4/08",
	"10.0.0.0/08",		/* valid but for the leading zero */
	"192.0.2.0/024",
	"0.0.0.0/00",
	"2001:db8::/032",
	"1.2.3.4/0032",
	"1.2.3.4/1000",
	"1.2.3.4/8/8",
	"1.2.3.4/8a",
	"1.2.3.4/0x8",
	"1.2.3.0/23",		/* host bit 1.2.3.0 & 0.0.1.255 set */
	"192.0.2.1/24",
	"192.0.2.128/24",
	"10.0.0.0/6",		/* bit below a mid-byte prefix */
	"0.0.0.1/0",
	"2001:db8::/129",
	"2001:db8::1/64",
	"2001:db8::1/127",
	"2001:db8::/16",
	"::1/0",
	"2001:db8::/",
	"[2001:db8::]/32",
	"2001:db8::%eth0/64",
	"1.2.3",
	"1.2.3/24",
	"example.org/24",
	"0000:0000:0000:0000:0000:0000:0000:0000:0/24",
};

START_TEST(cidr_bad)
{
	struct cidr	 c;
	const char	*s = bad_cidrs[_i];

	memset(&c, 0x5a, sizeof(c));
	ck_assert_msg(cidr_parse(s, &c) == -1, "accepted \"%s\"", s);
	/* The output is only written on success. */
	ck_assert_int_eq(c.family, 0x5a5a5a5a);
}
END_TEST

START_TEST(cidr_null)
{
	struct cidr	c;

	ck_assert_int_eq(cidr_parse(NULL, &c), -1);
	ck_assert_int_eq(cidr_parse("192.0.2.0/24", NULL), -1);
}
END_TEST

struct match_case {
	const char	*cidr;
	const char	*addr;
	int		 match;
};

static const struct match_case match_cases[] = {
	{ "192.0.2.0/24",	"192.0.2.0",		1 },
	{ "192.0.2.0/24",	"192.0.2.255",		1 },
	{ "192.0.2.0/24",	"192.0.3.0",		0 },
	{ "192.0.2.0/24",	"192.0.1.255",		0 },
	{ "192.0.2.128/25",	"192.0.2.128",		1 },
	{ "192.0.2.128/25",	"192.0.2.127",		0 },
	{ "192.0.2.128/25",	"192.0.2.255",		1 },
	{ "10.0.0.0/7",		"11.255.255.255",	1 },
	{ "10.0.0.0/7",		"12.0.0.0",		0 },
	{ "10.0.0.0/7",		"9.255.255.255",	0 },
	{ "192.0.2.1",		"192.0.2.1",		1 },
	{ "192.0.2.1",		"192.0.2.2",		0 },
	{ "0.0.0.0/0",		"203.0.113.9",		1 },
	{ "0.0.0.0/0",		"2001:db8::1",		0 },
	{ "::/0",		"2001:db8::1",		1 },
	{ "::/0",		"192.0.2.1",		0 },
	/* A v4-mapped address is IPv6 here: no cross-family matching. */
	{ "192.0.2.0/24",	"::ffff:192.0.2.1",	0 },
	{ "2001:db8::/32",	"2001:db8:ffff::1",	1 },
	{ "2001:db8::/32",	"2001:db9::1",		0 },
	{ "2001:db8:8000::/33",	"2001:db8:8000::",	1 },
	{ "2001:db8:8000::/33",	"2001:db8:7fff::",	0 },
	{ "2001:db8::1",	"2001:db8::1",		1 },
	{ "2001:db8::1",	"2001:db8::2",		0 },
	{ "2001:db8::/127",	"2001:db8::1",		1 },
	{ "2001:db8::/127",	"2001:db8::2",		0 },
};

START_TEST(cidr_matching)
{
	const struct match_case	*m = &match_cases[_i];
	struct cidr		 c;
	struct sockaddr_storage	 ss;

	ck_assert_int_eq(cidr_parse(m->cidr, &c), 0);
	ss = mkaddr(m->addr, 123);
	ck_assert_msg(cidr_match(&c, (struct sockaddr *)&ss) == m->match,
	    "%s in %s: want %d", m->addr, m->cidr, m->match);
}
END_TEST

START_TEST(cidr_match_odd)
{
	struct cidr		c;
	struct sockaddr_storage	ss;

	ck_assert_int_eq(cidr_parse("0.0.0.0/0", &c), 0);
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	ck_assert_int_eq(cidr_match(&c, (struct sockaddr *)&ss), 0);
	ck_assert_int_eq(cidr_match(&c, NULL), 0);
	ss = mkaddr("192.0.2.1", 0);
	ck_assert_int_eq(cidr_match(NULL, (struct sockaddr *)&ss), 0);
	ck_assert_int_eq(cidr_match(&c, (struct sockaddr *)&ss), 1);

	/* A corrupt prefix length never matches instead of overreading. */
	c.prefixlen = 33;
	ck_assert_int_eq(cidr_match(&c, (struct sockaddr *)&ss), 0);
}
END_TEST

START_TEST(format)
{
	char			buf[ADDR_STRLEN];
	struct sockaddr_storage	ss;

	ss = mkaddr("192.0.2.1", 123);
	ck_assert_str_eq(addr_ntop((struct sockaddr *)&ss, buf, sizeof(buf)),
	    "192.0.2.1");
	ck_assert_str_eq(addr_format((struct sockaddr *)&ss, buf,
	    sizeof(buf)), "192.0.2.1:123");

	ss = mkaddr("2001:DB8:0::1", 123);
	ck_assert_str_eq(addr_ntop((struct sockaddr *)&ss, buf, sizeof(buf)),
	    "2001:db8::1");
	ck_assert_str_eq(addr_format((struct sockaddr *)&ss, buf,
	    sizeof(buf)), "[2001:db8::1]:123");

	ss = mkaddr("::", 0);
	ck_assert_str_eq(addr_format((struct sockaddr *)&ss, buf,
	    sizeof(buf)), "[::]:0");
}
END_TEST

/* The longest text addr_format() can produce fits ADDR_STRLEN. */
START_TEST(format_longest)
{
	char			 buf[ADDR_STRLEN];
	struct sockaddr_storage	 ss;
	const char		*want =
	    "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535";

	ss = mkaddr("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", 65535);
	addr_format((struct sockaddr *)&ss, buf, sizeof(buf));
	/* inet_ntop may print either form; both must fit. */
	ck_assert_msg(strcmp(buf, want) == 0 ||
	    strcmp(buf, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535")
	    == 0, "got %s", buf);
	ck_assert_uint_lt(strlen(want), ADDR_STRLEN);
}
END_TEST

START_TEST(format_small_buffer)
{
	char			buf[16];
	struct sockaddr_storage	ss;

	ss = mkaddr("192.0.2.1", 123);
	/* "192.0.2.1:123" is 13 characters: 14 bytes fit, 13 do not. */
	ck_assert_str_eq(addr_format((struct sockaddr *)&ss, buf, 14),
	    "192.0.2.1:123");
	ck_assert_str_eq(addr_format((struct sockaddr *)&ss, buf, 13), "?");
	ck_assert_str_eq(addr_ntop((struct sockaddr *)&ss, buf, 10),
	    "192.0.2.1");
	ck_assert_str_eq(addr_ntop((struct sockaddr *)&ss, buf, 9), "?");
	ck_assert_str_eq(addr_ntop((struct sockaddr *)&ss, buf, 0), "?");
	ck_assert_str_eq(addr_format((struct sockaddr *)&ss, buf, 0), "?");
	ck_assert_str_eq(addr_ntop((struct sockaddr *)&ss, NULL, 10), "?");
	ck_assert_str_eq(addr_format((struct sockaddr *)&ss, NULL, 10), "?");

	ss = mkaddr("2001:db8::1", 123);
	ck_assert_str_eq(addr_format((struct sockaddr *)&ss, buf, 16), "?");
}
END_TEST

START_TEST(format_unknown_family)
{
	char			buf[ADDR_STRLEN];
	struct sockaddr_storage	ss;

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	ck_assert_str_eq(addr_ntop((struct sockaddr *)&ss, buf, sizeof(buf)),
	    "?");
	ck_assert_str_eq(addr_format((struct sockaddr *)&ss, buf,
	    sizeof(buf)), "?");
	ck_assert_uint_eq(addr_port((struct sockaddr *)&ss), 0);
	ck_assert_str_eq(addr_ntop(NULL, buf, sizeof(buf)), "?");
	ck_assert_str_eq(addr_format(NULL, buf, sizeof(buf)), "?");
	ck_assert_uint_eq(addr_port(NULL), 0);
}
END_TEST

static Suite *
addr_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("addr");

	tc = tcase_create("parse");
	tcase_add_test(tc, parse_ipv4);
	tcase_add_test(tc, parse_ipv6);
	tcase_add_loop_test(tc, parse_bad, 0,
	    sizeof(bad_addrs) / sizeof(bad_addrs[0]));
	tcase_add_test(tc, parse_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("cidr");
	tcase_add_test(tc, cidr_good);
	tcase_add_loop_test(tc, cidr_bad, 0,
	    sizeof(bad_cidrs) / sizeof(bad_cidrs[0]));
	tcase_add_test(tc, cidr_null);
	tcase_add_loop_test(tc, cidr_matching, 0,
	    sizeof(match_cases) / sizeof(match_cases[0]));
	tcase_add_test(tc, cidr_match_odd);
	suite_add_tcase(s, tc);

	tc = tcase_create("format");
	tcase_add_test(tc, format);
	tcase_add_test(tc, format_longest);
	tcase_add_test(tc, format_small_buffer);
	tcase_add_test(tc, format_unknown_family);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(addr_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
