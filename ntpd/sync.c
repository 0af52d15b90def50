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

static struct discipline	 disc;
static struct imsgbuf		*parent;
static int			 ready;		/* IMSG_CLOCK_INIT seen */
static int			 control;
static int			 waiting;	/* for IMSG_CLOCK_RESULT */
static int			 warned_error;
static double			 taken;		/* corrections handed out */
static double			 tolerance;
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

void
sync_init(const struct ntpd_conf *conf, struct imsgbuf *to_parent,
    int8_t prec)
{
	struct discipline_conf	 dc;

	parent = to_parent;
	precision = prec;
	tolerance = conf->clock.tolerance;
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
sync_clock_init(struct imsg *imsg)
{
	struct imsg_clock_init	 ci;
	struct discipline_conf	 dc;

	if (imsg->datalen != sizeof(ci))
		fatalx("malformed clock init");
	memcpy(&ci, imsg->data, sizeof(ci));
	if (!isfinite(ci.freq) || fabs(ci.freq) > DISC_MAX_FREQ ||
	    ci.control > 1 || ready)
		fatalx("malformed clock init");
	control = (int)ci.control;
	dc = disc.conf;
	dc.control = control;
	discipline_init(&disc, &dc, ci.freq);
	ready = 1;
	log_debug("clock: frequency %.3f ppm%s, %s", ci.freq,
	    ci.from_drift_file ? " from the drift file" : "",
	    control ? "controlled" : "not controlled (-x)");
}

void
sync_clock_result(struct imsg *imsg, uint64_t now)
{
	struct imsg_clock_result	 r;
	enum discipline_action		 done = DISC_NONE;

	if (imsg->datalen != sizeof(r))
		fatalx("malformed clock result");
	memcpy(&r, imsg->data, sizeof(r));
	if (!isfinite(r.offset) || !isfinite(r.freq) || !waiting ||
	    fabs(r.freq) > DISC_MAX_FREQ || r.leap > NTP_LEAP_DEL ||
	    (r.action != 0 && r.action != CLOCK_SLEW &&
	    r.action != CLOCK_STEP))
		fatalx("malformed clock result");
	waiting = 0;
	if (r.action == CLOCK_STEP)
		done = DISC_STEP;
	else if (r.action == CLOCK_SLEW)
		done = DISC_SLEW;
	discipline_applied(&disc, seconds(now), done, done == DISC_NONE ? 0 :
	    r.offset, r.freq);
	if (r.error != 0) {
		if (!warned_error)
			log_warnx("cannot adjust the clock: %s",
			    strerror(r.error));
		warned_error = 1;
	} else if (r.refused)
		log_debug("clock: the parent refused the adjustment");
	if (done == DISC_NONE) {
		/* Nothing done: the offset is all still there. */
		left = last_in.offset;
		return;
	}
	if (done == DISC_STEP)
		left = 0;
	leap_armed = r.leap;
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
	    root_distance(now) <= MAX_DIST &&
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
	if (st.synced != served.synced)
		log_info("clock %s", st.synced ? "synchronised" :
		    "unsynchronised");
	served = st;
	engine_publish_sync();
}

/* Said, logged, and audited by the parent. */
static void
sync_refused(double offset)
{
	struct imsg_refused	 r;

	log_warnx("clock: correction of %+.6f s refused: beyond the "
	    "tolerance of %g s (%llu refused)", offset, tolerance,
	    (unsigned long long)disc.refused);
	stats_update("refused", offset, disc.freq, disc.skew, 0, 0, 0);
	memset(&r, 0, sizeof(r));
	r.offset = offset;
	r.tolerance = tolerance;
	if (imsg_compose(parent, IMSG_REFUSED, 0, -1, &r, sizeof(r)) == -1)
		fatal("imsg_compose");
}

void
sync_refuse(double offset)
{
	disc.refused++;
	disc.last_refused = offset;
	sync_refused(offset);
}

/*
 * A reload: the step policy and the tolerance change, the account of
 * updates and steps made so far does not.
 */
void
sync_reconfigure(const struct ntpd_conf *conf)
{
	tolerance = conf->clock.tolerance;
	disc.conf.step_threshold = conf->clock.step_threshold;
	disc.conf.step_updates = conf->clock.step_updates;
	disc.conf.tolerance = conf->clock.tolerance;
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
		sync_refused(cmd.offset);
		return;
	}
	stats_update(cmd.action == DISC_STEP ? "step" : cmd.action ==
	    DISC_SLEW ? "slew" : "none", in->offset, cmd.action == DISC_NONE ?
	    disc.freq : cmd.freq, disc.skew, in->stratum + 1, in->rootdelay,
	    in->rootdisp);
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
		if (imsg_compose(parent, IMSG_CLOCK_ADJUST, 0, -1, &req,
		    sizeof(req)) == -1)
			fatal("imsg_compose");
		waiting = 1;
		if (cmd.action == DISC_STEP)
			left = 0;
	}
	sync_make_served(now);
}

int
sync_timeout(uint64_t now)
{
	if (next_tick_ns == 0)
		return -1;
	if (now >= next_tick_ns)
		return 0;
	return (int)((next_tick_ns - now) / 1000000ULL) + 1;
}

void
sync_tick(uint64_t now)
{
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
