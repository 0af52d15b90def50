/*
 * The engine's client side: one exchange at a time with each upstream
 * source, each from a fresh socket (a new random source port), the
 * samples through the filter, and the sources through selection.  The
 * decisions are the pure modules' (exchange, filter, select); this is
 * their I/O and their timers.
 */
#ifndef NTPD_CLIENT_H
#define NTPD_CLIENT_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "imsg.h"

void	client_init(struct ntpd_conf *, int8_t precision);
/* Milliseconds until the next timer, or -1. */
int	client_timeout(uint64_t now_ns);
size_t	client_pollfds(struct pollfd *, size_t max);
/* After the wait: pfd and n as client_pollfds() filled them. */
void	client_dispatch(const struct pollfd *, size_t n, uint64_t now_ns);
/* Send what is due and give up on what timed out. */
void	client_run(uint64_t now_ns);
void	client_show_peers(struct imsgbuf *, uint64_t now_ns);

uint64_t monotonic_ns(void);

#endif /* NTPD_CLIENT_H */
