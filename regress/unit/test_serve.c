/*
 * serve_request(): what a server answers, to whom, and what it never
 * does (answer longer than asked, answer control modes, answer before
 * the rules allow).
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"

static struct acl		 acl;
static struct serve_ctx		 ctx;
static struct sockaddr_in	 client4;
static struct sockaddr_in6	 client6;
static const struct ntp_ts	 rx = { 0xe0000000u, 0x80000000u };
static const struct ntp_ts	 client_tx = { 0xdfffffffu, 0x12345678u };

static void
add_rule(const char *prefix, enum acl_action action, int kod)
{
	struct acl_rule		 r;
	const struct acl_rule	*conflict;

	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(cidr_parse(prefix, &r.prefix), 0);
	r.action = action;
	r.layer = ACL_GLOBAL;
	r.kod = kod;
	ck_assert_int_eq(acl_add(&acl, &r, &conflict), 0);
}

static void
setup(void)
{
	acl_init(&acl);
	memset(&ctx, 0, sizeof(ctx));
	ctx.acl = &acl;
	ctx.state.leap = NTP_LEAP_UNSYNC;
	ctx.state.stratum = NTP_MAX_STRATUM;
	ctx.state.precision = -24;
	memset(&client4, 0, sizeof(client4));
	client4.sin_family = AF_INET;
	client4.sin_port = htons(40000);
	inet_pton(AF_INET, "192.0.2.10", &client4.sin_addr);
	memset(&client6, 0, sizeof(client6));
	client6.sin6_family = AF_INET6;
	client6.sin6_port = htons(40000);
	inet_pton(AF_INET6, "2001:db8::10", &client6.sin6_addr);
}

static void
teardown(void)
{
	if (ctx.ratelimit != NULL)
		ratelimit_free(ctx.ratelimit);
	acl_free(&acl);
}

/* A request as a client sends it, of len bytes (>= 48). */
static void
request(unsigned char *buf, size_t len, int version, int mode)
{
	struct ntp_packet	 p;

	memset(&p, 0, sizeof(p));
	p.leap = NTP_LEAP_UNSYNC;
	p.version = version;
	p.mode = mode;
	p.poll = 6;
	p.transmit = client_tx;
	memset(buf, 0xa5, len);
	ck_assert_int_eq(ntp_encode(&p, buf, len), NTP_HEADER_SIZE);
}

static enum serve_verdict
ask(const void *from, size_t len, int version, int mode,
    struct ntp_packet *answer)
{
	unsigned char		 req[512], out[NTP_HEADER_SIZE];
	enum serve_verdict	 v;

	request(req, len, version, mode);
	memset(out, 0, sizeof(out));
	v = serve_request(&ctx, req, len, from, rx, 1000000000ULL, out);
	if (serve_verdict_sends(v))
		ck_assert_int_eq(ntp_decode(out, sizeof(out), answer), 0);
	return v;
}

START_TEST(unsynchronised_reply)
{
	struct ntp_packet	 a;

	add_rule("192.0.2.0/24", ACL_ALLOW, 0);
	ck_assert_int_eq(ask(&client4, 48, 4, NTP_MODE_CLIENT, &a),
	    SERVE_REPLY);
	ck_assert_int_eq(a.leap, NTP_LEAP_UNSYNC);
	ck_assert_int_eq(a.stratum, NTP_MAX_STRATUM);
	ck_assert_int_eq(a.mode, NTP_MODE_SERVER);
	ck_assert_int_eq(a.version, 4);
	ck_assert_int_eq(a.poll, 6);
	ck_assert_int_eq(a.precision, -24);
	ck_assert(ntp_ts_equal(a.origin, client_tx));
	ck_assert(ntp_ts_equal(a.receive, rx));
	ck_assert(ntp_ts_is_zero(a.transmit));	/* the caller's, later */
	ck_assert_uint_eq(ctx.counters.replies, 1);
}
END_TEST

START_TEST(synchronised_reply)
{
	struct ntp_packet	 a;
	const uint8_t		 refid[4] = { 192, 0, 2, 1 };

	add_rule("192.0.2.0/24", ACL_ALLOW, 0);
	ctx.state.synced = 1;
	ctx.state.leap = NTP_LEAP_ADD;
	ctx.state.stratum = 3;
	ctx.state.root_delay = 0x00000123;
	ctx.state.root_dispersion = 0x00000456;
	memcpy(ctx.state.refid, refid, 4);
	ctx.state.reference.sec = 0xdffffff0u;
	ck_assert_int_eq(ask(&client4, 48, 3, NTP_MODE_CLIENT, &a),
	    SERVE_REPLY);
	ck_assert_int_eq(a.leap, NTP_LEAP_ADD);
	ck_assert_int_eq(a.stratum, 3);
	ck_assert_int_eq(a.version, 3);		/* echoed */
	ck_assert_uint_eq(a.root_delay, 0x123);
	ck_assert_uint_eq(a.root_dispersion, 0x456);
	ck_assert_mem_eq(a.refid, refid, 4);
	ck_assert_uint_eq(a.reference.sec, 0xdffffff0u);
}
END_TEST

