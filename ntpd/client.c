/*
 * The engine's client side: exchanges with the upstream sources, their
 * timers, and the path of each sample through the filter to selection.
 * The engine is jailed and may only make UDP sockets; every exchange
 * gets a new one, connected, so that its source port is random and only
 * the server's address and port can answer on it.
 *
 * Each configured source is a name here (struct name), and each name
 * has one or more sources (struct source) in sources[], kept in the
 * order of the configuration:
 *	- a numeric address: one source, for good;
 *	- "server NAME": one source, unresolved until the dns process
 *	  answers, then the first address of the answer (the resolver's
 *	  order of preference: RFC 6724 and /etc/gai.conf, which put the
 *	  addresses without a route last) that no other source uses yet.
 *	  Unreachable for a whole reach register (8 polls), or refused by
 *	  a kiss-o'-death, the name is resolved again and the source
 *	  moves to another address if the answer has one;
 *	- "servers NAME" / "pool NAME": one source per address, up to
 *	  POOL_MAX_MEMBERS, none of an address another source already
 *	  uses.  A member unreachable for a whole register, or refused by
 *	  a kiss-o'-death, is dropped, and the name resolved again to
 *	  replace it; an address dropped is not taken again while the
 *	  pool has other members.  A pool without members keeps one
 *	  unresolved source, so that ntpctl shows the name.
 * A lookup that fails or brings nothing new is retried after 4 s, then
 * twice as long each time up to an hour, less up to a quarter at
 * random (dns_backoff_*).  All sources together never exceed
 * CONF_MAX_SOURCES: a pool grows into the slots no name needs.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "client.h"
#include "ctl.h"
#include "dns.h"
#include "exchange.h"
#include "filter.h"
#include "interval.h"
#include "log.h"
#include "ntp.h"
#include "ntpd.h"
#include "select.h"
#include "stats.h"
#include "sync.h"

#define REPLY_TIMEOUT_NS	2000000000ULL	/* then the poll is a miss */
#define IBURST_COUNT		4		/* quick exchanges at start */
#define IBURST_SPACING_NS	2000000000ULL
#define IBURST_ENOUGH		3		/* samples for a first update */
#define START_SPREAD_MS		250		/* first requests spread over */
#define FIRST_UPDATE_WAIT_NS	30000000000ULL	/* for bursts, at most */
#define FIRST_MAJORITY_POLLS	8	/* minpolls to wait for a majority */
#define POOL_MAX_MEMBERS	4	/* sources of one servers/pool name */
#define UNREACH_POLLS		8	/* a whole reach register */
#define DNS_LOST_NS		600000000000ULL	/* unanswered: ask again */

/* The outcome of the last selection. */
struct client_system {
	struct select_result	 result;
	int			 have_result;	/* result.status is SELECT_OK */
	uint64_t		 updated_ns;	/* monotonic */
};

/* One configured source, and its name's resolution. */
struct name {
	const struct source_cfg	*cfg;
	int			 numeric;	/* an address: no dns */
	uint32_t		 qid;		/* query out; 0: none */
	uint64_t		 qsent_ns;
	uint64_t		 due_ns;	/* next query; 0: none wanted */
	uint64_t		 backoff_ns;	/* next wait for a retry */
	unsigned int		 deficit;	/* pool: dropped, to replace */
	struct sockaddr_storage	 dropped[POOL_MAX_MEMBERS];	/* pool */
	size_t			 ndropped;
	size_t			 dropped_next;	/* the oldest, to replace */
};

struct source {
	const struct source_cfg	*cfg;		/* its name's */
	size_t			 nm;		/* index in names[] */
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	int			 resolved;
	struct exchange		 ex;
	struct filter		 filter;
	int			 fd;		/* -1 between exchanges */
	struct ntp_ts		 t1;		/* send time of the request */
	uint64_t		 sent_ns;
	uint64_t		 next_ns;	/* next exchange */
	struct interval		 iv;		/* the poll interval */
	int			 burst;		/* quick exchanges left */
	int			 stopped;	/* DENY: never ask again */
	int			 drop;		/* pool: to be dropped */
	unsigned int		 polls;		/* since the address was set */
	uint64_t		 sent;
	uint64_t		 samples;
	uint64_t		 timeouts;
	uint64_t		 kod;
	uint64_t		 results[EXCHANGE_NRESULTS];
	struct select_verdict	 verdict;
	int			 refused;	/* beyond the tolerance */
};

static struct name		 names[CONF_MAX_SOURCES];
static size_t			 nnames;
static struct source		 sources[CONF_MAX_SOURCES];
static size_t			 nsources;
static struct select_conf	 sel_conf;
static struct client_system	 sys;
static double			 precision_s;
static int			 fresh;	/* a sample the estimate rests on */
static uint64_t			 started_ns;
static struct imsgbuf		*dns_ibuf;
static uint32_t			 last_qid;

static void	client_miss(struct source *, uint64_t);

uint64_t
monotonic_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static struct ntp_ts
realtime_ntp(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ntp_ts_from_timespec(&ts);
}

static uint64_t
poll_ns(int poll)
{
	return (1ULL << poll) * 1000000000ULL;
}

/* Up to a tenth of the interval at random, so sources do not march. */
static uint64_t
jitter_ns(uint64_t interval)
{
	return interval / 10 == 0 ? 0 :
	    (uint64_t)arc4random_uniform((uint32_t)(interval / 10 / 1000)) *
	    1000;
}

static void
client_close(struct source *s)
{
	if (s->fd != -1) {
		close(s->fd);
		s->fd = -1;
	}
}

