/*
 * The parsed configuration.  The parent reads the file; the children get
 * what they need of it by inheritance at fork time.
 */
#ifndef NTPD_CONFIG_H
#define NTPD_CONFIG_H

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"

#define NTPD_CONF_PATH		"/etc/ntpd.conf"
#define NTPD_SOCKET_PATH	"/run/ntpd.sock"
#define NTPD_USER		"_ntp"
#define NTPD_CHROOT_DIR		"/var/empty"
#define NETNS_RUN_DIR		"/run/netns"	/* iproute2's named netns */
#define NTPD_DRIFT_FILE		"/var/lib/ntpd/ntpd.drift"
#define NTPD_AUDIT_FILE		"/var/lib/ntpd/audit.log"
#define NTPD_RTC_PATH		"/dev/rtc0"
#define NTPD_LASTKNOWN_FILE	"/var/lib/ntpd/lastknown"
#define TIMEZONE_NAME_MAX	256	/* as tz.h's TZ_NAME_MAX, NUL included */

#define NTP_PORT		123
#define NETNS_NAME_MAX		64	/* "" is the daemon's own namespace */
#define SOURCE_NAME_MAX		256	/* a DNS name or numeric address */
#define USER_NAME_MAX		33
#define SOCKET_PATH_MAX		sizeof(((struct sockaddr_un *)0)->sun_path)
#define CONF_MAX_NAMESPACES	256
#define CONF_MAX_LISTENERS	64	/* per namespace */
#define CONF_MAX_SOURCES	64
#define CONF_MAX_RULES		1024	/* allow and deny, per scope */

/* One allow or deny rule, as written. */
struct acl_rule_cfg {
	TAILQ_ENTRY(acl_rule_cfg) entry;
	struct cidr		 prefix;
	int			 allow;		/* 0: deny */
	int			 kod;		/* deny: answer KoD DENY */
	int			 lineno;
};
TAILQ_HEAD(acl_rule_list, acl_rule_cfg);

#define RATELIMIT_DEFAULT_RATE		1.0	/* requests per second */
#define RATELIMIT_DEFAULT_BURST		16.0	/* an iburst fits twice */
#define RATELIMIT_DEFAULT_CLIENTS	65536
#define RATELIMIT_MAX_CLIENTS		(1 << 24)

/* How a server answers, once a request is allowed. */
struct serve_policy {
	int			 ratelimit_off;
	double			 rate;		/* requests per second */
	double			 burst;		/* requests */
	unsigned int		 clients;	/* rate table size */
	int			 ratelimit_kod;	/* over the limit: KoD RATE */
	int			 local_stratum;	/* 0: none; 1..15 */
};

/*
 * Who may be answered and how often: at the top level for every
 * namespace, and in a namespace block on top of that.  A block's rules
 * add to the global ones as a layer of their own; its ratelimit and
 * local stratum replace the global ones.
 */
struct serve_cfg {
	struct acl_rule_list	 rules;
	struct serve_policy	 policy;
	int			 ratelimit_line;	/* 0: not given here */
	int			 local_line;		/* 0: not given here */
};

struct listen_cfg {
	TAILQ_ENTRY(listen_cfg)	 entry;
	int			 wildcard;	/* "listen on *" */
	struct sockaddr_storage	 ss;		/* unused when wildcard */
	socklen_t		 sslen;
	uint16_t		 port;		/* host byte order */
	int			 lineno;
};
TAILQ_HEAD(listen_list, listen_cfg);

struct netns_cfg {
	TAILQ_ENTRY(netns_cfg)	 entry;
	char			 name[NETNS_NAME_MAX];	/* "" = own netns */
	struct listen_list	 listeners;
	struct serve_cfg	 serve;		/* this namespace's own */
	int			 lineno;
};
TAILQ_HEAD(netns_list, netns_cfg);

enum source_kind {
	SOURCE_SERVER,		/* "server": one address of the name */
	SOURCE_SERVERS,		/* "servers"/"pool": every address of it */
};

#define POLL_MIN		3	/* log2 s: 8 s */
#define POLL_MAX		17	/* log2 s: about 36 h */
#define POLL_DEFAULT_MIN	6	/* 64 s */
#define POLL_DEFAULT_MAX	10	/* 1024 s */

struct source_cfg {
	TAILQ_ENTRY(source_cfg)	 entry;
	enum source_kind	 kind;
	char			 host[SOURCE_NAME_MAX];
	uint16_t		 port;		/* host byte order */
	int			 minpoll;	/* log2 s */
	int			 maxpoll;
	int			 iburst;	/* a quick burst at start */
	int			 prefer;
	int			 noselect;	/* measured, never used */
	int			 trusted;	/* outvoted only by trusted */
	int			 lineno;
};
TAILQ_HEAD(source_list, source_cfg);

/* How the clock may be corrected: see discipline.h. */
#define STEP_DEFAULT_THRESHOLD	0.1	/* s */
#define STEP_DEFAULT_UPDATES	3
#define STEP_MAX_UPDATES	1000
#define TOLERANCE_MAX		1e9	/* s: some 30 years */
#define HOLDOVER_MAX		604800	/* s: a week */

struct clock_cfg {
	double			 step_threshold;	/* s */
	unsigned int		 step_updates;	/* 0: never step */
	double			 tolerance;	/* s; 0: no bound */
	unsigned int		 holdover;	/* s after an update still
						   synchronised; 0: no bound
						   but the root distance */
	unsigned int		 min_sources;	/* agreeing, to touch it */
	char			 drift_file[PATH_MAX];	/* "": none */
};

struct ntpd_conf {
	char			 user[USER_NAME_MAX];
	char			 socket_path[SOCKET_PATH_MAX];
	char			 chroot_dir[PATH_MAX];
	struct clock_cfg	 clock;
	/* Files of the parent's; "": none. */
	char			 audit_file[PATH_MAX];
	char			 rtc_path[PATH_MAX];
	char			 lastknown_file[PATH_MAX];
	char			 statistics_file[PATH_MAX];
	char			 timezone[TIMEZONE_NAME_MAX];	/* "": leave
							   /etc/localtime */
	int			 timezone_line;
	struct source_list	 sources;
	struct serve_cfg	 serve;		/* global */
	/*
	 * Namespaces with at least one listener, the daemon's own ("") first
	 * when it has any; each gets one server process.
	 */
	struct netns_list	 namespaces;
};

/*
 * Parse a configuration.  Every error is logged as "FILE:LINE: message"
 * (log_warnx) and parsing goes on to report the rest; if there was any,
 * NULL is returned.  A missing file is an error too.
 */
struct ntpd_conf	*config_parse_file(const char *path);
struct ntpd_conf	*config_parse_stream(FILE *, const char *name);
void			 config_free(struct ntpd_conf *);

/* The namespace entry of that name, or NULL. */
struct netns_cfg	*config_find_netns(const struct ntpd_conf *,
			    const char *name);
/*
 * The same source (kind, host as same_host compares, port) with the same
 * options: a reload keeps it as it is.
 */
int			 config_source_equal(const struct source_cfg *,
			    const struct source_cfg *);
/* Human name of a namespace: "default" for "". */
const char		*netns_display_name(const char *name);
/* Number of namespaces with listeners (server processes to start). */
int			 config_count_netns(const struct ntpd_conf *);

/*
 * The policy in force in a namespace: the global one, with the
 * namespace's ratelimit and local stratum where its block gave them.
 */
void			 config_serve_policy(const struct ntpd_conf *,
			    const struct netns_cfg *, struct serve_policy *);

#endif /* NTPD_CONFIG_H */
