/*
 * What a reload changes, with no I/O: the difference between the
 * configuration in force and a new one.  Each change is one line for
 * "ntpctl reload" and one audit record; the predicates tell the parent
 * which processes must hear about it.
 */
#ifndef NTPD_CONFDIFF_H
#define NTPD_CONFDIFF_H

#include <stddef.h>

#include "config.h"

#define CONFDIFF_TEXT_MAX	320	/* a statement, as it would be written */
#define CONFDIFF_MAX		4096	/* changes listed; more are counted */

enum conf_change_op {
	CHANGE_ADD,
	CHANGE_REMOVE,
	CHANGE_SET,		/* a setting's value changed */
};

struct conf_change {
	enum conf_change_op	 op;
	const char		*event;		/* AUDIT_EV_*: a static string */
	int			 in_netns;	/* 1: netns names the block */
	char			 netns[NETNS_NAME_MAX];
	char			 old[CONFDIFF_TEXT_MAX];	/* "" on add */
	char			 new[CONFDIFF_TEXT_MAX];	/* "" on remove */
};

struct conf_diff {
	struct conf_change	*changes;
	size_t			 n;
	size_t			 cap;
	size_t			 dropped;	/* beyond CONFDIFF_MAX */
};

/*
 * The changes from old to new, in file order: settings, sources, then
 * each namespace.  Returns 0, or -1 with the reason in err when new
 * changes what only a restart can change (the user, the control socket,
 * the jail directory), or when memory runs out.
 */
int	confdiff_make(const struct ntpd_conf *old, const struct ntpd_conf *new,
	    struct conf_diff *, char *err, size_t errlen);
void	confdiff_free(struct conf_diff *);

/* "+ server 192.0.2.1 iburst", "~ tolerance 1 -> 0.5", "- allow
   10.0.0.0/8 (namespace blue)".  Returns snprintf's value. */
int	confdiff_format(const struct conf_change *, char *buf, size_t len);

/* Do two namespaces listen on the same addresses? */
int	confdiff_listeners_equal(const struct netns_cfg *,
	    const struct netns_cfg *);
/* Is what a namespace's server enforces (rules and policy, its own and
   the global ones) the same in both configurations? */
int	confdiff_serve_equal(const struct ntpd_conf *, const struct netns_cfg *,
	    const struct ntpd_conf *, const struct netns_cfg *);

#endif /* NTPD_CONFDIFF_H */