/* "NAME" for a numeric source or one unresolved, else "NAME (ADDR)". */
static const char *
source_label(const struct source *s, char *buf, size_t len)
{
	char	 a[ADDR_STRLEN];

	if (!s->resolved || names[s->nm].numeric)
		strlcpy(buf, s->cfg->host, len);
	else {
		addr_ntop((const struct sockaddr *)&s->addr, a, sizeof(a));
		snprintf(buf, len, "%s (%s)", s->cfg->host, a);
	}
	return buf;
}

/* A source of name nm as at start: no address, no samples, a burst. */
static void
source_init(struct source *s, size_t nm, uint64_t now)
{
	memset(s, 0, sizeof(*s));
	s->nm = nm;
	s->cfg = names[nm].cfg;
	s->fd = -1;
	interval_init(&s->iv, s->cfg->minpoll);
	s->burst = s->cfg->iburst ? IBURST_COUNT : 0;
	filter_init(&s->filter, precision_s);
	s->verdict.state = SELECT_UNUSABLE;
	s->verdict.why = SELECT_WHY_UNREACH;
	s->next_ns = now + (uint64_t)arc4random_uniform(START_SPREAD_MS) *
	    1000000ULL;
}

/* Give a source an address, with the configured port. */
static void
source_set_addr(struct source *s, const struct sockaddr *sa, socklen_t len)
{
	if (len > sizeof(s->addr))
		return;
	memset(&s->addr, 0, sizeof(s->addr));
	memcpy(&s->addr, sa, len);
	s->addrlen = len;
	if (sa->sa_family == AF_INET)
		((struct sockaddr_in *)&s->addr)->sin_port =
		    htons(s->cfg->port);
	else
		((struct sockaddr_in6 *)&s->addr)->sin6_port =
		    htons(s->cfg->port);
	s->resolved = 1;
	s->polls = 0;
}

/* Sources of name nm: how many have an address, and where they end. */
static size_t
name_members(size_t nm, size_t *last)
{
	size_t	 i, n = 0;

	for (i = 0; i < nsources; i++) {
		if (sources[i].nm != nm)
			continue;
		if (last != NULL)
			*last = i;
		if (sources[i].resolved)
			n++;
	}
	return n;
}

/* The index of name nm's source that has no address yet, or nsources. */
static size_t
name_unresolved(size_t nm)
{
	size_t	 i;

	for (i = 0; i < nsources; i++)
		if (sources[i].nm == nm && !sources[i].resolved)
			return i;
	return nsources;
}

/* Does a source other than except poll this address on this port? */
static int
addr_in_use(const struct sockaddr *sa, uint16_t port,
    const struct source *except)
{
	size_t	 i;

	for (i = 0; i < nsources; i++)
		if (&sources[i] != except && sources[i].resolved &&
		    sources[i].cfg->port == port &&
		    dns_addr_equal(sa, (struct sockaddr *)&sources[i].addr))
			return 1;
	return 0;
}

static int
addr_dropped(const struct name *n, const struct sockaddr *sa)
{
	size_t	 i;

	for (i = 0; i < n->ndropped; i++)
		if (dns_addr_equal(sa, (const struct sockaddr *)&n->dropped[i]))
			return 1;
	return 0;
}

/*
 * The selection's system peer is an index into sources[]: keep it
 * pointing at the same source when the array changes, or forget it.
 */
static void
sources_moved(size_t at, int delta)
{
	if (!sys.have_result)
		return;
	if (delta < 0 && sys.result.syspeer == at)
		sys.have_result = 0;
	else if (sys.result.syspeer >= at)
		sys.result.syspeer = (size_t)((ssize_t)sys.result.syspeer +
		    delta);
}

/* A new source of name nm at index at; NULL when every slot is taken. */
static struct source *
source_insert(size_t at, size_t nm, uint64_t now)
{
	if (nsources == CONF_MAX_SOURCES || at > nsources)
		return NULL;
	memmove(&sources[at + 1], &sources[at],
	    (nsources - at) * sizeof(sources[0]));
	nsources++;
	sources_moved(at, 1);
	source_init(&sources[at], nm, now);
	return &sources[at];
}

static void
source_remove(size_t at)
{
	client_close(&sources[at]);
	sources_moved(at, -1);
	memmove(&sources[at], &sources[at + 1],
	    (nsources - at - 1) * sizeof(sources[0]));
	nsources--;
}

/* Ask the dns process about name nm at now at the latest. */
static void
name_want(size_t nm, uint64_t now)
{
	struct name	*n = &names[nm];

	if (n->numeric || n->qid != 0)
		return;
	if (n->due_ns == 0 || n->due_ns > now)
		n->due_ns = now;
}

/* Nothing came of a lookup: try again later, and later each time. */
static uint64_t
name_retry(size_t nm, uint64_t now)
{
	struct name	*n = &names[nm];
	uint64_t	 wait;

	if (n->backoff_ns < DNS_BACKOFF_MIN_NS)
		n->backoff_ns = DNS_BACKOFF_MIN_NS;
	wait = dns_backoff_delay(n->backoff_ns);
	n->due_ns = now + wait;
	n->backoff_ns = dns_backoff_next(n->backoff_ns);
	return wait;
}

/* Configured source cfg as name nm with its first source, at index at. */
static int
name_init(size_t nm, size_t at, const struct source_cfg *cfg, uint64_t now)
{
	struct name		*n = &names[nm];
	struct source		*s;
	struct sockaddr_storage	 ss;
	socklen_t		 len;

	memset(n, 0, sizeof(*n));
	n->cfg = cfg;
	n->backoff_ns = DNS_BACKOFF_MIN_NS;
	if ((s = source_insert(at, nm, now)) == NULL)
		return -1;
	/* Numbers are used now, names wait for the dns process. */
	if (addr_parse(cfg->host, cfg->port, &ss, &len) == 0) {
		n->numeric = 1;
		source_set_addr(s, (struct sockaddr *)&ss, len);
	} else
		n->due_ns = now;
	return 0;
}

