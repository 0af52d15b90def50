/*
 * The statistics log, in the engine: one line per clock update and one
 * per sample, for plotting (ntpctl plot) and for the record.  The parent
 * opens the file and passes the descriptor; the engine only appends.
 *
 *	# ntpd statistics 1
 *	UNIXTIME update offset=S freq=PPM skew=PPM action=none|slew|step|
 *	    refused stratum=N rootdelay=S rootdisp=S	(N: ours)
 *	UNIXTIME sample source=ADDR offset=S delay=S disp=S jitter=S
 *	    stratum=N
 */
#ifndef NTPD_STATS_H
#define NTPD_STATS_H

#include <sys/socket.h>

#define STATS_HEADER	"# ntpd statistics 1\n"

/*
 * The parent's (or ntpd -S's) part: the file at path, opened to append
 * (created 0644, never through a symbolic link, a regular file only),
 * the header written when it is new.  -1, said, when it cannot be.
 */
int	stats_open(const char *path);

/* The log's descriptor, or -1 to stop logging. */
void	stats_set_fd(int fd);

void	stats_update(const char *action, double offset, double freq,
	    double skew, unsigned int stratum, double rootdelay,
	    double rootdisp);
void	stats_sample(const struct sockaddr *source, double offset,
	    double delay, double disp, double jitter, unsigned int stratum);

#endif /* NTPD_STATS_H */
