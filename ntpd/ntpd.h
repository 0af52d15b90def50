/*
 * Declarations shared by the daemon's processes.
 */
#ifndef NTPD_NTPD_H
#define NTPD_NTPD_H

#include <sys/types.h>
#include <poll.h>
#include <stdint.h>

#include "config.h"
#include "ctl.h"
#include "imsg.h"

#define NTPD_VERSION	"0.1"

enum proc_role {
	PROC_PARENT,
	PROC_ENGINE,
	PROC_DNS,
	PROC_SERVER,
};

/* Messages between the daemon's processes (imsg types). */
enum imsg_type {
	IMSG_NONE,
	IMSG_LOG,		/* child -> parent: struct imsg_log_hdr, text */
	IMSG_PROC_INFO,		/* parent -> engine: struct proc_info */
	IMSG_DNS_CHANNEL,	/* parent -> engine: fd to the dns process */
	IMSG_SERVER_CHANNEL,	/* parent -> engine: fd to a server process */
	IMSG_STARTED,		/* parent -> engine: every child is forked */
	IMSG_SYNC_STATE,	/* engine -> server: struct sync_state */
	IMSG_SERVER_STATS,	/* server -> engine: struct serve_stats */
	IMSG_CLOCK_INIT,	/* parent -> engine: struct imsg_clock_init */
	IMSG_CLOCK_ADJUST,	/* engine -> parent: struct imsg_clock_adjust */
	IMSG_CLOCK_RESULT,	/* parent -> engine: struct imsg_clock_result */
	IMSG_DNS_QUERY,		/* engine -> dns: see dns.h */
	IMSG_DNS_ANSWER,	/* dns -> engine: see dns.h */
	IMSG_RECONF,		/* parent -> engine, server: the new
				   configuration's text, in pieces */
	IMSG_RECONF_END,	/* parent -> engine, server: apply it */
	IMSG_CTL_REQUEST,	/* engine -> parent: a control client's
				   change request, its socket passed along */
	IMSG_CTL_ANSWER,	/* parent -> engine: text for that client */
	IMSG_CTL_DONE,		/* parent -> engine: struct imsg_ctl_done */
	IMSG_STATS_FD,		/* parent -> engine: the statistics log */
	IMSG_REFUSED,		/* engine -> parent: struct imsg_refused */
};

/* What the parent found of the clock at start. */
struct imsg_clock_init {
	double		freq;		/* ppm in force */
	uint32_t	control;	/* 0: ntpd -x */
	uint32_t	from_drift_file;
};

/* CLOCK_* actions of an adjustment: what discipline.h asks. */
#define CLOCK_SLEW	1
#define CLOCK_STEP	2

/* One clock update, as the engine asks it; the parent checks it all. */
struct imsg_clock_adjust {
	uint32_t	action;		/* CLOCK_SLEW or CLOCK_STEP */
	double		offset;		/* s: slew or step by this much */
	double		freq;		/* ppm */
	uint32_t	leap;		/* NTP_LEAP_*: armed only on the last
					   day of a month */
	uint32_t	synced;
	double		esterror;	/* s, for the kernel's status */
	double		maxerror;	/* s */
};

/* What the parent did. */
struct imsg_clock_result {
	uint32_t	action;		/* as asked, or 0: nothing was done */
	double		offset;		/* s, done */
	double		freq;		/* ppm, in force */
	uint32_t	leap;		/* armed in the kernel */
	int32_t		error;		/* errno of a failed call, or 0 */
	uint32_t	refused;	/* 1: the policy refused it */
};

/*
 * A control client's change request, forwarded with a descriptor of the
 * client's own connection: the parent reads the client's credentials
 * from the kernel itself rather than believe the engine.  peerid is the
 * engine's number for the request, in every answer.
 */
struct imsg_ctl_request {
	uint32_t	type;		/* CTL_RELOAD, CTL_TZ_SET */
	char		arg[CTL_TZ_NAME_MAX];
};

/* The end of the answer: error 0 (done) or an errno, and why. */
struct imsg_ctl_done {
	int32_t		error;
	char		msg[CTL_MSG_MAX];
};

/* The engine refused a correction: the tolerance. */
struct imsg_refused {
	double		offset;		/* s, what the sources asked */
	double		tolerance;	/* s */
	uint64_t	unsaid;		/* refused since the last one said */
};

struct imsg_log_hdr {
	int32_t		priority;
	/* followed by the NUL-terminated text */
};

/* What the engine knows about each process, for status. */
struct proc_info {
	uint32_t	role;		/* enum proc_role */
	int32_t		pid;
	uint32_t	uid;
	char		netns[NETNS_NAME_MAX];	/* servers only */
};

/* Command line options the parent passes on. */
struct ntpd_opts {
	const char	*conf_path;
	int		 foreground;
	int		 verbose;
	int		 check_only;
	int		 no_clock;	/* -x: never touch the clock */
};

/* parent.c */
int		 parent_main(struct ntpd_conf *, const struct ntpd_opts *);

/* proc.c */
const char	*proc_role_name(enum proc_role);
void		 proc_title_init(int argc, char *argv[]);
void		 proc_set_title(enum proc_role, const char *netns);
void		 proc_close_fds_except(const int *keep, size_t nkeep);
void		 proc_child_init(enum proc_role, const char *netns,
		    struct imsgbuf *parent_ibuf, pid_t parent);
void		 proc_drop_privileges(enum proc_role, uid_t, gid_t,
		    const char *chroot_dir);
void		 proc_signals_init(void);
int		 proc_should_quit(void);
int		 proc_take_sigchld(void);
int		 proc_take_sighup(void);
int		 proc_wait(struct pollfd *, nfds_t, int timeout_ms);
int		 proc_channel_read(struct imsgbuf *,
		    void (*)(struct imsg *, void *), void *);
void		 proc_read_idle_channel(struct imsgbuf *, const char *peer);
void		 proc_poll_channel(struct pollfd *, const struct imsgbuf *);
int		 proc_channel_ready(const struct pollfd *, struct imsgbuf *);

/* sandbox.c */
int		 sandbox_apply(enum proc_role);

/* What a child is given when it is forked. */
struct child_env {
	struct ntpd_conf	*conf;
	uid_t			 uid;		/* the unprivileged user */
	gid_t			 gid;
	int			 parent_fd;	/* channel to the parent */
	int			 engine_fd;	/* dns, server: to the engine */
	int			 ctl_fd;	/* engine: control socket */
	pid_t			 parent_pid;	/* the parent, before the fork */
	struct netns_cfg	*netns;		/* server: its namespace */
};

/* engine.c, dns.c, server.c: never return */
void		 engine_main(struct child_env *) __attribute__((noreturn));
void		 dns_main(struct child_env *) __attribute__((noreturn));
void		 server_main(struct child_env *) __attribute__((noreturn));
void		 engine_show_status(struct imsgbuf *);
void		 engine_show_clients(struct imsgbuf *);
void		 engine_show_peers(struct imsgbuf *);
int		 engine_ctl_request(uint32_t id, uint32_t type,
		    const char *arg, int fd);

/* control.c */
int		 control_open(const char *path);
void		 control_unlink(const char *path);
void		 control_init(int listen_fd);
size_t		 control_pollfds(struct pollfd *, size_t max);
void		 control_dispatch(const struct pollfd *, size_t n);
int		 control_timeout(void);
void		 control_answer(struct imsg *);
void		 control_done(struct imsg *);

#endif /* NTPD_NTPD_H */
