/*
 * A client exchange: the request gives nothing away, the reply is
 * believed only once it is shown to answer our request, and offset and
 * delay come out right, across the 2036 era boundary too.
 */
#include <arpa/inet.h>
#include <check.h>
#include <math.h>
#include <string.h>

#include "exchange.h"
#include "serve.h"

static const struct ntp_ts	 nonce = { 0x9e3779b9u, 0x7f4a7c15u };

/* Seconds since the era began, as an NTP timestamp. */
static struct ntp_ts
ts(double seconds)
{
	struct ntp_ts	 t;

	t.sec = (uint32_t)seconds;
	t.frac = (uint32_t)((seconds - (double)t.sec) * 4294967296.0);
	return t;
}

/* A server's reply to the nonce, with the given times and fields. */
static size_t
reply(unsigned char *buf, struct ntp_ts origin, struct ntp_ts t2,
    struct ntp_ts t3, int leap, int stratum, const char *refid)
{
	struct ntp_packet	 p;

	memset(&p, 0, sizeof(p));
	p.leap = leap;
	p.version = 4;
	p.mode = NTP_MODE_SERVER;
	p.stratum = stratum;
	p.precision = -20;
	memcpy(p.refid, refid, 4);
	p.origin = origin;
	p.receive = t2;
	p.transmit = t3;
	p.root_delay = ntp_short_from_double(0.010);
	p.root_dispersion = ntp_short_from_double(0.002);
	ck_assert_int_eq(ntp_encode(&p, buf, NTP_HEADER_SIZE), 48);
	return NTP_HEADER_SIZE;
}

static struct exchange	 ex;
static unsigned char	 req[NTP_HEADER_SIZE], rep[NTP_HEADER_SIZE];

static void
setup(void)
{
	memset(&ex, 0, sizeof(ex));
	ck_assert_uint_eq(exchange_request(&ex, nonce, req, sizeof(req)), 48);
}

START_TEST(request_says_nothing)
{
	size_t	 i;

	ck_assert_uint_eq(req[0], 0x23);	/* leap 0, version 4, mode 3 */
	for (i = 1; i < 40; i++)
		ck_assert_msg(req[i] == 0, "byte %zu is %u", i, req[i]);
	ck_assert_uint_eq(req[40], 0x9e);
	ck_assert_uint_eq(req[47], 0x15);
	ck_assert_uint_eq(exchange_request(&ex, nonce, req, 47), 0);
}
END_TEST

START_TEST(offset_and_delay)
{
	struct exchange_sample	 s;

	/* T1 1000.0, T2 1000.6, T3 1000.7, T4 1000.5 (seconds of era). */
	reply(rep, nonce, ts(1000.6), ts(1000.7), 0, 2, "GPS\0");
	ck_assert_int_eq(exchange_reply(&ex, rep, 48, ts(1000.0),
	    ts(1000.5), &s), EXCHANGE_SAMPLE);
	ck_assert(fabs(s.offset - 0.4) < 1e-9);
	ck_assert(fabs(s.delay - 0.4) < 1e-9);
	ck_assert_int_eq(s.stratum, 2);
	ck_assert(fabs(s.root_delay - 0.010) < 1e-4);
	ck_assert(fabs(s.root_dispersion - 0.002) < 1e-4);
	ck_assert_mem_eq(s.refid, "GPS\0", 4);
}
END_TEST

/* A reply that does not answer our request leaves it pending. */
START_TEST(origin_check)
{
	struct exchange_sample	 s;
	struct ntp_ts		 other = { 1, 2 };

	reply(rep, other, ts(10), ts(10), 0, 2, "XXXX");
	ck_assert_int_eq(exchange_reply(&ex, rep, 48, ts(10), ts(10), &s),
	    EXCHANGE_BAD_ORIGIN);
	/* A forged kiss does not count either. */
	reply(rep, other, ts(0), ts(0), 3, 0, "DENY");
	ck_assert_int_eq(exchange_reply(&ex, rep, 48, ts(10), ts(10), &s),
	    EXCHANGE_BAD_ORIGIN);
	/* The real answer is still taken, once. */
	reply(rep, nonce, ts(10.1), ts(10.1), 0, 2, "XXXX");
	ck_assert_int_eq(exchange_reply(&ex, rep, 48, ts(10), ts(10.2), &s),
	    EXCHANGE_SAMPLE);
	ck_assert_int_eq(exchange_reply(&ex, rep, 48, ts(10), ts(10.2), &s),
	    EXCHANGE_BAD_ORIGIN);
}
END_TEST

