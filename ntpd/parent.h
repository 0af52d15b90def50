/*
 * The parent's parts, as reload.c uses them.
 */
#ifndef NTPD_PARENT_H
#define NTPD_PARENT_H

#include <stddef.h>

#include "config.h"

/* A line of the answer to the one who asked (ntpctl), if anyone. */
typedef void	(*say_fn)(void *arg, const char *line);

/* Start the server of a namespace and hand its channel to the engine. */
void	parent_server_start(struct ntpd_conf *, struct netns_cfg *);
/* Stop the server of a namespace: its end is expected, not a loss. */
void	parent_server_retire(const char *netns);
/* The new configuration's text, to the server of a namespace. */
void	parent_server_reconf(const char *netns, const char *text, size_t len);
/* The new configuration's text, to the engine. */
void	parent_engine_reconf(const char *text, size_t len);
/* (Re)open the statistics log and pass it to the engine; "" closes it. */
void	parent_stats_open(const char *path);

/* reload.c */
/*
 * Re-read path and apply the difference to *confp, which is replaced.
 * Every change is audited as done by who, and said to say.  Returns 0
 * when applied (or nothing changed), -1 when refused: the daemon then
 * runs on exactly as before, and say heard why (FILE:LINE).
 */
int	reload_config(const char *path, struct ntpd_conf **confp,
	    const char *who, say_fn say, void *arg);

#endif /* NTPD_PARENT_H */
