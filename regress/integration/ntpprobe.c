/*
 * ntpprobe: an NTP client for the tests, able to send what real clients
 * never would.  It binds the source address it is given, sends count
 * requests of any version, mode and length, and prints each answer.
 *
 *	ntpprobe [-s source] [-v version] [-m mode] [-l length] [-n count]
 *	    [-i interval_ms] [-t timeout_ms] address port
 *
 * For each request one line: "reply LEN li LI vn VN mode M stratum S
 * refid R" (R as text when printable, else dotted) or "timeout".  With
 * -n above 1 only a summary is printed: "sent N replies R kod K".
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "ntp.h"

static long
number(const char *s, long min, long max)
{
	char	*end;
	long	 n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || n < min || n > max)
		errx(2, "bad number: %s", s);
	return n;
}

static void
print_refid(const struct ntp_packet *p)
{
	int	 i, text = 1;

	for (i = 0; i < 4; i++)
		if (!isprint(p->refid[i]) && p->refid[i] != '\0')
			text = 0;
	if (text && p->stratum <= 1)
		printf("%.4s", (const char *)p->refid);
	else
		printf("%u.%u.%u.%u", p->refid[0], p->refid[1], p->refid[2],
		    p->refid[3]);
}

int
main(int argc, char *argv[])
{
	struct sockaddr_storage	 dst, src;
	socklen_t		 dstlen, srclen;
	struct ntp_packet	 req, rep;
	struct pollfd		 pfd;
	struct timespec		 now;
	unsigned char		 buf[2048], in[2048];
	const char		*source = NULL;
	long			 version = 4, mode = NTP_MODE_CLIENT;
	long			 length = NTP_HEADER_SIZE, count = 1;
	long			 interval = 0, timeout = 1000, i;
	long			 replies = 0, kisses = 0;
	ssize_t			 n;
	int			 ch, fd;

	while ((ch = getopt(argc, argv, "s:v:m:l:n:i:t:")) != -1) {
		switch (ch) {
		case 's':
			source = optarg;
			break;
		case 'v':
			version = number(optarg, 0, 7);
			break;
		case 'm':
			mode = number(optarg, 0, 7);
			break;
		case 'l':
			length = number(optarg, 1, sizeof(buf));
			break;
		case 'n':
			count = number(optarg, 1, 100000000);
			break;
		case 'i':
			interval = number(optarg, 0, 60000);
			break;
		case 't':
			timeout = number(optarg, 1, 60000);
			break;
		default:
			errx(2, "usage: ntpprobe [-s source] [-v version] "
			    "[-m mode] [-l length] [-n count] [-i ms] [-t ms] "
			    "address port");
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2)
		errx(2, "need an address and a port");
	if (addr_parse(argv[0], number(argv[1], 1, 65535), &dst,
	    &dstlen) == -1)
		errx(2, "bad address: %s", argv[0]);
	if ((fd = socket(dst.ss_family, SOCK_DGRAM, 0)) == -1)
		err(2, "socket");
	if (source != NULL) {
		if (addr_parse(source, 0, &src, &srclen) == -1)
			errx(2, "bad source address: %s", source);
		if (bind(fd, (struct sockaddr *)&src, srclen) == -1)
			err(2, "bind %s", source);
	}
	if (connect(fd, (struct sockaddr *)&dst, dstlen) == -1)
		err(2, "connect");

	for (i = 0; i < count; i++) {
		memset(&req, 0, sizeof(req));
		req.leap = NTP_LEAP_UNSYNC;
		req.version = version;
		req.mode = mode;
		req.poll = 6;
		clock_gettime(CLOCK_REALTIME, &now);
		req.transmit = ntp_ts_from_timespec(&now);
		memset(buf, 0, sizeof(buf));
		(void)ntp_encode(&req, buf, sizeof(buf));
		if (send(fd, buf, length, 0) != length)
			err(2, "send");
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, timeout) <= 0) {
			if (count == 1)
				printf("timeout\n");
		} else if ((n = recv(fd, in, sizeof(in), 0)) > 0) {
			replies++;
			if (ntp_decode(in, n, &rep) == 0 && rep.stratum == 0)
				kisses++;
			if (count == 1) {
				if (ntp_decode(in, n, &rep) == -1) {
					printf("reply %zd short\n", n);
					return 0;
				}
				printf("reply %zd li %u vn %u mode %u stratum "
				    "%u refid ", n, rep.leap, rep.version,
				    rep.mode, rep.stratum);
				print_refid(&rep);
				printf(" origin-ok %d\n",
				    ntp_ts_equal(rep.origin, req.transmit));
			}
		}
		if (interval > 0 && i + 1 < count)
			usleep(interval * 1000);
	}
	if (count > 1)
		printf("sent %ld replies %ld kod %ld\n", count, replies,
		    kisses);
	return 0;
}