void
client_init(struct ntpd_conf *conf, int8_t precision)
{
	struct source_cfg	*cfg;
	uint64_t		 now = monotonic_ns();

	started_ns = now;
	select_conf_init(&sel_conf);
	sel_conf.min_sources = conf->clock.min_sources;
	precision_s = ldexp(1.0, precision);
	TAILQ_FOREACH(cfg, &conf->sources, entry) {
		if (nnames == CONF_MAX_SOURCES ||
		    name_init(nnames, nsources, cfg, now) == -1)
			break;
		nnames++;
	}
}

void
client_set_dns(struct imsgbuf *ibuf)
{
	dns_ibuf = ibuf;
}

static void
client_schedule(struct source *s, uint64_t now)
{
	uint64_t	 interval;

	if (s->burst > 0) {
		s->next_ns = now + IBURST_SPACING_NS;
		return;
	}
	interval = poll_ns(s->iv.poll);
	s->next_ns = now + interval - jitter_ns(interval);
}

/*
 * A request to the source, from a new socket.  Returns 1 when the poll
 * is lost already (no route, or the like), else 0.
 */
static int
client_send(struct source *s, uint64_t now)
{
	unsigned char	 buf[NTP_HEADER_SIZE];
	char		 label[SOURCE_NAME_MAX + ADDR_STRLEN + 4];
	struct ntp_ts	 nonce;
	size_t		 len;
	int		 on = 1, lost = 0;

	client_close(s);
	/*
	 * The flags set apart rather than in the type: clock simulators
	 * (ntpd -S under clknetsim) know only a plain SOCK_DGRAM.
	 */
	s->fd = socket(s->addr.ss_family, SOCK_DGRAM, 0);
	if (s->fd != -1 && (fcntl(s->fd, F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(s->fd, F_SETFL, O_NONBLOCK) == -1)) {
		close(s->fd);
		s->fd = -1;
	}
	if (s->fd == -1) {
		log_warn("source %s: socket", source_label(s, label,
		    sizeof(label)));
		client_schedule(s, now);
		return 0;
	}
	if (setsockopt(s->fd, SOL_SOCKET, SO_TIMESTAMPNS, &on,
	    sizeof(on)) == -1 ||
	    connect(s->fd, (struct sockaddr *)&s->addr, s->addrlen) == -1) {
		/* Said once per address; every poll lost counts. */
		if (s->polls == 0)
			log_warn("source %s", source_label(s, label,
			    sizeof(label)));
		client_close(s);
		lost = 1;
	} else {
		arc4random_buf(&nonce, sizeof(nonce));
		len = exchange_request(&s->ex, nonce, buf, sizeof(buf));
		/* As close to the send as can be: T1. */
		s->t1 = realtime_ntp();
		if (send(s->fd, buf, len, 0) != (ssize_t)len) {
			log_debug("source %s: send: %s", source_label(s,
			    label, sizeof(label)), strerror(errno));
			client_close(s);
			lost = 1;
		} else {
			s->sent++;
			s->sent_ns = now;
		}
	}
	if (lost)
		client_miss(s, now);
	if (s->burst > 0)
		s->burst--;
	client_schedule(s, now);
	return lost;
}

/* The majority's leap indicator among the sources in the combination. */
static unsigned int
client_leap(const struct select_source *in)
{
	size_t		 i, n = 0, add = 0, del = 0;

	for (i = 0; i < nsources; i++) {
		if (sources[i].verdict.state != SELECT_COMBINED &&
		    sources[i].verdict.state != SELECT_SYSPEER)
			continue;
		n++;
		if (in[i].leap == NTP_LEAP_ADD)
			add++;
		else if (in[i].leap == NTP_LEAP_DEL)
			del++;
	}
	if (add * 2 > n)
		return NTP_LEAP_ADD;
	if (del * 2 > n)
		return NTP_LEAP_DEL;
	return NTP_LEAP_NONE;
}

static double
median(double *v, size_t n)
{
	double	 t;
	size_t	 i, j;

	for (i = 1; i < n; i++)
		for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
			t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * Sources beyond the tolerance were left out and nothing else agreed:
 * what they asked for is a refused correction.  Their median offset is
 * what a selection among them would have roughly given.
 */
static void
client_refuse(const struct select_source *in)
{
	double		 off[CONF_MAX_SOURCES];
	size_t		 i, n = 0;

	for (i = 0; i < nsources; i++)
		if (sources[i].refused)
			off[n++] = in[i].offset;
	if (n > 0)
		sync_refuse(median(off, n));
}

/*
 * The first update may step the clock, and comes when the filters hold
 * few samples: their intervals are then wide enough for a liar close to
 * the others to pass for one of them, and pull a weighted mean.  The
 * median of the combined sources does not move for one liar among three.
 */
static double
client_first_offset(const struct select_source *in)
{
	double	 off[CONF_MAX_SOURCES];
	size_t	 i, n = 0;

	for (i = 0; i < nsources; i++)
		if (sources[i].verdict.state == SELECT_COMBINED ||
		    sources[i].verdict.state == SELECT_SYSPEER)
			off[n++] = in[i].offset;
	return n > 0 ? median(off, n) : sys.result.offset;
}

/*
 * The first update, which may step the clock, waits until every source
 * in its quick start exchanges has IBURST_ENOUGH samples, so that all
 * of them have a say (two sources are no majority against a liar); for
 * 30 s at most.
 */
static int
client_bursting(uint64_t now)
{
	struct filter_est	 est;
	size_t			 i;

	if (now - started_ns >= FIRST_UPDATE_WAIT_NS)
		return 0;
	for (i = 0; i < nsources; i++) {
		if (!sources[i].resolved || sources[i].stopped ||
		    sources[i].burst == 0)
			continue;
		if (filter_estimate(&sources[i].filter, now, &est) == -1 ||
		    est.nsamples < IBURST_ENOUGH)
			return 1;
	}
	return 0;
}

/*
 * Without iburst each source becomes usable at its third sample, the
 * sources some seconds apart: the first update, which may step the
 * clock, would rest on whichever came first, a liar as well as another.
 * So until then a source that answers, but is too far yet because its
 * filter holds few samples, is pending (SELECT_F_PENDING): selection
 * waits until the sources that agree are a majority of the usable and
 * the pending ones.  Not after FIRST_MAJORITY_POLLS of the longest
 * minpoll: then what there is will do.
 */
static int
client_wait_majority(uint64_t now)
{
	size_t	 i;
	int	 minpoll = POLL_MIN;

	if (sync_updated())
		return 0;
	for (i = 0; i < nsources; i++)
		if (sources[i].resolved && !sources[i].stopped &&
		    sources[i].cfg->minpoll > minpoll)
			minpoll = sources[i].cfg->minpoll;
	return now - started_ns < FIRST_MAJORITY_POLLS * poll_ns(minpoll);
}

/* The outcome, to the clock. */
static void
client_update_clock(const struct select_source *in, uint64_t now)
{
	struct sync_input	 si;
	struct filter_est	 est;
	struct source		*peer = &sources[sys.result.syspeer];

	if (filter_estimate(&peer->filter, now, &est) == -1)
		return;
	memset(&si, 0, sizeof(si));
	si.offset = sync_updated() ? sys.result.offset :
	    client_first_offset(in);
	si.jitter = sys.result.jitter;
	si.stratum = est.stratum;
	si.rootdelay = est.rootdelay + est.delay;
	si.rootdisp = est.rootdisp + est.disp;
	si.leap = client_leap(in);
	memcpy(&si.peer, &peer->addr, sizeof(si.peer));
	sync_update(&si, now);
}

/*
 * Bring the samples of every source up to date with the steps and slews
 * made to the clock since they were taken.  A new sample is measured on
 * the clock as it is now: this must come before it joins them, or it
 * would be corrected twice, and judged against stages not yet shifted
 * (the first sample after the startup step would look like a 5 s spike).
 */
static void
client_catch_up(uint64_t now)
{
	double	 moved;
	size_t	 i;

	moved = sync_take_correction(now);
	if (moved != 0)
		for (i = 0; i < nsources; i++)
			filter_adjust(&sources[i].filter, moved);
}

/*
 * Run selection over every source's estimate, after bringing the
 * samples up to date with the corrections made to the clock since.
 */
static void
client_select(uint64_t now)
{
	struct select_source	 in[CONF_MAX_SOURCES];
	struct select_verdict	 v[CONF_MAX_SOURCES];
	struct filter_est	 est;
	double			 tolerance;
	char			 label[SOURCE_NAME_MAX + ADDR_STRLEN + 4];
	size_t			 i;
	int			 refused, wait;

	client_catch_up(now);
	tolerance = sync_tolerance();
	wait = client_wait_majority(now);
	for (i = 0; i < nsources; i++) {
		memset(&in[i], 0, sizeof(in[i]));
		in[i].reach = filter_reach(&sources[i].filter);
		in[i].stratum = NTP_MAX_STRATUM;
		in[i].leap = NTP_LEAP_UNSYNC;
		in[i].rootdist = FILTER_MAXDISP;
		refused = 0;
		if (filter_estimate(&sources[i].filter, now, &est) == 0) {
			in[i].offset = est.offset;
			in[i].rootdist = est.rootdist;
			in[i].jitter = est.jitter;
			in[i].stratum = est.stratum;
			in[i].leap = est.leap;
			/* Once the clock is set, no source may drag it. */
			if (tolerance > 0 && fabs(est.offset) > tolerance)
				refused = 1;
		}
		if (refused && !sources[i].refused)
			log_warnx("source %s: offset %+.6f s is beyond the "
			    "tolerance of %g s: left out",
			    source_label(&sources[i], label, sizeof(label)),
			    est.offset, tolerance);
		sources[i].refused = refused;
		if (sources[i].cfg->prefer)
			in[i].flags |= SELECT_F_PREFER;
		if (sources[i].cfg->noselect || sources[i].refused)
			in[i].flags |= SELECT_F_NOSELECT;
		if (sys.have_result && sys.result.syspeer == i)
			in[i].flags |= SELECT_F_SYSPEER;
		if (wait && in[i].reach != 0 && sources[i].resolved &&
		    !sources[i].stopped)
			in[i].flags |= SELECT_F_PENDING;
	}
	if (select_run(&sel_conf, in, nsources, v, &sys.result) == -1) {
		log_warn("selection");
		return;
	}
	for (i = 0; i < nsources; i++)
		sources[i].verdict = v[i];
	sys.have_result = sys.result.status == SELECT_OK;
	sys.updated_ns = now;
	/* Until the first update, an outcome waits for the bursts. */
	if (sys.have_result && (fresh || !sync_updated())) {
		if (sync_updated() || !client_bursting(now))
			client_update_clock(in, now);
	}
	else if (fresh)
		client_refuse(in);
	fresh = 0;
}

/*
 * A source of a name that has been unreachable for a whole register of
 * polls, or that refuses us: a pool member is dropped (client_reap()
 * replaces it), a server's name is resolved again in case it has moved.
 */
static void
client_lost(struct source *s, uint64_t now)
{
	if (names[s->nm].numeric || !s->resolved)
		return;
	if (s->cfg->kind == SOURCE_SERVERS) {
		s->drop = 1;
		return;
	}
	s->polls = 0;	/* and again after another register */
	name_want(s->nm, now);
}

static void
client_miss(struct source *s, uint64_t now)
{
	filter_miss(&s->filter);
	interval_miss(&s->iv, s->cfg->minpoll);
	if (++s->polls >= UNREACH_POLLS && filter_reach(&s->filter) == 0)
		client_lost(s, now);
}

/* The statistics log's line for a sample the filter took. */
static void
client_stats_sample(const struct source *s, const struct filter_sample *fs,
    uint64_t now)
{
	struct filter_est	 est;
	double			 jitter = 0;

	if (filter_estimate(&s->filter, now, &est) == 0)
		jitter = est.jitter;
	stats_sample((const struct sockaddr *)&s->addr, fs->offset, fs->delay,
	    fs->disp, jitter, fs->stratum);
}

/*
 * The estimate moved to a newer sample: by how much, against the noise,
 * sets the poll interval (interval.h).  The first estimate has nothing
 * to be compared with.
 */
static void
client_interval(struct source *s, const struct filter_est *before,
    uint64_t now)
{
	struct filter_est	 after;

	if (before == NULL || filter_estimate(&s->filter, now, &after) == -1) {
		interval_kept(&s->iv, s->cfg->maxpoll);
		return;
	}
	interval_sample(&s->iv, s->cfg->minpoll, s->cfg->maxpoll,
	    after.offset - before->offset, after.noise);
}

static void
client_sample(struct source *s, const struct exchange_sample *es,
    uint64_t now)
{
	struct filter_sample	 fs;
	struct filter_est	 before;
	enum filter_verdict	 verdict;
	int			 had;

	memset(&fs, 0, sizeof(fs));
	fs.offset = es->offset;
	fs.delay = es->delay;
	/* What the two clocks' readings may be off by, and the drift. */
	fs.disp = precision_s + ldexp(1.0, es->precision) +
	    FILTER_PHI * es->delay;
	fs.t_ns = now;
	fs.rootdelay = es->root_delay;
	fs.rootdisp = es->root_dispersion;
	fs.stratum = es->stratum;
	fs.leap = es->leap;
	client_catch_up(now);
	/* Until the frequency is known the clock drifts: see filter.c. */
	filter_set_drift(&s->filter, sync_drift());
	had = filter_estimate(&s->filter, now, &before) == 0;
	verdict = filter_add(&s->filter, &fs);
	switch (verdict) {
	case FILTER_UPDATED:
	case FILTER_STEP:
		fresh = 1;
		client_interval(s, had ? &before : NULL, now);
		break;
	case FILTER_STORED:
		interval_kept(&s->iv, s->cfg->maxpoll);
		break;
	default:
		interval_held(&s->iv);
		break;
	}
	if (verdict != FILTER_INVALID && verdict != FILTER_UNSYNC)
		client_stats_sample(s, &fs, now);
	s->samples++;
	s->polls++;
}

static void
client_receive(struct source *s, uint64_t now)
{
	unsigned char		 buf[1024];
	union {
		struct cmsghdr	 hdr;
		unsigned char	 buf[CMSG_SPACE(sizeof(struct timespec))];
	}			 ctl;
	struct exchange_sample	 es;
	enum exchange_result	 r;
	struct msghdr		 mh;
	struct iovec		 iov;
	struct cmsghdr		*cm;
	struct timespec		 ts;
	struct ntp_ts		 t4;
	ssize_t			 n;
	int			 have_t4 = 0;
	char			 label[SOURCE_NAME_MAX + ADDR_STRLEN + 4];

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	if ((n = recvmsg(s->fd, &mh, 0)) == -1) {
		/* ICMP unreachable and the like: the poll is a miss. */
		if (errno != EAGAIN && errno != EINTR) {
			log_debug("source %s: %s", source_label(s, label,
			    sizeof(label)), strerror(errno));
			client_close(s);
			s->timeouts++;
			client_miss(s, now);
			client_select(now);
		}
		return;
	}
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SO_TIMESTAMPNS &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(ts))) {
			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
			t4 = ntp_ts_from_timespec(&ts);
			have_t4 = 1;
		}
	}
	if (!have_t4)
		t4 = realtime_ntp();

	r = exchange_reply(&s->ex, buf, (size_t)n, s->t1, t4, &es);
	s->results[r]++;
	switch (r) {
	case EXCHANGE_SAMPLE:
		client_close(s);
		client_sample(s, &es, now);
		break;
	case EXCHANGE_KOD_DENY:
		client_close(s);
		s->kod++;
		s->stopped = 1;
		log_warnx("source %s refuses us (kiss-o'-death %.4s): no "
		    "more queries to it", source_label(s, label,
		    sizeof(label)), "DENY");
		client_miss(s, now);
		client_lost(s, now);
		break;
	case EXCHANGE_KOD_RATE:
		client_close(s);
		s->kod++;
		s->burst = 0;
		/* No sample, but the source is there: not a miss. */
		filter_miss(&s->filter);
		interval_slow_down(&s->iv, POLL_MAX);
		client_schedule(s, now);
		log_info("source %s asks us to slow down: polling every "
		    "%llu s", source_label(s, label, sizeof(label)),
		    1ULL << s->iv.poll);
		break;
	case EXCHANGE_BAD_ORIGIN:
	case EXCHANGE_BAD_LENGTH:
	case EXCHANGE_BAD_MODE:
	case EXCHANGE_BAD_VERSION:
		/* Not an answer to our request: keep waiting for it. */
		return;
	default:
		/* An answer, but no time in it. */
		client_close(s);
		if (r == EXCHANGE_KOD_OTHER)
			s->kod++;
		client_miss(s, now);
		break;
	}
	client_select(now);
}

