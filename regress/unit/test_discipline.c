/*
 * Unit tests for ntpd/discipline.c: the step and slew policy, the
 * tolerance, and a closed loop against a simulated clock that drifts,
 * whose kernel is modelled here independently of the discipline's own
 * account (integrated in 0.25 s steps).
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "discipline.h"

/* A simulated local clock and kernel. */
struct simclock {
	double	 err;		/* local minus true, s */
	double	 drift;		/* ppm, the oscillator's own error */
	double	 freq;		/* ppm, the kernel's correction */
	double	 slew_left;	/* s, adjtime remaining */
	double	 t;
	uint64_t steps;
};

static void
sim_advance(struct simclock *c, double to)
{
	double	 dt, s;

	while (c->t < to) {
		dt = fmin(0.25, to - c->t);
		c->err += (c->drift + c->freq) * 1e-6 * dt;
		s = fmin(fabs(c->slew_left), DISC_SLEW_RATE * dt);
		s = c->slew_left > 0 ? s : -s;
		c->err += s;
		c->slew_left -= s;
		c->t += dt;
	}
}

/* Ask the simulated kernel, and tell the discipline. */
static void
sim_apply(struct simclock *c, struct discipline *d,
    const struct discipline_cmd *cmd)
{
	switch (cmd->action) {
	case DISC_STEP:
		c->err += cmd->offset;
		c->slew_left = 0;
		c->steps++;
		break;
	case DISC_SLEW:
		c->slew_left = cmd->offset;
		break;
	default:
		return;
	}
	c->freq = cmd->freq;
	discipline_applied(d, c->t, cmd->action, cmd->offset, cmd->freq);
}

/* A deterministic noise source, uniform in [-1, 1]. */
static double
noise(unsigned int *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return ((double)((*seed >> 8) & 0xffff) / 32767.5) - 1;
}

START_TEST(defaults)
{
	struct discipline_conf	 conf;

	discipline_conf_init(&conf);
	ck_assert(conf.step_threshold == 0.1);
	ck_assert_uint_eq(conf.step_updates, 3);
	ck_assert(conf.tolerance == 0);
	ck_assert_int_eq(conf.control, 1);
}
END_TEST

START_TEST(bad_input)
{
	struct discipline_conf	 conf;
	struct discipline	 d;
	struct discipline_cmd	 cmd;

	discipline_conf_init(&conf);
	discipline_init(&d, &conf, 0);
	errno = 0;
	ck_assert_int_eq(discipline_update(&d, 1, NAN, 0, &cmd), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(discipline_update(&d, INFINITY, 0, 0, &cmd), -1);
	ck_assert_int_eq(discipline_update(&d, 1, 0, -1, &cmd), -1);
	ck_assert_int_eq(cmd.action, DISC_NONE);
	ck_assert_uint_eq(d.updates, 0);
}
END_TEST

/* Far off at start: one step, then only slews, even when far off again. */
START_TEST(one_step_at_start)
{
	struct discipline_conf	 conf;
	struct discipline	 d;
	struct discipline_cmd	 cmd;

	discipline_conf_init(&conf);
	discipline_init(&d, &conf, 12.5);
	ck_assert_int_eq(discipline_update(&d, 10, 5.0, 0.001, &cmd), 0);
	ck_assert_int_eq(cmd.action, DISC_STEP);
	ck_assert(cmd.offset == 5.0);
	ck_assert(cmd.freq == 12.5);
	discipline_applied(&d, 10, cmd.action, cmd.offset, cmd.freq);
	ck_assert_uint_eq(d.steps, 1);
	ck_assert(fabs(discipline_correction(&d, 10) - 5.0) < 1e-12);

	/* Within the first three updates, but a step was made already. */
	ck_assert_int_eq(discipline_update(&d, 12, -0.5, 0.001, &cmd), 0);
	ck_assert_int_eq(cmd.action, DISC_SLEW);
	ck_assert(cmd.offset == -0.5);
}
END_TEST

/* A backward step is the startup one only; later, never. */
START_TEST(no_step_after_startup)
{
	struct discipline_conf	 conf;
	struct discipline	 d;
	struct discipline_cmd	 cmd;
	int			 i;

	discipline_conf_init(&conf);
	discipline_init(&d, &conf, 0);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(discipline_update(&d, 16.0 * i, 0.01, 0.001,
		    &cmd), 0);
		ck_assert_int_eq(cmd.action, DISC_SLEW);
		discipline_applied(&d, 16.0 * i, cmd.action, cmd.offset,
		    cmd.freq);
	}
	ck_assert_int_eq(discipline_update(&d, 64, -3.0, 0.001, &cmd), 0);
	ck_assert_int_eq(cmd.action, DISC_SLEW);
	ck_assert_uint_eq(d.steps, 0);
}
END_TEST

