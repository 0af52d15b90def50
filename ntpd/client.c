/*
 * The engine's client side: exchanges with the upstream sources, their
 * timers, and their names; what the replies and misses decide, from the
 * filter to the clock update, is sources.c's (shared with the
 * simulator), called with what the I/O brought.  The engine is jailed
 * and may only make UDP sockets; every exchange gets a new one,
 * connected, so that its source port is random and only the server's
 * address and port can answer on it.
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
#include "log.h"
#include "ntp.h"
#include "ntpd.h"
#include "select.h"
#include "sources.h"
#include "stats.h"
#include "sync.h"

#define POOL_MAX_MEMBERS	4	/* sources of one servers/pool name */
#define UNREACH_POLLS		8	/* a whole reach register */
#define DNS_LOST_NS		600000000000ULL	/* unanswered: ask again */

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
	struct source_core	 core;		/* its decisions: sources.h */
	int			 fd;		/* -1 between exchanges */
	struct ntp_ts		 t1;		/* send time of the request */
	uint64_t		 sent_ns;
	uint64_t		 next_ns;	/* next exchange */
	int			 stopped;	/* DENY: never ask again */
	int			 drop;		/* pool: to be dropped */
	unsigned int		 polls;		/* since the address was set */
	uint64_t		 sent;
	uint64_t		 samples;
	uint64_t		 timeouts;
	uint64_t		 kod;
	uint64_t		 results[EXCHANGE_NRESULTS];
};

static struct name		 names[CONF_MAX_SOURCES];
static size_t			 nnames;
static struct source		 sources[CONF_MAX_SOURCES];
static size_t			 nsources;
/* Slot i's core: sources move between the slots, the slots stay. */
static struct source_core	*cores[CONF_MAX_SOURCES];
static struct sources		 sys;
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
	struct source_opts	 opts;

	memset(s, 0, sizeof(*s));
	s->nm = nm;
	s->cfg = names[nm].cfg;
	s->fd = -1;
	memset(&opts, 0, sizeof(opts));
	opts.minpoll = s->cfg->minpoll;
	opts.maxpoll = s->cfg->maxpoll;
	opts.iburst = s->cfg->iburst;
	opts.prefer = s->cfg->prefer;
	opts.noselect = s->cfg->noselect;
	opts.trusted = s->cfg->trusted;
	s->next_ns = sources_start(&sys, &s->core, &opts, now);
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
	s->core.active = !s->stopped;
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

/* A new source of name nm at index at; NULL when every slot is taken. */
static struct source *
source_insert(size_t at, size_t nm, uint64_t now)
{
	if (nsources == CONF_MAX_SOURCES || at > nsources)
		return NULL;
	memmove(&sources[at + 1], &sources[at],
	    (nsources - at) * sizeof(sources[0]));
	nsources++;
	sources_moved(&sys, at, 1);
	source_init(&sources[at], nm, now);
	return &sources[at];
}

