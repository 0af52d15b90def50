/*
 * The engine's client side: exchanges with the upstream sources, their
 * timers, and the path of each sample through the filter to selection.
 * The engine is jailed and may only make UDP sockets; every exchange
 * gets a new one, connected, so that its source port is random and only
 * the server's address and port can answer on it.
 */
#include <sys/socket.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "client.h"
#include "ctl.h"
#include "exchange.h"
#include "filter.h"
#include "log.h"
#include "ntp.h"
#include "select.h"
#include "sync.h"

#define REPLY_TIMEOUT_NS	2000000000ULL	/* then the poll is a miss */
#define IBURST_COUNT		4		/* quick exchanges at start */
#define IBURST_SPACING_NS	2000000000ULL
#define POLL_UP_AFTER		8	/* good polls in a row before longer */
#define KOD_RATE_POLL_STEP	2	/* log2 s added by a RATE kiss */
#define FIRST_UPDATE_WAIT_NS	30000000000ULL	/* for bursts, at most */

/* The outcome of the last selection. */
struct client_system {
	struct select_result	 result;
	int			 have_result;	/* result.status is SELECT_OK */
	uint64_t		 updated_ns;	/* monotonic */
};

struct source {
	const struct source_cfg	*cfg;
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	int			 resolved;
	struct exchange		 ex;
	struct filter		 filter;
	int			 fd;		/* -1 between exchanges */
	struct ntp_ts		 t1;		/* send time of the request */
	uint64_t		 sent_ns;
	uint64_t		 next_ns;	/* next exchange */
	int			 poll;		/* log2 s */
	int			 burst;		/* quick exchanges left */
	int			 good;		/* good polls in a row */
	int			 stopped;	/* DENY: never ask again */
	uint64_t		 sent;
	uint64_t		 samples;
	uint64_t		 timeouts;
	uint64_t		 kod;
	uint64_t		 results[EXCHANGE_NRESULTS];
	struct select_verdict	 verdict;
	int			 refused;	/* beyond the tolerance */
};

static struct source		 sources[CONF_MAX_SOURCES];
static size_t			 nsources;
static struct select_conf	 sel_conf;
static struct client_system	 sys;
static double			 precision_s;
static int			 fresh;	/* a sample the estimate rests on */
static uint64_t			 started_ns;

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

void
client_init(struct ntpd_conf *conf, int8_t precision)
{
	struct source_cfg	*cfg;
	struct source		*s;
	uint64_t		 now = monotonic_ns();

	started_ns = now;
	select_conf_init(&sel_conf);
	sel_conf.min_sources = conf->clock.min_sources;
	precision_s = ldexp(1.0, precision);
	TAILQ_FOREACH(cfg, &conf->sources, entry) {
		if (nsources == CONF_MAX_SOURCES)
			break;
		s = &sources[nsources++];
		memset(s, 0, sizeof(*s));
		s->cfg = cfg;
		s->fd = -1;
		s->poll = cfg->minpoll;
		s->burst = cfg->iburst ? IBURST_COUNT : 0;
		filter_init(&s->filter, precision_s);
		s->verdict.state = SELECT_UNUSABLE;
		s->verdict.why = SELECT_WHY_UNREACH;
		/* Names wait for the dns process; numbers are used now. */
		if (addr_parse(cfg->host, cfg->port, &s->addr,
		    &s->addrlen) == 0)
			s->resolved = 1;
		else
			log_warnx("source %s: names are not resolved yet in "
			    "this version; not used", cfg->host);
		s->next_ns = now + (uint64_t)arc4random_uniform(1000) *
		    1000000ULL;
	}
}

static void
client_close(struct source *s)
{
	if (s->fd != -1) {
		close(s->fd);
		s->fd = -1;
	}
}

static void
client_schedule(struct source *s, uint64_t now)
{
	uint64_t	 interval;

	if (s->burst > 0) {
		s->next_ns = now + IBURST_SPACING_NS;
		return;
	}
	interval = poll_ns(s->poll);
	s->next_ns = now + interval - jitter_ns(interval);
}

