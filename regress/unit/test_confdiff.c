/*
 * Unit tests for ntpd/confdiff.c: what a reload would report and apply.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "confdiff.h"
#include "config.h"
#include "log.h"

static struct ntpd_conf *
parse(const char *text)
{
	struct ntpd_conf	*conf;
	FILE			*fp;

	fp = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
	ck_assert_ptr_nonnull(fp);
	conf = config_parse_stream(fp, "test.conf");
	fclose(fp);
	ck_assert_msg(conf != NULL, "configuration did not parse: %s", text);
	return conf;
}

/* Every change, formatted, one per line. */
static void
diff_text(const char *a, const char *b, char *out, size_t len, int *rc)
{
	struct ntpd_conf	*ca = parse(a), *cb = parse(b);
	struct conf_diff	 d;
	char			 line[512], err[256] = "";
	size_t			 i;

	out[0] = '\0';
	*rc = confdiff_make(ca, cb, &d, err, sizeof(err));
	if (*rc == -1) {
		strlcpy(out, err, len);
	} else {
		for (i = 0; i < d.n; i++) {
			confdiff_format(&d.changes[i], line, sizeof(line));
			strlcat(out, line, len);
			strlcat(out, "\n", len);
		}
		confdiff_free(&d);
	}
	config_free(ca);
	config_free(cb);
}

