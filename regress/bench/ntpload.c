/*
 * ntpload: an open-loop NTP load generator for the serving benchmark.
 *
 *	ntpload [-P] [-b burst] [-d duration_ms] [-n sources] [-p port]
 *	    [-r rate] [-w drain_ms] source server
 *
 * It opens one UDP socket per source address (source, source + 1, ...,
 * IPv4, each already configured on this host), connects each to
 * server:port, and for duration_ms sends client requests at rate per
 * second: every time burst requests are due, one sendmmsg() of burst
 * requests on the next socket in turn, so the sources take turns.  The
 * schedule is open-loop: replies never hold back a request, and a
 * generator that falls behind catches up at once and says so.  The
 * defaults: -b 8 -d 2000 -n 256 -p 123 -r 100000 -w 200.
 *
 * Each request's transmit timestamp is its sequence number masked with
 * a key of this run; a reply's origin timestamp must echo one that was
 * sent and not yet answered, or the reply is counted as bad (or dup) and
 * ignored.  Latency is from just before the sendmmsg() to the kernel's
 * receive time of the reply (SO_TIMESTAMPNS), both CLOCK_REALTIME, into
 * a log-linear histogram (1/128 resolution): nothing is allocated per
 * request; the send times live in one array sized at startup.
 *
 * Between bursts it sleeps in epoll_pwait2() until the next is due (or a
 * reply comes).  With -P it polls instead, never sleeping: the requests
 * then leave exactly on time, but on veth the replies are delivered to
 * its sockets by the server's own sendmmsg(), on the server's CPU, and a
 * generator forever reading the same sockets and epoll set makes that
 * delivery slower (contended locks and cache lines): the server was
 * charged a fifth more CPU per reply for it on a 2-CPU VM.
 *
 * After the sending, replies are awaited for drain_ms more.  One line is
 * printed, of key=value pairs:
 *
 *	rate sources burst duration_ms sent send_fail send_rate lag_max_us
 *	received reply_rate loss_pct kod bad dup refused rx_ovfl p50_us
 *	p90_us p99_us p999_us max_us gen_cpu_s gen_idle_pct keepup
 *
 * send_rate is what was achieved; keepup=0 when it fell more than 1%
 * short of rate, or when replies were dropped here because this
 * generator read them too late (rx_ovfl, from SO_RXQ_OVFL): then the
 * figures measure this generator, not the server.  gen_idle_pct is the
 * share of the sending time spent with nothing to do: its headroom.
 * loss_pct counts requests sent and never answered.
 */
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ntp.h"

#define NS			1000000000ULL
#define BURST_MAX		64	/* requests per sendmmsg */
#define RX_BATCH		64	/* replies per recvmmsg */
#define MAX_EVENTS		256
#define MAX_SOURCES		65536
#define MAX_RATE		10000000UL
#define MAX_DURATION_MS		60000UL
#define RX_PKT_MAX		128	/* a reply is 48 bytes */

/* Log-linear histogram of nanoseconds: 256 exact, then 128 per octave. */
#define HIST_SUB_BITS		7
#define HIST_SUB		(1U << HIST_SUB_BITS)
#define HIST_LINEAR		(2U * HIST_SUB)
#define HIST_BUCKETS		(HIST_LINEAR + (64U - HIST_SUB_BITS - 1U) * \
				    HIST_SUB)

static uint64_t		 hist[HIST_BUCKETS];
static uint64_t		 hist_count, hist_max;

static int		*socks;
static uint32_t		*ovfl;		/* SO_RXQ_OVFL: drops per socket */
static int		 nsocks;
static uint64_t		*sent_at;	/* CLOCK_REALTIME ns; 0: not waiting */
static uint64_t		 key;		/* masks the sequence numbers */
static uint64_t		 sched;		/* sequence numbers used */
static uint64_t		 nsent, nfail;
static uint64_t		 nreceived, nkod, nbad, ndup, nrefused;