/*
 * Pool members marked unreachable or refusing: out of the pool, their
 * address remembered so as not to take it again soon, and the name
 * resolved again for a replacement.  The last member of a pool leaves
 * the name's source behind, unresolved.
 */
static void
client_reap(uint64_t now)
{
	struct source	*s;
	struct name	*n;
	char		 label[SOURCE_NAME_MAX + ADDR_STRLEN + 4];
	size_t		 i = 0, nm;
	int		 reaped = 0;

	while (i < nsources) {
		s = &sources[i];
		if (!s->drop) {
			i++;
			continue;
		}
		nm = s->nm;
		n = &names[nm];
		log_info("source %s %s: dropped from the pool",
		    source_label(s, label, sizeof(label)),
		    s->stopped ? "refuses us" : "is unreachable");
		memcpy(&n->dropped[n->dropped_next], &s->addr,
		    sizeof(s->addr));
		n->dropped_next = (n->dropped_next + 1) % POOL_MAX_MEMBERS;
		if (n->ndropped < POOL_MAX_MEMBERS)
			n->ndropped++;
		if (n->deficit < POOL_MAX_MEMBERS)
			n->deficit++;
		if (name_members(nm, NULL) == 1) {
			client_close(s);
			if (sys.have_result && sys.result.syspeer == i)
				sys.have_result = 0;
			source_init(s, nm, now);
			i++;
		} else
			source_remove(i);
		name_want(nm, now);
		reaped = 1;
	}
	if (reaped)
		client_select(now);
}

