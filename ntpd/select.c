/*
 * Source selection (RFC 5905, section 11.2 and A.5.5), with no I/O.
 *
 * Fitness.  Unreachable, noselect, unsynchronised and too distant
 * sources take no part: not even in counting the majority, so a dead
 * server cannot hold the others to ransom.
 *
 * Intersection.  Each usable source says the true time lies within
 * [offset - rootdist, offset + rootdist].  For allow = 0, 1, ... while
 * fewer than half: the leftmost and rightmost points covered by at least
 * n - allow intervals bound an interval [low, high]; it counts when no
 * more than allow midpoints (offsets) lie outside it, which keeps a few
 * wide intervals from vouching for a spot none of them is near.  Endpoints
 * are sorted with lower edges before midpoints before upper edges at equal
 * values, so intervals that touch do overlap.  A source whose interval
 * misses [low, high] is a falseticker.  Root distances are floored at
 * mindist (ntpd's "tos mindist", 1 ms): on a LAN, distances are tens of
 * microseconds while path asymmetry that the distance cannot see is
 * often more, and an honest server should not be cast out for it.
 *
 * Clustering.  Among the survivors, the one whose offset is furthest from
 * the others (selection jitter: RMS of the differences) is dropped while
 * that exceeds the smallest peer jitter, that is while the spread between
 * sources is more than the noise within one, and more than min_survivors
 * are left.
 *
 * Combining.  The survivors' offsets weighted by 1 / rootdist.  Like
 * chrony's combinelimit, a survivor far worse than the system peer (over
 * combine_limit times its distance) is left out: its weight would be small
 * but its error, on a long asymmetric path, large.
 *
 * The system peer is the best survivor by stratum, then distance, as RFC
 * 5905 orders them; the prefer source overrides that; and the last run's
 * peer is kept while it is of the best stratum, as the RFC does, so that
 * the peer does not hop back and forth between equals on noise.
 *
 * Sorting is by insertion: at most 3 * 64 endpoints, once a poll, and
 * libc's qsort may allocate, which the engine's sandbox does not allow.
 */

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "select.h"

#define EDGE_LOW	(-1)
#define EDGE_MID	0
#define EDGE_HIGH	1

struct edge {
	double	val;
	int	type;
};

struct cand {
	size_t		idx;		/* into the sources */
	double		offset;
	double		dist;		/* floored at mindist */
	double		jitter;
	double		metric;		/* stratum * maxdist + dist */
	unsigned int	stratum;
	unsigned int	flags;
};

static int	conf_ok(const struct select_conf *);
static unsigned int fitness(const struct select_conf *,
		    const struct select_source *);
static void	sort_edges(struct edge *, size_t);
static int	intersect(const struct edge *, size_t, unsigned int,
		    double *, double *);
static void	sort_cands(struct cand *, size_t);
static size_t	worst(const struct cand *, size_t);

void
select_conf_init(struct select_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->maxdist = 1.5;
	conf->mindist = 0.001;
	conf->combine_limit = 3;
	conf->min_sources = 1;
	conf->min_survivors = 3;
}

static int
conf_ok(const struct select_conf *c)
{
	return c->maxdist > 0 && isfinite(c->maxdist) && c->mindist > 0 &&
	    c->mindist <= c->maxdist &&
	    (c->combine_limit == 0 ||
	    (c->combine_limit >= 1 && isfinite(c->combine_limit))) &&
	    c->min_sources >= 1 && c->min_survivors >= 1;
}

/* SELECT_WHY_* for what unfits s; 0 when it is usable. */
static unsigned int
fitness(const struct select_conf *c, const struct select_source *s)
{
	unsigned int	why = 0;

	if (!isfinite(s->offset) || !(s->rootdist >= 0) ||
	    !isfinite(s->rootdist) || !(s->jitter >= 0) ||
	    !isfinite(s->jitter))
		why |= SELECT_WHY_INVALID;
	if (s->reach == 0)
		why |= SELECT_WHY_UNREACH;
	if (s->flags & SELECT_F_NOSELECT)
		why |= SELECT_WHY_NOSELECT;
	if (s->leap >= 3 || s->stratum == 0 ||
	    s->stratum >= 16)
		why |= SELECT_WHY_UNSYNC;
	if (s->rootdist > c->maxdist)
		why |= SELECT_WHY_DISTANCE;
	return why;
}

