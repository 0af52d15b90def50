/*
 * The engine's sources as decisions, with no I/O: what a reply or a
 * miss does to a source's filter and poll interval, when its next
 * request is due, and what a selection over all of them asks of the
 * clock.  The daemon (client.c) and the simulator (regress/sim/glue.c)
 * hold the sources and do their I/O around these calls, so that both
 * decide alike.
 *
 * The clock's side (sync.h) and random numbers come through struct
 * sources_ops: the simulator gives its own.  Nothing is allocated and
 * nothing logged: the caller holds a struct source_core per source and
 * passes them all as an array of pointers, in its order; the system
 * peer is an index into that array.  Times are monotonic nanoseconds.
 */
#ifndef NTPD_SOURCES_H
#define NTPD_SOURCES_H

#include <stddef.h>
#include <stdint.h>

#include "exchange.h"
#include "filter.h"
#include "interval.h"
#include "select.h"

#define SOURCES_REPLY_TIMEOUT_NS 2000000000ULL	/* then the poll is a
						   miss */

struct sync_input;

/*
 * What the module asks of the caller: sync.h's functions for the
 * daemon, each given arg, and arc4random_uniform().
 */
struct sources_ops {
	void	 *arg;
	int	 (*updated)(void *arg);
	double	 (*take_correction)(void *arg, uint64_t now_ns);
	double	 (*tolerance)(void *arg);
	double	 (*drift)(void *arg);
	/* in->peer is left zero: the peer is the result's syspeer */
	void	 (*update)(void *arg, const struct sync_input *in,
		     uint64_t now_ns);
	void	 (*refuse)(void *arg, double offset, uint64_t now_ns);
	/* a random number below upper (0 when upper is 0) */
	uint32_t (*uniform)(void *arg, uint32_t upper);
};

/* A source's configuration, as far as its decisions go. */
struct source_opts {
	int		 minpoll;	/* log2 s */
	int		 maxpoll;	/* log2 s */
	int		 iburst;
	int		 prefer;
	int		 noselect;
	int		 trusted;
};

/* One source's state: the caller's, to read and to hold. */
struct source_core {
	struct source_opts	 opts;
	int			 active;	/* has an address and is not
						   stopped: the caller says */
	struct filter		 filter;
	struct interval		 iv;		/* the poll interval */
	int			 burst;		/* quick exchanges left */
	struct select_source	 input;		/* to the last selection */
	struct select_verdict	 verdict;	/* of the last selection */
	int			 refused;	/* beyond the tolerance */
	int			 newly_refused;	/* and not at the one before */
};

/* All sources together: the last selection and the first update. */
struct sources {
	struct sources_ops	 ops;
	struct select_conf	 conf;
	struct select_result	 result;	/* of the last selection */
	int			 have_result;	/* result.status is OK */
	uint64_t		 selected_ns;	/* last selection; 0: none */
	double			 tolerance;	/* what it left out beyond */
	double			 precision;	/* the local clock's, s */
	int			 fresh;		/* a sample the estimate rests
						   on, since the last one */
	uint64_t		 started_ns;
};

/*
 * At start: no selection yet, and the first update waits for the
 * sources as below.  precision is the local clock's, s.
 */
void		 sources_init(struct sources *, const struct sources_ops *,
		     double precision, unsigned int min_sources,
		     uint64_t now);

/*
 * A source as at start (or with a new address): no samples, at minpoll,
 * IBURST quick exchanges if asked, not active.  Returns when its first
 * request is due: within a quarter of a second, at random, so that the
 * sources do not all ask at once.
 */
uint64_t	 sources_start(struct sources *, struct source_core *,
		     const struct source_opts *, uint64_t now);

/*
 * A reply to source s, one of all[n].  Brings every filter up to date
 * with the clock's corrections first (the reply is measured on the
 * clock as it is now), then the sample through s's filter, whose
 * verdict is returned, and the poll interval.  taken: the sample as
 * the filter took it, for the statistics.
 */
enum filter_verdict sources_sample(struct sources *,
		     struct source_core *const *all, size_t n,
		     struct source_core *s, const struct exchange_sample *,
		     uint64_t now, struct filter_sample *taken);

/* A poll unanswered, or its answer refused: a shorter interval. */
void		 sources_miss(struct source_core *);

/*
 * A RATE kiss: no more quick exchanges, and a longer interval (beyond
 * maxpoll, up to POLL_MAX).  The source is there: no miss for the
 * interval, but no sample for the filter either.
 */
void		 sources_slow_down(struct source_core *);

/* When the next request to s is due, one sent now or not. */
uint64_t	 sources_next_poll(struct sources *,
		     const struct source_core *, uint64_t now);
/* A request went out (or was lost): one quick exchange fewer. */
uint64_t	 sources_polled(struct sources *, struct source_core *,
		     uint64_t now);

/*
 * Run selection over every source's estimate, after bringing them up
 * to date with the clock's corrections.  Each source's input, verdict
 * and refused flags are set (newly_refused: to be said), and the
 * outcome kept in result.  Returns -1 with errno EINVAL for more than
 * SELECT_MAX_SOURCES sources, or when select_run() fails: no verdict
 * changes then.  sources_update_clock() must follow a success.
 */
int		 sources_select(struct sources *,
		     struct source_core *const *all, size_t n, uint64_t now);

/*
 * What the selection just run asks of the clock: an update (ops.update)
 * or, fresh samples being all beyond the tolerance, a refusal
 * (ops.refuse); or nothing.  The first update waits until every source
 * in its quick start exchanges has 3 samples (for 30 s at most), and
 * takes the median of the combined offsets.
 */
void		 sources_update_clock(struct sources *,
		     struct source_core *const *all, size_t n, uint64_t now);

/*
 * The caller's array changed: delta sources were inserted (> 0) or
 * removed (< 0) at index at.  The system peer's index follows; if it
 * was removed, there is none.
 */
void		 sources_moved(struct sources *, size_t at, int delta);
/* Source i starts over: it is no system peer any more. */
void		 sources_forget(struct sources *, size_t i);

#endif /* NTPD_SOURCES_H */