static void
name_query(size_t nm, uint64_t now)
{
	struct name		*n = &names[nm];
	struct dns_query	 q;

	memset(&q, 0, sizeof(q));
	if (++last_qid == 0)
		last_qid = 1;
	q.id = last_qid;
	strlcpy(q.host, n->cfg->host, sizeof(q.host));
	if (imsg_compose(dns_ibuf, IMSG_DNS_QUERY, 0, -1, &q,
	    sizeof(q)) == -1) {
		log_warn("source %s: query to the dns process", n->cfg->host);
		(void)name_retry(nm, now);
		return;
	}
	n->qid = q.id;
	n->qsent_ns = now;
	n->due_ns = 0;
	log_debug("source %s: resolving", n->cfg->host);
}

/* Does the name want a lookup: no address, or fewer than it had? */
static int
name_needs(size_t nm)
{
	size_t	 i, members;

	members = name_members(nm, NULL);
	if (names[nm].cfg->kind == SOURCE_SERVERS)
		return members == 0 || names[nm].deficit > 0;
	for (i = 0; i < nsources; i++)
		if (sources[i].nm == nm)
			return !sources[i].resolved || sources[i].stopped;
	return 0;
}

/*
 * A pool's answer: a member for each address no source polls yet, up to
 * POOL_MAX_MEMBERS; an address dropped before only when the pool has
 * nothing else.  Returns the number of members added.
 */
