/*
 * Source selection, with no I/O: which sources are fit to use, which of
 * them are falsetickers (RFC 5905 intersection algorithm), which
 * survivors are outliers (clustering), the combined offset of the rest,
 * and the system peer.  Stateless: each run looks only at its arguments,
 * so the caller may run it whenever a source has news.
 *
 * Units are double seconds, as in filter.h; a source's offset is server
 * minus local, its correctness interval [offset - rootdist, offset +
 * rootdist].  Nothing is allocated: at most SELECT_MAX_SOURCES sources a
 * run, all work space on the stack (some 6 KB).
 */
#ifndef NTPD_SELECT_H
#define NTPD_SELECT_H

#include <stddef.h>
#include <stdint.h>

#define SELECT_MAX_SOURCES	64

struct select_conf {
	double		maxdist;	/* further is unusable: 1.5 s */
	double		mindist;	/* floor of every root distance: 1 ms */
	double		combine_limit;	/* combine only sources within this
					   times the system peer's distance;
					   0: all survivors.  3 */
	unsigned int	min_sources;	/* agreeing sources needed for a
					   result: 1 */
	unsigned int	min_survivors;	/* clustering stops at this many: 3 */
};

/* select_source flags */
#define SELECT_F_PREFER		0x01	/* system peer whenever it survives */
#define SELECT_F_NOSELECT	0x02	/* shown, never used */
#define SELECT_F_SYSPEER	0x04	/* the system peer of the last run */
#define SELECT_F_PENDING	0x08	/* may have a say soon: see below */
#define SELECT_F_TRUSTED	0x10	/* outvoted only by the trusted */

/* A source's filtered state, e.g. from filter_estimate(). */
struct select_source {
	double		offset;
	double		rootdist;
	double		jitter;
	unsigned int	stratum;
	unsigned int	leap;
	uint8_t		reach;
	unsigned int	flags;
};

enum select_state {
	SELECT_UNUSABLE,	/* not fit to take part; see why */
	SELECT_FALSETICKER,	/* outside what the majority agrees on */
	SELECT_CANDIDATE,	/* agrees, but not in the combination */
	SELECT_COMBINED,	/* in the combined offset */
	SELECT_SYSPEER,		/* combined, and the system peer */
};

/* Why a source is unusable: any of these. */
#define SELECT_WHY_UNREACH	0x01	/* reach 0 */
#define SELECT_WHY_NOSELECT	0x02
#define SELECT_WHY_UNSYNC	0x04	/* leap 3, stratum 0 or >= 16 */
#define SELECT_WHY_DISTANCE	0x08	/* rootdist over maxdist */
#define SELECT_WHY_INVALID	0x10	/* not a number, or negative */

struct select_verdict {
	enum select_state	state;
	unsigned int		why;	/* SELECT_WHY_*; 0 unless unusable */
};

enum select_status {
	SELECT_OK,
	SELECT_NO_SOURCES,	/* nothing usable */
	SELECT_NO_MAJORITY,	/* no interval agreed by a majority */
	SELECT_TOO_FEW,		/* fewer agreeing sources than min_sources */
	SELECT_WAITING,		/* no majority of the usable and pending */
};

struct select_result {
	enum select_status	status;
	size_t		syspeer;	/* index of the system peer (OK) */
	double		offset;		/* combined offset (OK) */
	double		sel_jitter;	/* of the combined about the peer */
	double		jitter;		/* hypot(peer's jitter, sel_jitter) */
	double		low, high;	/* majority's interval (OK, TOO_FEW) */
	unsigned int	nusable;
	unsigned int	ntruechimers;	/* not falsetickers */
	unsigned int	nsurvivors;	/* left after clustering */
	unsigned int	ncombined;
};

/* The defaults above. */
void	select_conf_init(struct select_conf *);

/*
 * Judge the n sources src[], writing one verdict each into v[] and the
 * outcome into res.  Returns 0, or -1 with errno EINVAL for a NULL
 * pointer, n above SELECT_MAX_SOURCES, or a bad conf (maxdist and
 * mindist positive, mindist <= maxdist, combine_limit 0 or >= 1,
 * min_sources and min_survivors >= 1).
 *
 * A source is usable when it is reachable, not noselect, synchronised
 * and within maxdist.  The usable ones' intervals (rootdist floored at
 * mindist) go to the intersection algorithm: the smallest interval in
 * which more than half of them overlap, with no more midpoints outside
 * it than sources left out.  A source whose interval misses it is a
 * falseticker.  Survivors are then pruned while more than min_survivors
 * are left and the worst selection jitter exceeds the best peer jitter.
 * The system peer is the prefer source if it is left, else the one kept
 * from the last run (SELECT_F_SYSPEER) when it is of the best stratum,
 * else the least of stratum * maxdist + rootdist.  The offset combines
 * the survivors within combine_limit of the peer's distance, weighted by
 * 1 / rootdist.
 *
 * When some usable sources are SELECT_F_TRUSTED, the intersection is
 * theirs alone: the interval most of the trusted agree on, against which
 * every usable source, trusted or not, is a truechimer or a falseticker.
 * So untrusted sources never outvote a trusted one, and the wait for
 * pending ones below does not apply; trusted sources that disagree leave
 * no majority.
 *
 * A source unusable only for its distance but flagged SELECT_F_PENDING
 * (its filter holds too few samples yet, say) has no interval, but may
 * soon: it counts as a voter.  When the truechimers are not more than
 * half of the usable and pending sources, nothing is combined or chosen
 * (SELECT_WAITING; the truechimers are candidates): the first usable
 * source is not taken for the majority's voice, a liar as well as
 * another.  When fewer than min_sources are truechimers, likewise
 * (SELECT_TOO_FEW).  With no majority of the usable, every usable source
 * is a falseticker.
 */
int	select_run(const struct select_conf *, const struct select_source *src,
	    size_t n, struct select_verdict *v, struct select_result *res);

#endif /* NTPD_SELECT_H */
