/*
 * The engine's clock: see sync.h.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "discipline.h"
#include "filter.h"
#include "log.h"
#include "ntp.h"
#include "ntpd.h"
#include "stats.h"
#include "sync.h"

#define TICK_NS		16000000000ULL	/* served state refreshed */
#define MAX_DIST	1.5		/* s: root distance of a usable clock;
					   holdover ends beyond it */
#define NS_PER_S	1000000000ULL
#define REFUSED_SAY_NS	(600 * NS_PER_S)	/* refusals said at most */

static struct discipline	 disc;
static struct imsgbuf		*parent;	/* the engine's link's */
static const struct sync_parent	*parent_link;
static int			 ready;		/* IMSG_CLOCK_INIT seen */
static int			 control;
static int			 waiting;	/* for IMSG_CLOCK_RESULT */
static int			 warned_error;
static double			 taken;		/* corrections handed out */
static double			 tolerance;
static unsigned int		 holdover;	/* s; 0: no bound */
static uint64_t			 refused_said_ns;	/* 0: none yet */
static uint64_t			 refused_unsaid;
static struct sync_state	 served;
static int8_t			 precision;

/* The last update. */
static struct sync_input	 last_in;
static int			 have_update;
static uint64_t			 update_ns;
static struct ntp_ts		 update_time;	/* reference time */
static double			 left;		/* s not corrected by it */
static uint32_t			 leap_armed;
static uint64_t			 next_tick_ns;

static double
seconds(uint64_t ns)
{
	return (double)ns / 1e9;
}

/* The engine's link: the parent process, over its channel. */
static void
imsg_adjust(const struct imsg_clock_adjust *req)
{
	if (imsg_compose(parent, IMSG_CLOCK_ADJUST, 0, -1, req,
	    sizeof(*req)) == -1)
		fatal("imsg_compose");
}

static void
imsg_refused(const struct imsg_refused *r)
{
	if (imsg_compose(parent, IMSG_REFUSED, 0, -1, r, sizeof(*r)) == -1)
		fatal("imsg_compose");
}

static const struct sync_parent	 imsg_link = { imsg_adjust, imsg_refused };

void
sync_init(const struct ntpd_conf *conf, struct imsgbuf *to_parent,
    int8_t prec)
{
	struct discipline_conf	 dc;

	parent = to_parent;
	parent_link = &imsg_link;
	precision = prec;
	tolerance = conf->clock.tolerance;
	holdover = conf->clock.holdover;
	discipline_conf_init(&dc);
	dc.step_threshold = conf->clock.step_threshold;
	dc.step_updates = conf->clock.step_updates;
	dc.tolerance = conf->clock.tolerance;
	discipline_init(&disc, &dc, 0);
	memset(&served, 0, sizeof(served));
	served.leap = NTP_LEAP_UNSYNC;
	served.stratum = NTP_MAX_STRATUM;
	served.precision = prec;
}

void
sync_set_parent(const struct sync_parent *p)
{
	parent_link = p;
}

void
sync_clock_init(struct imsg *imsg)
{
	struct imsg_clock_init	 ci;

	if (imsg->datalen != sizeof(ci))
		fatalx("malformed clock init");
	memcpy(&ci, imsg->data, sizeof(ci));
	sync_clock_start(&ci);
}

void
sync_clock_start(const struct imsg_clock_init *ci)
{
	struct discipline_conf	 dc;

	if (!isfinite(ci->freq) || fabs(ci->freq) > DISC_MAX_FREQ ||
	    ci->control > 1 || ready)
		fatalx("malformed clock init");
	control = (int)ci->control;
	dc = disc.conf;
	dc.control = control;
	discipline_init(&disc, &dc, ci->freq);
	ready = 1;
	log_debug("clock: frequency %.3f ppm%s, %s", ci->freq,
	    ci->from_drift_file ? " from the drift file" : "",
	    control ? "controlled" : "not controlled (-x)");
}

void
sync_clock_result(struct imsg *imsg, uint64_t now)
{
	struct imsg_clock_result	 r;

	if (imsg->datalen != sizeof(r))
		fatalx("malformed clock result");
	memcpy(&r, imsg->data, sizeof(r));
	sync_clock_done(&r, now);
}

void
sync_clock_done(const struct imsg_clock_result *r, uint64_t now)
{
	enum discipline_action	 done = DISC_NONE;

	if (!isfinite(r->offset) || !isfinite(r->freq) || !waiting ||
	    fabs(r->freq) > DISC_MAX_FREQ || r->leap > NTP_LEAP_DEL ||
	    (r->action != 0 && r->action != CLOCK_SLEW &&
	    r->action != CLOCK_STEP))
		fatalx("malformed clock result");
	waiting = 0;
	if (r->action == CLOCK_STEP)
		done = DISC_STEP;
	else if (r->action == CLOCK_SLEW)
		done = DISC_SLEW;
	discipline_applied(&disc, seconds(now), done, done == DISC_NONE ? 0 :
	    r->offset, r->freq);
	if (r->error != 0) {
		if (!warned_error)
			log_warnx("cannot adjust the clock: %s",
			    strerror(r->error));
		warned_error = 1;
	} else if (r->refused)
		log_debug("clock: the parent refused the adjustment");
	if (done == DISC_NONE) {
		/* Nothing done: the offset is all still there. */
		left = last_in.offset;
		return;
	}
	if (done == DISC_STEP)
		left = 0;
	leap_armed = r->leap;
}

