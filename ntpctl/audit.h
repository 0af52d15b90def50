/*
 * ntpctl audit: show and verify the daemon's audit trail.  It reads the
 * file directly, not through the daemon, so a trail can be checked when
 * ntpd is down or on another host.
 */
#ifndef NTPCTL_AUDIT_H
#define NTPCTL_AUDIT_H

/*
 * argv[0] is "audit"; the rest is [verify] [-f file], where file "-" is
 * standard input.  Returns the exit status: 0 fine, 1 a problem found in
 * the trail, 2 a usage or I/O error.
 */
int	ctl_audit(int argc, char *argv[]);

#endif /* NTPCTL_AUDIT_H */
