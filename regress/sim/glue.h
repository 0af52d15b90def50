/*
 * The engine as the simulator runs it.  Its decisions are the daemon's
 * own: ntpd/sources.c, called as client.c calls it.  Around them stand
 * the calls below, in place of what client.c does with sockets,
 * clock_gettime and arc4random (its timers, and which replies are a
 * miss, follow client.c's), and glue.c's glue_sync_* functions, in
 * place of what sync.c does with the parent's pipe: those copy sync.c's
 * path between the discipline and the parent, and a change there must
 * be made in them too.
 */
#ifndef NTPD_SIM_GLUE_H
#define NTPD_SIM_GLUE_H

#include <stddef.h>
#include <stdint.h>

#include "discipline.h"
#include "exchange.h"
#include "ntp.h"
#include "ntpd.h"
#include "rng.h"
#include "select.h"
#include "sim.h"
#include "sources.h"

/* What the engine does to the world. */
struct glue_ops {
	void		*arg;
	/* clock_gettime(CLOCK_REALTIME), for T1 */
	struct ntp_ts	(*realtime)(void *);
	/* send() of a request to source i on a fresh socket */
	void		(*send)(void *, size_t i, const void *, size_t);
	/* the parent's IMSG_CLOCK_ADJUST, answered at once */
	void		(*adjust)(void *, const struct imsg_clock_adjust *,
			    struct imsg_clock_result *);
	/* select_run() ran (for the figures; may be NULL) */
	void		(*selected)(void *, const struct select_verdict *,
			    size_t n, const struct select_result *);
	/* a clock update was asked (may be NULL) */
	void		(*updated)(void *, double offset, double jitter,
			    const struct discipline_cmd *);
};

/* client.c's struct source, less its name, socket and statistics. */
struct glue_source {
	struct exchange		 ex;
	struct source_core	 core;
	int			 waiting;	/* client.c: fd != -1 */
	struct ntp_ts		 t1;
	uint64_t		 sent_ns;
	uint64_t		 next_ns;
	uint64_t		 sent;
};

struct glue {
	const struct sim_scenario *sc;
	struct glue_ops		 ops;
	struct rng		 rng;		/* arc4random's stand-in */
	/* client.c */
	struct glue_source	 src[SIM_MAX_SERVERS];
	struct source_core	*cores[SIM_MAX_SERVERS]; /* src[i].core */
	size_t			 nsources;
	struct sources		 sources;
	/* sync.c */
	struct discipline	 disc;
	double			 taken;
	double			 tolerance;
	uint64_t		 refused;
};

/* client_init(), sync_init() and sync_clock_init() (frequency 0). */
void		glue_init(struct glue *, const struct sim_scenario *,
		    uint64_t seed, const struct glue_ops *, uint64_t now);
/* client_timeout(), as the monotonic ns of the next timer. */
uint64_t	glue_next(const struct glue *);
/* client_run() */
void		glue_run(struct glue *, uint64_t now);
/* client_receive() of the reply buf to source i, received at t4. */
void		glue_receive(struct glue *, size_t i, const void *buf,
		    size_t len, struct ntp_ts t4, uint64_t now);

#endif /* NTPD_SIM_GLUE_H */
