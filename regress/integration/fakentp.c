/*
 * fakentp: an upstream server for the tests that misbehaves on demand.
 * It answers client requests on one address with this machine's clock
 * moved by an offset, or with a kiss-o'-death, or with a reply whose
 * origin is wrong, and exits after a time limit.
 *
 *	fakentp [-o offset_s] [-s stratum] [-l leap] [-k CODE] [-b]
 *	    [-t seconds] [-c shimlog] [-d ppm] [-f ppm] address port
 *
 *	-o	add this many seconds to every timestamp sent (a liar)
 *	-s	stratum to claim (default 1, refid "FAKE")
 *	-l	leap indicator to announce: 0 none (default), 1 a second
 *		inserted at the end of the month, 2 one deleted, 3 alarm
 *	-k	answer every request with the kiss CODE (DENY, RATE...)
 *	-b	bad origin: answer with an origin that matches nothing
 *	-t	exit after this many seconds (default 60)
 *	-c	the log of clockshim.so in the daemon: take away the
 *		correction V(now) its calls would have made (re-read at
 *		every request; no file yet: no calls yet)
 *	-d	the local oscillator runs fast by this many ppm since
 *		fakentp started: take away ppm * 1e-6 * elapsed
 *	-f	the kernel frequency (ppm) before the first freq event in
 *		the log, as NTPD_CLOCKSHIM_FREQ; counts from fakentp's start
 *
 * So what is served is real + offset - drift - V, and the daemon, which
 * reads the real clock, measures the offset that a clock driven by its
 * calls would show (regress/clock/vclock.h has the signs).
 */
#include <sys/socket.h>
#include <err.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "ntp.h"
#include "../clock/vclock.h"

#define NS_PER_S	1000000000LL

/* The simulated local clock; see -c, -d and -f. */
static struct vclock	 vc;
static const char	*shimlog;
static double		 drift;
static int64_t		 started;

static int64_t
ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * NS_PER_S + ts->tv_nsec;
}

static double
number(const char *s, double min, double max)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= min && v <= max))
		errx(2, "bad number: %s", s);
	return v;
}

/* The log as it is now; a broken one ends the test loudly. */
static void
reload(void)
{
	FILE	*fp;

	if (shimlog == NULL)
		return;
	if ((fp = fopen(shimlog, "r")) == NULL) {
		if (errno != ENOENT)
			err(2, "%s", shimlog);
		(void)vclock_parse(&vc, "", 0);
		return;
	}
	if (vclock_parse_file(&vc, fp) == -1)
		errx(2, "%s:%zu: %s", shimlog, vc.errline, vc.errstr);
	fclose(fp);
}

static struct ntp_ts
now_plus(double offset)
{
	struct timespec	 ts;
	double		 whole, frac;
	int64_t		 t;

	clock_gettime(CLOCK_REALTIME, &ts);
	/* What the local clock has gained: take it from the true time. */
	t = ts_ns(&ts);
	offset -= drift * 1e-6 * (double)(t - started) / NS_PER_S;
	if (shimlog != NULL)
		offset -= vclock_correction(&vc, t);
	frac = modf(offset, &whole);
	ts.tv_sec += (time_t)whole;
	ts.tv_nsec += (long)(frac * 1e9);
	while (ts.tv_nsec >= 1000000000L) {
		ts.tv_nsec -= 1000000000L;
		ts.tv_sec++;
	}
	while (ts.tv_nsec < 0) {
		ts.tv_nsec += 1000000000L;
		ts.tv_sec--;
	}
	return ntp_ts_from_timespec(&ts);
}

int
main(int argc, char *argv[])
{
	struct sockaddr_storage	 ss, from;
	socklen_t		 sslen, fromlen;
	struct ntp_packet	 req, rep;
	struct pollfd		 pfd;
	struct timespec		 start, now;
	unsigned char		 buf[1024];
	const char		*kiss = NULL;
	double			 offset = 0, freq0 = 0;
	long			 stratum = 1, limit = 60, leap = NTP_LEAP_NONE;
	ssize_t			 n;
	int			 ch, fd, bad_origin = 0;

	clock_gettime(CLOCK_REALTIME, &now);
	started = ts_ns(&now);
	while ((ch = getopt(argc, argv, "o:s:l:k:bt:c:d:f:")) != -1) {
		switch (ch) {
		case 'c':
			shimlog = optarg;
			break;
		case 'd':
			drift = number(optarg, -1e6, 1e6);
			break;
		case 'f':
			freq0 = number(optarg, -1e6, 1e6);
			break;
		case 'o':
			offset = strtod(optarg, NULL);
			break;
		case 's':
			stratum = strtol(optarg, NULL, 10);
			break;
		case 'l':
			if (strlen(optarg) != 1 || optarg[0] < '0' ||
			    optarg[0] > '3')
				errx(2, "a leap indicator is 0 to 3");
			leap = optarg[0] - '0';
			break;
		case 'k':
			kiss = optarg;
			if (strlen(kiss) != 4)
				errx(2, "a kiss code has four letters");
			break;
		case 'b':
			bad_origin = 1;
			break;
		case 't':
			limit = strtol(optarg, NULL, 10);
			break;
		default:
			errx(2, "usage: fakentp [-o offset] [-s stratum] "
			    "[-l leap] [-k code] [-b] [-t seconds] "
			    "[-c shimlog] [-d ppm] [-f ppm] address port");
		}
	}
	vclock_init(&vc, freq0, started);
	reload();
	argc -= optind;
	argv += optind;
	if (argc != 2 || addr_parse(argv[0], strtol(argv[1], NULL, 10), &ss,
	    &sslen) == -1)
		errx(2, "need an address and a port");
	if ((fd = socket(ss.ss_family, SOCK_DGRAM, 0)) == -1)
		err(2, "socket");
	if (bind(fd, (struct sockaddr *)&ss, sslen) == -1)
		err(2, "bind %s", argv[0]);

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= limit)
			return 0;
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		fromlen = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), 0,
		    (struct sockaddr *)&from, &fromlen);
		if (n < 0 || ntp_decode(buf, n, &req) == -1 ||
		    req.mode != NTP_MODE_CLIENT)
			continue;
		reload();
		memset(&rep, 0, sizeof(rep));
		rep.version = req.version;
		rep.mode = NTP_MODE_SERVER;
		rep.poll = req.poll;
		rep.precision = -20;
		rep.origin = req.transmit;
		if (bad_origin)
			rep.origin.frac ^= 0x5a5a5a5a;
		if (kiss != NULL) {
			rep.leap = NTP_LEAP_UNSYNC;
			rep.stratum = 0;
			memcpy(rep.refid, kiss, 4);
			rep.receive = rep.transmit = req.transmit;
		} else {
			rep.leap = leap;
			rep.stratum = stratum;
			memcpy(rep.refid, "FAKE", 4);
			rep.root_dispersion = ntp_short_from_double(0.0001);
			rep.receive = now_plus(offset);
			rep.reference = rep.receive;
			rep.transmit = now_plus(offset);
		}
		(void)ntp_encode(&rep, buf, sizeof(buf));
		(void)sendto(fd, buf, NTP_HEADER_SIZE, 0,
		    (struct sockaddr *)&from, fromlen);
	}
}
