/*
 * ctlraw: a raw client of ntpd's control socket, for the tests.  It sends
 * one frame that ntpctl never would (any type, any payload length, any
 * length in the header) and prints each message of the answer, one line
 * each, until CTL_END, or "eof" when the daemon closes the connection.
 *
 *	ctlraw SOCKET TYPE [PAYLOAD_LEN [HEADER_LEN]]
 *	ctlraw SOCKET hold	connect, send nothing, print "eof after N s"
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <err.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "imsg.h"

static int
connect_to(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		errx(2, "path too long");
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		err(2, "socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		err(2, "connect %s", path);
	return fd;
}

static unsigned long
number(const char *s)
{
	char		*end;
	unsigned long	 n;

	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || n > UINT32_MAX)
		errx(2, "bad number: %s", s);
	return n;
}

static void
hold(int fd)
{
	struct timespec	 a, b;
	char		 c;

	clock_gettime(CLOCK_MONOTONIC, &a);
	while (read(fd, &c, 1) > 0)
		;
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("eof after %lld s\n", (long long)(b.tv_sec - a.tv_sec));
}

int
main(int argc, char *argv[])
{
	struct imsg_hdr		 hdr;
	struct imsgbuf		 ibuf;
	struct imsg		 imsg;
	struct ctl_error	 e;
	unsigned char		*payload;
	size_t			 plen = 0;
	ssize_t			 n;
	int			 fd, rc;

	if (argc < 3 || argc > 5)
		errx(2, "usage: ctlraw SOCKET TYPE|hold [PAYLOAD_LEN "
		    "[HEADER_LEN]]");
	fd = connect_to(argv[1]);
	if (strcmp(argv[2], "hold") == 0) {
		hold(fd);
		return 0;
	}
	memset(&hdr, 0, sizeof(hdr));
	hdr.type = number(argv[2]);
	if (argc > 3)
		plen = number(argv[3]);
	if (plen > 1 << 20)
		errx(2, "payload too long");
	hdr.len = argc > 4 ? number(argv[4]) : sizeof(hdr) + plen;
	if ((payload = calloc(1, plen + 1)) == NULL)
		err(2, "calloc");
	if (write(fd, &hdr, sizeof(hdr)) != sizeof(hdr) ||
	    (plen > 0 && write(fd, payload, plen) != (ssize_t)plen))
		err(2, "write");

	imsgbuf_init(&ibuf, fd);
	for (;;) {
		if ((n = imsgbuf_read(&ibuf)) == -1 && errno != EINTR)
			err(2, "read");
		if (n == 0) {
			printf("eof\n");
			return 0;
		}
		while ((rc = imsg_get(&ibuf, &imsg)) == 1) {
			if (imsg.hdr.type == CTL_ERROR &&
			    imsg.datalen == sizeof(e)) {
				memcpy(&e, imsg.data, sizeof(e));
				e.msg[sizeof(e.msg) - 1] = '\0';
				printf("error %u %s\n", e.code, e.msg);
			} else
				printf("type %u len %zu\n", imsg.hdr.type,
				    imsg.datalen);
			if (imsg.hdr.type == CTL_END)
				return 0;
			imsg_free(&imsg);
		}
		if (rc == -1)
			err(2, "answer");
	}
}