int
sync_updated(void)
{
	return disc.updates > 0;
}

double
sync_take_correction(uint64_t now)
{
	double	 c = discipline_phase(&disc, seconds(now)), d;

	d = c - taken;
	taken = c;
	return d;
}

double
sync_drift(void)
{
	return control && discipline_freq_known(&disc) ? 0 : FILTER_PHI;
}

double
sync_tolerance(void)
{
	return disc.updates > 0 ? tolerance : 0;
}

static double
root_distance(uint64_t now)
{
	double	 age = now > update_ns ? seconds(now - update_ns) : 0;

	return last_in.rootdelay / 2 + last_in.rootdisp + last_in.jitter +
	    fabs(left) + FILTER_PHI * age;
}

int
sync_synchronised(void)
{
	return served.synced;
}

/* Has the configured holdover run out since the last update? */
static int
holdover_over(uint64_t now)
{
	return holdover != 0 && now > update_ns &&
	    now - update_ns > (uint64_t)holdover * NS_PER_S;
}

/* When a synchronised clock's holdover runs out; 0: not to come. */
static uint64_t
holdover_end(void)
{
	if (holdover == 0 || !served.synced)
		return 0;
	return update_ns + (uint64_t)holdover * NS_PER_S + 1;
}

/* Why a synchronised clock is no longer, for the log. */
static void
log_unsynchronised(uint64_t now)
{
	if (holdover_over(now))
		log_info("clock unsynchronised: no update for %u s", holdover);
	else if (root_distance(now) > MAX_DIST)
		log_info("clock unsynchronised: root distance %.3f s beyond "
		    "%g s", root_distance(now), MAX_DIST);
	else
		log_info("clock unsynchronised");
}

/* What servers say, from the last update and the time since. */
static void
sync_make_served(uint64_t now)
{
	struct sync_state	 st;
	const struct sockaddr	*sa = (const struct sockaddr *)&last_in.peer;
	double			 disp;

	memset(&st, 0, sizeof(st));
	st.precision = precision;
	st.leap = NTP_LEAP_UNSYNC;
	st.stratum = NTP_MAX_STRATUM;
	if (have_update && fabs(left) <= DISC_SYNC_MAX_OFFSET &&
	    root_distance(now) <= MAX_DIST && !holdover_over(now) &&
	    last_in.stratum + 1 < NTP_MAX_STRATUM) {
		st.synced = 1;
		st.leap = (uint8_t)last_in.leap;
		st.stratum = (uint8_t)(last_in.stratum + 1);
		st.root_delay = ntp_short_from_double(last_in.rootdelay);
		/* Good until the next refresh. */
		disp = root_distance(now) - last_in.rootdelay / 2 +
		    FILTER_PHI * seconds(TICK_NS);
		st.root_dispersion = ntp_short_from_double(disp);
		st.reference = update_time;
		if (sa->sa_family == AF_INET)
			memcpy(st.refid, &((const struct sockaddr_in *)sa)->
			    sin_addr, 4);
		else if (sa->sa_family == AF_INET6)
			ntp_refid_ipv6(&((const struct sockaddr_in6 *)sa)->
			    sin6_addr, st.refid);
	}
	if (st.synced && !served.synced)
		log_info("clock synchronised");
	else if (!st.synced && served.synced)
		log_unsynchronised(now);
	served = st;
	engine_publish_sync();
}

/*
 * Said, logged, and audited by the parent: the first, then at most one
 * every REFUSED_SAY_NS, with how many went unsaid in between.  Sources
 * that stay away are refused at every update, every few seconds at
 * short polls.  Every one is counted, shown, and in the statistics.
 */
static void
sync_refused(double offset, uint64_t now)
{
	struct imsg_refused	 r;

	stats_update("refused", offset, disc.freq, disc.skew, 0, 0, 0);
	if (refused_said_ns != 0 && now - refused_said_ns < REFUSED_SAY_NS) {
		refused_unsaid++;
		return;
	}
	log_warnx("clock: correction of %+.6f s refused: beyond the "
	    "tolerance of %g s (%llu refused)", offset, tolerance,
	    (unsigned long long)disc.refused);
	memset(&r, 0, sizeof(r));
	r.offset = offset;
	r.tolerance = tolerance;
	r.unsaid = refused_unsaid;
	parent_link->refused(&r);
	refused_said_ns = now != 0 ? now : 1;
	refused_unsaid = 0;
}