static void
sort_edges(struct edge *e, size_t n)
{
	struct edge	x;
	size_t		i, j;

	for (i = 1; i < n; i++) {
		x = e[i];
		for (j = i; j > 0 && (x.val < e[j - 1].val ||
		    (x.val == e[j - 1].val && x.type < e[j - 1].type)); j--)
			e[j] = e[j - 1];
		e[j] = x;
	}
}

/*
 * The intersection of n intervals given by their sorted edges: 0 and
 * [*low, *high], or -1 when no majority agrees.
 */
static int
intersect(const struct edge *e, size_t ne, unsigned int n, double *low,
    double *high)
{
	unsigned int	allow, need, depth, found;
	double		lo = 0, hi = 0;
	size_t		i;

	for (allow = 0; 2 * allow < n; allow++) {
		need = n - allow;
		found = 0;
		depth = 0;
		for (i = 0; i < ne; i++) {
			if (e[i].type == EDGE_LOW) {
				if (++depth >= need)
					break;
			} else if (e[i].type == EDGE_HIGH)
				depth--;
			else
				found++;
		}
		if (i == ne)
			continue;
		lo = e[i].val;
		depth = 0;
		for (i = ne; i-- > 0; ) {
			if (e[i].type == EDGE_HIGH) {
				if (++depth >= need)
					break;
			} else if (e[i].type == EDGE_LOW)
				depth--;
			else
				found++;
		}
		/* Depth need is reached from the left, so from the right. */
		hi = e[i].val;
		if (found <= allow) {
			*low = lo;
			*high = hi;
			return 0;
		}
	}
	return -1;
}

/* By metric, then by index: a fixed order for equals. */
static void
sort_cands(struct cand *c, size_t n)
{
	struct cand	x;
	size_t		i, j;

	for (i = 1; i < n; i++) {
		x = c[i];
		for (j = i; j > 0 && (x.metric < c[j - 1].metric ||
		    (x.metric == c[j - 1].metric && x.idx < c[j - 1].idx));
		    j--)
			c[j] = c[j - 1];
		c[j] = x;
	}
}

/*
 * The survivor to prune next: the greatest selection jitter (the later in
 * metric order among equals), or n when it is no more than the least peer
 * jitter.
 */
static size_t
worst(const struct cand *c, size_t n)
{
	double	max = -1, min = INFINITY, sum, d;
	size_t	i, j, w = n;

	for (i = 0; i < n; i++) {
		sum = 0;
		for (j = 0; j < n; j++) {
			d = c[j].offset - c[i].offset;
			sum += d * d;
		}
		sum = sqrt(sum / (double)(n - 1));
		if (sum >= max) {
			max = sum;
			w = i;
		}
		if (c[i].jitter < min)
			min = c[i].jitter;
	}
	return max <= min ? n : w;
}

