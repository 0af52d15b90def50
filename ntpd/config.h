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

#define NTPD_CONF_PATH		"/etc/ntpd.conf"
#define NTPD_SOCKET_PATH	"/run/ntpd.sock"
#define NTPD_USER		"_ntp"
#define NTPD_CHROOT_DIR		"/var/empty"
#define NETNS_RUN_DIR		"/run/netns"	/* iproute2's named netns */

#define NTP_PORT		123
#define NETNS_NAME_MAX		64	/* "" is the daemon's own namespace */
#define SOURCE_NAME_MAX		256	/* a DNS name or numeric address */
#define USER_NAME_MAX		33
#define SOCKET_PATH_MAX		sizeof(((struct sockaddr_un *)0)->sun_path)
#define CONF_MAX_NAMESPACES	256
#define CONF_MAX_LISTENERS	64	/* per namespace */
#define CONF_MAX_SOURCES	64

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
	int			 lineno;
};
TAILQ_HEAD(netns_list, netns_cfg);

enum source_kind {
	SOURCE_SERVER,		/* "server": one address of the name */
	SOURCE_SERVERS,		/* "servers"/"pool": every address of it */
};

struct source_cfg {
	TAILQ_ENTRY(source_cfg)	 entry;
	enum source_kind	 kind;
	char			 host[SOURCE_NAME_MAX];
	int			 lineno;
};
TAILQ_HEAD(source_list, source_cfg);

struct ntpd_conf {
	char			 user[USER_NAME_MAX];
	char			 socket_path[SOCKET_PATH_MAX];
	char			 chroot_dir[PATH_MAX];
	struct source_list	 sources;
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
/* Human name of a namespace: "default" for "". */
const char		*netns_display_name(const char *name);
/* Number of namespaces with listeners (server processes to start). */
int			 config_count_netns(const struct ntpd_conf *);

#endif /* NTPD_CONFIG_H */
