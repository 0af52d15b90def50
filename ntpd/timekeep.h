/*
 * What the parent keeps besides the clock's corrections: the RTC, the
 * last-known-time file and the local time zone.  All of it is root's
 * work, and all of it is audited.
 */
#ifndef NTPD_TIMEKEEP_H
#define NTPD_TIMEKEEP_H

#include <stddef.h>

#include "config.h"

/*
 * At start, before any network sync: when the clock is behind the RTC
 * or the last-known time, step it forward to the later of them.  Then
 * the configured time zone, if any.  Nothing of the clock or the RTC is
 * touched when the daemon does not control the clock (-x).
 */
void	timekeep_start(const struct ntpd_conf *);

/* Every minute or so: while synchronised, the RTC and the last-known
   file are written every RTC_INTERVAL. */
void	timekeep_tick(void);

/* At exit: the last-known time, if the clock is synchronised. */
void	timekeep_stop(void);

/* A reload's paths. */
void	timekeep_reconfigure(const struct ntpd_conf *);

/*
 * Make name the local time zone (/etc/localtime), audited as done by
 * who.  0, or -1 with the reason in err (the name is never echoed when
 * it is not a valid one).  Setting the zone in force again is a no-op
 * that says so.
 */
int	timekeep_set_timezone(const char *name, const char *who, char *msg,
	    size_t len);

#endif /* NTPD_TIMEKEEP_H */