static unsigned int
name_pool_answer(size_t nm, const struct dns_answer *a, uint64_t now)
{
	struct name		*n = &names[nm];
	struct source		*s;
	const struct sockaddr	*sa;
	char			 label[SOURCE_NAME_MAX + ADDR_STRLEN + 4];
	size_t			 members, last = 0, at;
	unsigned int		 added = 0, i;
	int			 pass;

	members = name_members(nm, NULL);
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			if (members > 0)
				break;
			/* Nothing else offered: the old ones it is. */
			n->ndropped = 0;
		}
		for (i = 0; i < a->naddrs && members < POOL_MAX_MEMBERS;
		    i++) {
			sa = (const struct sockaddr *)&a->addrs[i].ss;
			if (addr_in_use(sa, n->cfg->port, NULL) ||
			    (pass == 0 && addr_dropped(n, sa)))
				continue;
			if ((at = name_unresolved(nm)) < nsources)
				s = &sources[at];
			else {
				(void)name_members(nm, &last);
				if ((s = source_insert(last + 1, nm,
				    now)) == NULL)
					break;	/* every slot is taken */
			}
			source_set_addr(s, sa, a->addrs[i].len);
			log_info("source %s: added", source_label(s, label,
			    sizeof(label)));
			members++;
			added++;
		}
	}
	n->deficit = added >= n->deficit ? 0 : n->deficit - added;
	return added;
}

/*
 * A server's answer: its first address no other source polls, else its
 * first address; when the source has an address already (it is
 * unreachable or refuses us), another one.  Returns 1 if the source
 * has a new address.
 */
static unsigned int
name_server_answer(size_t nm, const struct dns_answer *a, uint64_t now)
{
	struct source		*s = NULL;
	const struct sockaddr	*sa, *pick = NULL;
	char			 from[ADDR_STRLEN], label[SOURCE_NAME_MAX +
				    ADDR_STRLEN + 4];
	socklen_t		 picklen = 0;
	size_t			 i;
	int			 pass;

	for (i = 0; i < nsources; i++)
		if (sources[i].nm == nm) {
			s = &sources[i];
			break;
		}
	if (s == NULL)
		return 0;
	for (pass = 0; pass < 2 && pick == NULL; pass++) {
		for (i = 0; i < a->naddrs; i++) {
			sa = (const struct sockaddr *)&a->addrs[i].ss;
			if (s->resolved && dns_addr_equal(sa,
			    (struct sockaddr *)&s->addr))
				continue;
			if (pass == 0 && addr_in_use(sa, s->cfg->port, s))
				continue;
			pick = sa;
			picklen = a->addrs[i].len;
			break;
		}
	}
	if (pick == NULL)
		return 0;
	if (s->resolved) {
		addr_ntop((struct sockaddr *)&s->addr, from, sizeof(from));
		client_close(s);
		if (sys.have_result && &sources[sys.result.syspeer] == s)
			sys.have_result = 0;
		/* Another server: nothing of the old one applies. */
		source_init(s, nm, now);
		source_set_addr(s, pick, picklen);
		log_info("source %s: instead of %s", source_label(s, label,
		    sizeof(label)), from);
	} else {
		source_set_addr(s, pick, picklen);
		log_info("source %s: resolved", source_label(s, label,
		    sizeof(label)));
	}
	return 1;
}