START_TEST(small_offset_slews)
{
	struct discipline_conf	 conf;
	struct discipline	 d;
	struct discipline_cmd	 cmd;

	discipline_conf_init(&conf);
	discipline_init(&d, &conf, 0);
	ck_assert_int_eq(discipline_update(&d, 1, 0.05, 0.001, &cmd), 0);
	ck_assert_int_eq(cmd.action, DISC_SLEW);
	ck_assert(cmd.offset == 0.05);
	discipline_applied(&d, 1, cmd.action, cmd.offset, cmd.freq);
	/* 500 ppm: 20 ms done after 40 s, all of it after 100 s. */
	ck_assert(fabs(discipline_correction(&d, 41) - 0.02) < 1e-12);
	ck_assert(fabs(discipline_residual(&d, 41) - 0.03) < 1e-12);
	ck_assert(fabs(discipline_correction(&d, 500) - 0.05) < 1e-12);
	ck_assert(discipline_residual(&d, 500) == 0);
}
END_TEST

/* A new slew replaces what was left of the one before. */
START_TEST(slew_replaced)
{
	struct discipline_conf	 conf;
	struct discipline	 d;

	discipline_conf_init(&conf);
	discipline_init(&d, &conf, 0);
	discipline_applied(&d, 0, DISC_SLEW, -0.01, 0);
	discipline_applied(&d, 10, DISC_SLEW, 0.002, 0);
	/* 5 ms of the first were done; the rest was dropped. */
	ck_assert(fabs(discipline_correction(&d, 10) + 0.005) < 1e-12);
	ck_assert(fabs(discipline_correction(&d, 100) + 0.003) < 1e-12);
}
END_TEST

/* Samples are shifted by steps and slews, never by the frequency. */
START_TEST(phase_leaves_frequency_out)
{
	struct discipline_conf	 conf;
	struct discipline	 d;

	discipline_conf_init(&conf);
	discipline_init(&d, &conf, 0);
	discipline_applied(&d, 0, DISC_STEP, 2.0, 10);
	discipline_applied(&d, 100, DISC_SLEW, 0.01, 10);
	/* 100 s at 10 ppm: 1 ms of correction, but no phase. */
	ck_assert(fabs(discipline_correction(&d, 100) - 2.001) < 1e-12);
	ck_assert(fabs(discipline_phase(&d, 100) - 2.0) < 1e-12);
	/* Half the slew (500 ppm for 10 s) is done at 110 s. */
	ck_assert(fabs(discipline_phase(&d, 110) - 2.005) < 1e-12);
	ck_assert(fabs(discipline_phase(&d, 1000) - 2.01) < 1e-12);
	ck_assert(fabs(discipline_correction(&d, 1000) - 2.02) < 1e-12);
	conf.control = 0;
	discipline_init(&d, &conf, 0);
	discipline_applied(&d, 0, DISC_STEP, 2.0, 10);
	ck_assert(discipline_phase(&d, 10) == 0);
}
END_TEST

/* The frequency in force counts in the account. */
START_TEST(frequency_counts)
{
	struct discipline_conf	 conf;
	struct discipline	 d;

	discipline_conf_init(&conf);
	discipline_init(&d, &conf, 10);
	discipline_applied(&d, 100, DISC_SLEW, 0, 30);
	ck_assert(fabs(discipline_correction(&d, 1100) - 0.02) < 1e-12);
	/* The kernel's bound is the discipline's. */
	discipline_applied(&d, 1100, DISC_SLEW, 0, 9000);
	ck_assert(d.freq == DISC_MAX_FREQ);
}
END_TEST