START_TEST(kisses)
{
	struct exchange_sample	 s;
	const char		*codes[] = { "DENY", "RSTR", "RATE", "INIT" };
	enum exchange_result	 want[] = { EXCHANGE_KOD_DENY,
				    EXCHANGE_KOD_DENY, EXCHANGE_KOD_RATE,
				    EXCHANGE_KOD_OTHER };
	size_t			 i;

	for (i = 0; i < 4; i++) {
		exchange_request(&ex, nonce, req, sizeof(req));
		reply(rep, nonce, nonce, nonce, 3, 0, codes[i]);
		ck_assert_int_eq(exchange_reply(&ex, rep, 48, ts(1), ts(1),
		    &s), want[i]);
		ck_assert_int_eq(ex.pending, 0);
	}
}
END_TEST

/* Only what cannot be an answer leaves the request waiting. */
START_TEST(answered)
{
	int	r;

	for (r = 0; r < EXCHANGE_NRESULTS; r++)
		ck_assert_int_eq(exchange_answered(r),
		    r != EXCHANGE_BAD_LENGTH && r != EXCHANGE_BAD_MODE &&
		    r != EXCHANGE_BAD_VERSION && r != EXCHANGE_BAD_ORIGIN);
}
END_TEST

START_TEST(rejections)
{
	struct exchange_sample	 s;
	struct ntp_packet	 p;

	ck_assert_int_eq(exchange_reply(&ex, rep, 47, ts(1), ts(1), &s),
	    EXCHANGE_BAD_LENGTH);

	reply(rep, nonce, ts(1), ts(1), 0, 2, "XXXX");
	rep[0] = (rep[0] & ~7) | NTP_MODE_CLIENT;
	ck_assert_int_eq(exchange_reply(&ex, rep, 48, ts(1), ts(1), &s),
	    EXCHANGE_BAD_MODE);
	rep[0] = (0 << 6) | (2 << 3) | NTP_MODE_SERVER;
	ck_assert_int_eq(exchange_reply(&ex, rep, 48, ts(1), ts(1), &s),
	    EXCHANGE_BAD_VERSION);
	rep[0] = (0 << 6) | (5 << 3) | NTP_MODE_SERVER;
	ck_assert_int_eq(exchange_reply(&ex, rep, 48, ts(1), ts(1), &s),
	    EXCHANGE_BAD_VERSION);

	/* From here each reply passes the origin check, so re-arm. */
	reply(rep, nonce, ts(0), ts(1), 0, 2, "XXXX");	/* receive 0 */
	ck_assert_int_eq(exchange_reply(&ex, rep, 48, ts(1), ts(1), &s),
	    EXCHANGE_ZERO_TIME);

	exchange_request(&ex, nonce, req, sizeof(req));
	reply(rep, nonce, ts(1), ts(1), 3, 2, "XXXX");
	ck_assert_int_eq(exchange_reply(&ex, rep, 48, ts(1), ts(1), &s),
	    EXCHANGE_UNSYNCHRONISED);
	exchange_request(&ex, nonce, req, sizeof(req));
	reply(rep, nonce, ts(1), ts(1), 0, 16, "XXXX");
	ck_assert_int_eq(exchange_reply(&ex, rep, 48, ts(1), ts(1), &s),
	    EXCHANGE_UNSYNCHRONISED);

	exchange_request(&ex, nonce, req, sizeof(req));
	reply(rep, nonce, ts(1), ts(1), 0, 2, "XXXX");
	ck_assert_int_eq(ntp_decode(rep, 48, &p), 0);
	p.root_dispersion = ntp_short_from_double(2.0);
	ntp_encode(&p, rep, 48);
	ck_assert_int_eq(exchange_reply(&ex, rep, 48, ts(1), ts(1), &s),
	    EXCHANGE_ROOT_DISTANCE);

	/* The server claims to have held the request longer than it took. */
	exchange_request(&ex, nonce, req, sizeof(req));
	reply(rep, nonce, ts(1.0), ts(2.0), 0, 2, "XXXX");
	ck_assert_int_eq(exchange_reply(&ex, rep, 48, ts(1), ts(1.5), &s),
	    EXCHANGE_BAD_DELAY);
}
END_TEST