void
sync_refuse(double offset, uint64_t now)
{
	disc.refused++;
	disc.last_refused = offset;
	sync_refused(offset, now);
}

/*
 * A reload: the step policy, the tolerance and the holdover change, the
 * account of updates and steps made so far does not.
 */
void
sync_reconfigure(const struct ntpd_conf *conf)
{
	tolerance = conf->clock.tolerance;
	holdover = conf->clock.holdover;
	/* What servers say follows the new holdover at once. */
	if (next_tick_ns != 0)
		next_tick_ns = 1;
	disc.conf.step_threshold = conf->clock.step_threshold;
	disc.conf.step_updates = conf->clock.step_updates;
	disc.conf.tolerance = conf->clock.tolerance;
}

/* The source the clock follows, when it changes: for the -v log. */
static void
log_peer(const struct sync_input *in)
{
	char	 peer[ADDR_STRLEN], was[ADDR_STRLEN];

	addr_format((const struct sockaddr *)&in->peer, peer, sizeof(peer));
	addr_format((const struct sockaddr *)&last_in.peer, was, sizeof(was));
	if (!have_update || strcmp(peer, was) != 0)
		log_debug("clock: system peer %s", peer);
}

void
sync_update(const struct sync_input *in, uint64_t now)
{
	struct discipline_cmd		 cmd;
	struct imsg_clock_adjust	 req;
	struct timespec			 ts;

	if (!ready || waiting)
		return;
	if (discipline_update(&disc, seconds(now), in->offset, in->jitter,
	    &cmd) == -1) {
		log_warnx("clock update: bad figures from selection");
		return;
	}
	if (cmd.action == DISC_REFUSE) {
		sync_refused(cmd.offset, now);
		return;
	}
	stats_update(cmd.action == DISC_STEP ? "step" : cmd.action ==
	    DISC_SLEW ? "slew" : "none", in->offset, cmd.action == DISC_NONE ?
	    disc.freq : cmd.freq, disc.skew, in->stratum + 1, in->rootdelay,
	    in->rootdisp);
	log_peer(in);
	last_in = *in;
	have_update = 1;
	update_ns = now;
	clock_gettime(CLOCK_REALTIME, &ts);
	update_time = ntp_ts_from_timespec(&ts);
	left = in->offset;
	if (cmd.action != DISC_NONE) {
		memset(&req, 0, sizeof(req));
		req.action = cmd.action == DISC_STEP ? CLOCK_STEP : CLOCK_SLEW;
		req.offset = cmd.offset;
		req.freq = cmd.freq;
		req.leap = in->leap == NTP_LEAP_UNSYNC ? NTP_LEAP_NONE :
		    in->leap;
		req.synced = fabs(cmd.action == DISC_STEP ? 0 : in->offset) <=
		    DISC_SYNC_MAX_OFFSET;
		req.esterror = in->jitter;
		req.maxerror = root_distance(now);
		parent_link->adjust(&req);
		waiting = 1;
		if (cmd.action == DISC_STEP)
			left = 0;
	}
	sync_make_served(now);
}

int
sync_timeout(uint64_t now)
{
	uint64_t	 next = next_tick_ns, end = holdover_end();

	if (end != 0 && (next == 0 || end < next))
		next = end;
	if (next == 0)
		return -1;
	if (now >= next)
		return 0;
	return (int)((next - now) / 1000000ULL) + 1;
}

void
sync_tick(uint64_t now)
{
	uint64_t	 end = holdover_end();

	/* Holdover ends when it does, not at the next refresh. */
	if (end != 0 && now >= end)
		sync_make_served(now);
	if (next_tick_ns == 0) {
		next_tick_ns = now + TICK_NS;
		return;
	}
	if (now < next_tick_ns)
		return;
	next_tick_ns = now + TICK_NS;
	if (have_update)
		sync_make_served(now);
}

const struct sync_state *
sync_served(void)
{
	return &served;
}

void
sync_fill_ctl(struct ctl_system *cs, uint64_t now)
{
	const struct sockaddr	*sa = (const struct sockaddr *)&last_in.peer;

	cs->clock_control = (uint32_t)control;
	cs->stratum = served.stratum;
	cs->leap = served.leap;
	cs->leap_armed = leap_armed;
	if (served.synced && (sa->sa_family == AF_INET ||
	    sa->sa_family == AF_INET6))
		addr_ntop(sa, cs->refid, sizeof(cs->refid));
	cs->frequency = disc.freq;
	cs->skew = disc.skew;
	cs->root_delay = have_update ? last_in.rootdelay : 0;
	cs->root_dispersion = have_update ? root_distance(now) -
	    last_in.rootdelay / 2 : 0;
	cs->since_update = have_update ? seconds(now - update_ns) : -1;
	cs->last_correction = disc.last_offset;
	cs->tolerance = tolerance;
	cs->last_refused = disc.last_refused;
	cs->updates = disc.updates;
	cs->steps = disc.steps;
	cs->refused = disc.refused;
}