static unsigned char	 tx_buf[BURST_MAX][NTP_HEADER_SIZE];
static struct iovec	 tx_iov[BURST_MAX];
static struct mmsghdr	 tx_msg[BURST_MAX];

static unsigned char	 rx_buf[RX_BATCH][RX_PKT_MAX];
static struct iovec	 rx_iov[RX_BATCH];
static union {
	struct cmsghdr	 hdr;
	unsigned char	 buf[CMSG_SPACE(sizeof(struct timespec)) +
			     CMSG_SPACE(sizeof(uint32_t))];
}			 rx_ctl[RX_BATCH];
static struct mmsghdr	 rx_msg[RX_BATCH];

static unsigned long
number(const char *s, unsigned long min, unsigned long max)
{
	char		*end;
	unsigned long	 n;

	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || n < min || n > max)
		errx(2, "bad number: %s (%lu to %lu)", s, min, max);
	return n;
}

static uint64_t
clock_ns(clockid_t id)
{
	struct timespec	 ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

static double
cpu_seconds(void)
{
	struct rusage	 ru;

	if (getrusage(RUSAGE_SELF, &ru) == -1)
		err(2, "getrusage");
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void
hist_add(uint64_t v)
{
	unsigned int	 e;

	if (v > hist_max)
		hist_max = v;
	hist_count++;
	if (v < HIST_LINEAR) {
		hist[v]++;
		return;
	}
	e = 63U - (unsigned int)__builtin_clzll(v);	/* >= HIST_SUB_BITS + 1 */
	hist[HIST_LINEAR + (e - HIST_SUB_BITS - 1) * HIST_SUB +
	    ((v >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1))]++;
}

/* The middle of a bucket, in nanoseconds. */
static double
hist_value(unsigned int b)
{
	unsigned int	 e, sub;
	uint64_t	 lo;

	if (b < HIST_LINEAR)
		return b;
	e = (b - HIST_LINEAR) / HIST_SUB + HIST_SUB_BITS + 1;
	sub = (b - HIST_LINEAR) % HIST_SUB;
	lo = (uint64_t)(HIST_SUB + sub) << (e - HIST_SUB_BITS);
	return (double)lo + (double)(1ULL << (e - HIST_SUB_BITS)) / 2;
}

/* The q-quantile in microseconds; 0 with no samples. */
static double
hist_quantile(double q)
{
	uint64_t	 want, seen = 0;
	unsigned int	 b;

	if (hist_count == 0)
		return 0;
	want = (uint64_t)(q * (double)hist_count);
	if (want < 1)
		want = 1;
	for (b = 0; b < HIST_BUCKETS; b++) {
		seen += hist[b];
		if (seen >= want)
			return hist_value(b) / 1000;
	}
	return (double)hist_max / 1000;
}

static void
put64(unsigned char *p, uint64_t v)
{
	int	 i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (56 - 8 * i));
}

static uint64_t
get64(const unsigned char *p)
{
	uint64_t	 v = 0;
	int		 i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* k requests, one sendmmsg, on socket fd. */
static void
send_burst(int fd, unsigned int k)
{
	uint64_t	 now;
	unsigned int	 i;
	int		 rc, done = 0;

	now = clock_ns(CLOCK_REALTIME);
	for (i = 0; i < k; i++) {
		put64(tx_buf[i] + 40, (sched + i) ^ key);
		sent_at[sched + i] = now;
	}
	while (done < (int)k) {
		rc = sendmmsg(fd, tx_msg + done, k - done, MSG_DONTWAIT);
		if (rc == -1 && errno == EINTR)
			continue;
		if (rc <= 0)
			break;
		done += rc;
	}
	for (i = done; i < k; i++)
		sent_at[sched + i] = 0;
	nsent += done;
	nfail += k - done;
	sched += k;
}

static void
reply(int s, const unsigned char *p, size_t len, const struct msghdr *mh)
{
	struct cmsghdr	*cm;
	struct timespec	 ts;
	uint64_t	 idx, rx = 0;
	uint32_t	 drops;

	for (cm = CMSG_FIRSTHDR(mh); cm != NULL;
	    cm = CMSG_NXTHDR((struct msghdr *)mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET)
			continue;
		if (cm->cmsg_type == SO_TIMESTAMPNS &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(ts))) {
			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
			rx = (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
		} else if (cm->cmsg_type == SO_RXQ_OVFL &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(drops))) {
			memcpy(&drops, CMSG_DATA(cm), sizeof(drops));
			ovfl[s] = drops;
		}
	}
	if (len < NTP_HEADER_SIZE || (p[0] & 7) != NTP_MODE_SERVER) {
		nbad++;
		return;
	}
	idx = get64(p + 24) ^ key;
	if (idx >= sched) {
		nbad++;
		return;
	}
	if (sent_at[idx] == 0) {
		ndup++;
		return;
	}
	if (rx == 0)
		rx = clock_ns(CLOCK_REALTIME);
	hist_add(rx > sent_at[idx] ? rx - sent_at[idx] : 0);
	sent_at[idx] = 0;
	if (p[1] == 0)		/* stratum 0: a kiss-o'-death */
		nkod++;
	else
		nreceived++;
}

/* Read a ready socket until it is empty. */
static void
drain(int s)
{
	int	 i, n, fd = socks[s];

	for (;;) {
		for (i = 0; i < RX_BATCH; i++) {
			rx_msg[i].msg_hdr.msg_control = rx_ctl[i].buf;
			rx_msg[i].msg_hdr.msg_controllen =
			    sizeof(rx_ctl[i].buf);
			rx_msg[i].msg_hdr.msg_flags = 0;
		}
		n = recvmmsg(fd, rx_msg, RX_BATCH, MSG_DONTWAIT, NULL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == ECONNREFUSED) {
				nrefused++;
				continue;
			}
			if (errno != EAGAIN)
				err(2, "recvmmsg");
			return;
		}
		for (i = 0; i < n; i++)
			reply(s, rx_buf[i], rx_msg[i].msg_len,
			    &rx_msg[i].msg_hdr);
		if (n < RX_BATCH)
			return;
	}
}