START_TEST(test_identical)
{
	const char	*c = "server 192.0.2.1 iburst\nallow 10.0.0.0/8\n"
			    "listen on 127.0.0.1\nnamespace blue {\n"
			    "listen on 10.1.0.1\ndeny 10.1.2.0/24 kod\n}\n";
	char		 out[4096];
	int		 rc;

	diff_text(c, c, out, sizeof(out), &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_order_is_no_change)
{
	char	 out[4096];
	int	 rc;

	diff_text("server 192.0.2.1\nserver 192.0.2.2\nallow 10.0.0.0/8\n"
	    "allow 172.16.0.0/12\n",
	    "allow 172.16.0.0/12\nserver 192.0.2.2\nallow 10.0.0.0/8\n"
	    "server 192.0.2.1\n", out, sizeof(out), &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_sources)
{
	char	 out[4096];
	int	 rc;

	diff_text("server 192.0.2.1 iburst\nserver 192.0.2.2\n",
	    "server 192.0.2.1 iburst\nserver 192.0.2.3 minpoll 4 prefer\n"
	    "pool pool.example.org\n", out, sizeof(out), &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(out, "- server 192.0.2.2\n"
	    "+ server 192.0.2.3 minpoll 4 prefer\n"
	    "+ servers pool.example.org\n");
}
END_TEST

START_TEST(test_source_options_change)
{
	char	 out[4096];
	int	 rc;

	/* Another option is another source: removed and added. */
	diff_text("server 192.0.2.1 trusted\n", "server 192.0.2.1 trusted\n",
	    out, sizeof(out), &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(out, "");
	diff_text("server 192.0.2.1\n", "server 192.0.2.1 trusted\n", out,
	    sizeof(out), &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(out, "- server 192.0.2.1\n"
	    "+ server 192.0.2.1 trusted\n");
	diff_text("server 192.0.2.1\n", "server 192.0.2.1 noselect\n", out,
	    sizeof(out), &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(out, "- server 192.0.2.1\n"
	    "+ server 192.0.2.1 noselect\n");
}
END_TEST

START_TEST(test_settings)
{
	char	 out[4096];
	int	 rc;

	diff_text("tolerance 1\n", "tolerance 0.5\nmakestep 1 0\n"
	    "minsources 2\ndriftfile none\ntimezone Europe/Paris\n"
	    "holdover 600\n", out, sizeof(out), &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(out, "~ makestep 0.1 3 -> makestep 1 0\n"
	    "~ minsources 1 -> minsources 2\n"
	    "~ holdover none -> holdover 600\n"
	    "~ tolerance 1 -> tolerance 0.5\n"
	    "~ driftfile /var/lib/ntpd/ntpd.drift -> driftfile none\n"
	    "~ timezone none -> timezone Europe/Paris\n");

	/* Changed and taken away; the same bound written twice is none. */
	diff_text("holdover 600\n", "holdover 20\n", out, sizeof(out), &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(out, "~ holdover 600 -> holdover 20\n");
	diff_text("holdover 20\n", "\n", out, sizeof(out), &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(out, "~ holdover 20 -> holdover none\n");
	diff_text("holdover 20\n", "holdover 20\n", out, sizeof(out), &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_namespaces)
{
	char	 out[4096];
	int	 rc;

	diff_text("namespace blue {\nlisten on 10.1.0.1\nallow all\n}\n"
	    "namespace red {\nlisten on 10.2.0.1\n}\n",
	    "namespace red {\nlisten on 10.2.0.1\nlisten on 10.2.0.2 port "
	    "1123\nratelimit 5 burst 10\n}\n"
	    "namespace green {\nlisten on 10.3.0.1\n}\n",
	    out, sizeof(out), &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(out,
	    "- namespace blue\n"
	    "- listen on 10.1.0.1 (namespace blue)\n"
	    "- allow 0.0.0.0/0 (namespace blue)\n"
	    "- allow ::/0 (namespace blue)\n"
	    "+ listen on 10.2.0.2 port 1123 (namespace red)\n"
	    "+ ratelimit 5 burst 10 clients 65536 (namespace red)\n"
	    "+ namespace green\n"
	    "+ listen on 10.3.0.1 (namespace green)\n");
}
END_TEST

START_TEST(test_rules_and_ratelimit)
{
	char	 out[4096];
	int	 rc;

	diff_text("allow 10.0.0.0/8\nratelimit 2\nlisten on 127.0.0.1\n",
	    "allow 10.0.0.0/8\ndeny 10.9.0.0/16 kod\nratelimit off\n"
	    "listen on 127.0.0.1\nlocal stratum 10\n", out, sizeof(out),
	    &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(out, "+ deny 10.9.0.0/16 kod\n"
	    "~ ratelimit 2 burst 16 clients 65536 -> ratelimit off\n"
	    "+ local stratum 10\n");
}
END_TEST

START_TEST(test_restart_only)
{
	char	 out[4096];
	int	 rc;

	diff_text("user _ntp\n", "user nobody\n", out, sizeof(out), &rc);
	ck_assert_int_eq(rc, -1);
	ck_assert_ptr_nonnull(strstr(out, "\"user\" cannot change"));
	diff_text("", "chroot /var/empty2\n", out, sizeof(out), &rc);
	ck_assert_int_eq(rc, -1);
	ck_assert_ptr_nonnull(strstr(out, "\"chroot\""));
	diff_text("", "socket /run/other.sock\n", out, sizeof(out), &rc);
	ck_assert_int_eq(rc, -1);
	ck_assert_ptr_nonnull(strstr(out, "\"socket\""));
}
END_TEST

START_TEST(test_events)
{
	struct ntpd_conf	*a, *b;
	struct conf_diff	 d;
	char			 err[256];

	a = parse("server 192.0.2.1\nnamespace blue {\nlisten on 10.1.0.1\n"
	    "}\n");
	b = parse("server 192.0.2.2\ntolerance 2\nholdover 60\n"
	    "namespace blue {\nlisten on 10.1.0.1\nallow 10.0.0.0/8\n}\n");
	ck_assert_int_eq(confdiff_make(a, b, &d, err, sizeof(err)), 0);
	ck_assert_uint_eq(d.n, 5);
	ck_assert_str_eq(d.changes[0].event, AUDIT_EV_SETTING);
	ck_assert_str_eq(d.changes[0].new, "holdover 60");
	ck_assert_str_eq(d.changes[1].event, AUDIT_EV_TOLERANCE);
	ck_assert_str_eq(d.changes[2].event, AUDIT_EV_SOURCE_DEL);
	ck_assert_str_eq(d.changes[3].event, AUDIT_EV_SOURCE_ADD);
	ck_assert_str_eq(d.changes[4].event, AUDIT_EV_ACL_ADD);
	ck_assert_int_eq(d.changes[4].in_netns, 1);
	ck_assert_str_eq(d.changes[4].netns, "blue");
	confdiff_free(&d);
	config_free(a);
	config_free(b);
}
END_TEST

START_TEST(test_predicates)
{
	struct ntpd_conf	*a, *b, *c;

	a = parse("allow 10.0.0.0/8\nnamespace blue {\nlisten on 10.1.0.1\n"
	    "listen on 10.1.0.2\n}\nserver 192.0.2.1\n");
	b = parse("server 192.0.2.1\nnamespace blue {\nlisten on 10.1.0.2\n"
	    "listen on 10.1.0.1\n}\nallow 10.0.0.0/8\n");
	c = parse("allow 10.0.0.0/8\nnamespace blue {\nlisten on 10.1.0.1\n"
	    "ratelimit off\n}\nserver 192.0.2.1 iburst\n");
	ck_assert(confdiff_listeners_equal(config_find_netns(a, "blue"),
	    config_find_netns(b, "blue")));
	ck_assert(!confdiff_listeners_equal(config_find_netns(a, "blue"),
	    config_find_netns(c, "blue")));
	ck_assert(confdiff_serve_equal(a, config_find_netns(a, "blue"), b,
	    config_find_netns(b, "blue")));
	ck_assert(!confdiff_serve_equal(a, config_find_netns(a, "blue"), c,
	    config_find_netns(c, "blue")));
	config_free(a);
	config_free(b);
	config_free(c);
}
END_TEST

static Suite *
confdiff_suite(void)
{
	Suite	*s = suite_create("confdiff");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_identical);
	tcase_add_test(tc, test_order_is_no_change);
	tcase_add_test(tc, test_sources);
	tcase_add_test(tc, test_source_options_change);
	tcase_add_test(tc, test_settings);
	tcase_add_test(tc, test_namespaces);
	tcase_add_test(tc, test_rules_and_ratelimit);
	tcase_add_test(tc, test_restart_only);
	tcase_add_test(tc, test_events);
	tcase_add_test(tc, test_predicates);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(confdiff_suite());
	int	 failed;

	log_init(1, 0, "test_confdiff");
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
