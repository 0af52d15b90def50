/*
 * Unit tests for ntpd -S's parts that run without a clock: what it
 * refuses of a configuration (ntpd/standalone.c), and sync.c's link to
 * whatever carries out its requests (struct sync_parent), here a fake
 * that records them.  No clock is touched: nothing calls clock.c.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "ntpd.h"
#include "standalone.h"
#include "sync.h"

#define MAX_MSGS	16
#define SEC		1000000000ULL

static char	 msgs[MAX_MSGS][LOG_LINE_MAX];
static int	 nmsgs;

static void
sink(int priority, const char *msg)
{
	(void)priority;
	if (nmsgs < MAX_MSGS)
		strlcpy(msgs[nmsgs++], msg, sizeof(msgs[0]));
}

static int
logged(const char *prefix)
{
	int	 i;

	for (i = 0; i < nmsgs; i++)
		if (strncmp(msgs[i], prefix, strlen(prefix)) == 0)
			return 1;
	return 0;
}

static struct ntpd_conf *
parse(const char *text)
{
	struct ntpd_conf	*c;
	FILE			*fp;

	fp = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
	ck_assert_ptr_nonnull(fp);
	c = config_parse_stream(fp, "test.conf");
	fclose(fp);
	ck_assert_ptr_nonnull(c);
	return c;
}

static void
setup(void)
{
	nmsgs = 0;
	log_set_verbose(1);
	log_set_sink(sink);
}

START_TEST(conf_numeric)
{
	struct ntpd_conf	*c = parse("server 192.0.2.1\n"
	    "servers 2001:db8::1 port 1123\nallow 192.0.2.0/24\n");

	ck_assert_int_eq(standalone_check_conf(c, "test.conf"), 0);
	ck_assert_int_eq(nmsgs, 0);
	config_free(c);
}
END_TEST

START_TEST(conf_refused)
{
	struct ntpd_conf	*c = parse("server 192.0.2.1\n"
	    "server ntp.example.org\npool pool.example.net\n"
	    "listen on 127.0.0.1\ntimezone UTC\n");

	ck_assert_int_eq(standalone_check_conf(c, "test.conf"), -1);
	ck_assert_int_eq(nmsgs, 4);
	ck_assert(logged("test.conf:2: \"ntp.example.org\" needs resolving"));
	ck_assert(logged("test.conf:3: \"pool.example.net\" needs resolving"));
	ck_assert(logged("test.conf:4: -S serves no clients"));
	ck_assert(logged("test.conf:5: -S leaves the time zone alone"));
	config_free(c);
}
END_TEST

START_TEST(conf_no_source)
{
	struct ntpd_conf	*c = parse("makestep 0.1 3\n");

	ck_assert_int_eq(standalone_check_conf(c, "test.conf"), -1);
	ck_assert(logged("test.conf: -S needs a server"));
	config_free(c);
}
END_TEST

/* The fake link: what sync.c asked. */
static struct imsg_clock_adjust	 asked[8];
static int			 nasked;
static struct imsg_refused	 refusal;
static int			 nrefused;

static void
fake_adjust(const struct imsg_clock_adjust *req)
{
	ck_assert_int_lt(nasked, 8);
	asked[nasked++] = *req;
}

static void
fake_refused(const struct imsg_refused *r)
{
	refusal = *r;
	nrefused++;
}

static const struct sync_parent	 fake = { fake_adjust, fake_refused };

static struct sync_input
input(double offset)
{
	struct sync_input	 in;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&in.peer;

	memset(&in, 0, sizeof(in));
	in.offset = offset;
	in.jitter = 1e-5;
	in.stratum = 1;
	in.rootdelay = 1e-4;
	in.rootdisp = 1e-4;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(123);
	inet_pton(AF_INET, "192.0.2.1", &sin->sin_addr);
	return in;
}

/* sync.c, controlling the clock, with the fake for a parent. */
static void
start(const char *text)
{
	struct imsg_clock_init	 ci;
	struct ntpd_conf	*c = parse(text);

	sync_init(c, NULL, -20);
	sync_set_parent(&fake);
	memset(&ci, 0, sizeof(ci));
	ci.control = 1;
	sync_clock_start(&ci);
	config_free(c);
}

static struct imsg_clock_result
done(const struct imsg_clock_adjust *req)
{
	struct imsg_clock_result	 r;

	memset(&r, 0, sizeof(r));
	r.action = req->action;
	r.offset = req->offset;
	r.freq = req->freq;
	return r;
}

