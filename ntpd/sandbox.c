/*
 * The seccomp allow-list of each jailed role.  The default action kills
 * the whole process with SIGSYS, and the parent then shuts the daemon
 * down.  The only exceptions are calls that libc is known to try and can
 * do without, which fail with an errno instead (the dns role's resolver).
 *
 * Every role may do plain I/O on descriptors it already holds, manage
 * its memory (never executable), read clocks and randomness and wait.
 * On top of that:
 *	engine	control connections; UDP sockets to upstream servers
 *	server	nothing: its sockets were bound before the jail
 *	dns	the resolver: UDP/TCP sockets, read-only opens of its files
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "ntpd.h"

#define SOCK_TYPE_MASK	(~(unsigned int)(SOCK_NONBLOCK | SOCK_CLOEXEC))
#define OPEN_WRITE_MASK	(O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND)

/* Unconditionally allowed in every jailed role. */
static const int common_calls[] = {
	SCMP_SYS(read),
	SCMP_SYS(readv),
	SCMP_SYS(write),
	SCMP_SYS(writev),
	SCMP_SYS(close),
	SCMP_SYS(recvmsg),
	SCMP_SYS(recvfrom),
	SCMP_SYS(sendmsg),
	SCMP_SYS(sendto),
	SCMP_SYS(poll),
	SCMP_SYS(ppoll),
	SCMP_SYS(clock_gettime),
	SCMP_SYS(clock_getres),
	SCMP_SYS(gettimeofday),
	SCMP_SYS(time),
	SCMP_SYS(getrandom),
	SCMP_SYS(getpid),
	SCMP_SYS(futex),	/* glibc once-initialisation */
	SCMP_SYS(brk),
	SCMP_SYS(munmap),
	SCMP_SYS(mremap),
	SCMP_SYS(madvise),
	SCMP_SYS(rt_sigreturn),
	SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(restart_syscall),
	SCMP_SYS(exit),
	SCMP_SYS(exit_group),
#ifdef NTPD_SANITIZE
	/* The sanitizers' runtime, in the test build only. */
	SCMP_SYS(sigaltstack),
#endif
};

static const int engine_calls[] = {
	SCMP_SYS(accept4),
	SCMP_SYS(connect),
	SCMP_SYS(bind),
	SCMP_SYS(getsockname),
	SCMP_SYS(setsockopt),
	SCMP_SYS(recvmmsg),
	SCMP_SYS(sendmmsg),
	SCMP_SYS(shutdown),
};

static const int server_calls[] = {
	SCMP_SYS(recvmmsg),
	SCMP_SYS(sendmmsg),
};

/*
 * What glibc's getaddrinfo() does after the warm-up lookup, with "hosts:
 * files dns" (test_dns runs it under this filter against a hosts file
 * and a DNS server of its own, over UDP and TCP, and with resolv.conf
 * rewritten under it):
 *	connect		every resolver socket is connected; RFC 6724
 *			sorting connects a UDP socket to each answer
 *	getsockname	... to learn the source address it would use
 *	setsockopt	the resolver's sockets (non-blocking, IPV6_*)
 *	sendmmsg	the A and AAAA queries go out together
 *	newfstatat	resolv.conf and hosts: changed since last read?
 *	lseek		stdio reading /etc/hosts and resolv.conf
 *	uname		resolv.conf read again without "search" or
 *			"domain": the domain comes from the host name
 * and may do on paths the test cannot take:
 *	getpeername	a TCP connection kept open is checked before reuse
 *	getsockopt	a socket's pending error
 *	fstat, statx	other glibc versions' ways of the stat above
 * Reads, writes, recvfrom, poll and close are common to every role.
 * The resolver never binds its sockets, nor receives in batches: no
 * bind, no recvmmsg.
 */
static const int dns_calls[] = {
	SCMP_SYS(connect),
	SCMP_SYS(getsockname),
	SCMP_SYS(getpeername),
	SCMP_SYS(setsockopt),
	SCMP_SYS(getsockopt),
	SCMP_SYS(sendmmsg),
	SCMP_SYS(fstat),
	SCMP_SYS(newfstatat),
	SCMP_SYS(statx),
	SCMP_SYS(lseek),
	SCMP_SYS(uname),
};

static int
allow_list(scmp_filter_ctx ctx, const int *calls, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0) != 0)
			return -1;
	return 0;
}

/* Memory may be mapped and protected, but never executable. */
static int
allow_memory(scmp_filter_ctx ctx, uint32_t exec_action)
{
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) != 0)
		return -1;
	if (exec_action == SCMP_ACT_KILL_PROCESS)
		return 0;
	if (seccomp_rule_add(ctx, exec_action, SCMP_SYS(mmap), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC)) != 0 ||
	    seccomp_rule_add(ctx, exec_action, SCMP_SYS(mprotect), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC)) != 0)
		return -1;
	return 0;
}

