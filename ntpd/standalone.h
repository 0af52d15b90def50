/*
 * ntpd -S: the engine's client and clock discipline in one process, in
 * the foreground, for clock simulators such as clknetsim, which stand in
 * for the system calls of a single process polling its own UDP sockets.
 * No fork, chroot, seccomp, control socket, dns process or servers; the
 * discipline's requests go straight to clock.c, under the same policy
 * as in the parent.  It never runs with the right to set the clock: a
 * simulator's clock is the only one it may move.
 */
#ifndef NTPD_STANDALONE_H
#define NTPD_STANDALONE_H

#include "config.h"
#include "ntpd.h"

/*
 * What the configuration asks that -S cannot do (names to resolve,
 * listeners, a time zone), each logged as "FILE:LINE: ...".  0 or -1.
 */
int	standalone_check_conf(const struct ntpd_conf *, const char *path);

/* Runs until a signal; refuses root or CAP_SYS_TIME.  The exit status. */
int	standalone_main(struct ntpd_conf *, const struct ntpd_opts *);

#endif /* NTPD_STANDALONE_H */