int
select_run(const struct select_conf *conf, const struct select_source *src,
    size_t n, struct select_verdict *v, struct select_result *res)
{
	struct cand	 c[SELECT_MAX_SOURCES], *peer;
	struct edge	 e[3 * SELECT_MAX_SOURCES];
	double		 low, high, y, z, w, d;
	size_t		 i, j, nc, ne, k, npending, ntrusted;
	unsigned int	 why;

	if (conf == NULL || res == NULL || !conf_ok(conf) ||
	    n > SELECT_MAX_SOURCES || (n > 0 && (src == NULL || v == NULL))) {
		errno = EINVAL;
		return -1;
	}
	memset(res, 0, sizeof(*res));

	nc = npending = 0;
	for (i = 0; i < n; i++) {
		why = fitness(conf, &src[i]);
		v[i].state = why ? SELECT_UNUSABLE : SELECT_FALSETICKER;
		v[i].why = why;
		if (why == SELECT_WHY_DISTANCE &&
		    src[i].flags & SELECT_F_PENDING)
			npending++;
		if (why)
			continue;
		c[nc].idx = i;
		c[nc].offset = src[i].offset;
		c[nc].dist = src[i].rootdist < conf->mindist ?
		    conf->mindist : src[i].rootdist;
		c[nc].jitter = src[i].jitter;
		c[nc].stratum = src[i].stratum;
		c[nc].flags = src[i].flags;
		c[nc].metric = conf->maxdist * src[i].stratum + c[nc].dist;
		nc++;
	}
	res->nusable = (unsigned int)nc;
	if (nc == 0) {
		res->status = SELECT_NO_SOURCES;
		return 0;
	}

	/* With trusted sources, theirs is the majority that counts. */
	ntrusted = 0;
	for (i = 0; i < nc; i++)
		if (c[i].flags & SELECT_F_TRUSTED)
			ntrusted++;
	ne = 0;
	for (i = 0; i < nc; i++) {
		if (ntrusted > 0 && !(c[i].flags & SELECT_F_TRUSTED))
			continue;
		e[ne].val = c[i].offset - c[i].dist;
		e[ne++].type = EDGE_LOW;
		e[ne].val = c[i].offset;
		e[ne++].type = EDGE_MID;
		e[ne].val = c[i].offset + c[i].dist;
		e[ne++].type = EDGE_HIGH;
	}
	sort_edges(e, ne);
	if (intersect(e, ne, (unsigned int)(ntrusted > 0 ? ntrusted : nc),
	    &low, &high) == -1) {
		/* The verdicts already say falseticker. */
		res->status = SELECT_NO_MAJORITY;
		return 0;
	}
	res->low = low;
	res->high = high;

	/* The truechimers, kept in c[]. */
	for (i = j = 0; i < nc; i++)
		if (c[i].offset - c[i].dist <= high &&
		    c[i].offset + c[i].dist >= low) {
			v[c[i].idx].state = SELECT_CANDIDATE;
			c[j++] = c[i];
		}
	nc = j;
	res->ntruechimers = (unsigned int)nc;
	if (ntrusted == 0 && nc * 2 <= res->nusable + npending) {
		res->status = SELECT_WAITING;
		return 0;
	}
	if (nc < conf->min_sources) {
		res->status = SELECT_TOO_FEW;
		return 0;
	}

	sort_cands(c, nc);
	while (nc > conf->min_survivors && (k = worst(c, nc)) < nc) {
		memmove(&c[k], &c[k + 1], (nc - k - 1) * sizeof(c[0]));
		nc--;
	}
	res->nsurvivors = (unsigned int)nc;

	peer = &c[0];
	for (i = 0; i < nc; i++)
		if (c[i].flags & SELECT_F_SYSPEER &&
		    c[i].stratum == c[0].stratum) {
			peer = &c[i];
			break;
		}
	for (i = 0; i < nc; i++)
		if (c[i].flags & SELECT_F_PREFER) {
			peer = &c[i];
			break;
		}

	y = z = w = 0;
	for (i = 0; i < nc; i++) {
		if (conf->combine_limit > 0 && &c[i] != peer &&
		    c[i].dist > conf->combine_limit * peer->dist)
			continue;
		v[c[i].idx].state = SELECT_COMBINED;
		res->ncombined++;
		d = c[i].offset - peer->offset;
		y += 1 / c[i].dist;
		z += c[i].offset / c[i].dist;
		w += d * d / c[i].dist;
	}
	v[peer->idx].state = SELECT_SYSPEER;
	res->status = SELECT_OK;
	res->syspeer = peer->idx;
	res->offset = z / y;
	res->sel_jitter = sqrt(w / y);
	res->jitter = hypot(peer->jitter, res->sel_jitter);
	return 0;
}