static void
client_send(struct source *s, uint64_t now)
{
	unsigned char	 buf[NTP_HEADER_SIZE];
	struct ntp_ts	 nonce;
	size_t		 len;
	int		 on = 1;

	client_close(s);
	s->fd = socket(s->addr.ss_family,
	    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd == -1) {
		log_warn("source %s: socket", s->cfg->host);
		client_schedule(s, now);
		return;
	}
	if (setsockopt(s->fd, SOL_SOCKET, SO_TIMESTAMPNS, &on,
	    sizeof(on)) == -1 ||
	    connect(s->fd, (struct sockaddr *)&s->addr, s->addrlen) == -1) {
		log_warn("source %s", s->cfg->host);
		client_close(s);
		client_schedule(s, now);
		return;
	}
	arc4random_buf(&nonce, sizeof(nonce));
	len = exchange_request(&s->ex, nonce, buf, sizeof(buf));
	/* As close to the send as can be: T1. */
	s->t1 = realtime_ntp();
	if (send(s->fd, buf, len, 0) != (ssize_t)len) {
		log_debug("source %s: send: %s", s->cfg->host,
		    strerror(errno));
		client_close(s);
	} else {
		s->sent++;
		s->sent_ns = now;
	}
	if (s->burst > 0)
		s->burst--;
	client_schedule(s, now);
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
 * has had its quick start exchanges, so that all of them have a say
 * (two sources are no majority against a liar); for 30 s at most.
 */
static int
client_bursting(uint64_t now)
{
	size_t	 i;

	if (now - started_ns >= FIRST_UPDATE_WAIT_NS)
		return 0;
	for (i = 0; i < nsources; i++)
		if (sources[i].resolved && !sources[i].stopped &&
		    sources[i].burst > 0)
			return 1;
	return 0;
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
 * Run selection over every source's estimate, after bringing the
 * samples up to date with the corrections made to the clock since.
 */
static void
client_select(uint64_t now)
{
	struct select_source	 in[CONF_MAX_SOURCES];
	struct select_verdict	 v[CONF_MAX_SOURCES];
	struct filter_est	 est;
	double			 moved, tolerance;
	size_t			 i;
	int			 refused;

	moved = sync_take_correction(now);
	if (moved != 0)
		for (i = 0; i < nsources; i++)
			filter_adjust(&sources[i].filter, moved);
	tolerance = sync_tolerance();
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
			    "tolerance of %g s: left out", sources[i].cfg->host,
			    est.offset, tolerance);
		sources[i].refused = refused;
		if (sources[i].cfg->prefer)
			in[i].flags |= SELECT_F_PREFER;
		if (sources[i].cfg->noselect || sources[i].refused)
			in[i].flags |= SELECT_F_NOSELECT;
		if (sys.have_result && sys.result.syspeer == i)
			in[i].flags |= SELECT_F_SYSPEER;
	}
	if (select_run(&sel_conf, in, nsources, v, &sys.result) == -1) {
		log_warn("selection");
		return;
	}
	for (i = 0; i < nsources; i++)
		sources[i].verdict = v[i];
	sys.have_result = sys.result.status == SELECT_OK;
	sys.updated_ns = now;
	/* Until the first update, any outcome after the bursts will do. */
	if (sys.have_result && (fresh || !sync_updated())) {
		if (sync_updated() || !client_bursting(now))
			client_update_clock(in, now);
	}
	else if (fresh)
		client_refuse(in);
	fresh = 0;
}

static void
client_miss(struct source *s)
{
	filter_miss(&s->filter);
	s->good = 0;
	if (s->poll > s->cfg->minpoll)
		s->poll--;
}

static void
client_sample(struct source *s, const struct exchange_sample *es,
    uint64_t now)
{
	struct filter_sample	 fs;

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
	switch (filter_add(&s->filter, &fs)) {
	case FILTER_UPDATED:
	case FILTER_STEP:
		fresh = 1;
		break;
	default:
		break;
	}
	s->samples++;
	if (++s->good >= POLL_UP_AFTER && s->poll < s->cfg->maxpoll) {
		s->poll++;
		s->good = 0;
	}
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
			log_debug("source %s: %s", s->cfg->host,
			    strerror(errno));
			client_close(s);
			s->timeouts++;
			client_miss(s);
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
		    "more queries to it", s->cfg->host, "DENY");
		client_miss(s);
		break;
	case EXCHANGE_KOD_RATE:
		client_close(s);
		s->kod++;
		s->burst = 0;
		s->poll += KOD_RATE_POLL_STEP;
		if (s->poll > POLL_MAX)
			s->poll = POLL_MAX;
		client_schedule(s, now);
		log_info("source %s asks us to slow down: polling every "
		    "%llu s", s->cfg->host, 1ULL << s->poll);
		client_miss(s);
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
		client_miss(s);
		break;
	}
	client_select(now);
}

void
client_run(uint64_t now)
{
	struct source	*s;
	size_t		 i;
	int		 changed = 0;

	for (i = 0; i < nsources; i++) {
		s = &sources[i];
		if (!s->resolved || s->stopped)
			continue;
		if (s->fd != -1 && now - s->sent_ns >= REPLY_TIMEOUT_NS) {
			client_close(s);
			s->timeouts++;
			client_miss(s);
			changed = 1;
		}
		if (now >= s->next_ns)
			client_send(s, now);
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
		if (!sources[i].resolved || sources[i].stopped)
			continue;
		t = sources[i].next_ns;
		if (sources[i].fd != -1 &&
		    sources[i].sent_ns + REPLY_TIMEOUT_NS < t)
			t = sources[i].sent_ns + REPLY_TIMEOUT_NS;
		if (t < next)
			next = t;
	}
	if (next == UINT64_MAX)
		return -1;
	if (next <= now)
		return 0;
	return (int)((next - now) / 1000000ULL) + 1;
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
		cp.poll = s->poll;
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