/* IMSG_DNS_ANSWER from the dns process. */
void
client_dns_answer(struct imsg *imsg, uint64_t now)
{
	struct dns_answer	 a;
	struct name		*n;
	uint64_t		 wait;
	unsigned long long	 secs;
	size_t			 nm;
	unsigned int		 gained = 0;

	if (dns_answer_parse(imsg->data, imsg->datalen, &a) == -1) {
		log_warnx("malformed answer from the dns process");
		return;
	}
	for (nm = 0; nm < nnames; nm++)
		if (names[nm].qid == a.id)
			break;
	if (nm == nnames) {
		/* Its source was removed by a reload: nothing to do. */
		log_debug("dns answer %u: nobody asks any more", a.id);
		return;
	}
	n = &names[nm];
	n->qid = 0;
	if (a.error == 0)
		gained = n->cfg->kind == SOURCE_SERVERS ?
		    name_pool_answer(nm, &a, now) :
		    name_server_answer(nm, &a, now);
	if (!name_needs(nm)) {
		/* What the name has is good: it stays as it is. */
		if (a.error != 0)
			log_info("source %s: cannot resolve it again (%s); "
			    "keeping its addresses", n->cfg->host,
			    dns_strerror(a.error));
		n->due_ns = 0;
		n->backoff_ns = DNS_BACKOFF_MIN_NS;
		return;
	}
	if (gained > 0)
		n->backoff_ns = DNS_BACKOFF_MIN_NS;
	wait = name_retry(nm, now);
	secs = (unsigned long long)((wait + 500000000ULL) / 1000000000ULL);
	if (a.error != 0)
		log_warnx("source %s: cannot resolve it (%s); trying again "
		    "in %llu s", n->cfg->host, dns_strerror(a.error), secs);
	else
		log_info("source %s: no new address; trying again in %llu s",
		    n->cfg->host, secs);
}

/* Queries that are due, and those the dns process seems to have lost. */
static void
client_resolve(uint64_t now)
{
	struct name	*n;
	size_t		 nm;

	for (nm = 0; nm < nnames; nm++) {
		n = &names[nm];
		if (n->numeric)
			continue;
		if (n->qid != 0 && now - n->qsent_ns >= DNS_LOST_NS) {
			log_warnx("source %s: no answer from the dns process; "
			    "asking again", n->cfg->host);
			n->qid = 0;
			n->due_ns = now;
		}
		if (n->qid == 0 && n->due_ns != 0 && now >= n->due_ns &&
		    dns_ibuf != NULL)
			name_query(nm, now);
	}
}

void
client_run(uint64_t now)
{
	struct source	*s;
	size_t		 i;
	int		 changed = 0;

	client_reap(now);
	client_resolve(now);
	for (i = 0; i < nsources; i++) {
		s = &sources[i];
		if (!s->resolved || s->stopped)
			continue;
		if (s->fd != -1 && now - s->sent_ns >= REPLY_TIMEOUT_NS) {
			client_close(s);
			s->timeouts++;
			client_miss(s, now);
			changed = 1;
		}
		if (now >= s->next_ns && client_send(s, now))
			changed = 1;
	}
	if (changed)
		client_select(now);
}

int
client_timeout(uint64_t now)
{
	uint64_t	 next = UINT64_MAX, t;
	size_t		 i;

	for (i = 0; i < nsources; i++) {
		if (sources[i].drop)
			next = now;
		if (!sources[i].resolved || sources[i].stopped)
			continue;
		t = sources[i].next_ns;
		if (sources[i].fd != -1 &&
		    sources[i].sent_ns + REPLY_TIMEOUT_NS < t)
			t = sources[i].sent_ns + REPLY_TIMEOUT_NS;
		if (t < next)
			next = t;
	}
	for (i = 0; i < nnames; i++) {
		if (names[i].qid != 0)
			t = names[i].qsent_ns + DNS_LOST_NS;
		else if (names[i].due_ns != 0 && dns_ibuf != NULL)
			t = names[i].due_ns;
		else
			continue;
		if (t < next)
			next = t;
	}
	if (next == UINT64_MAX)
		return -1;
	if (next <= now)
		return 0;
	return (int)((next - now) / 1000000ULL) + 1;
}

/*
 * Apply a new configuration's sources (see client.h).  Every source of
 * a name that stays is copied over as it is; the new names start like
 * at start; the names that go take their sockets and queries with them.
 */