/* A server that never changes its transmit time is not believed twice. */
START_TEST(duplicate)
{
	struct exchange_sample	 s;

	reply(rep, nonce, ts(5), ts(5), 0, 2, "XXXX");
	ck_assert_int_eq(exchange_reply(&ex, rep, 48, ts(5), ts(5), &s),
	    EXCHANGE_SAMPLE);
	exchange_request(&ex, nonce, req, sizeof(req));
	ck_assert_int_eq(exchange_reply(&ex, rep, 48, ts(5), ts(5), &s),
	    EXCHANGE_DUPLICATE);
}
END_TEST

/* Era 0 ends at 2036-02-07T06:28:16Z: the exchange spans it. */
START_TEST(across_2036)
{
	struct exchange_sample	 s;
	struct ntp_ts		 t1 = { 0xffffffffu, 0x80000000u };	/* -0.5 s */
	struct ntp_ts		 t2 = { 0x00000000u, 0x40000000u };	/* +0.25 */
	struct ntp_ts		 t3 = { 0x00000000u, 0x80000000u };	/* +0.5 */
	struct ntp_ts		 t4 = { 0x00000000u, 0x00000000u };	/* 0 */

	reply(rep, nonce, t2, t3, 0, 2, "XXXX");
	ck_assert_int_eq(exchange_reply(&ex, rep, 48, t1, t4, &s),
	    EXCHANGE_SAMPLE);
	/* ((0.25 - -0.5) + (0.5 - 0)) / 2 */
	ck_assert(fabs(s.offset - 0.625) < 1e-9);
	/* (0 - -0.5) - (0.5 - 0.25) */
	ck_assert(fabs(s.delay - 0.25) < 1e-9);
}
END_TEST

/* Our own server's answer to our own client's request. */
START_TEST(against_our_server)
{
	struct serve_ctx	 ctx;
	struct acl		 acl;
	struct acl_rule		 r;
	struct sockaddr_in	 from;
	struct exchange_sample	 s;
	const struct acl_rule	*conflict;
	unsigned char		 out[NTP_HEADER_SIZE];

	acl_init(&acl);
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(cidr_parse("0.0.0.0/0", &r.prefix), 0);
	r.action = ACL_ALLOW;
	ck_assert_int_eq(acl_add(&acl, &r, &conflict), 0);
	memset(&ctx, 0, sizeof(ctx));
	ctx.acl = &acl;
	ctx.state.synced = 1;
	ctx.state.stratum = 3;
	ctx.state.root_delay = ntp_short_from_double(0.001);
	memset(&from, 0, sizeof(from));
	from.sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.1", &from.sin_addr);

	/* Server 2 s ahead; 100 ms each way; 1 ms inside the server. */
	ck_assert_int_eq(serve_request(&ctx, req, sizeof(req),
	    (struct sockaddr *)&from, ts(102.1), 0, out), SERVE_REPLY);
	serve_set_transmit(out, ts(102.101));
	ck_assert_int_eq(exchange_reply(&ex, out, sizeof(out), ts(100.0),
	    ts(100.201), &s), EXCHANGE_SAMPLE);
	ck_assert(fabs(s.offset - 2.0) < 1e-9);
	ck_assert(fabs(s.delay - 0.2) < 1e-9);
	ck_assert_int_eq(s.stratum, 3);
	acl_free(&acl);
}
END_TEST

int
main(void)
{
	Suite	*su = suite_create("exchange");
	TCase	*tc = tcase_create("exchange");
	SRunner	*sr;
	int	 failed;

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, request_says_nothing);
	tcase_add_test(tc, offset_and_delay);
	tcase_add_test(tc, origin_check);
	tcase_add_test(tc, kisses);
	tcase_add_test(tc, rejections);
	tcase_add_test(tc, answered);
	tcase_add_test(tc, duplicate);
	tcase_add_test(tc, across_2036);
	tcase_add_test(tc, against_our_server);
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