START_TEST(tolerance_refuses)
{
	struct discipline_conf	 conf;
	struct discipline	 d;
	struct discipline_cmd	 cmd;

	discipline_conf_init(&conf);
	conf.tolerance = 1.0;
	discipline_init(&d, &conf, 0);
	/* The first update is not bound: that is the startup step. */
	ck_assert_int_eq(discipline_update(&d, 1, 30.0, 0.001, &cmd), 0);
	ck_assert_int_eq(cmd.action, DISC_STEP);
	discipline_applied(&d, 1, cmd.action, cmd.offset, cmd.freq);
	ck_assert_int_eq(discipline_update(&d, 17, 3600.0, 0.001, &cmd), 0);
	ck_assert_int_eq(cmd.action, DISC_REFUSE);
	ck_assert(cmd.offset == 3600.0);
	ck_assert_uint_eq(d.refused, 1);
	ck_assert(d.last_refused == 3600.0);
	ck_assert_uint_eq(d.updates, 1);
	ck_assert_int_eq(discipline_update(&d, 33, -1.5, 0.001, &cmd), 0);
	ck_assert_int_eq(cmd.action, DISC_REFUSE);
	ck_assert_uint_eq(d.refused, 2);
	ck_assert_int_eq(discipline_update(&d, 49, 0.9, 0.001, &cmd), 0);
	ck_assert_int_eq(cmd.action, DISC_SLEW);
}
END_TEST

START_TEST(never_step_when_told)
{
	struct discipline_conf	 conf;
	struct discipline	 d;
	struct discipline_cmd	 cmd;

	discipline_conf_init(&conf);
	conf.step_updates = 0;
	discipline_init(&d, &conf, 0);
	ck_assert_int_eq(discipline_update(&d, 1, 30.0, 0.001, &cmd), 0);
	ck_assert_int_eq(cmd.action, DISC_SLEW);
	ck_assert(cmd.offset == 30.0);
}
END_TEST

/* Without clock control: no commands, no account, a frequency shown. */
START_TEST(no_control)
{
	struct discipline_conf	 conf;
	struct discipline	 d;
	struct discipline_cmd	 cmd;
	int			 i;

	discipline_conf_init(&conf);
	conf.control = 0;
	discipline_init(&d, &conf, 3);
	for (i = 0; i < 10; i++) {
		/* A clock 20 ppm fast, left alone. */
		ck_assert_int_eq(discipline_update(&d, 64.0 * i,
		    5.0 - 20e-6 * 64.0 * i, 0.0001, &cmd), 0);
		ck_assert_int_eq(cmd.action, DISC_NONE);
		ck_assert(discipline_correction(&d, 64.0 * i) == 0);
	}
	ck_assert_uint_eq(d.steps, 0);
	ck_assert(fabs(d.freq - (3 - 20)) < 1e-6);
}
END_TEST

/*
 * The loop: a clock 5 s behind and 37 ppm fast, offsets measured with
 * 50 us of noise every 64 s.  One step, then the frequency is found and
 * the offset held within a few times the noise; no second step.
 */
START_TEST(closed_loop)
{
	struct discipline_conf	 conf;
	struct discipline	 d;
	struct discipline_cmd	 cmd;
	struct simclock		 c = { -5.0, 37.0, 0, 0, 0, 0 };
	unsigned int		 seed = 1;
	double			 t, off, worst = 0;
	int			 i;

	discipline_conf_init(&conf);
	conf.tolerance = 1.0;
	discipline_init(&d, &conf, 0);
	for (i = 0; i < 200; i++) {
		t = i < 4 ? 2.0 * i : 6 + 64.0 * (i - 3);
		sim_advance(&c, t);
		off = -c.err + 50e-6 * noise(&seed);
		ck_assert_int_eq(discipline_update(&d, t, off, 50e-6, &cmd),
		    0);
		ck_assert_int_ne(cmd.action, DISC_REFUSE);
		sim_apply(&c, &d, &cmd);
		/* The discipline's account follows the kernel's. */
		ck_assert(fabs(discipline_correction(&d, t) -
		    (c.err + 5.0 - 37e-6 * t)) < 1e-6);
		if (i >= 100)
			worst = fmax(worst, fabs(c.err));
	}
	ck_assert_uint_eq(c.steps, 1);
	ck_assert_uint_eq(d.steps, 1);
	ck_assert_msg(fabs(d.freq + 37.0) < 0.5, "freq %f", d.freq);
	ck_assert_msg(worst < 200e-6, "worst offset %g", worst);
	ck_assert(d.skew > 0 && d.skew < 1);
}
END_TEST