void
client_reconfigure(struct ntpd_conf *newconf, int *added, int *removed)
{
	static struct name	 onames[CONF_MAX_SOURCES];
	static struct source	 osources[CONF_MAX_SOURCES];
	struct source_cfg	*cfg;
	uint64_t		 now = monotonic_ns();
	size_t			 onnames = nnames, onsources = nsources;
	size_t			 ncfg = 0, spare, i, j, peer;
	int			 kept[CONF_MAX_SOURCES], first, had_peer;

	*added = *removed = 0;
	memcpy(onames, names, onnames * sizeof(names[0]));
	memcpy(osources, sources, onsources * sizeof(sources[0]));
	memset(kept, 0, sizeof(kept));
	had_peer = sys.have_result;
	peer = sys.result.syspeer;
	sys.have_result = 0;
	TAILQ_FOREACH(cfg, &newconf->sources, entry)
		ncfg++;
	/* Slots beyond one per name, for the pools' other members. */
	spare = ncfg < CONF_MAX_SOURCES ? CONF_MAX_SOURCES - ncfg : 0;

	nnames = nsources = 0;
	TAILQ_FOREACH(cfg, &newconf->sources, entry) {
		if (nnames == CONF_MAX_SOURCES)
			break;
		for (j = 0; j < onnames; j++)
			if (!kept[j] && config_source_equal(onames[j].cfg,
			    cfg))
				break;
		if (j == onnames) {
			if (name_init(nnames, nsources, cfg, now) == -1)
				break;
			nnames++;
			(*added)++;
			continue;
		}
		kept[j] = 1;
		names[nnames] = onames[j];
		names[nnames].cfg = cfg;
		first = 1;
		for (i = 0; i < onsources; i++) {
			if (osources[i].nm != j)
				continue;
			if (!first && spare == 0) {
				client_close(&osources[i]);
				continue;
			}
			if (!first)
				spare--;
			first = 0;
			sources[nsources] = osources[i];
			sources[nsources].nm = nnames;
			sources[nsources].cfg = cfg;
			if (had_peer && peer == i) {
				sys.have_result = 1;
				sys.result.syspeer = nsources;
			}
			nsources++;
		}
		nnames++;
	}
	for (j = 0; j < onnames; j++) {
		if (kept[j])
			continue;
		for (i = 0; i < onsources; i++)
			if (osources[i].nm == j)
				client_close(&osources[i]);
		(*removed)++;
	}
	sel_conf.min_sources = newconf->clock.min_sources;
}

size_t
client_pollfds(struct pollfd *pfd, size_t max)
{
	size_t	 i, n = 0;

	for (i = 0; i < nsources && n < max; i++) {
		if (sources[i].fd == -1)
			continue;
		pfd[n].fd = sources[i].fd;
		pfd[n].events = POLLIN;
		n++;
	}
	return n;
}

void
client_dispatch(const struct pollfd *pfd, size_t n, uint64_t now)
{
	size_t	 i, j;

	for (j = 0; j < n; j++) {
		if (!(pfd[j].revents & (POLLIN | POLLERR | POLLHUP)))
			continue;
		for (i = 0; i < nsources; i++)
			if (sources[i].fd == pfd[j].fd)
				client_receive(&sources[i], now);
	}
}

static uint32_t
ctl_state(enum select_state st)
{
	switch (st) {
	case SELECT_FALSETICKER:
		return CTL_PEER_FALSETICKER;
	case SELECT_CANDIDATE:
		return CTL_PEER_CANDIDATE;
	case SELECT_COMBINED:
		return CTL_PEER_COMBINED;
	case SELECT_SYSPEER:
		return CTL_PEER_SYSPEER;
	default:
		return CTL_PEER_UNUSABLE;
	}
}

static uint32_t
ctl_select_status(void)
{
	if (sys.updated_ns == 0)
		return CTL_SEL_NONE;
	switch (sys.result.status) {
	case SELECT_OK:
		return CTL_SEL_OK;
	case SELECT_NO_SOURCES:
		return CTL_SEL_NO_SOURCES;
	case SELECT_NO_MAJORITY:
		return CTL_SEL_NO_MAJORITY;
	case SELECT_TOO_FEW:
		return CTL_SEL_TOO_FEW;
	case SELECT_WAITING:
		return CTL_SEL_WAITING;
	}
	return CTL_SEL_NONE;
}

/* Answer to CTL_SHOW_PEERS: the outcome, then every source. */
void
client_show_peers(struct imsgbuf *out, uint64_t now)
{
	struct ctl_system	 cs;
	struct ctl_peer		 cp;
	struct filter_est	 est;
	struct source		*s;
	size_t			 i, r;

	memset(&cs, 0, sizeof(cs));
	cs.select_status = ctl_select_status();
	cs.nsources = nsources;
	cs.nusable = sys.result.nusable;
	cs.ntruechimers = sys.result.ntruechimers;
	cs.ncombined = sys.result.ncombined;
	cs.syspeer = sys.have_result ? (int32_t)sys.result.syspeer : -1;
	cs.offset = sys.have_result ? sys.result.offset : 0;
	cs.jitter = sys.have_result ? sys.result.jitter : 0;
	sync_fill_ctl(&cs, now);
	if (imsg_compose(out, CTL_SYSTEM, 0, -1, &cs, sizeof(cs)) == -1)
		return;
	for (i = 0; i < nsources; i++) {
		s = &sources[i];
		memset(&cp, 0, sizeof(cp));
		strlcpy(cp.host, s->cfg->host, sizeof(cp.host));
		if (s->resolved)
			addr_format((struct sockaddr *)&s->addr, cp.addr,
			    sizeof(cp.addr));
		cp.state = s->refused ? CTL_PEER_REFUSED :
		    ctl_state(s->verdict.state);
		cp.why = s->verdict.why;
		cp.poll = s->iv.poll;
		cp.reach = filter_reach(&s->filter);
		if (filter_estimate(&s->filter, now, &est) == 0) {
			cp.have_sample = 1;
			cp.stratum = est.stratum;
			cp.age = (double)(now - est.t_ns) / 1e9;
			cp.offset = est.offset;
			cp.delay = est.delay;
			cp.jitter = est.jitter;
			cp.rootdist = est.rootdist;
		}
		cp.sent = s->sent;
		cp.samples = s->samples;
		cp.timeouts = s->timeouts;
		/* Kisses are counted on their own. */
		for (r = EXCHANGE_KOD_OTHER + 1; r < EXCHANGE_NRESULTS; r++)
			cp.rejected += s->results[r];
		cp.kod = s->kod;
		cp.stopped = s->stopped;
		cp.flags = (s->cfg->prefer ? 1 : 0) |
		    (s->cfg->noselect ? 2 : 0);
		if (imsg_compose(out, CTL_PEER, 0, -1, &cp, sizeof(cp)) == -1)
			return;
	}
	(void)imsg_compose(out, CTL_END, 0, -1, NULL, 0);
}
