/*
 * The clock discipline: see discipline.h for what it does and why.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "discipline.h"

#define FIT_MIN_POINTS	3	/* for a frequency */
#define FIT_MIN_SPAN	16.0	/* s: shorter fits are mostly noise */
#define OFFSET_FROM_FIT	4	/* points before the fit's offset is used */
#define OUTLIER_SIGMAS	4.0
#define OUTLIERS_RESET	2	/* off the fit this many times in a row: the
				   frequency has changed, start afresh */
#define MIN_SIGMA	1e-6	/* s: no fit is better than this */

struct fit {
	double		a;	/* u at the newest point's time */
	double		b;	/* slope, s/s */
	double		sigma;	/* s, residual standard deviation */
	double		sb;	/* standard error of b */
	double		t0;	/* time a refers to */
};

void
discipline_conf_init(struct discipline_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->step_threshold = 0.1;
	conf->step_updates = 3;
	conf->tolerance = 0;
	conf->control = 1;
}

void
discipline_init(struct discipline *d, const struct discipline_conf *conf,
    double freq0)
{
	memset(d, 0, sizeof(*d));
	d->conf = *conf;
	d->freq0 = d->freq = freq0;
}

static double
clamp_freq(double f)
{
	if (f > DISC_MAX_FREQ)
		return DISC_MAX_FREQ;
	if (f < -DISC_MAX_FREQ)
		return -DISC_MAX_FREQ;
	return f;
}

/* How much of the running slew the kernel has done by t. */
static double
slew_done(const struct discipline *d, double t)
{
	double	 done;

	if (d->slew == 0 || t <= d->slew_t)
		return 0;
	done = DISC_SLEW_RATE * (t - d->slew_t);
	if (done >= fabs(d->slew))
		return d->slew;
	return d->slew > 0 ? done : -done;
}

double
discipline_correction(const struct discipline *d, double t)
{
	if (!d->conf.control)
		return 0;
	return d->base + (d->freq - d->freq0) * 1e-6 * (t - d->base_t) +
	    slew_done(d, t);
}

double
discipline_phase(const struct discipline *d, double t)
{
	if (!d->conf.control)
		return 0;
	return d->phase + slew_done(d, t);
}

double
discipline_residual(const struct discipline *d, double t)
{
	return d->slew - slew_done(d, t);
}

/* The history is long enough for its slope to be the frequency. */
int
discipline_freq_known(const struct discipline *d)
{
	return d->nhist >= FIT_MIN_POINTS &&
	    d->hist[d->nhist - 1].t - d->hist[0].t >= FIT_MIN_SPAN;
}

/* Weighted least squares of u on t over the history. */
static int
fit_history(const struct discipline *d, struct fit *f)
{
	double	 sw = 0, st = 0, su = 0, stt = 0, stu = 0, det, r, ss = 0;
	double	 t, u;
	size_t	 i;

	if (d->nhist < 2)
		return -1;
	f->t0 = d->hist[d->nhist - 1].t;
	for (i = 0; i < d->nhist; i++) {
		t = d->hist[i].t - f->t0;
		u = d->hist[i].u;
		sw += d->hist[i].w;
		st += d->hist[i].w * t;
		su += d->hist[i].w * u;
		stt += d->hist[i].w * t * t;
		stu += d->hist[i].w * t * u;
	}
	det = sw * stt - st * st;
	if (!(det > 0))
		return -1;
	f->b = (sw * stu - st * su) / det;
	f->a = (su - f->b * st) / sw;
	for (i = 0; i < d->nhist; i++) {
		r = d->hist[i].u - (f->a + f->b * (d->hist[i].t - f->t0));
		ss += d->hist[i].w * r * r;
	}
	/* Residual variance per unit weight, over n - 2 freedoms. */
	f->sigma = d->nhist > 2 ? sqrt(ss / sw * (double)d->nhist /
	    (double)(d->nhist - 2)) : 0;
	f->sb = d->nhist > 2 ? sqrt(ss / (double)(d->nhist - 2) * sw / det) :
	    0;
	return 0;
}

