/*
 * The control protocol between ntpctl and the engine: imsg framing over
 * the control socket.  A request is one message; the answer is a series
 * of messages closed by CTL_END, or a CTL_ERROR.  Every string field is
 * NUL-terminated within its array; the receiver checks that and every
 * message's size before use.
 */
#ifndef NTPD_CTL_H
#define NTPD_CTL_H

#include <stdint.h>

#define CTL_PROTO_VERSION	1
#define CTL_NAME_MAX		64
#define CTL_HOST_MAX		256
#define CTL_ADDR_MAX		64
#define CTL_MSG_MAX		128

enum ctl_type {
	CTL_NONE,
	/* requests */
	CTL_SHOW_STATUS = 1,
	/* answers */
	CTL_STATUS = 100,	/* struct ctl_status */
	CTL_PROC,		/* struct ctl_proc */
	CTL_SOURCE,		/* struct ctl_source */
	CTL_LISTENER,		/* struct ctl_listener */
	CTL_END,		/* no payload */
	CTL_ERROR,		/* struct ctl_error */
};

enum ctl_sync_state {
	CTL_SYNC_UNSYNCHRONISED,
	CTL_SYNC_SYNCHRONISED,
};

struct ctl_status {
	uint32_t	proto_version;
	char		version[16];
	int64_t		uptime;		/* seconds since the daemon started */
	uint32_t	sync_state;	/* enum ctl_sync_state */
	uint32_t	nsources;
	uint32_t	nnamespaces;
	char		user[CTL_NAME_MAX];
};

enum ctl_proc_role {
	CTL_PROC_PARENT,
	CTL_PROC_ENGINE,
	CTL_PROC_DNS,
	CTL_PROC_SERVER,
};

struct ctl_proc {
	uint32_t	role;		/* enum ctl_proc_role */
	int32_t		pid;
	uint32_t	uid;
	char		netns[CTL_NAME_MAX];	/* servers; "" = default */
};

struct ctl_source {
	uint32_t	pool;		/* 1: every address of the name */
	char		host[CTL_HOST_MAX];
};

struct ctl_listener {
	char		netns[CTL_NAME_MAX];	/* "" = default */
	char		addr[CTL_ADDR_MAX];	/* "*" = every address */
	uint32_t	port;
};

struct ctl_error {
	uint32_t	code;		/* an errno value */
	char		msg[CTL_MSG_MAX];
};

#endif /* NTPD_CTL_H */