static void
source_remove(size_t at)
{
	client_close(&sources[at]);
	sources_moved(&sys, at, -1);
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

/* sync.h's, and arc4random, as sources.h asks for them. */
static int
ops_updated(void *arg)
{
	(void)arg;
	return sync_updated();
}

static double
ops_take_correction(void *arg, uint64_t now)
{
	(void)arg;
	return sync_take_correction(now);
}

static double
ops_tolerance(void *arg)
{
	(void)arg;
	return sync_tolerance();
}

static double
ops_drift(void *arg)
{
	(void)arg;
	return sync_drift();
}

/* The system peer's address, for the refid, is ours to add. */
static void
ops_update(void *arg, const struct sync_input *in, uint64_t now)
{
	struct sync_input	 si = *in;

	(void)arg;
	memcpy(&si.peer, &sources[sys.result.syspeer].addr, sizeof(si.peer));
	sync_update(&si, now);
}

static void
ops_refuse(void *arg, double offset, uint64_t now)
{
	(void)arg;
	sync_refuse(offset, now);
}

static uint32_t
ops_uniform(void *arg, uint32_t upper)
{
	(void)arg;
	return arc4random_uniform(upper);
}

static const struct sources_ops client_ops = {
	.updated = ops_updated,
	.take_correction = ops_take_correction,
	.tolerance = ops_tolerance,
	.drift = ops_drift,
	.update = ops_update,
	.refuse = ops_refuse,
	.uniform = ops_uniform,
};

void
client_init(struct ntpd_conf *conf, int8_t precision)
{
	struct source_cfg	*cfg;
	uint64_t		 now = monotonic_ns();
	size_t			 i;

	sources_init(&sys, &client_ops, ldexp(1.0, precision),
	    conf->clock.min_sources, now);
	for (i = 0; i < CONF_MAX_SOURCES; i++)
		cores[i] = &sources[i].core;
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
		s->next_ns = sources_next_poll(&sys, &s->core, now);
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
	s->next_ns = sources_polled(&sys, &s->core, now);
	return lost;
}

/*
 * Run selection (sources.h), say which sources were newly left out for
 * the tolerance, and let the outcome update the clock.
 */
static void
client_select(uint64_t now)
{
	char	 label[SOURCE_NAME_MAX + ADDR_STRLEN + 4];
	size_t	 i;

	if (sources_select(&sys, cores, nsources, now) == -1) {
		log_warn("selection");
		return;
	}
	for (i = 0; i < nsources; i++)
		if (sources[i].core.newly_refused)
			log_warnx("source %s: offset %+.6f s is beyond the "
			    "tolerance of %g s: left out",
			    source_label(&sources[i], label, sizeof(label)),
			    sources[i].core.input.offset, sys.tolerance);
	sources_update_clock(&sys, cores, nsources, now);
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
	sources_miss(&s->core);
	if (++s->polls >= UNREACH_POLLS && filter_reach(&s->core.filter) == 0)
		client_lost(s, now);
}

/* The statistics log's line for a sample the filter took. */
static void
client_stats_sample(const struct source *s, const struct filter_sample *fs,
    uint64_t now)
{
	struct filter_est	 est;
	double			 jitter = 0;

	if (filter_estimate(&s->core.filter, now, &est) == 0)
		jitter = est.jitter;
	stats_sample((const struct sockaddr *)&s->addr, fs->offset, fs->delay,
	    fs->disp, jitter, fs->stratum);
}

static void
client_sample(struct source *s, const struct exchange_sample *es,
    uint64_t now)
{
	struct filter_sample	 fs;
	enum filter_verdict	 verdict;

	verdict = sources_sample(&sys, cores, nsources, &s->core, es, now,
	    &fs);
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
	/* Not an answer to our request: keep waiting for it. */
	if (!exchange_answered(r))
		return;
	switch (r) {
	case EXCHANGE_SAMPLE:
		client_close(s);
		client_sample(s, &es, now);
		break;
	case EXCHANGE_KOD_DENY:
		client_close(s);
		s->kod++;
		s->stopped = 1;
		s->core.active = 0;
		log_warnx("source %s refuses us (kiss-o'-death %.4s): no "
		    "more queries to it", source_label(s, label,
		    sizeof(label)), "DENY");
		client_miss(s, now);
		client_lost(s, now);
		break;
	case EXCHANGE_KOD_RATE:
		client_close(s);
		s->kod++;
		sources_slow_down(&s->core);
		s->next_ns = sources_next_poll(&sys, &s->core, now);
		log_info("source %s asks us to slow down: polling every "
		    "%llu s", source_label(s, label, sizeof(label)),
		    1ULL << s->core.iv.poll);
		break;
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
			sources_forget(&sys, i);
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
		sources_forget(&sys, (size_t)(s - sources));
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
		if (s->fd != -1 &&
		    now - s->sent_ns >= SOURCES_REPLY_TIMEOUT_NS) {
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
		    sources[i].sent_ns + SOURCES_REPLY_TIMEOUT_NS < t)
			t = sources[i].sent_ns + SOURCES_REPLY_TIMEOUT_NS;
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
	sys.conf.min_sources = newconf->clock.min_sources;
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
	if (sys.selected_ns == 0)
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
		cp.state = s->core.refused ? CTL_PEER_REFUSED :
		    ctl_state(s->core.verdict.state);
		cp.why = s->core.verdict.why;
		cp.poll = s->core.iv.poll;
		cp.reach = filter_reach(&s->core.filter);
		if (filter_estimate(&s->core.filter, now, &est) == 0) {
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
		    (s->cfg->noselect ? 2 : 0) | (s->cfg->trusted ? 4 : 0);
		if (imsg_compose(out, CTL_PEER, 0, -1, &cp, sizeof(cp)) == -1)
			return;
	}
	(void)imsg_compose(out, CTL_END, 0, -1, NULL, 0);
}
