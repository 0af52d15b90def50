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
#define CTL_TEXT_MAX		384
#define CTL_TZ_NAME_MAX		256

enum ctl_type {
	CTL_NONE,
	/* requests */
	CTL_SHOW_STATUS = 1,
	CTL_SHOW_CLIENTS,
	CTL_SHOW_PEERS,
	CTL_RELOAD,		/* root: re-read the configuration */
	CTL_TZ_SET,		/* root: struct ctl_tz_set */
	/* answers */
	CTL_STATUS = 100,	/* struct ctl_status */
	CTL_PROC,		/* struct ctl_proc */
	CTL_SOURCE,		/* struct ctl_source */
	CTL_LISTENER,		/* struct ctl_listener */
	CTL_END,		/* no payload */
	CTL_ERROR,		/* struct ctl_error */
	CTL_NETNS_STATS,	/* struct ctl_netns_stats */
	CTL_CLIENT,		/* struct ctl_client, of the last namespace */
	CTL_SYSTEM,		/* struct ctl_system */
	CTL_PEER,		/* struct ctl_peer */
	CTL_TEXT,		/* struct ctl_text: a line for the user */
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

/* One namespace's server: what it received and what it did with it. */
struct ctl_netns_stats {
	char		netns[CTL_NAME_MAX];	/* "" = default */
	uint32_t	reporting;	/* 0: no report from it yet */
	uint64_t	received;
	uint64_t	replies;
	uint64_t	kod;
	uint64_t	denied;
	uint64_t	ratelimited;
	uint64_t	malformed;
	uint64_t	ignored;
	uint64_t	evictions;
	uint32_t	nclients;	/* known to the rate limit */
	uint32_t	ratelimit_off;
};

/* A busy client of the namespace sent last, busiest first. */
struct ctl_client {
	char		addr[CTL_ADDR_MAX];
	uint32_t	prefixlen;
	uint64_t	requests;
	uint64_t	limited;
};

/* The outcome of source selection. */
enum ctl_select_status {
	CTL_SEL_NONE,		/* not run yet, or no sources */
	CTL_SEL_OK,
	CTL_SEL_NO_SOURCES,	/* none usable */
	CTL_SEL_NO_MAJORITY,
	CTL_SEL_TOO_FEW,
	CTL_SEL_WAITING,	/* for sources still measuring */
};

struct ctl_system {
	uint32_t	select_status;	/* enum ctl_select_status */
	uint32_t	nsources;
	uint32_t	nusable;
	uint32_t	ntruechimers;
	uint32_t	ncombined;
	int32_t		syspeer;	/* index of the peer, -1: none */
	double		offset;		/* s, combined: the sources' minus ours */
	double		jitter;		/* s */
	/* What the discipline made of it, and what the servers announce. */
	uint32_t	clock_control;	/* 0: ntpd -x, the clock is not touched */
	uint32_t	stratum;	/* ours; 16 while unsynchronised */
	uint32_t	leap;		/* the leap indicator we announce, 0..3 */
	uint32_t	leap_armed;	/* 1 insert, 2 delete: armed in the kernel */
	char		refid[CTL_ADDR_MAX];	/* system peer's address, a
						   kiss-like name, or "" */
	double		frequency;	/* ppm, the correction in force */
	double		skew;		/* ppm, error bound of the estimate */
	double		root_delay;	/* s */
	double		root_dispersion; /* s */
	double		since_update;	/* s since the last clock update; -1:
					   never */
	double		last_correction; /* s, the last offset corrected */
	double		tolerance;	/* s, 0: no bound */
	double		last_refused;	/* s, the last offset refused */
	uint64_t	updates;	/* clock updates */
	uint64_t	steps;
	uint64_t	refused;	/* corrections refused by the tolerance */
};

enum ctl_peer_state {
	CTL_PEER_UNUSABLE,
	CTL_PEER_FALSETICKER,
	CTL_PEER_CANDIDATE,
	CTL_PEER_COMBINED,
	CTL_PEER_SYSPEER,
	CTL_PEER_REFUSED,	/* offset beyond the tolerance: left out */
};

/* One upstream source. */
struct ctl_peer {
	char		host[CTL_HOST_MAX];	/* as configured */
	char		addr[CTL_ADDR_MAX];	/* "" while unresolved */
	uint32_t	state;		/* enum ctl_peer_state */
	uint32_t	why;		/* unusable: SELECT_WHY_* bits */
	uint32_t	stratum;	/* 0: no reply yet */
	int32_t		poll;		/* log2 s */
	uint32_t	reach;		/* 8 bits */
	uint32_t	have_sample;
	double		age;		/* s since the last sample */
	double		offset;		/* s, filtered */
	double		delay;		/* s */
	double		jitter;		/* s */
	double		rootdist;	/* s */
	uint64_t	sent;
	uint64_t	samples;
	uint64_t	timeouts;
	uint64_t	rejected;	/* replies refused, any reason */
	uint64_t	kod;		/* kisses received */
	uint32_t	stopped;	/* 1: the server said DENY, not asked */
	uint32_t	flags;		/* 1 prefer, 2 noselect, 4 trusted */
};

struct ctl_error {
	uint32_t	code;		/* an errno value */
	char		msg[CTL_MSG_MAX];
};

/* What a change did, line by line, before CTL_END or CTL_ERROR. */
struct ctl_text {
	char		line[CTL_TEXT_MAX];
};

struct ctl_tz_set {
	char		name[CTL_TZ_NAME_MAX];
};

#endif /* NTPD_CTL_H */
