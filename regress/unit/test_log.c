/*
 * Logging: where lines go, what they look like, what is dropped.
 */
#include <sys/stat.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

static char	 sunk[LOG_LINE_MAX * 2];
static int	 sunk_priority;
static int	 nsunk;

static void
sink(int priority, const char *msg)
{
	strlcpy(sunk, msg, sizeof(sunk));
	sunk_priority = priority;
	nsunk++;
}

/* Make stderr a pipe and read back what one call wrote to it. */
static int	 pipefd[2];

static void
stderr_to_pipe(void)
{
	ck_assert_int_eq(pipe(pipefd), 0);
	ck_assert_int_ne(dup2(pipefd[1], STDERR_FILENO), -1);
}

static const char *
read_stderr(void)
{
	static char	 buf[256];
	ssize_t		 n;

	n = read(pipefd[0], buf, sizeof(buf) - 1);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	return buf;
}

START_TEST(test_stderr_plain)
{
	stderr_to_pipe();
	unsetenv("JOURNAL_STREAM");
	log_init(1, 0, "test");
	log_warnx("clock %s", "unsynchronised");
	ck_assert_str_eq(read_stderr(), "clock unsynchronised\n");
}
END_TEST

START_TEST(test_stderr_journal_priority)
{
	struct stat	 st;
	char		 env[64];

	stderr_to_pipe();
	ck_assert_int_eq(fstat(STDERR_FILENO, &st), 0);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	log_init(1, 0, "test");
	log_warnx("lost child");
	ck_assert_str_eq(read_stderr(), "<3>lost child\n");
	log_info("stopped");
	ck_assert_str_eq(read_stderr(), "<6>stopped\n");
}
END_TEST

/* Another stream's JOURNAL_STREAM (inherited by a child, say): no prefix. */
START_TEST(test_stderr_journal_other_stream)
{
	stderr_to_pipe();
	setenv("JOURNAL_STREAM", "1:2", 1);
	log_init(1, 0, "test");
	log_warnx("plain");
	ck_assert_str_eq(read_stderr(), "plain\n");
	setenv("JOURNAL_STREAM", "garbage", 1);
	log_init(1, 0, "test");
	log_warnx("plain again");
	ck_assert_str_eq(read_stderr(), "plain again\n");
}
END_TEST

START_TEST(test_sink_and_procname)
{
	log_init(1, 0, "test");
	log_set_sink(sink);
	log_set_procname("engine");
	log_warnx("x=%d", 42);
	ck_assert_str_eq(sunk, "engine: x=42");
	ck_assert_int_eq(sunk_priority, LOG_ERR);
	log_set_procname(NULL);
	log_info("y");
	ck_assert_str_eq(sunk, "y");
	ck_assert_int_eq(sunk_priority, LOG_INFO);
	log_set_sink(NULL);
}
END_TEST

START_TEST(test_debug_only_when_verbose)
{
	log_init(1, 0, "test");
	log_set_sink(sink);
	nsunk = 0;
	log_debug("quiet");
	ck_assert_int_eq(nsunk, 0);
	log_set_verbose(1);
	ck_assert_int_eq(log_get_verbose(), 1);
	log_debug("loud");
	ck_assert_int_eq(nsunk, 1);
	ck_assert_str_eq(sunk, "loud");
	log_set_sink(NULL);
}
END_TEST

START_TEST(test_warn_appends_errno_and_keeps_it)
{
	log_init(1, 0, "test");
	log_set_sink(sink);
	errno = ENOENT;
	log_warn("open %s", "/etc/ntpd.conf");
	ck_assert_str_eq(sunk, "open /etc/ntpd.conf: No such file or directory");
	ck_assert_int_eq(errno, ENOENT);
	log_set_sink(NULL);
}
END_TEST

/* An overlong line is cut, never overflows, and stays terminated. */
START_TEST(test_long_line_truncated)
{
	char	 big[LOG_LINE_MAX * 2];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_init(1, 0, "test");
	log_set_sink(sink);
	log_set_procname("server [x]");
	log_warnx("%s", big);
	ck_assert_uint_eq(strlen(sunk), LOG_LINE_MAX - 1);
	ck_assert(strncmp(sunk, "server [x]: aaa", 15) == 0);
	log_set_sink(NULL);
}
END_TEST

START_TEST(test_fatalx_exits_1)
{
	log_init(1, 0, "test");
	log_set_sink(sink);
	fatalx("cannot go on");
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("log");
	TCase	*tc = tcase_create("log");
	SRunner	*sr;
	int	 failed;

	tcase_add_test(tc, test_stderr_plain);
	tcase_add_test(tc, test_stderr_journal_priority);
	tcase_add_test(tc, test_stderr_journal_other_stream);
	tcase_add_test(tc, test_sink_and_procname);
	tcase_add_test(tc, test_debug_only_when_verbose);
	tcase_add_test(tc, test_warn_appends_errno_and_keeps_it);
	tcase_add_test(tc, test_long_line_truncated);
	tcase_add_exit_test(tc, test_fatalx_exits_1, 1);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