/* Status flags and close-on-exec only: no F_SETOWN, no locks, no dup. */
static int
allow_fcntl(scmp_filter_ctx ctx)
{
	const int	 cmds[] = { F_GETFL, F_SETFL, F_GETFD, F_SETFD };
	size_t		 i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
		    SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)cmds[i])) != 0)
			return -1;
	return 0;
}

/* socket(family, type[|SOCK_NONBLOCK|SOCK_CLOEXEC], any protocol) */
static int
allow_socket(scmp_filter_ctx ctx, int family, int type)
{
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
	    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)family),
	    SCMP_A1(SCMP_CMP_MASKED_EQ, SOCK_TYPE_MASK, (scmp_datum_t)type));
}

static int
engine_rules(scmp_filter_ctx ctx)
{
	if (allow_list(ctx, engine_calls,
	    sizeof(engine_calls) / sizeof(engine_calls[0])) == -1 ||
	    allow_memory(ctx, SCMP_ACT_KILL_PROCESS) == -1 ||
	    allow_socket(ctx, AF_INET, SOCK_DGRAM) == -1 ||
	    allow_socket(ctx, AF_INET6, SOCK_DGRAM) == -1)
		return -1;
	/* The control peer's credentials, and a socket's pending error. */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(getsockopt), 2,
	    SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET),
	    SCMP_A2(SCMP_CMP_EQ, SO_PEERCRED)) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(getsockopt), 2,
	    SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET),
	    SCMP_A2(SCMP_CMP_EQ, SO_ERROR)) != 0)
		return -1;
	/*
	 * A control client's connection, duplicated to go to the parent
	 * with a change request: the parent reads the client's credentials
	 * itself.
	 */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
	    SCMP_A1(SCMP_CMP_EQ, F_DUPFD_CLOEXEC)) != 0)
		return -1;
	return 0;
}

static int
server_rules(scmp_filter_ctx ctx)
{
	if (allow_list(ctx, server_calls,
	    sizeof(server_calls) / sizeof(server_calls[0])) == -1 ||
	    allow_memory(ctx, SCMP_ACT_KILL_PROCESS) == -1)
		return -1;
	return 0;
}

/*
 * glibc's resolver reads /etc/hosts, /etc/resolv.conf and friends when
 * they change, so files may be opened, for reading only.  It probes the
 * nscd socket (AF_UNIX), asks the kernel for the local addresses over
 * netlink to sort several answers (RFC 6724), and may try to load an NSS
 * module (executable mapping); all three fail cleanly with EACCES and
 * the resolver carries on without them.
 */
static int
dns_rules(scmp_filter_ctx ctx)
{
	if (allow_list(ctx, dns_calls,
	    sizeof(dns_calls) / sizeof(dns_calls[0])) == -1 ||
	    allow_memory(ctx, SCMP_ACT_ERRNO(EACCES)) == -1 ||
	    allow_socket(ctx, AF_INET, SOCK_DGRAM) == -1 ||
	    allow_socket(ctx, AF_INET6, SOCK_DGRAM) == -1 ||
	    allow_socket(ctx, AF_INET, SOCK_STREAM) == -1 ||
	    allow_socket(ctx, AF_INET6, SOCK_STREAM) == -1)
		return -1;
	if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 1,
	    SCMP_A0(SCMP_CMP_EQ, AF_UNIX)) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 1,
	    SCMP_A0(SCMP_CMP_EQ, AF_NETLINK)) != 0)
		return -1;
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, OPEN_WRITE_MASK, O_RDONLY)) != 0)
		return -1;
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
	    SCMP_A1(SCMP_CMP_EQ, FIONREAD)) != 0)
		return -1;
	return 0;
}

int
sandbox_apply(enum proc_role role)
{
	scmp_filter_ctx	 ctx;
	int		 rc;

	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL) {
		log_warnx("seccomp_init failed");
		return -1;
	}
	if (allow_list(ctx, common_calls,
	    sizeof(common_calls) / sizeof(common_calls[0])) == -1 ||
	    allow_fcntl(ctx) == -1)
		goto fail;
	switch (role) {
	case PROC_ENGINE:
		rc = engine_rules(ctx);
		break;
	case PROC_SERVER:
		rc = server_rules(ctx);
		break;
	case PROC_DNS:
		rc = dns_rules(ctx);
		break;
	default:
		log_warnx("no seccomp filter for the %s", proc_role_name(role));
		goto fail;
	}
	if (rc == -1)
		goto fail;
	if ((rc = seccomp_load(ctx)) != 0) {
		log_warnx("seccomp_load: error %d", rc);
		goto fail;
	}
	seccomp_release(ctx);
	return 0;
fail:
	log_warnx("cannot build the seccomp filter of the %s",
	    proc_role_name(role));
	seccomp_release(ctx);
	return -1;
}
