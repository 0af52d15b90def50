/*
 * ntpctl's parts.  ntpctl.c takes the command line and asks the daemon,
 * checking every message of its answers; view.c prints them for people,
 * json.c for programs, metrics.c for Prometheus, check.c for Nagios and
 * Icinga, exporter.c serves the metrics over HTTP; fmt.c has what they
 * share.
 */
#ifndef NTPCTL_H
#define NTPCTL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "ctl.h"

#define NTPCTL_SOCKET		"/run/ntpd.sock"
#define NTPCTL_TIMEOUT		10	/* seconds for a whole answer */
#define MAX_LINES		4096	/* the most one answer may hold */
#define ERR_LEN			256

struct status_view {
	struct ctl_status	 status;
	int			 have_status;
	struct ctl_proc		 procs[MAX_LINES];
	size_t			 nprocs;
	struct ctl_source	 sources[MAX_LINES];
	size_t			 nsources;
	struct ctl_listener	 listeners[MAX_LINES];
	size_t			 nlisteners;
};

struct peers_view {
	struct ctl_system	 sys;
	int			 have_sys;
	struct ctl_peer		 peers[MAX_LINES];
	size_t			 npeers;
};

struct clients_view {
	struct ctl_netns_stats	 ns[MAX_LINES];
	size_t			 nns;
	struct ctl_client	 clients[MAX_LINES];
	size_t			 owner[MAX_LINES];	/* index into ns */
	size_t			 nclients;
};

/* What the daemon said, from one request per part asked for. */
#define SNAP_STATUS	0x01
#define SNAP_PEERS	0x02
#define SNAP_CLIENTS	0x04
#define SNAP_ALL	(SNAP_STATUS | SNAP_PEERS | SNAP_CLIENTS)

/* What -s shows. */
enum view {
	VIEW_STATUS,		/* the daemon and its clock */
	VIEW_PEERS,		/* selection and the sources */
	VIEW_CLIENTS,		/* the servers, per namespace */
	VIEW_ALL,
};

struct snapshot {
	struct status_view	*status;	/* NULL unless asked for */
	struct peers_view	*peers;
	struct clients_view	*clients;
	struct timespec		 taken;		/* CLOCK_REALTIME, at the end */
};

/* Exit codes of check, the Nagios plugin convention. */
enum check_state {
	CHECK_OK,
	CHECK_WARNING,
	CHECK_CRITICAL,
	CHECK_UNKNOWN,
};

/* ntpctl.c */
extern const char	*ctl_socket;	/* -S */
int	snapshot_take(struct snapshot *, int what, int timeout_ms, char *err,
	    size_t errlen);
void	snapshot_free(struct snapshot *);
/* The daemon carries out a change in up to 30 s; a little more here. */
#define CTL_CHANGE_TIMEOUT_MS	35000
int	ctl_change(uint32_t type, const void *, size_t, int timeout_ms,
	    char *, size_t);

/* fmt.c */
const char	*fmt_offset(double, char *, size_t);
const char	*fmt_span(double, char *, size_t);
const char	*safe_str(const char *);
size_t		 utf8_valid(const unsigned char *, size_t);
const char	*netns_name(const char *);
const char	*role_name(uint32_t);
const char	*select_key(uint32_t);
const char	*select_text(uint32_t);
const char	*leap_key(uint32_t);
const char	*leap_text(uint32_t);
const char	*peer_state_key(const struct ctl_peer *);
const char	*peer_state_word(const struct ctl_peer *);
char		 peer_mark(const struct ctl_peer *);
const char	*peer_source(const struct ctl_peer *);
int		 peer_agrees(const struct ctl_peer *);
int		 discipline_known(const struct ctl_system *);
int		 offset_known(const struct ctl_system *);
int		 since_update_known(const struct ctl_system *);
size_t		 sources_usable(const struct peers_view *);
int		 poll_seconds(int32_t, long long *);
int		 time_strings(const struct timespec *, char *, size_t, char *,
		    size_t, char *, size_t);

#define NPEER_STATES	7
extern const char	*const peer_state_keys[NPEER_STATES];
#define NWHY		5
extern const struct why_name {
	uint32_t	 bit;
	const char	*key;
} why_names[NWHY];

/* view.c */
void	view_print(const struct snapshot *, enum view);

/* json.c */
void	json_print(FILE *, const struct snapshot *, enum view);

/* metrics.c: snap NULL when the daemon did not answer. */
void	metrics_write(FILE *, const struct snapshot *);
int	cmd_metrics(int, char *[]);

/* check.c */
int	cmd_check(int, char *[]);

/* exporter.c */
int	cmd_exporter(int, char *[]);

#endif /* NTPCTL_H */
