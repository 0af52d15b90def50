/*
 * Unit tests for ntpd/acl.c: longest prefix wins, the namespace layer
 * wins ties, nothing matching denies, IPv4-mapped clients are IPv4; and a
 * property test against a brute-force reference written here.
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

#include "acl.h"
#include "addr.h"

static struct sockaddr_storage
mkaddr(const char *s)
{
	struct sockaddr_storage	ss;
	socklen_t		len;

	ck_assert_msg(addr_parse(s, 123, &ss, &len) == 0, "bad address %s",
	    s);
	return ss;
}

static void
add(struct acl *acl, const char *prefix, enum acl_action action,
    enum acl_layer layer, int lineno)
{
	struct acl_rule		 r;
	const struct acl_rule	*conflict = (const struct acl_rule *)1;

	memset(&r, 0, sizeof(r));
	ck_assert_msg(cidr_parse(prefix, &r.prefix) == 0, "bad prefix %s",
	    prefix);
	r.action = action;
	r.layer = layer;
	r.lineno = lineno;
	ck_assert_msg(acl_add(acl, &r, &conflict) == 0, "adding %s: %s",
	    prefix, strerror(errno));
	ck_assert_ptr_null(conflict);
}

static enum acl_action
check(const struct acl *acl, const char *addr)
{
	struct sockaddr_storage	ss;

	ss = mkaddr(addr);
	return acl_check(acl, (struct sockaddr *)&ss);
}

/* The line of the deciding rule, 0 for none. */
static int
match_line(const struct acl *acl, const char *addr)
{
	struct sockaddr_storage	 ss;
	const struct acl_rule	*r;

	ss = mkaddr(addr);
	r = acl_match(acl, (struct sockaddr *)&ss);
	return r == NULL ? 0 : r->lineno;
}

START_TEST(empty_denies_all)
{
	struct acl		acl;
	struct sockaddr_storage	ss;

	acl_init(&acl);
	ck_assert_int_eq(check(&acl, "192.0.2.1"), ACL_DENY);
	ck_assert_int_eq(check(&acl, "0.0.0.0"), ACL_DENY);
	ck_assert_int_eq(check(&acl, "2001:db8::1"), ACL_DENY);
	ck_assert_int_eq(check(&acl, "::ffff:192.0.2.1"), ACL_DENY);
	ck_assert_int_eq(match_line(&acl, "192.0.2.1"), 0);
	ck_assert_int_eq(acl_allows_any(&acl), 0);
	ck_assert_int_eq(acl_check(&acl, NULL), ACL_DENY);
	ck_assert_int_eq(acl_check(NULL, NULL), ACL_DENY);
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	ck_assert_int_eq(acl_check(&acl, (struct sockaddr *)&ss), ACL_DENY);
	acl_free(&acl);
	acl_free(&acl);		/* twice is harmless */
	acl_free(NULL);
}
END_TEST

START_TEST(allow_all_v4_only)
{
	struct acl		acl;
	struct sockaddr_storage	ss;

	acl_init(&acl);
	add(&acl, "0.0.0.0/0", ACL_ALLOW, ACL_GLOBAL, 1);
	ck_assert_int_eq(check(&acl, "192.0.2.1"), ACL_ALLOW);
	ck_assert_int_eq(check(&acl, "255.255.255.255"), ACL_ALLOW);
	ck_assert_int_eq(check(&acl, "0.0.0.0"), ACL_ALLOW);
	/* An IPv4 client on a dual-stack socket is still IPv4. */
	ck_assert_int_eq(check(&acl, "::ffff:192.0.2.1"), ACL_ALLOW);
	ck_assert_int_eq(check(&acl, "2001:db8::1"), ACL_DENY);
	ck_assert_int_eq(check(&acl, "::"), ACL_DENY);
	ck_assert_int_eq(check(&acl, "::1"), ACL_DENY);
	/* IPv4-compatible (deprecated) addresses are plain IPv6. */
	ck_assert_int_eq(check(&acl, "::192.0.2.1"), ACL_DENY);
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	ck_assert_int_eq(acl_check(&acl, (struct sockaddr *)&ss), ACL_DENY);
	ck_assert_int_eq(acl_allows_any(&acl), 1);
	acl_free(&acl);
}
END_TEST

static const char *order_prefixes[] = {
	"10.0.0.0/8", "10.1.0.0/16", "10.1.2.3",
};

