/*
 * ntpctl plot: the daemon's statistics log as an SVG picture.  Three
 * parts that the tests drive one by one: plot_parse_line() reads one
 * line, plot_data_add() puts a record into per-time-bin aggregates of a
 * size fixed at the start, plot_render() draws those.  plot_read()
 * streams a whole file through the first two.
 */
#ifndef NTPCTL_PLOT_H
#define NTPCTL_PLOT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PLOT_LINE_MAX		4096	/* bytes of a line, newline aside */
#define PLOT_SOURCE_MAX		255	/* bytes of a source's name */
#define PLOT_SOURCES_MAX	24	/* a colour each; the rest "others" */
#define PLOT_WARN_MAX		10	/* malformed lines shown, per file */

#define PLOT_WIDTH_MIN		400
#define PLOT_WIDTH_MAX		4000
#define PLOT_WIDTH_DEFAULT	1000
#define PLOT_HEIGHT_MIN		300
#define PLOT_HEIGHT_MAX		3000
#define PLOT_HEIGHT_DEFAULT	600

enum plot_kind {
	PLOT_UPDATE,		/* a clock update */
	PLOT_SAMPLE,		/* a sample of one source */
};

enum plot_action {
	PLOT_ACT_NONE,
	PLOT_ACT_SLEW,
	PLOT_ACT_STEP,
	PLOT_ACT_REFUSED,
};

/* A UNIX time in UTC, exactly as written. */
struct plot_time {
	int64_t		 sec;
	int32_t		 nsec;
};

struct plot_rec {
	struct plot_time	 t;
	enum plot_kind		 kind;
	double			 offset;	/* s, their time minus ours */
	double			 freq;		/* ppm, an update's */
	int			 has_freq;
	enum plot_action	 action;	/* an update's */
	char			 source[PLOT_SOURCE_MAX + 1]; /* a sample's */
};

/*
 * One line, without its newline and NUL-terminated.  1: a record in
 * rec; 0: nothing to plot (a comment, a blank line, a kind this version
 * does not know); -1: malformed, the reason in why.
 */
int	plot_parse_line(const char *line, struct plot_rec *rec, char *why,
	    size_t whylen);

struct plot_data;

/*
 * Aggregates for a picture width pixels wide: their size is fixed here,
 * whatever is added later.  NULL when out of memory.
 */
struct plot_data	*plot_data_new(int width);
void			 plot_data_free(struct plot_data *);
void			 plot_data_add(struct plot_data *,
			    const struct plot_rec *);
/* Updates and samples added so far. */
uint64_t		 plot_data_records(const struct plot_data *);

/*
 * Every line of fp into data.  A malformed line is skipped with a
 * warning "name:line: reason" on warn, for the first PLOT_WARN_MAX of
 * them, then one line with the count.  Returns the number of malformed
 * lines, or -1 on a read error (errno set).
 */
long long	plot_read(struct plot_data *, FILE *fp, const char *name,
		    FILE *warn);

/*
 * The SVG picture, width x height pixels (within the bounds above).
 * 0, or -1 when there is nothing to plot.  Write errors are the
 * caller's to find on out (ferror).
 */
int	plot_render(FILE *out, const struct plot_data *, int width,
	    int height);

/* ntpctl plot [-o file] [-w width] [-h height] statsfile */
int	cmd_plot(int, char *[]);

#endif /* NTPCTL_PLOT_H */