static void
history_add(struct discipline *d, double t, double u, double jitter)
{
	double	 s = fmax(jitter, MIN_SIGMA);

	if (d->nhist == DISC_HISTORY) {
		memmove(&d->hist[0], &d->hist[1],
		    (DISC_HISTORY - 1) * sizeof(d->hist[0]));
		d->nhist--;
	}
	d->hist[d->nhist].t = t;
	d->hist[d->nhist].u = u;
	d->hist[d->nhist].w = 1 / (s * s);
	d->nhist++;
}

/*
 * A new point far off the fit, twice in a row, means the clock's
 * frequency changed (temperature, a migrated VM): keep the last point
 * and start the fit again from there.
 */
static void
history_check(struct discipline *d, double t, double u, double jitter)
{
	struct fit	 f;
	double		 r, limit;

	if (d->nhist < FIT_MIN_POINTS + 1 || fit_history(d, &f) == -1)
		return;
	r = u - (f.a + f.b * (t - f.t0));
	limit = OUTLIER_SIGMAS * fmax(fmax(f.sigma, jitter), MIN_SIGMA);
	if (fabs(r) <= limit) {
		d->outliers = 0;
		return;
	}
	if (++d->outliers < OUTLIERS_RESET)
		return;
	d->hist[0] = d->hist[d->nhist - 1];
	d->nhist = 1;
	d->outliers = 0;
}

int
discipline_update(struct discipline *d, double t, double offset,
    double jitter, struct discipline_cmd *cmd)
{
	struct fit	 f;
	double		 c, u, slew, freq = d->freq;
	int		 have_fit;

	memset(cmd, 0, sizeof(*cmd));
	cmd->action = DISC_NONE;
	if (!isfinite(t) || !isfinite(offset) || !isfinite(jitter) ||
	    jitter < 0) {
		errno = EINVAL;
		return -1;
	}
	cmd->freq = d->freq;

	if (d->updates > 0 && d->conf.tolerance > 0 &&
	    fabs(offset) > d->conf.tolerance) {
		d->refused++;
		d->last_refused = offset;
		cmd->action = DISC_REFUSE;
		cmd->offset = offset;
		return 0;
	}

	c = discipline_correction(d, t);
	u = offset + c;
	d->updates++;
	d->last_offset = offset;

	if (d->conf.control && d->steps == 0 &&
	    d->updates <= d->conf.step_updates &&
	    fabs(offset) > d->conf.step_threshold) {
		/* The points before were measured against the old clock;
		   u carries them over the step unchanged. */
		history_add(d, t, u, jitter);
		cmd->action = DISC_STEP;
		cmd->offset = offset;
		return 0;
	}

	history_check(d, t, u, jitter);
	history_add(d, t, u, jitter);
	have_fit = fit_history(d, &f) == 0;
	if (have_fit && discipline_freq_known(d)) {
		freq = clamp_freq(d->freq0 + f.b * 1e6);
		d->skew = f.sb * 1e6;
	}
	slew = offset;
	if (have_fit && d->nhist >= OFFSET_FROM_FIT)
		slew = f.a - c;

	if (!d->conf.control) {
		/* Shown as the estimate; the clock is not touched, so
		   nothing is added to the account. */
		d->freq = freq;
		return 0;
	}
	cmd->action = DISC_SLEW;
	cmd->offset = slew;
	cmd->freq = freq;
	return 0;
}

void
discipline_applied(struct discipline *d, double t,
    enum discipline_action action, double offset, double freq)
{
	/* Fold what ran so far into the base, then start anew from t. */
	d->base = discipline_correction(d, t);
	d->phase = discipline_phase(d, t);
	d->base_t = t;
	d->slew = 0;
	d->slew_t = t;
	d->freq = clamp_freq(freq);
	switch (action) {
	case DISC_STEP:
		d->base += offset;
		d->phase += offset;
		if (offset != 0)
			d->steps++;
		break;
	case DISC_SLEW:
		d->slew = offset;
		break;
	default:
		break;
	}
}