START_TEST(longest_prefix)
{
	struct acl		acl;
	static const int	perm[6][3] = {
		{ 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
		{ 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 },
	};
	static const enum acl_action	act[3] = {
		ACL_DENY, ACL_ALLOW, ACL_DENY
	};
	int			i, k;

	/* The order the rules come in makes no difference. */
	for (i = 0; i < 6; i++) {
		acl_init(&acl);
		for (k = 0; k < 3; k++)
			add(&acl, order_prefixes[perm[i][k]], act[perm[i][k]],
			    ACL_GLOBAL, perm[i][k] + 1);
		ck_assert_int_eq(check(&acl, "10.0.0.1"), ACL_DENY);
		ck_assert_int_eq(match_line(&acl, "10.0.0.1"), 1);
		ck_assert_int_eq(check(&acl, "10.255.255.255"), ACL_DENY);
		ck_assert_int_eq(check(&acl, "10.1.0.0"), ACL_ALLOW);
		ck_assert_int_eq(match_line(&acl, "10.1.0.0"), 2);
		ck_assert_int_eq(check(&acl, "10.1.2.2"), ACL_ALLOW);
		ck_assert_int_eq(check(&acl, "10.1.2.3"), ACL_DENY);
		ck_assert_int_eq(match_line(&acl, "10.1.2.3"), 3);
		ck_assert_int_eq(check(&acl, "10.1.2.4"), ACL_ALLOW);
		ck_assert_int_eq(check(&acl, "10.1.255.255"), ACL_ALLOW);
		ck_assert_int_eq(check(&acl, "10.2.0.0"), ACL_DENY);
		ck_assert_int_eq(match_line(&acl, "11.0.0.0"), 0);
		ck_assert_int_eq(check(&acl, "11.0.0.0"), ACL_DENY);
		ck_assert_int_eq(check(&acl, "::ffff:10.1.2.3"), ACL_DENY);
		ck_assert_int_eq(check(&acl, "::ffff:10.1.2.4"), ACL_ALLOW);
		ck_assert_int_eq(acl_allows_any(&acl), 1);
		acl_free(&acl);
	}
}
END_TEST

START_TEST(namespace_layer)
{
	struct acl	acl;

	acl_init(&acl);
	add(&acl, "192.0.2.0/24", ACL_ALLOW, ACL_GLOBAL, 1);
	add(&acl, "192.0.2.0/24", ACL_DENY, ACL_NAMESPACE, 2);
	add(&acl, "192.0.2.128/25", ACL_ALLOW, ACL_GLOBAL, 3);
	add(&acl, "198.51.100.0/24", ACL_DENY, ACL_NAMESPACE, 4);
	add(&acl, "198.51.100.0/24", ACL_ALLOW, ACL_GLOBAL, 5);
	add(&acl, "198.51.100.7", ACL_DENY, ACL_GLOBAL, 6);

	/* Equal length: the namespace wins, whichever came first. */
	ck_assert_int_eq(check(&acl, "192.0.2.1"), ACL_DENY);
	ck_assert_int_eq(match_line(&acl, "192.0.2.1"), 2);
	ck_assert_int_eq(check(&acl, "198.51.100.1"), ACL_DENY);
	ck_assert_int_eq(match_line(&acl, "198.51.100.1"), 4);
	/* A longer global rule beats a shorter namespace one. */
	ck_assert_int_eq(check(&acl, "192.0.2.200"), ACL_ALLOW);
	ck_assert_int_eq(match_line(&acl, "192.0.2.200"), 3);
	ck_assert_int_eq(match_line(&acl, "198.51.100.7"), 6);
	ck_assert_int_eq(acl_allows_any(&acl), 1);
	acl_free(&acl);

	/* A namespace widening a global deny. */
	acl_init(&acl);
	add(&acl, "10.0.0.0/8", ACL_DENY, ACL_GLOBAL, 1);
	add(&acl, "10.0.0.0/8", ACL_ALLOW, ACL_NAMESPACE, 2);
	ck_assert_int_eq(check(&acl, "10.9.9.9"), ACL_ALLOW);
	ck_assert_int_eq(match_line(&acl, "10.9.9.9"), 2);
	acl_free(&acl);
}
END_TEST

START_TEST(ipv6_rules)
{
	struct acl	acl;

	acl_init(&acl);
	add(&acl, "2001:db8::/32", ACL_ALLOW, ACL_GLOBAL, 1);
	add(&acl, "2001:db8:1::/48", ACL_DENY, ACL_GLOBAL, 2);
	add(&acl, "2001:db8:1:2::/64", ACL_ALLOW, ACL_NAMESPACE, 3);
	add(&acl, "2001:db8:1:2::1", ACL_DENY, ACL_GLOBAL, 4);
	add(&acl, "2001:db8:8000::/33", ACL_DENY, ACL_NAMESPACE, 5);
	add(&acl, "10.0.0.0/8", ACL_ALLOW, ACL_GLOBAL, 6);

	ck_assert_int_eq(match_line(&acl, "2001:db8::1"), 1);
	ck_assert_int_eq(match_line(&acl, "2001:db8:7fff:ffff::1"), 1);
	ck_assert_int_eq(match_line(&acl, "2001:db8:8000::1"), 5);
	ck_assert_int_eq(match_line(&acl, "2001:db8:1::1"), 2);
	ck_assert_int_eq(match_line(&acl, "2001:db8:1:2::2"), 3);
	ck_assert_int_eq(match_line(&acl, "2001:db8:1:2::1"), 4);
	ck_assert_int_eq(match_line(&acl, "2001:db8:1:3::1"), 2);
	ck_assert_int_eq(match_line(&acl, "2001:db9::1"), 0);
	ck_assert_int_eq(check(&acl, "2001:db8:1:2::2"), ACL_ALLOW);
	ck_assert_int_eq(check(&acl, "2001:db8:1:2::1"), ACL_DENY);
	/* No cross-family matching, either way. */
	ck_assert_int_eq(match_line(&acl, "::a00:1"), 0);
	ck_assert_int_eq(match_line(&acl, "10.0.0.1"), 6);
	ck_assert_int_eq(match_line(&acl, "32.1.13.184"), 0);
	acl_free(&acl);
}
END_TEST

START_TEST(mapped_v4)
{
	struct acl		 acl;
	struct acl_rule		 r;
	const struct acl_rule	*conflict;
	char			 buf[INET_ADDRSTRLEN];

	acl_init(&acl);
	add(&acl, "::/0", ACL_ALLOW, ACL_GLOBAL, 1);
	add(&acl, "10.0.0.0/8", ACL_ALLOW, ACL_GLOBAL, 2);
	/* ::/0 says nothing about IPv4 clients, mapped or not. */
	ck_assert_int_eq(match_line(&acl, "::ffff:192.0.2.1"), 0);
	ck_assert_int_eq(match_line(&acl, "::ffff:10.1.2.3"), 2);
	ck_assert_int_eq(match_line(&acl, "::ffff:0:1"), 0);
	ck_assert_int_eq(match_line(&acl, "::fffe:0:1"), 1);
	ck_assert_int_eq(match_line(&acl, "::1:0:0:1"), 1);

	/* An IPv6 rule spelt inside ::ffff:0:0/96 is the IPv4 rule. */
	add(&acl, "::ffff:192.0.2.0/120", ACL_DENY, ACL_NAMESPACE, 3);
	ck_assert_int_eq(match_line(&acl, "192.0.2.9"), 3);
	ck_assert_int_eq(match_line(&acl, "::ffff:192.0.2.9"), 3);
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(cidr_parse("::ffff:10.0.0.0/104", &r.prefix), 0);
	r.action = ACL_DENY;
	r.layer = ACL_GLOBAL;
	r.lineno = 4;
	ck_assert_int_eq(acl_add(&acl, &r, &conflict), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_ptr_nonnull(conflict);
	ck_assert_int_eq(conflict->lineno, 2);
	ck_assert_int_eq(conflict->prefix.family, AF_INET);
	ck_assert_uint_eq(conflict->prefix.prefixlen, 8);
	ck_assert_str_eq(inet_ntop(AF_INET, conflict->prefix.addr, buf,
	    sizeof(buf)), "10.0.0.0");

	/* The whole mapped range is 0.0.0.0/0. */
	ck_assert_int_eq(cidr_parse("::ffff:0:0/96", &r.prefix), 0);
	r.action = ACL_ALLOW;
	r.lineno = 5;
	ck_assert_int_eq(acl_add(&acl, &r, &conflict), 0);
	ck_assert_int_eq(match_line(&acl, "203.0.113.1"), 5);
	ck_assert_int_eq(match_line(&acl, "::ffff:203.0.113.1"), 5);
	ck_assert_int_eq(match_line(&acl, "2001:db8::1"), 1);
	acl_free(&acl);
}
END_TEST

START_TEST(conflicts)
{
	struct acl		 acl;
	struct acl_rule		 r;
	const struct acl_rule	*conflict;
	int			 i;

	acl_init(&acl);
	add(&acl, "192.0.2.0/24", ACL_ALLOW, ACL_GLOBAL, 10);
	add(&acl, "2001:db8::/32", ACL_DENY, ACL_NAMESPACE, 11);

	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(cidr_parse("192.0.2.0/24", &r.prefix), 0);
	r.layer = ACL_GLOBAL;
	r.lineno = 20;
	/* Same prefix, same layer: refused, whatever the action. */
	for (i = 0; i < 2; i++) {
		r.action = i == 0 ? ACL_DENY : ACL_ALLOW;
		conflict = NULL;
		errno = 0;
		ck_assert_int_eq(acl_add(&acl, &r, &conflict), -1);
		ck_assert_int_eq(errno, EEXIST);
		ck_assert_ptr_nonnull(conflict);
		ck_assert_int_eq(conflict->lineno, 10);
		ck_assert_int_eq(conflict->action, ACL_ALLOW);
	}
	/* The conflict pointer is optional. */
	ck_assert_int_eq(acl_add(&acl, &r, NULL), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_uint_eq(acl.nrules, 2);

	/* The other layer may say the opposite. */
	r.layer = ACL_NAMESPACE;
	r.action = ACL_DENY;
	conflict = &r;
	ck_assert_int_eq(acl_add(&acl, &r, &conflict), 0);
	ck_assert_ptr_null(conflict);
	/* Another length or family is another prefix. */
	r.layer = ACL_GLOBAL;
	ck_assert_int_eq(cidr_parse("192.0.2.0/25", &r.prefix), 0);
	ck_assert_int_eq(acl_add(&acl, &r, &conflict), 0);
	ck_assert_int_eq(cidr_parse("2001:db8::/32", &r.prefix), 0);
	ck_assert_int_eq(acl_add(&acl, &r, &conflict), 0);
	r.layer = ACL_NAMESPACE;
	ck_assert_int_eq(acl_add(&acl, &r, &conflict), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(conflict->lineno, 11);
	ck_assert_uint_eq(acl.nrules, 5);
	acl_free(&acl);
}
END_TEST

START_TEST(bad_rules)
{
	struct acl		 acl;
	struct acl_rule		 r, good;
	const struct acl_rule	*conflict;

	acl_init(&acl);
	memset(&good, 0, sizeof(good));
	ck_assert_int_eq(cidr_parse("192.0.2.0/24", &good.prefix), 0);
	good.action = ACL_ALLOW;
	good.layer = ACL_GLOBAL;

	r = good;
	r.prefix.family = AF_UNIX;
	conflict = &good;
	ck_assert_int_eq(acl_add(&acl, &r, &conflict), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(conflict);
	r = good;
	r.prefix.prefixlen = 33;
	ck_assert_int_eq(acl_add(&acl, &r, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	r = good;
	r.prefix.addr[3] = 1;		/* host bit */
	ck_assert_int_eq(acl_add(&acl, &r, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	r = good;
	r.prefix.family = AF_INET6;
	r.prefix.prefixlen = 129;
	ck_assert_int_eq(acl_add(&acl, &r, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	r = good;
	r.action = (enum acl_action)7;
	ck_assert_int_eq(acl_add(&acl, &r, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	r = good;
	r.layer = (enum acl_layer)7;
	ck_assert_int_eq(acl_add(&acl, &r, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(acl_add(&acl, NULL, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(acl_add(NULL, &good, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_uint_eq(acl.nrules, 0);

	/* Bytes an IPv4 prefix does not use do not make another prefix. */
	r = good;
	r.prefix.addr[9] = 0x42;
	ck_assert_int_eq(acl_add(&acl, &r, NULL), 0);
	ck_assert_int_eq(acl_add(&acl, &good, &conflict), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(check(&acl, "192.0.2.1"), ACL_ALLOW);
	acl_free(&acl);
}
END_TEST

static int
allows_any_of(const char *const *spec)
{
	struct acl	acl;
	int		i, res;
	enum acl_layer	layer;
	enum acl_action	action;

	acl_init(&acl);
	for (i = 0; spec[i] != NULL; i++) {
		/* "+g 10.0.0.0/8": allow, global; "-n ...": deny, namespace */
		action = spec[i][0] == '+' ? ACL_ALLOW : ACL_DENY;
		layer = spec[i][1] == 'n' ? ACL_NAMESPACE : ACL_GLOBAL;
		add(&acl, spec[i] + 3, action, layer, i + 1);
	}
	res = acl_allows_any(&acl);
	acl_free(&acl);
	return res;
}

START_TEST(allows_any)
{
	static const char *const	 only_deny[] = {
		"-g 0.0.0.0/0", "-g ::/0", "-n 10.0.0.0/8", NULL };
	static const char *const	 shadowed[] = {
		"-g 0.0.0.0/0", "+g 10.0.0.0/8", "-n 10.0.0.0/8", NULL };
	static const char *const	 ns_wins[] = {
		"+n 10.0.0.0/8", "-g 10.0.0.0/8", NULL };
	static const char *const	 halves[] = {
		"+g 192.0.2.0/24", "-g 192.0.2.0/25", "-n 192.0.2.128/25",
		NULL };
	static const char *const	 half[] = {
		"+g 192.0.2.0/24", "-g 192.0.2.0/25", NULL };
	static const char *const	 deep[] = {
		"+g 192.0.2.0/30", "-g 192.0.2.0/31", "-g 192.0.2.2",
		"-g 192.0.2.3", NULL };
	static const char *const	 deep_hole[] = {
		"+g 192.0.2.0/30", "-g 192.0.2.0/31", "-g 192.0.2.2",
		"+g 192.0.2.3", NULL };
	static const char *const	 all6[] = {
		"+g ::/0", "-g ::/1", "-g 8000::/1", NULL };
	static const char *const	 all4[] = {
		"+g 0.0.0.0/0", "-g 0.0.0.0/1", "-g 128.0.0.0/1", NULL };
	static const char *const	 host[] = {
		"-g ::/0", "+n 2001:db8::1", NULL };
	/* ::fffe:0:0/95 is ::fffe:0:0/96 and the mapped (IPv4) range. */
	static const char *const	 mapped_half[] = {
		"+g ::fffe:0:0/95", "-g ::fffe:0:0/96", NULL };
	static const char *const	 mapped_rest[] = {
		"+g ::fffe:0:0/95", "-g ::fffe:0:0/97", NULL };
	/* Two halves of 2^63 addresses: the count carries. */
	static const char *const	 carry[] = {
		"+g 2001:db8::/64", "-g 2001:db8::/65",
		"-n 2001:db8::8000:0:0:0/65", NULL };
	static const char *const	 nested_allow[] = {
		"+g 10.0.0.0/8", "-g 10.0.0.0/9", "+g 10.128.0.0/9",
		"-g 10.128.0.0/10", "-g 10.192.0.0/10", NULL };

	ck_assert_int_eq(allows_any_of(only_deny), 0);
	ck_assert_int_eq(allows_any_of(shadowed), 0);
	ck_assert_int_eq(allows_any_of(ns_wins), 1);
	ck_assert_int_eq(allows_any_of(halves), 0);
	ck_assert_int_eq(allows_any_of(half), 1);
	ck_assert_int_eq(allows_any_of(deep), 0);
	ck_assert_int_eq(allows_any_of(deep_hole), 1);
	ck_assert_int_eq(allows_any_of(all6), 0);
	ck_assert_int_eq(allows_any_of(all4), 0);
	ck_assert_int_eq(allows_any_of(host), 1);
	ck_assert_int_eq(allows_any_of(mapped_half), 0);
	ck_assert_int_eq(allows_any_of(mapped_rest), 1);
	ck_assert_int_eq(allows_any_of(carry), 0);
	ck_assert_int_eq(allows_any_of(nested_allow), 0);
	ck_assert_int_eq(acl_allows_any(NULL), 0);
}
END_TEST

/* Many rules: the array grows and every rule stays findable. */
START_TEST(many_rules)
{
	struct acl	acl;
	struct acl_rule	r;
	char		buf[INET6_ADDRSTRLEN + 8];
	int		i;

	acl_init(&acl);
	memset(&r, 0, sizeof(r));
	for (i = 0; i < 3000; i++) {
		snprintf(buf, sizeof(buf), "10.%d.%d.0/24", i / 256, i % 256);
		ck_assert_int_eq(cidr_parse(buf, &r.prefix), 0);
		r.action = i % 2 ? ACL_ALLOW : ACL_DENY;
		r.layer = i % 3 ? ACL_GLOBAL : ACL_NAMESPACE;
		r.lineno = i + 1;
		ck_assert_int_eq(acl_add(&acl, &r, NULL), 0);
	}
	ck_assert_uint_eq(acl.nrules, 3000);
	ck_assert_uint_ge(acl.cap, 3000);
	for (i = 0; i < 3000; i++) {
		snprintf(buf, sizeof(buf), "10.%d.%d.77", i / 256, i % 256);
		ck_assert_int_eq(match_line(&acl, buf), i + 1);
	}
	ck_assert_int_eq(match_line(&acl, "10.11.184.1"), 0);
	acl_free(&acl);
	ck_assert_ptr_null(acl.rules);
	ck_assert_uint_eq(acl.nrules, 0);
}
END_TEST

/*
 * The reference: every rule is tried bit by bit, the winner is picked by
 * length, then layer.  Nothing here shares code with acl.c.
 */

struct ref_rule {
	int		family;
	uint8_t		addr[16];
	unsigned int	len;
	int		layer;
	int		action;
	int		lineno;
};

static uint64_t	rng_state;

static uint64_t
rng(void)
{
	/* splitmix64: a fixed seed gives the same cases every run. */
	uint64_t	z;

	z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned int
rnd(unsigned int n)
{
	return (unsigned int)(rng() % n);
}

static int
bit(const uint8_t *a, unsigned int i)
{
	return (a[i / 8] >> (7 - i % 8)) & 1;
}

/* The family and bytes a client's address is judged by. */
static void
ref_client(const struct sockaddr_storage *ss, int *family, uint8_t a[16])
{
	const struct sockaddr_in	*sin = (const void *)ss;
	const struct sockaddr_in6	*sin6 = (const void *)ss;
	const uint8_t			*b;
	int				 i, mapped = 1;

	memset(a, 0, 16);
	if (ss->ss_family == AF_INET) {
		*family = AF_INET;
		memcpy(a, &sin->sin_addr, 4);
		return;
	}
	b = sin6->sin6_addr.s6_addr;
	for (i = 0; i < 10; i++)
		if (b[i] != 0)
			mapped = 0;
	if (b[10] != 0xff || b[11] != 0xff)
		mapped = 0;
	if (mapped) {
		*family = AF_INET;
		memcpy(a, b + 12, 4);
	} else {
		*family = AF_INET6;
		memcpy(a, b, 16);
	}
}

static void
ref_rule_from(const struct acl_rule *r, struct ref_rule *rr)
{
	struct sockaddr_storage	ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;

	/* Judge the rule's own address as a client would be judged. */
	memset(&ss, 0, sizeof(ss));
	if (r->prefix.family == AF_INET) {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, r->prefix.addr, 4);
		rr->len = r->prefix.prefixlen;
	} else {
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, r->prefix.addr, 16);
		rr->len = r->prefix.prefixlen;
	}
	ref_client(&ss, &rr->family, rr->addr);
	if (r->prefix.family == AF_INET6 && rr->family == AF_INET)
		rr->len -= 96;
	rr->layer = r->layer;
	rr->action = r->action;
	rr->lineno = r->lineno;
}

static int
ref_rule_matches(const struct ref_rule *rr, int family, const uint8_t *a)
{
	unsigned int	i;

	if (rr->family != family)
		return 0;
	for (i = 0; i < rr->len; i++)
		if (bit(rr->addr, i) != bit(a, i))
			return 0;
	return 1;
}

static const struct ref_rule *
ref_match(const struct ref_rule *rules, size_t n,
    const struct sockaddr_storage *ss)
{
	const struct ref_rule	*best = NULL;
	uint8_t			 a[16];
	int			 family;
	size_t			 i;

	ref_client(ss, &family, a);
	for (i = 0; i < n; i++) {
		if (!ref_rule_matches(&rules[i], family, a))
			continue;
		if (best == NULL || rules[i].len > best->len ||
		    (rules[i].len == best->len &&
		    rules[i].layer == ACL_NAMESPACE))
			best = &rules[i];
	}
	return best;
}

static int
ref_same(const struct ref_rule *a, const struct ref_rule *b)
{
	return a->family == b->family && a->len == b->len &&
	    a->layer == b->layer && ref_rule_matches(a, b->family, b->addr);
}

/* Addresses near a small set, so that rules and clients meet often. */
static void
random_bytes(int family, uint8_t a[16])
{
	unsigned int	i;

	memset(a, 0, 16);
	if (family == AF_INET) {
		a[0] = 10;
		a[2] = (uint8_t)rnd(2);
		a[3] = (uint8_t)rnd(256);
		if (rnd(16) == 0)
			for (i = 0; i < 4; i++)
				a[i] = (uint8_t)rnd(256);
		return;
	}
	a[0] = 0x20;
	a[1] = 0x01;
	a[2] = 0x0d;
	a[3] = 0xb8;
	a[7] = (uint8_t)rnd(2);
	a[15] = (uint8_t)rnd(256);
	if (rnd(16) == 0)
		for (i = 0; i < 16; i++)
			a[i] = (uint8_t)rnd(256);
}

static void
random_rule(struct acl_rule *r, unsigned int allow_in_16)
{
	unsigned int	maxlen, len, i;

	memset(r, 0, sizeof(*r));
	r->prefix.family = rnd(3) == 0 ? AF_INET6 : AF_INET;
	random_bytes(r->prefix.family, r->prefix.addr);
	maxlen = r->prefix.family == AF_INET ? 32 : 128;
	/* Mostly long prefixes, which nest; now and then a short one. */
	if (rnd(8) == 0)
		len = rnd(maxlen + 1);
	else
		len = maxlen - rnd(10);
	if (r->prefix.family == AF_INET && rnd(4) == 0) {
		/* The same IPv4 prefix spelt as IPv4-mapped IPv6. */
		memmove(r->prefix.addr + 12, r->prefix.addr, 4);
		memset(r->prefix.addr, 0, 12);
		r->prefix.addr[10] = r->prefix.addr[11] = 0xff;
		r->prefix.family = AF_INET6;
		maxlen = 128;
		len += 96;
	}
	for (i = len; i < maxlen; i++)
		r->prefix.addr[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
	r->prefix.prefixlen = len;
	r->action = rnd(16) < allow_in_16 ? ACL_ALLOW : ACL_DENY;
	r->layer = rnd(2) ? ACL_NAMESPACE : ACL_GLOBAL;
}

static void
random_client(struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	uint8_t			 a[16];

	memset(ss, 0, sizeof(*ss));
	switch (rnd(3)) {
	case 0:
		random_bytes(AF_INET, a);
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, a, 4);
		break;
	case 1:
		random_bytes(AF_INET, a);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr.s6_addr[10] = 0xff;
		sin6->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&sin6->sin6_addr.s6_addr[12], a, 4);
		break;
	default:
		random_bytes(AF_INET6, a);
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, a, 16);
		break;
	}
}

/* Next address (with carry) in place; 0 when it wrapped. */
static int
addr_next(uint8_t *a, unsigned int nbytes)
{
	unsigned int	i;

	for (i = nbytes; i-- > 0; ) {
		a[i] = (uint8_t)(a[i] + 1);
		if (a[i] != 0)
			return 1;
	}
	return 0;
}

static void
set_client(struct sockaddr_storage *ss, int family, const uint8_t *a)
{
	memset(ss, 0, sizeof(*ss));
	ss->ss_family = (sa_family_t)family;
	if (family == AF_INET)
		memcpy(&((struct sockaddr_in *)ss)->sin_addr, a, 4);
	else
		memcpy(&((struct sockaddr_in6 *)ss)->sin6_addr, a, 16);
}

/*
 * Does any client get allowed?  The decision only changes where a prefix
 * starts or ends, so the first address of every piece is enough: 0, each
 * rule's first address, the address after each rule's last, and the
 * edges of ::ffff:0:0/96.
 */
static int
ref_allows_any(const struct ref_rule *rules, size_t n)
{
	struct sockaddr_storage	 ss;
	const struct ref_rule	*m;
	uint8_t			 a[16];
	size_t			 i;
	unsigned int		 nbytes, k;
	int			 f, fam;
	static const uint8_t	 mapped_lo[16] = { [10] = 0xff, [11] = 0xff };
	static const uint8_t	 mapped_end[16] = { [9] = 0x01 };

	for (f = 0; f < 2; f++) {
		fam = f == 0 ? AF_INET : AF_INET6;
		nbytes = fam == AF_INET ? 4 : 16;
		memset(a, 0, sizeof(a));
		set_client(&ss, fam, a);
		if ((m = ref_match(rules, n, &ss)) && m->action == ACL_ALLOW)
			return 1;
		if (fam == AF_INET6) {
			set_client(&ss, fam, mapped_lo);
			if ((m = ref_match(rules, n, &ss)) &&
			    m->action == ACL_ALLOW)
				return 1;
			set_client(&ss, fam, mapped_end);
			if ((m = ref_match(rules, n, &ss)) &&
			    m->action == ACL_ALLOW)
				return 1;
		}
		for (i = 0; i < n; i++) {
			if (rules[i].family != fam)
				continue;
			memcpy(a, rules[i].addr, sizeof(a));
			set_client(&ss, fam, a);
			if ((m = ref_match(rules, n, &ss)) &&
			    m->action == ACL_ALLOW)
				return 1;
			/* The last address, then one more. */
			for (k = rules[i].len; k < nbytes * 8; k++)
				a[k / 8] |= (uint8_t)(0x80 >> (k % 8));
			if (!addr_next(a, nbytes))
				continue;
			set_client(&ss, fam, a);
			if ((m = ref_match(rules, n, &ss)) &&
			    m->action == ACL_ALLOW)
				return 1;
		}
	}
	return 0;
}

/*
 * The deepest trees: every length of two IPv6 addresses (one of them
 * IPv4-mapped, so its chain turns IPv4 at /96), in both layers.
 */
START_TEST(deep_nesting)
{
	static const char	*const addrs[] = {
		"2001:db8::1", "::ffff:192.0.2.1", "::1"
	};
	struct acl		 acl;
	struct acl_rule		 r;
	struct ref_rule		*ref;
	struct sockaddr_storage	 ss;
	const struct ref_rule	*want;
	const struct acl_rule	*got;
	size_t			 i, k;
	unsigned int		 len, variant, anys = 0;
	int			 rc;

	rng_state = 99;
	for (variant = 0; variant < 40; variant++) {
		acl_init(&acl);
		for (i = 0; i < 3; i++) {
			for (len = 0; len <= 128; len++) {
				memset(&r, 0, sizeof(r));
				ck_assert_int_eq(cidr_parse(addrs[i],
				    &r.prefix), 0);
				for (k = len; k < 128; k++)
					r.prefix.addr[k / 8] &=
					    (uint8_t)~(0x80 >> (k % 8));
				r.prefix.prefixlen = len;
				r.lineno = (int)(i * 1000 + len);
				/* Mostly deny, so that allows can vanish. */
				r.action = rnd(variant % 2 ? 4 : 512) == 0 ?
				    ACL_ALLOW : ACL_DENY;
				r.layer = ACL_GLOBAL;
				rc = acl_add(&acl, &r, NULL);
				ck_assert(rc == 0 || errno == EEXIST);
				if (rnd(2) == 0)
					continue;
				r.layer = ACL_NAMESPACE;
				r.action = rnd(variant % 2 ? 2 : 512) == 0 ?
				    ACL_ALLOW : ACL_DENY;
				r.lineno += 500;
				rc = acl_add(&acl, &r, NULL);
				ck_assert(rc == 0 || errno == EEXIST);
			}
		}
		ref = calloc(acl.nrules, sizeof(*ref));
		ck_assert_ptr_nonnull(ref);
		for (i = 0; i < acl.nrules; i++)
			ref_rule_from(&acl.rules[i], &ref[i]);
		rc = ref_allows_any(ref, acl.nrules);
		anys += rc;
		ck_assert_int_eq(acl_allows_any(&acl), rc);
		for (k = 0; k < 1000; k++) {
			random_client(&ss);
			if (k < 3)
				ss = mkaddr(addrs[k]);
			got = acl_match(&acl, (struct sockaddr *)&ss);
			want = ref_match(ref, acl.nrules, &ss);
			if (want == NULL)
				ck_assert_ptr_null(got);
			else {
				ck_assert_ptr_nonnull(got);
				ck_assert_int_eq(got->lineno, want->lineno);
			}
		}
		free(ref);
		acl_free(&acl);
	}
	ck_assert_uint_gt(anys, 0);
	ck_assert_uint_lt(anys, 40);
}
END_TEST

#define PROP_SETS	1000
#define PROP_CLIENTS	100
#define PROP_MAXRULES	48

START_TEST(property)
{
	struct acl		 acl;
	struct acl_rule		 r;
	struct ref_rule		 ref[PROP_MAXRULES], rr, cr;
	const struct acl_rule	*got, *conflict;
	const struct ref_rule	*want;
	struct sockaddr_storage	 ss;
	size_t			 nref, i;
	unsigned int		 set, k, nrules, cases = 0, hits = 0;
	unsigned int		 dups = 0, anys = 0, allow_in_16;
	int			 rc, dup;

	rng_state = 20261121;
	for (set = 0; set < PROP_SETS; set++) {
		acl_init(&acl);
		nref = 0;
		nrules = rnd(PROP_MAXRULES + 1);
		/* Some sets mostly deny, so that allows_any() says both. */
		allow_in_16 = 1 + rnd(8);
		for (k = 0; k < nrules; k++) {
			random_rule(&r, allow_in_16);
			r.lineno = (int)k + 1;
			ref_rule_from(&r, &rr);
			dup = 0;
			for (i = 0; i < nref; i++)
				if (ref_same(&ref[i], &rr))
					dup = 1;
			rc = acl_add(&acl, &r, &conflict);
			if (dup) {
				dups++;
				ck_assert_int_eq(rc, -1);
				ck_assert_int_eq(errno, EEXIST);
				ck_assert_ptr_nonnull(conflict);
				ref_rule_from(conflict, &cr);
				ck_assert(ref_same(&cr, &rr));
				continue;
			}
			ck_assert_int_eq(rc, 0);
			ref[nref++] = rr;
		}
		ck_assert_uint_eq(acl.nrules, nref);
		for (k = 0; k < PROP_CLIENTS; k++) {
			random_client(&ss);
			got = acl_match(&acl, (struct sockaddr *)&ss);
			want = ref_match(ref, nref, &ss);
			cases++;
			if (want == NULL) {
				ck_assert_ptr_null(got);
				ck_assert_int_eq(acl_check(&acl,
				    (struct sockaddr *)&ss), ACL_DENY);
				continue;
			}
			hits++;
			ck_assert_ptr_nonnull(got);
			ck_assert_int_eq(got->lineno, want->lineno);
			ck_assert_int_eq(acl_check(&acl,
			    (struct sockaddr *)&ss), (int)want->action);
		}
		rc = ref_allows_any(ref, nref);
		anys += rc;
		ck_assert_int_eq(acl_allows_any(&acl), rc);
		acl_free(&acl);
	}
	ck_assert_uint_eq(cases, PROP_SETS * PROP_CLIENTS);
	/* The cases exercise something: matches, duplicates, both answers. */
	ck_assert_uint_gt(hits, cases / 4);
	ck_assert_uint_lt(hits, cases - cases / 20);
	ck_assert_uint_gt(dups, 100);
	ck_assert_uint_gt(anys, PROP_SETS / 4);
	ck_assert_uint_lt(anys, PROP_SETS - PROP_SETS / 20);
}
END_TEST

static Suite *
acl_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("acl");

	tc = tcase_create("match");
	tcase_add_test(tc, empty_denies_all);
	tcase_add_test(tc, allow_all_v4_only);
	tcase_add_test(tc, longest_prefix);
	tcase_add_test(tc, namespace_layer);
	tcase_add_test(tc, ipv6_rules);
	tcase_add_test(tc, mapped_v4);
	suite_add_tcase(s, tc);

	tc = tcase_create("add");
	tcase_add_test(tc, conflicts);
	tcase_add_test(tc, bad_rules);
	tcase_add_test(tc, allows_any);
	tcase_add_test(tc, many_rules);
	suite_add_tcase(s, tc);

	tc = tcase_create("property");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, property);
	tcase_add_test(tc, deep_nesting);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(acl_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
