/*
 * The seccomp filter of each jailed role, applied in a forked child:
 * what the role must not do kills it with SIGSYS, what it needs works.
 *
 * The clock calls below use arguments that change nothing even if a
 * filter let them through (a read-only adjtimex, setting the monotonic
 * clock, settimeofday(NULL, NULL)), and make check also runs this test
 * without CAP_SYS_TIME: a broken filter can never move the real clock.
 */
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <sys/un.h>
#include <linux/netlink.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "imsg.h"
#include "log.h"
#include "ntpd.h"

/* A probe returns 0 when what it tried worked as the role needs. */
typedef int (*probe_fn)(void);

struct probe {
	enum proc_role	 role;
	const char	*what;
	probe_fn	 fn;
	probe_fn	 setup;		/* before the filter, as in ntpd */
};

static int
run_sandboxed(const struct probe *p)
{
	pid_t	 pid;
	int	 status;

	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		if (p->setup != NULL && p->setup() == -1)
			_exit(99);
		if (sandbox_apply(p->role) == -1)
			_exit(100);
		_exit(p->fn() == 0 ? 0 : 101);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

/* Forbidden: each of these must never return. */

static int
try_open_read(void)
{
	return syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY);
}

static int
try_open_write(void)
{
	return syscall(SYS_openat, AT_FDCWD, "/nonexistent/ntpd-sandbox-test",
	    O_WRONLY | O_CREAT, 0600);
}

static int
try_execve(void)
{
	char	*argv[] = { "true", NULL };

	return syscall(SYS_execve, "/bin/true", argv, NULL);
}

static int
try_adjtimex(void)
{
	struct timex	 tx;

	memset(&tx, 0, sizeof(tx));	/* modes 0: read only */
	return syscall(SYS_adjtimex, &tx);
}

static int
try_clock_adjtime(void)
{
	struct timex	 tx;

	memset(&tx, 0, sizeof(tx));
	return syscall(SYS_clock_adjtime, CLOCK_REALTIME, &tx);
}

static int
try_clock_settime(void)
{
	struct timespec	 ts = { 0, 0 };

	/* The monotonic clock cannot be set: EINVAL if ever let through. */
	return syscall(SYS_clock_settime, CLOCK_MONOTONIC, &ts);
}

static int
try_settimeofday(void)
{
	return syscall(SYS_settimeofday, NULL, NULL);
}

static int
try_ptrace(void)
{
	return syscall(SYS_ptrace, PTRACE_TRACEME, 0, NULL, NULL);
}

static int
try_socket_udp(void)
{
	return syscall(SYS_socket, AF_INET, SOCK_DGRAM, 0);
}

static int
try_socket_unix(void)
{
	return syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
}

static int
try_socket_raw(void)
{
	return syscall(SYS_socket, AF_INET, SOCK_RAW, IPPROTO_UDP);
}

static int
try_socket_tcp(void)
{
	return syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
}

static int
try_mmap_exec(void)
{
	return syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == -1 ? -1 : 0;
}

static int
try_setresuid(void)
{
	return syscall(SYS_setresuid, 0, 0, 0);
}

static int
try_unshare(void)
{
	return syscall(SYS_unshare, CLONE_NEWNET);
}

static int
try_kill(void)
{
	return syscall(SYS_kill, 1, 0);
}

static int
try_fcntl_dup(void)
{
	return syscall(SYS_fcntl, 0, F_DUPFD, 10);
}