START_TEST(local_stratum_when_unsynchronised)
{
	struct ntp_packet	 a;

	add_rule("192.0.2.0/24", ACL_ALLOW, 0);
	ctx.policy.local_stratum = 8;
	ck_assert_int_eq(ask(&client4, 48, 4, NTP_MODE_CLIENT, &a),
	    SERVE_REPLY);
	ck_assert_int_eq(a.leap, NTP_LEAP_NONE);
	ck_assert_int_eq(a.stratum, 8);
	ck_assert_mem_eq(a.refid, "LOCL", 4);
	ck_assert(ntp_ts_equal(a.reference, rx));
	/* A validated clock wins over the local one. */
	ctx.state.synced = 1;
	ctx.state.leap = NTP_LEAP_NONE;
	ctx.state.stratum = 2;
	ck_assert_int_eq(ask(&client4, 48, 4, NTP_MODE_CLIENT, &a),
	    SERVE_REPLY);
	ck_assert_int_eq(a.stratum, 2);
}
END_TEST

START_TEST(deny_by_default)
{
	struct ntp_packet	 a;

	ck_assert_int_eq(ask(&client4, 48, 4, NTP_MODE_CLIENT, &a),
	    SERVE_DROP_DENIED);
	ck_assert_int_eq(ask(&client6, 48, 4, NTP_MODE_CLIENT, &a),
	    SERVE_DROP_DENIED);
	add_rule("192.0.2.0/24", ACL_ALLOW, 0);
	ck_assert_int_eq(ask(&client6, 48, 4, NTP_MODE_CLIENT, &a),
	    SERVE_DROP_DENIED);
	ck_assert_uint_eq(ctx.counters.denied, 3);
	ck_assert_uint_eq(ctx.counters.replies, 0);
}
END_TEST

START_TEST(deny_with_kod)
{
	struct ntp_packet	 a;

	add_rule("192.0.2.0/24", ACL_ALLOW, 0);
	add_rule("192.0.2.10", ACL_DENY, 1);
	ck_assert_int_eq(ask(&client4, 48, 4, NTP_MODE_CLIENT, &a),
	    SERVE_KOD_DENY);
	ck_assert_int_eq(a.stratum, 0);
	ck_assert_int_eq(a.leap, NTP_LEAP_UNSYNC);
	ck_assert_mem_eq(a.refid, "DENY", 4);
	/* It passes the origin check and tells nothing of our clock. */
	ck_assert(ntp_ts_equal(a.origin, client_tx));
	ck_assert(ntp_ts_equal(a.receive, client_tx));
	ck_assert(ntp_ts_equal(a.transmit, client_tx));
	ck_assert_uint_eq(ctx.counters.kod, 1);
	ck_assert_uint_eq(ctx.counters.denied, 1);
}
END_TEST

START_TEST(not_client_requests)
{
	struct ntp_packet	 a;
	int			 mode;

	add_rule("0.0.0.0/0", ACL_ALLOW, 0);
	for (mode = 0; mode < 8; mode++) {
		if (mode == NTP_MODE_CLIENT)
			continue;
		ck_assert_int_eq(ask(&client4, 48, 4, mode, &a),
		    mode == 6 || mode == 7 ? SERVE_DROP_CONTROL :
		    SERVE_DROP_MODE);
	}
	ck_assert_uint_eq(ctx.counters.ignored, 7);
	ck_assert_uint_eq(ctx.counters.replies, 0);
}
END_TEST

START_TEST(malformed)
{
	unsigned char		 req[48], out[NTP_HEADER_SIZE];
	struct ntp_packet	 a;

	add_rule("0.0.0.0/0", ACL_ALLOW, 0);
	request(req, sizeof(req), 4, NTP_MODE_CLIENT);
	ck_assert_int_eq(serve_request(&ctx, req, 47,
	    (struct sockaddr *)&client4, rx, 0, out), SERVE_DROP_MALFORMED);
	ck_assert_int_eq(serve_request(&ctx, req, 0,
	    (struct sockaddr *)&client4, rx, 0, out), SERVE_DROP_MALFORMED);
	ck_assert_int_eq(ask(&client4, 48, 0, NTP_MODE_CLIENT, &a),
	    SERVE_DROP_MALFORMED);
	ck_assert_int_eq(ask(&client4, 48, 5, NTP_MODE_CLIENT, &a),
	    SERVE_DROP_MALFORMED);
	ck_assert_int_eq(ask(&client4, 48, 1, NTP_MODE_CLIENT, &a),
	    SERVE_REPLY);
	ck_assert_uint_eq(ctx.counters.malformed, 4);
	ck_assert_uint_eq(ctx.counters.received, 5);
}
END_TEST