static void
setup(const char *source, const char *server, unsigned long port, int ep)
{
	struct sockaddr_in	 src, dst;
	struct epoll_event	 ev;
	struct ntp_packet	 req;
	struct rlimit		 rl;
	uint32_t		 first;
	int			 i, on = 1;

	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, source, &src.sin_addr) != 1)
		errx(2, "bad IPv4 source address: %s", source);
	if (inet_pton(AF_INET, server, &dst.sin_addr) != 1)
		errx(2, "bad IPv4 server address: %s", server);
	first = ntohl(src.sin_addr.s_addr);

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		err(2, "getrlimit");
	if (rl.rlim_cur < (rlim_t)nsocks + 16) {
		rl.rlim_cur = (rlim_t)nsocks + 16;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			err(2, "setrlimit RLIMIT_NOFILE %d", nsocks + 16);
	}
	if ((socks = calloc(nsocks, sizeof(*socks))) == NULL ||
	    (ovfl = calloc(nsocks, sizeof(*ovfl))) == NULL)
		err(2, "calloc");
	for (i = 0; i < nsocks; i++) {
		if ((socks[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0)) == -1)
			err(2, "socket");
		if (setsockopt(socks[i], SOL_SOCKET, SO_TIMESTAMPNS, &on,
		    sizeof(on)) == -1)
			err(2, "setsockopt SO_TIMESTAMPNS");
		if (setsockopt(socks[i], SOL_SOCKET, SO_RXQ_OVFL, &on,
		    sizeof(on)) == -1)
			err(2, "setsockopt SO_RXQ_OVFL");
		src.sin_addr.s_addr = htonl(first + (uint32_t)i);
		if (bind(socks[i], (struct sockaddr *)&src,
		    sizeof(src)) == -1)
			err(2, "bind %s (source %d)",
			    inet_ntoa(src.sin_addr), i + 1);
		if (connect(socks[i], (struct sockaddr *)&dst,
		    sizeof(dst)) == -1)
			err(2, "connect %s:%lu", server, port);
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.u32 = (uint32_t)i;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, socks[i], &ev) == -1)
			err(2, "epoll_ctl");
	}

	memset(&req, 0, sizeof(req));
	req.leap = NTP_LEAP_UNSYNC;
	req.version = 4;
	req.mode = NTP_MODE_CLIENT;
	req.poll = 6;
	req.precision = -20;
	for (i = 0; i < BURST_MAX; i++) {
		if (ntp_encode(&req, tx_buf[i], sizeof(tx_buf[i])) == -1)
			errx(2, "ntp_encode");
		tx_iov[i].iov_base = tx_buf[i];
		tx_iov[i].iov_len = NTP_HEADER_SIZE;
		tx_msg[i].msg_hdr.msg_iov = &tx_iov[i];
		tx_msg[i].msg_hdr.msg_iovlen = 1;
	}
	for (i = 0; i < RX_BATCH; i++) {
		rx_iov[i].iov_base = rx_buf[i];
		rx_iov[i].iov_len = sizeof(rx_buf[i]);
		rx_msg[i].msg_hdr.msg_iov = &rx_iov[i];
		rx_msg[i].msg_hdr.msg_iovlen = 1;
	}
}

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr, "usage: ntpload [-P] [-b burst] [-d duration_ms] "
	    "[-n sources] [-p port] [-r rate] [-w drain_ms] source server\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct epoll_event	 evs[MAX_EVENTS];
	struct timespec		 to;
	unsigned long		 rate = 100000, dur_ms = 2000, drain_ms = 200;
	unsigned long		 port = 123, burst = 8;
	uint64_t		 total, due, start, now, wake = 0, send_end = 0;
	uint64_t		 drain_until = 0, lag, lag_max = 0, next;
	uint64_t		 last, idle_ns = 0, rx_ovfl = 0;
	double			 cpu0, cpu, send_rate, loss, dur;
	int			 ch, ep, i, n, rr = 0, sending = 1, keepup;
	int			 sleep_ok = 1, worked = 1;

	nsocks = 256;
	while ((ch = getopt(argc, argv, "Pb:d:n:p:r:w:")) != -1) {
		switch (ch) {
		case 'P':
			sleep_ok = 0;
			break;
		case 'b':
			burst = number(optarg, 1, BURST_MAX);
			break;
		case 'd':
			dur_ms = number(optarg, 1, MAX_DURATION_MS);
			break;
		case 'n':
			nsocks = (int)number(optarg, 1, MAX_SOURCES);
			break;
		case 'p':
			port = number(optarg, 1, 65535);
			break;
		case 'r':
			rate = number(optarg, 1, MAX_RATE);
			break;
		case 'w':
			drain_ms = number(optarg, 0, MAX_DURATION_MS);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2)
		usage();

	/* Wake-ups to the nanosecond, not to the default 50 us slack. */
	(void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		err(2, "epoll_create1");
	setup(argv[0], argv[1], port, ep);
	total = rate * dur_ms / 1000;
	if (total == 0)
		errx(2, "rate * duration is not even one request");
	if ((sent_at = calloc(total, sizeof(*sent_at))) == NULL)
		err(2, "calloc %llu send times", (unsigned long long)total);
	key = (clock_ns(CLOCK_REALTIME) * 0x9e3779b97f4a7c15ULL) |
	    0x8000000000000000ULL;

	cpu0 = cpu_seconds();
	start = last = clock_ns(CLOCK_MONOTONIC);
	for (;;) {
		now = clock_ns(CLOCK_MONOTONIC);
		if (sending && !worked && !sleep_ok)
			idle_ns += now - last;	/* an idle turn of polling */
		last = now;
		worked = 0;
		if (sending) {
			due = (now - start) * rate / NS;
			if (due > total)
				due = total;
			if (due > sched) {
				lag = due - sched;
				if (lag > lag_max)
					lag_max = lag;
			}
			while (sched < due) {
				worked = 1;
				send_burst(socks[rr], due - sched < burst ?
				    (unsigned int)(due - sched) :
				    (unsigned int)burst);
				if (++rr == nsocks)
					rr = 0;
			}
			if (sched == total) {
				sending = 0;
				send_end = clock_ns(CLOCK_MONOTONIC);
				drain_until = send_end + drain_ms * 1000000;
			} else {
				next = sched + burst < total ?
				    sched + burst : total;
				wake = start + (next * NS + rate - 1) / rate;
			}
		}
		if (!sending) {
			if (nreceived + nkod >= nsent || now >= drain_until)
				break;
			wake = drain_until;
		}
		to.tv_sec = 0;
		to.tv_nsec = 0;
		if (sleep_ok && wake > now) {
			to.tv_sec = (time_t)((wake - now) / NS);
			to.tv_nsec = (long)((wake - now) % NS);
		}
		if (sending && sleep_ok && (to.tv_sec > 0 || to.tv_nsec > 0)) {
			last = clock_ns(CLOCK_MONOTONIC);
			n = epoll_pwait2(ep, evs, MAX_EVENTS, &to, NULL);
			idle_ns += clock_ns(CLOCK_MONOTONIC) - last;
		} else
			n = epoll_pwait2(ep, evs, MAX_EVENTS, &to, NULL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			err(2, "epoll_pwait2");
		}
		for (i = 0; i < n; i++)
			drain((int)evs[i].data.u32);
		if (n > 0)
			worked = 1;
	}
	cpu = cpu_seconds() - cpu0;
	for (i = 0; i < nsocks; i++)
		rx_ovfl += ovfl[i];

	dur = (double)dur_ms / 1000;
	send_rate = send_end > start ?
	    (double)nsent / ((double)(send_end - start) / NS) : 0;
	keepup = nfail == 0 && rx_ovfl == 0 &&
	    send_rate >= 0.99 * (double)rate;
	loss = nsent > 0 ? 100.0 * (double)(nsent - nreceived - nkod) /
	    (double)nsent : 100;
	printf("rate=%lu sources=%d burst=%lu duration_ms=%lu sent=%llu "
	    "send_fail=%llu send_rate=%.0f lag_max_us=%.0f received=%llu "
	    "reply_rate=%.0f loss_pct=%.3f kod=%llu bad=%llu dup=%llu "
	    "refused=%llu rx_ovfl=%llu p50_us=%.1f p90_us=%.1f p99_us=%.1f "
	    "p999_us=%.1f max_us=%.1f gen_cpu_s=%.3f gen_idle_pct=%.1f "
	    "keepup=%d\n",
	    rate, nsocks, burst, dur_ms, (unsigned long long)nsent,
	    (unsigned long long)nfail, send_rate,
	    (double)lag_max * 1e6 / (double)rate,
	    (unsigned long long)nreceived, (double)nreceived / dur, loss,
	    (unsigned long long)nkod, (unsigned long long)nbad,
	    (unsigned long long)ndup, (unsigned long long)nrefused,
	    (unsigned long long)rx_ovfl, hist_quantile(0.50), hist_quantile(0.90), hist_quantile(0.99),
	    hist_quantile(0.999), (double)hist_max / 1000, cpu,
	    send_end > start ? 100.0 * (double)idle_ns /
	    (double)(send_end - start) : 0, keepup);
	if (!keepup)
		fprintf(stderr, "ntpload: could not keep up: sent %.0f/s of "
		    "%lu/s, %llu replies dropped here\n", send_rate, rate,
		    (unsigned long long)rx_ovfl);
	return 0;
}
