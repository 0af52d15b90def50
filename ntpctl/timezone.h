/*
 * ntpctl timezone list | show | set NAME.  list and show read the tz
 * database and /etc/localtime directly; set only checks the name here,
 * the daemon's parent makes the change (root only, audited).
 */
#ifndef NTPCTL_TIMEZONE_H
#define NTPCTL_TIMEZONE_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#define CTL_TZ_OK	0	/* done */
#define CTL_TZ_ERROR	1	/* done, failed, said why on stderr */
#define CTL_TZ_USAGE	2	/* bad arguments, usage printed */
#define CTL_TZ_SEND	3	/* set: argv[2] is a valid zone, send it */

/*
 * argv[0] is "timezone".  Returns one of the codes above; the first
 * three are exit statuses, CTL_TZ_SEND asks the caller to send the
 * request for argv[2] to the daemon.
 */
int	ctl_timezone(int argc, char *argv[]);

/*
 * Is name a zone of the system's tz database?  0, or -1 and a message
 * for the user in err (which never echoes an invalid name).
 */
int	ctl_timezone_validate(const char *name, char *err, size_t errlen);

/*
 * "Universal time:", "Local time:" and "UTC offset:" lines for t, in
 * the zone of the process (TZ, else /etc/localtime).  0 or -1.
 */
int	ctl_timezone_print_times(FILE *fp, time_t t);

#endif /* NTPCTL_TIMEZONE_H */