/* The answer is always 48 bytes, whatever the request's length. */
START_TEST(never_longer_than_the_request)
{
	unsigned char		 req[512], out[NTP_HEADER_SIZE + 16];
	size_t			 len;

	add_rule("0.0.0.0/0", ACL_ALLOW, 0);
	for (len = 48; len <= sizeof(req); len += 4) {
		request(req, len, 4, NTP_MODE_CLIENT);
		memset(out, 0xee, sizeof(out));
		ck_assert_int_eq(serve_request(&ctx, req, len,
		    (struct sockaddr *)&client4, rx, 0, out), SERVE_REPLY);
		/* Not a byte beyond the header was written. */
		ck_assert_uint_eq(out[NTP_HEADER_SIZE], 0xee);
		ck_assert_uint_eq(out[sizeof(out) - 1], 0xee);
	}
}
END_TEST

START_TEST(rate_limited)
{
	struct ratelimit_conf	 rc = { 1.0, 4.0, 16, 64 };
	struct ntp_packet	 a;
	int			 i;

	add_rule("0.0.0.0/0", ACL_ALLOW, 0);
	ctx.ratelimit = ratelimit_new(&rc);
	ck_assert_ptr_nonnull(ctx.ratelimit);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(ask(&client4, 48, 4, NTP_MODE_CLIENT, &a),
		    SERVE_REPLY);
	ck_assert_int_eq(ask(&client4, 48, 4, NTP_MODE_CLIENT, &a),
	    SERVE_DROP_RATE);
	ctx.policy.ratelimit_kod = 1;
	ck_assert_int_eq(ask(&client4, 48, 4, NTP_MODE_CLIENT, &a),
	    SERVE_KOD_RATE);
	ck_assert_mem_eq(a.refid, "RATE", 4);
	ck_assert_int_eq(a.stratum, 0);
	ck_assert_uint_eq(ctx.counters.ratelimited, 2);
	ck_assert_uint_eq(ctx.counters.kod, 1);
}
END_TEST

/* Denied traffic does not reach the rate table. */
START_TEST(denied_not_rate_counted)
{
	struct ratelimit_conf	 rc = { 1.0, 4.0, 16, 64 };
	struct ntp_packet	 a;
	int			 i;

	ctx.ratelimit = ratelimit_new(&rc);
	ck_assert_ptr_nonnull(ctx.ratelimit);
	for (i = 0; i < 100; i++)
		ck_assert_int_eq(ask(&client4, 48, 4, NTP_MODE_CLIENT, &a),
		    SERVE_DROP_DENIED);
	ck_assert_uint_eq(ratelimit_nclients(ctx.ratelimit), 0);
}
END_TEST

START_TEST(transmit_stamp)
{
	unsigned char		 req[48], out[NTP_HEADER_SIZE];
	struct ntp_packet	 a;
	struct ntp_ts		 tx = { 0x01020304u, 0x05060708u };

	add_rule("0.0.0.0/0", ACL_ALLOW, 0);
	request(req, sizeof(req), 4, NTP_MODE_CLIENT);
	ck_assert_int_eq(serve_request(&ctx, req, sizeof(req),
	    (struct sockaddr *)&client4, rx, 0, out), SERVE_REPLY);
	serve_set_transmit(out, tx);
	ck_assert_int_eq(ntp_decode(out, sizeof(out), &a), 0);
	ck_assert(ntp_ts_equal(a.transmit, tx));
	ck_assert(ntp_ts_equal(a.receive, rx));
	ck_assert_uint_eq(out[40], 0x01);
	ck_assert_uint_eq(out[47], 0x08);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("serve");
	TCase	*tc = tcase_create("serve");
	SRunner	*sr;
	int	 failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, unsynchronised_reply);
	tcase_add_test(tc, synchronised_reply);
	tcase_add_test(tc, local_stratum_when_unsynchronised);
	tcase_add_test(tc, deny_by_default);
	tcase_add_test(tc, deny_with_kod);
	tcase_add_test(tc, not_client_requests);
	tcase_add_test(tc, malformed);
	tcase_add_test(tc, never_longer_than_the_request);
	tcase_add_test(tc, rate_limited);
	tcase_add_test(tc, denied_not_rate_counted);
	tcase_add_test(tc, transmit_stamp);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