static const struct probe forbidden[] = {
	{ PROC_ENGINE, "open for reading", try_open_read, NULL },
	{ PROC_ENGINE, "open for writing", try_open_write, NULL },
	{ PROC_ENGINE, "execve", try_execve, NULL },
	{ PROC_ENGINE, "adjtimex", try_adjtimex, NULL },
	{ PROC_ENGINE, "clock_adjtime", try_clock_adjtime, NULL },
	{ PROC_ENGINE, "clock_settime", try_clock_settime, NULL },
	{ PROC_ENGINE, "settimeofday", try_settimeofday, NULL },
	{ PROC_ENGINE, "ptrace", try_ptrace, NULL },
	{ PROC_ENGINE, "unix socket", try_socket_unix, NULL },
	{ PROC_ENGINE, "raw socket", try_socket_raw, NULL },
	{ PROC_ENGINE, "tcp socket", try_socket_tcp, NULL },
	{ PROC_ENGINE, "executable mapping", try_mmap_exec, NULL },
	{ PROC_ENGINE, "setresuid", try_setresuid, NULL },
	{ PROC_ENGINE, "unshare", try_unshare, NULL },
	{ PROC_ENGINE, "kill", try_kill, NULL },
	{ PROC_ENGINE, "fcntl F_DUPFD", try_fcntl_dup, NULL },

	{ PROC_SERVER, "open for reading", try_open_read, NULL },
	{ PROC_SERVER, "open for writing", try_open_write, NULL },
	{ PROC_SERVER, "execve", try_execve, NULL },
	{ PROC_SERVER, "adjtimex", try_adjtimex, NULL },
	{ PROC_SERVER, "clock_adjtime", try_clock_adjtime, NULL },
	{ PROC_SERVER, "clock_settime", try_clock_settime, NULL },
	{ PROC_SERVER, "settimeofday", try_settimeofday, NULL },
	{ PROC_SERVER, "ptrace", try_ptrace, NULL },
	{ PROC_SERVER, "udp socket", try_socket_udp, NULL },
	{ PROC_SERVER, "unix socket", try_socket_unix, NULL },
	{ PROC_SERVER, "executable mapping", try_mmap_exec, NULL },
	{ PROC_SERVER, "setresuid", try_setresuid, NULL },
	{ PROC_SERVER, "unshare", try_unshare, NULL },
	{ PROC_SERVER, "kill", try_kill, NULL },

	{ PROC_DNS, "open for writing", try_open_write, NULL },
	{ PROC_DNS, "execve", try_execve, NULL },
	{ PROC_DNS, "adjtimex", try_adjtimex, NULL },
	{ PROC_DNS, "clock_adjtime", try_clock_adjtime, NULL },
	{ PROC_DNS, "clock_settime", try_clock_settime, NULL },
	{ PROC_DNS, "settimeofday", try_settimeofday, NULL },
	{ PROC_DNS, "ptrace", try_ptrace, NULL },
	{ PROC_DNS, "raw socket", try_socket_raw, NULL },
	{ PROC_DNS, "setresuid", try_setresuid, NULL },
	{ PROC_DNS, "unshare", try_unshare, NULL },
	{ PROC_DNS, "kill", try_kill, NULL },
};

START_TEST(test_forbidden)
{
	const struct probe	*p = &forbidden[_i];
	int			 status;

	status = run_sandboxed(p);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
	    "%s: %s was not killed by SIGSYS (status 0x%x)",
	    proc_role_name(p->role), p->what, (unsigned int)status);
}
END_TEST

/* Needed: each of these must work under the filter. */

static int	 chan[2] = { -1, -1 }, pipefd[2] = { -1, -1 };

static int
channels_setup(void)
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, chan) == -1 ||
	    pipe(pipefd) == -1)
		return -1;
	return 0;
}

static int
need_imsg_with_fd(void)
{
	struct imsgbuf	 a, b;
	struct imsg	 imsg;
	int		 *sp = chan, *pp = pipefd, rc = -1;
	char		 c = 0;

	imsgbuf_init(&a, sp[0]);
	imsgbuf_init(&b, sp[1]);
	if (imsg_compose(&a, 42, 7, pp[0], "x", 1) == -1 ||
	    imsgbuf_flush(&a) == -1 || imsgbuf_read(&b) <= 0 ||
	    imsg_get(&b, &imsg) != 1)
		return -1;
	if (imsg.hdr.type == 42 && imsg.hdr.peerid == 7 && imsg.fd != -1 &&
	    write(pp[1], "y", 1) == 1 && read(imsg.fd, &c, 1) == 1 && c == 'y')
		rc = 0;
	imsg_free(&imsg);
	imsgbuf_clear(&a);
	imsgbuf_clear(&b);
	return rc;
}

