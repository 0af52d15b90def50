/*
 * A new configuration on its way from the parent to the engine and the
 * servers: the file's text, which each parses with the same parser the
 * parent used to check it.  The text goes in IMSG_RECONF pieces and is
 * applied at IMSG_RECONF_END.
 */
#ifndef NTPD_RECONF_H
#define NTPD_RECONF_H

#include <stddef.h>

#include "config.h"
#include "imsg.h"

#define RECONF_TEXT_MAX		(1024 * 1024)	/* a configuration file */

/* Parent side.  0, or -1 when the channel cannot take it. */
int	reconf_send(struct imsgbuf *, const char *text, size_t len);

/* Receiving side: the pieces so far. */
struct reconf_buf {
	char	*text;
	size_t	 len;
	int	 failed;	/* too long, or out of memory */
};

/* One IMSG_RECONF piece. */
void	reconf_piece(struct reconf_buf *, const struct imsg *);
/*
 * At IMSG_RECONF_END: the parsed configuration, or NULL (logged); the
 * buffer is emptied either way.
 */
struct ntpd_conf *reconf_take(struct reconf_buf *, const struct imsg *);

/*
 * Parent side: read a configuration file whole, at most RECONF_TEXT_MAX
 * bytes, and parse it, every error logged as FILE:LINE.  The text is
 * kept (*text, *len; free it) to send on.  NULL on any failure.
 */
struct ntpd_conf *reconf_read(const char *path, char **text, size_t *len);

#endif /* NTPD_RECONF_H */
