/*
 * The engine's client side: one exchange at a time with each upstream
 * source, each from a fresh socket (a new random source port), the
 * samples through the filter, and the sources through selection.  The
 * decisions are the pure modules' (exchange, and sources.c over filter,
 * interval and select); this is their I/O and their timers.  Names are resolved through the dns
 * process (dns.h); client.c says how servers and pools use the answers.
 */
#ifndef NTPD_CLIENT_H
#define NTPD_CLIENT_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "imsg.h"

void	client_init(struct ntpd_conf *, int8_t precision);
/*
 * The channel to the dns process, once the engine has it: queries wait
 * until then.  Answers come back through client_dns_answer().
 */
void	client_set_dns(struct imsgbuf *);
void	client_dns_answer(struct imsg *, uint64_t now_ns);
/* Milliseconds until the next timer, or -1. */
int	client_timeout(uint64_t now_ns);
size_t	client_pollfds(struct pollfd *, size_t max);
/* After the wait: pfd and n as client_pollfds() filled them. */
void	client_dispatch(const struct pollfd *, size_t n, uint64_t now_ns);
/* Send what is due and give up on what timed out. */
void	client_run(uint64_t now_ns);
void	client_show_peers(struct imsgbuf *, uint64_t now_ns);

/*
 * Apply a new configuration's sources: a source whose config is
 * config_source_equal() to one in newconf keeps its samples, filter,
 * poll state and socket (its cfg pointer moves to newconf's entry);
 * the others are removed (sockets closed, pending dns answers for them
 * ignored) or added (scheduled like at start, iburst honoured).  The
 * old configuration is freed by the caller after this returns, so
 * nothing may point into it afterwards.  min_sources follows newconf.
 * Returns the number of sources added and removed through *added,
 * *removed: configured sources (lines), a pool counting as one.  An
 * unchanged pool keeps all its members; a changed one (host, port or
 * any option) is removed and added again.
 */
void	client_reconfigure(struct ntpd_conf *newconf, int *added,
	    int *removed);

uint64_t monotonic_ns(void);

#endif /* NTPD_CLIENT_H */