static int
need_memory_time_random(void)
{
	struct timespec	 ts;
	unsigned char	 rnd[16];
	char		*big;
	struct pollfd	 pfd = { .fd = 0, .events = 0 };

	if ((big = malloc(8 << 20)) == NULL)	/* mmap, not brk */
		return -1;
	memset(big, 1, 8 << 20);
	free(big);
	if (clock_gettime(CLOCK_REALTIME, &ts) == -1 ||
	    clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return -1;
	arc4random_buf(rnd, sizeof(rnd));
	return poll(&pfd, 1, 0) == -1 ? -1 : 0;
}

/* A UDP exchange with itself, as the engine will with upstreams. */
static int
need_udp_client(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	char			 buf[8];
	int			 fd;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    send(fd, "ntp", 3, 0) != 3)
		return -1;
	return recv(fd, buf, sizeof(buf), MSG_WAITALL) == 3 ? close(fd) : -1;
}

/* Accepting a control connection and reading its peer's credentials. */
static int
need_control_accept(void)
{
	struct sockaddr_un	 sun;
	struct ucred		 cred;
	socklen_t		 len = sizeof(cred);
	int			 lfd, cfd, afd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	/* An abstract address: nothing to clean up in the file system. */
	snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1,
	    "ntpd-sandbox-test-%d", (int)getpid());
	lfd = syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
	cfd = syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
	if (lfd == -1 || cfd == -1 ||
	    bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(lfd, 1) == -1 ||
	    connect(cfd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		return -1;
	if (sandbox_apply(PROC_ENGINE) == -1)
		return -1;
	afd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (afd == -1 ||
	    getsockopt(afd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1)
		return -1;
	return cred.pid == getpid() ? 0 : -1;
}

/* The server's sockets are bound before the jail; it reads and sends. */
static int	 srv_fd = -1, srv_peer = -1;

static int
server_sockets_setup(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);

	srv_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	srv_peer = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (srv_fd == -1 || srv_peer == -1 ||
	    bind(srv_fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(srv_fd, (struct sockaddr *)&sin, &len) == -1 ||
	    connect(srv_peer, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		return -1;
	return 0;
}

static int
need_server_socket_io(void)
{
	struct sockaddr_in	 sin;
	struct mmsghdr		 msg;
	struct iovec		 iov;
	char			 buf[48];

	if (send(srv_peer, "request", 7, 0) != 7)
		return -1;
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	msg.msg_hdr.msg_iov = &iov;
	msg.msg_hdr.msg_iovlen = 1;
	msg.msg_hdr.msg_name = &sin;
	msg.msg_hdr.msg_namelen = sizeof(sin);
	if (recvmmsg(srv_fd, &msg, 1, MSG_WAITFORONE, NULL) != 1 ||
	    msg.msg_len != 7)
		return -1;
	return sendto(srv_fd, buf, 7, 0, (struct sockaddr *)&sin,
	    msg.msg_hdr.msg_namelen) == 7 ? 0 : -1;
}

static int
need_resolver(void)
{
	struct addrinfo	 hints, *res;
	int		 rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_DGRAM;
	/* /etc/hosts answers: no query leaves the machine. */
	rc = getaddrinfo("localhost", "123", &hints, &res);
	if (rc != 0)
		return -1;
	freeaddrinfo(res);
	return 0;
}

/*
 * A name with several addresses makes glibc sort them (RFC 6724), for
 * which it asks the kernel for the local addresses over netlink.  The
 * name comes from a hosts file of the test's own, bind-mounted over
 * /etc/hosts in a private mount namespace: no query leaves the machine
 * and the real file is untouched.
 */
static int
multi_hosts_setup(void)
{
	char	 path[] = "/tmp/ntpd-test-hosts.XXXXXX";
	int	 fd, rc = -1;

	if ((fd = mkstemp(path)) == -1)
		return -1;
	if (dprintf(fd, "127.0.0.2 ntpd-test-multi\n"
	    "127.0.0.3 ntpd-test-multi\n") > 0 &&
	    unshare(CLONE_NEWNS) == 0 &&
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
	    mount(path, "/etc/hosts", NULL, MS_BIND, NULL) == 0)
		rc = 0;
	close(fd);
	unlink(path);
	return rc;
}

static int
need_resolver_sorting(void)
{
	struct addrinfo	 hints, *res, *ai;
	int		 n = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_DGRAM;
	if (getaddrinfo("ntpd-test-multi", "123", &hints, &res) != 0)
		return -1;
	for (ai = res; ai != NULL; ai = ai->ai_next)
		n++;
	freeaddrinfo(res);
	return n == 2 ? 0 : -1;
}

static int
need_read_only_open(void)
{
	int	 fd;

	if ((fd = open("/etc/hosts", O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	return close(fd);
}

/* What the resolver may probe fails cleanly instead of killing. */
static int
need_soft_failures(void)
{
	if (socket(AF_UNIX, SOCK_STREAM, 0) != -1 || errno != EACCES)
		return -1;
	if (socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE) != -1 ||
	    errno != EACCES)
		return -1;
	if (mmap(NULL, 4096, PROT_READ | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) != MAP_FAILED ||
	    errno != EACCES)
		return -1;
	return 0;
}

static const struct probe needed[] = {
	{ PROC_ENGINE, "imsg with a descriptor", need_imsg_with_fd,
	    channels_setup },
	{ PROC_ENGINE, "memory, clocks, randomness", need_memory_time_random,
	    NULL },
	{ PROC_ENGINE, "udp client socket", need_udp_client, NULL },
	{ PROC_SERVER, "imsg with a descriptor", need_imsg_with_fd,
	    channels_setup },
	{ PROC_SERVER, "udp socket I/O", need_server_socket_io,
	    server_sockets_setup },
	{ PROC_SERVER, "memory, clocks, randomness", need_memory_time_random,
	    NULL },
	{ PROC_DNS, "imsg with a descriptor", need_imsg_with_fd,
	    channels_setup },
	{ PROC_DNS, "memory, clocks, randomness", need_memory_time_random,
	    NULL },
	{ PROC_DNS, "getaddrinfo from /etc/hosts", need_resolver, NULL },
	{ PROC_DNS, "getaddrinfo with several answers", need_resolver_sorting,
	    multi_hosts_setup },
	{ PROC_DNS, "read-only open", need_read_only_open, NULL },
	{ PROC_DNS, "errno for the resolver's probes", need_soft_failures,
	    NULL },
};

START_TEST(test_needed)
{
	const struct probe	*p = &needed[_i];
	int			 status;

	status = run_sandboxed(p);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "%s: %s failed under the filter (status 0x%x)",
	    proc_role_name(p->role), p->what, (unsigned int)status);
}
END_TEST

/* Set-up that must happen before the filter, then the probe after it. */
START_TEST(test_engine_accepts_control)
{
	pid_t	 pid;
	int	 status;

	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0)
		_exit(need_control_accept() == 0 ? 0 : 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "engine: accept + SO_PEERCRED failed (status 0x%x)",
	    (unsigned int)status);
}
END_TEST

static char	 logged[LOG_LINE_MAX];

static void
capture_log(int priority, const char *msg)
{
	(void)priority;
	if (logged[0] == '\0')
		strlcpy(logged, msg, sizeof(logged));
}

/* A role without a filter of its own must not get a permissive one. */
START_TEST(test_parent_has_no_filter)
{
	pid_t	 pid;
	int	 status;

	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		log_set_sink(capture_log);
		if (sandbox_apply(PROC_PARENT) != -1)
			_exit(1);
		_exit(strcmp(logged, "no seccomp filter for the parent") == 0 ?
		    0 : 2);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("sandbox");
	TCase	*tc = tcase_create("seccomp");
	SRunner	*sr;
	int	 failed;

	tcase_add_loop_test(tc, test_forbidden, 0,
	    sizeof(forbidden) / sizeof(forbidden[0]));
	tcase_add_loop_test(tc, test_needed, 0,
	    sizeof(needed) / sizeof(needed[0]));
	tcase_add_test(tc, test_engine_accepts_control);
	tcase_add_test(tc, test_parent_has_no_filter);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