START_TEST(link_adjust)
{
	struct sync_input		 in = input(0.5);
	struct imsg_clock_result	 r;
	uint64_t			 now = 100 * SEC;

	start("server 192.0.2.1\nmakestep 0.1 3\n");
	sync_update(&in, now);
	ck_assert_int_eq(nasked, 1);
	ck_assert_uint_eq(asked[0].action, CLOCK_STEP);
	ck_assert(asked[0].offset == 0.5);
	ck_assert(logged("clock: system peer 192.0.2.1:123"));
	/* No second request before the answer to the first. */
	sync_update(&in, now + SEC);
	ck_assert_int_eq(nasked, 1);
	r = done(&asked[0]);
	sync_clock_done(&r, now + 2 * SEC);
	ck_assert(sync_updated());
	ck_assert(fabs(sync_take_correction(now + 2 * SEC) - 0.5) < 1e-9);
	in = input(0.001);
	sync_update(&in, now + 64 * SEC);
	ck_assert_int_eq(nasked, 2);
	ck_assert_uint_eq(asked[1].action, CLOCK_SLEW);
	/* The same peer: not logged again. */
	nmsgs = 0;
	r = done(&asked[1]);
	sync_clock_done(&r, now + 65 * SEC);
	in = input(0.0005);
	sync_update(&in, now + 128 * SEC);
	ck_assert(!logged("clock: system peer"));
}
END_TEST

/* Nothing done: the clock's account stays as it was. */
START_TEST(link_not_done)
{
	struct sync_input		 in = input(0.5);
	struct imsg_clock_result	 r;
	uint64_t			 now = 100 * SEC;

	start("server 192.0.2.1\nmakestep 0.1 3\n");
	sync_update(&in, now);
	memset(&r, 0, sizeof(r));
	r.error = 1;	/* EPERM */
	sync_clock_done(&r, now + SEC);
	ck_assert(logged("cannot adjust the clock"));
	ck_assert(sync_take_correction(now + SEC) == 0);
	/* Asked again, and said only once. */
	nmsgs = 0;
	sync_update(&in, now + 64 * SEC);
	ck_assert_int_eq(nasked, 2);
	sync_clock_done(&r, now + 65 * SEC);
	ck_assert(!logged("cannot adjust the clock"));
}
END_TEST

START_TEST(link_refused)
{
	struct sync_input		 in = input(0.01);
	struct imsg_clock_result	 r;
	uint64_t			 now = 100 * SEC;

	start("server 192.0.2.1\nmakestep 0.1 3\ntolerance 1\n");
	sync_update(&in, now);
	r = done(&asked[0]);
	sync_clock_done(&r, now + SEC);
	in = input(3);
	sync_update(&in, now + 64 * SEC);
	ck_assert_int_eq(nasked, 1);
	ck_assert_int_eq(nrefused, 1);
	ck_assert(refusal.offset == 3);
	ck_assert(refusal.tolerance == 1);
	/* Within 10 minutes of the last one said: counted, not said. */
	sync_refuse(-2, now + 65 * SEC);
	ck_assert_int_eq(nrefused, 1);
	in = input(4);
	sync_update(&in, now + 128 * SEC);
	ck_assert_int_eq(nrefused, 1);
	/* Then the next, with the two unsaid. */
	sync_refuse(-5, now + 64 * SEC + 600 * SEC);
	ck_assert_int_eq(nrefused, 2);
	ck_assert(refusal.offset == -5);
	ck_assert_uint_eq(refusal.unsaid, 2);
}
END_TEST

/* An answer with no request out is a broken link: fatal. */
START_TEST(link_unasked)
{
	struct imsg_clock_result	 r;

	start("server 192.0.2.1\n");
	memset(&r, 0, sizeof(r));
	sync_clock_done(&r, SEC);
}
END_TEST

static Suite *
standalone_suite(void)
{
	Suite	*s = suite_create("standalone");
	TCase	*tc = tcase_create("conf");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, conf_numeric);
	tcase_add_test(tc, conf_refused);
	tcase_add_test(tc, conf_no_source);
	suite_add_tcase(s, tc);
	tc = tcase_create("link");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, link_adjust);
	tcase_add_test(tc, link_not_done);
	tcase_add_test(tc, link_refused);
	tcase_add_exit_test(tc, link_unasked, 1);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(standalone_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