/* The oscillator changes its rate: the fit starts afresh and follows. */
START_TEST(frequency_change)
{
	struct discipline_conf	 conf;
	struct discipline	 d;
	struct discipline_cmd	 cmd;
	struct simclock		 c = { 0.001, -12.0, 0, 0, 0, 0 };
	unsigned int		 seed = 7;
	double			 t, off;
	int			 i;

	discipline_conf_init(&conf);
	discipline_init(&d, &conf, 0);
	for (i = 0; i < 300; i++) {
		t = 64.0 * i;
		if (i == 100)
			c.drift = 8.0;
		sim_advance(&c, t);
		off = -c.err + 20e-6 * noise(&seed);
		ck_assert_int_eq(discipline_update(&d, t, off, 20e-6, &cmd),
		    0);
		sim_apply(&c, &d, &cmd);
	}
	ck_assert_uint_eq(c.steps, 0);
	ck_assert_msg(fabs(d.freq + 8.0) < 0.3, "freq %f", d.freq);
	ck_assert_msg(fabs(c.err) < 100e-6, "offset %g", c.err);
}
END_TEST

/*
 * The frequency is known once the updates span enough for a fit: three
 * over 16 s; not after a burst 2 s apart; and no longer when the
 * oscillator's rate changes and the fit starts afresh, until it spans
 * enough again.
 */
START_TEST(freq_known)
{
	struct discipline_conf	 conf;
	struct discipline	 d;
	struct discipline_cmd	 cmd;
	struct simclock		 c = { 0.001, -12.0, 0, 0, 0, 0 };
	unsigned int		 seed = 7;
	double			 t, off;
	int			 i, lost = -1, again = -1;

	discipline_conf_init(&conf);
	discipline_init(&d, &conf, 0);
	ck_assert_int_eq(discipline_freq_known(&d), 0);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(discipline_update(&d, 2.0 * i, 0.001, 1e-6,
		    &cmd), 0);
		ck_assert_int_eq(discipline_freq_known(&d), 0);
	}
	ck_assert_int_eq(discipline_update(&d, 16, 0.001, 1e-6, &cmd), 0);
	ck_assert_int_eq(discipline_freq_known(&d), 1);

	discipline_init(&d, &conf, 0);
	for (i = 0; i < 200; i++) {
		t = 64.0 * i;
		if (i == 100)
			c.drift = 8.0;
		sim_advance(&c, t);
		off = -c.err + 20e-6 * noise(&seed);
		ck_assert_int_eq(discipline_update(&d, t, off, 20e-6, &cmd),
		    0);
		sim_apply(&c, &d, &cmd);
		if (i == 2)
			ck_assert_int_eq(discipline_freq_known(&d), 1);
		if (i > 2 && lost == -1 && !discipline_freq_known(&d))
			lost = i;
		if (lost != -1 && again == -1 && discipline_freq_known(&d))
			again = i;
	}
	ck_assert_msg(lost > 100 && lost < 105, "lost at %d", lost);
	/* The fit starts again from the first point off it: 3 points. */
	ck_assert_msg(again == lost + 1, "lost at %d, again at %d", lost,
	    again);
}
END_TEST

static Suite *
discipline_suite(void)
{
	Suite	*s = suite_create("discipline");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, defaults);
	tcase_add_test(tc, bad_input);
	tcase_add_test(tc, one_step_at_start);
	tcase_add_test(tc, no_step_after_startup);
	tcase_add_test(tc, small_offset_slews);
	tcase_add_test(tc, slew_replaced);
	tcase_add_test(tc, phase_leaves_frequency_out);
	tcase_add_test(tc, frequency_counts);
	tcase_add_test(tc, tolerance_refuses);
	tcase_add_test(tc, never_step_when_told);
	tcase_add_test(tc, no_control);
	tcase_add_test(tc, closed_loop);
	tcase_add_test(tc, frequency_change);
	tcase_add_test(tc, freq_known);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(discipline_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
