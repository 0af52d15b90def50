/*
 * The engine's clock: each selection's outcome goes through the
 * discipline, whose requests go to the parent (struct sync_parent: with
 * ntpd -S, clock.c in the same process); what the parent did comes back
 * into the discipline's account; and the state the servers announce
 * (stratum, refid, root delay and dispersion, leap) is made here.
 */
#ifndef NTPD_SYNC_H
#define NTPD_SYNC_H

#include <sys/socket.h>
#include <stdint.h>

#include "config.h"
#include "ctl.h"
#include "imsg.h"
#include "ntpd.h"
#include "serve.h"

/* The system peer and the combination, from one selection. */
struct sync_input {
	double			 offset;	/* combined, s */
	double			 jitter;	/* s */
	unsigned int		 stratum;	/* the system peer's */
	double			 rootdelay;	/* the peer's + its delay */
	double			 rootdisp;	/* the peer's + its dispersion */
	unsigned int		 leap;		/* the majority's */
	struct sockaddr_storage	 peer;		/* for the refid */
};

/*
 * Where the discipline's requests go: adjust() asks for a correction,
 * whose outcome must come back through sync_clock_done() after adjust()
 * has returned, never from within it; refused() says that sync.c refused
 * one itself (the tolerance), for the audit trail.
 */
struct sync_parent {
	void	(*adjust)(const struct imsg_clock_adjust *);
	void	(*refused)(const struct imsg_refused *);
};

/*
 * The engine's: requests go to the parent as IMSG_CLOCK_ADJUST and
 * IMSG_REFUSED over the channel parent.
 */
void	sync_init(const struct ntpd_conf *, struct imsgbuf *parent,
	    int8_t precision);
/* Instead of that channel (ntpd -S: clock.c in the same process). */
void	sync_set_parent(const struct sync_parent *);
/* The parent's IMSG_CLOCK_INIT and IMSG_CLOCK_RESULT, checked. */
void	sync_clock_init(struct imsg *);
void	sync_clock_result(struct imsg *, uint64_t now_ns);
/* What those carry, however it came; malformed is fatal. */
void	sync_clock_start(const struct imsg_clock_init *);
void	sync_clock_done(const struct imsg_clock_result *, uint64_t now_ns);

/* Has the clock had its first update? */
int	sync_updated(void);

/* Steps and slews made to the clock since the last call, s. */
double	sync_take_correction(uint64_t now_ns);
/*
 * How fast the clock may drift from its sources now, s/s, for the
 * filters' spike gates (filter_set_drift()): FILTER_PHI until the
 * discipline has measured the frequency, then 0; always FILTER_PHI
 * without clock control (-x), as nothing corrects the clock's own.
 */
double	sync_drift(void);
/* After the first clock update, sources beyond it are left out. */
double	sync_tolerance(void);

/*
 * Fresh samples put the sources beyond the tolerance, and none within
 * it agree: the correction they ask (their median offset) is refused.
 * Each is counted; the first is logged and audited, then at most one
 * every 10 minutes, with how many went unsaid.
 */
void	sync_refuse(double offset, uint64_t now_ns);

/* A reload's clock settings. */
void	sync_reconfigure(const struct ntpd_conf *);

/* A selection succeeded: update the clock. */
void	sync_update(const struct sync_input *, uint64_t now_ns);
/* Now and then: dispersion grows, and holdover ends. */
void	sync_tick(uint64_t now_ns);
/* Milliseconds until sync_tick() wants to run. */
int	sync_timeout(uint64_t now_ns);

const struct sync_state *sync_served(void);
int	sync_synchronised(void);
void	sync_fill_ctl(struct ctl_system *, uint64_t now_ns);

/* engine.c: tell every server what to announce. */
void	engine_publish_sync(void);
/* engine.c: the system clock's precision, log2 s, as NTP states it. */
int8_t	engine_clock_precision(void);

#endif /* NTPD_SYNC_H */
