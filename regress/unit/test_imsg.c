/*
 * Unit tests for common/imsg.c: framing, partial transfers, descriptor
 * passing and every error the contract in imsg.h promises, driven over
 * local socketpairs, with raw writers standing in for hostile peers.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"

#define POLL_MS		5000	/* a test that waits this long has failed */
#define RAW_MAX_FDS	32

static void
mkpair(int sv[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
}

/* Non-blocking, so reading the wrong pipe fails rather than hangs. */
static void
mkpipe(int p[2])
{
	ck_assert_int_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
}

/* Open descriptors of this process; opendir's own is counted each time. */
static int
count_fds(void)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	d = opendir("/proc/self/fd");
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int
fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

/* Payload byte i of message seq: catches reordering and corruption. */
static unsigned char
pattern(uint32_t seq, size_t i)
{
	return (unsigned char)((seq * 131u) ^ (i * 7u) ^ (i >> 8));
}

static void *
make_payload(uint32_t seq, size_t len)
{
	unsigned char	*p;
	size_t		 i;

	if (len == 0)
		return NULL;
	p = malloc(len);
	ck_assert_ptr_nonnull(p);
	for (i = 0; i < len; i++)
		p[i] = pattern(seq, i);
	return p;
}

static void
check_payload(const struct imsg *m, uint32_t seq, size_t len)
{
	const unsigned char	*p = m->data;
	size_t			 i;

	ck_assert_uint_eq(m->datalen, len);
	ck_assert_uint_eq(m->hdr.len, IMSG_HEADER_SIZE + len);
	if (len == 0) {
		ck_assert_ptr_null(m->data);
		return;
	}
	ck_assert_ptr_nonnull(p);
	for (i = 0; i < len; i++)
		if (p[i] != pattern(seq, i))
			ck_abort_msg("message %u byte %zu corrupt", seq, i);
}

static void
wait_fd(int fd, short events)
{
	struct pollfd	pfd;

	pfd.fd = fd;
	pfd.events = events;
	pfd.revents = 0;
	ck_assert_int_eq(poll(&pfd, 1, POLL_MS), 1);
}

/* Next message, reading (and waiting) as needed; 1 or what imsg_get says. */
static int
get_msg(struct imsgbuf *ib, struct imsg *m)
{
	ssize_t	n;
	int	rv;

	for (;;) {
		if ((rv = imsg_get(ib, m)) != 0)
			return rv;
		n = imsgbuf_read(ib);
		if (n == -1 && errno == EAGAIN) {
			wait_fd(ib->fd, POLLIN);
			continue;
		}
		ck_assert_int_ge(n, 0);
		if (n == 0)
			return imsg_get(ib, m);
	}
}

static void
raw_write_all(int fd, const void *buf, size_t len)
{
	const unsigned char	*p = buf;
	ssize_t			 n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EAGAIN) {
			wait_fd(fd, POLLOUT);
			continue;
		}
		ck_assert_int_gt(n, 0);
		p += n;
		len -= (size_t)n;
	}
}

static void
raw_hdr(int fd, uint32_t type, uint32_t len, uint32_t peerid,
    uint32_t flags)
{
	struct imsg_hdr	hdr;

	hdr.type = type;
	hdr.len = len;
	hdr.peerid = peerid;
	hdr.flags = flags;
	raw_write_all(fd, &hdr, sizeof(hdr));
}

/* One sendmsg carrying len bytes and nfds descriptors, as a rogue would. */
static void
raw_send_fds(int sock, const int *fds, size_t nfds, const void *data,
    size_t len)
{
	union {
		struct cmsghdr	hdr;
		unsigned char	buf[CMSG_SPACE(sizeof(int) * RAW_MAX_FDS)];
	}		 cmsgbuf;
	struct msghdr	 msg;
	struct cmsghdr	*cmsg;
	struct iovec	 iov;

	ck_assert_uint_le(nfds, RAW_MAX_FDS);
	ck_assert_uint_gt(nfds, 0);
	memset(&msg, 0, sizeof(msg));
	memset(&cmsgbuf, 0, sizeof(cmsgbuf));
	iov.iov_base = (void *)(uintptr_t)data;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cmsgbuf.buf;
	msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
	memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * nfds);
	ck_assert_int_eq(sendmsg(sock, &msg, MSG_NOSIGNAL), (ssize_t)len);
}

static void
small_sndbuf(int sock)
{
	int	sz = 4096;

	ck_assert_int_eq(setsockopt(sock, SOL_SOCKET, SO_SNDBUF, &sz,
	    sizeof(sz)), 0);
}

/* Write something into a pipe through one end, read it through the other. */
static void
check_pipe_link(int wfd, int rfd, const char *tag)
{
	char	buf[64];
	size_t	len = strlen(tag);

	ck_assert_int_eq(write(wfd, tag, len), (ssize_t)len);
	ck_assert_int_eq(read(rfd, buf, sizeof(buf)), (ssize_t)len);
	ck_assert_int_eq(memcmp(buf, tag, len), 0);
}

/*
 * Basic framing.
 */

START_TEST(test_roundtrip_sizes)
{
	static const size_t sizes[] = { 0, 1, 15, 16, 17, 4096,
	    IMSG_MAX_PAYLOAD - 1, IMSG_MAX_PAYLOAD, 0 };
	const size_t	 nsizes = sizeof(sizes) / sizeof(sizes[0]);
	struct imsgbuf	 w, r;
	struct imsg	 m;
	void		*p;
	size_t		 i;
	int		 sv[2];

	mkpair(sv);
	imsgbuf_init(&w, sv[0]);
	imsgbuf_init(&r, sv[1]);

	for (i = 0; i < nsizes; i++) {
		p = make_payload((uint32_t)i, sizes[i]);
		ck_assert_int_eq(imsg_compose(&w, 100 + (uint32_t)i,
		    0xdead0000u + (uint32_t)i, -1, p, sizes[i]), 0);
		free(p);
	}
	ck_assert_int_eq(imsgbuf_flush(&w), 0);
	ck_assert_uint_eq(w.queued, 0);

	for (i = 0; i < nsizes; i++) {
		ck_assert_int_eq(get_msg(&r, &m), 1);
		ck_assert_uint_eq(m.hdr.type, 100 + i);
		ck_assert_uint_eq(m.hdr.peerid, 0xdead0000u + i);
		ck_assert_uint_eq(m.hdr.flags, 0);
		ck_assert_int_eq(m.fd, -1);
		check_payload(&m, (uint32_t)i, sizes[i]);
		imsg_free(&m);
	}
	/* nothing more buffered, nothing more to read */
	ck_assert_int_eq(imsg_get(&r, &m), 0);
	ck_assert_int_eq(imsgbuf_read(&r), -1);
	ck_assert_int_eq(errno, EAGAIN);

	imsgbuf_clear(&w);
	imsgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_empty_state)
{
	struct imsgbuf	w;
	struct imsg	m;
	int		sv[2];

	mkpair(sv);
	imsgbuf_init(&w, sv[0]);
	ck_assert_int_eq(imsgbuf_write(&w), 1);
	ck_assert_int_eq(imsgbuf_flush(&w), 0);
	ck_assert_int_eq(imsg_get(&w, &m), 0);
	errno = 0;
	ck_assert_int_eq(imsgbuf_read(&w), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(w.eof, 0);
	imsgbuf_clear(&w);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_compose_too_big)
{
	struct imsgbuf	 w;
	unsigned char	*big;
	int		 sv[2], p[2];

	mkpair(sv);
	mkpipe(p);
	imsgbuf_init(&w, sv[0]);
	big = calloc(1, IMSG_MAX_PAYLOAD + 1);
	ck_assert_ptr_nonnull(big);

	errno = 0;
	ck_assert_int_eq(imsg_compose(&w, 1, 0, p[0], big,
	    IMSG_MAX_PAYLOAD + 1), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	/* the descriptor is still the caller's and still open */
	ck_assert(fd_is_open(p[0]));
	check_pipe_link(p[1], p[0], "still mine");
	/* and nothing was queued */
	ck_assert_uint_eq(w.queued, 0);
	ck_assert(TAILQ_EMPTY(&w.outq));
	ck_assert_int_eq(imsgbuf_write(&w), 1);

	/* a NULL payload with a length is a caller bug, refused */
	errno = 0;
	ck_assert_int_eq(imsg_compose(&w, 1, 0, p[0], NULL, 1), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert(fd_is_open(p[0]));

	/* the largest payload is fine */
	ck_assert_int_eq(imsg_compose(&w, 1, 0, -1, big, IMSG_MAX_PAYLOAD),
	    0);
	ck_assert_uint_eq(w.queued, IMSG_MAX_SIZE);

	free(big);
	imsgbuf_clear(&w);
	ck_assert_uint_eq(w.queued, 0);
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/*
 * Partial transfers.
 */

#define PARTIAL_N	48

static size_t
partial_size(uint32_t i)
{
	if (i % 11 == 3)
		return 0;
	if (i % 5 == 1)
		return IMSG_MAX_PAYLOAD;
	return (i * 2713u) % (IMSG_MAX_PAYLOAD + 1);
}

START_TEST(test_partial_small_sndbuf)
{
	struct imsgbuf	 w, r;
	struct imsg	 m;
	void		*p;
	int		 pipes[PARTIAL_N][2];
	char		 tag[32];
	uint32_t	 i, next = 0;
	ssize_t		 n;
	int		 sv[2], rv, iter;
	int		 saw_pending_write = 0, saw_incomplete = 0;

	mkpair(sv);
	small_sndbuf(sv[0]);
	imsgbuf_init(&w, sv[0]);
	imsgbuf_init(&r, sv[1]);

	/* every seventh message carries a pipe's read end */
	for (i = 0; i < PARTIAL_N; i++) {
		pipes[i][0] = pipes[i][1] = -1;
		if (i % 7 == 2)
			mkpipe(pipes[i]);
		p = make_payload(i, partial_size(i));
		ck_assert_int_eq(imsg_compose(&w, i, ~i, pipes[i][0], p,
		    partial_size(i)), 0);
		free(p);
	}

	for (iter = 0; next < PARTIAL_N; iter++) {
		ck_assert_int_lt(iter, 100000);
		rv = imsgbuf_write(&w);
		ck_assert_int_ne(rv, -1);
		if (rv == 0)
			saw_pending_write = 1;

		n = imsgbuf_read(&r);
		if (n == -1) {
			ck_assert_int_eq(errno, EAGAIN);
			continue;
		}
		ck_assert_int_gt(n, 0);

		while ((rv = imsg_get(&r, &m)) == 1) {
			ck_assert_uint_eq(m.hdr.type, next);
			ck_assert_uint_eq(m.hdr.peerid, ~next);
			check_payload(&m, next, partial_size(next));
			if (pipes[next][0] != -1) {
				ck_assert_uint_eq(m.hdr.flags, IMSGF_HASFD);
				ck_assert_int_ge(m.fd, 0);
				snprintf(tag, sizeof(tag), "pipe %u", next);
				check_pipe_link(pipes[next][1], m.fd, tag);
				close(pipes[next][1]);
			} else {
				ck_assert_uint_eq(m.hdr.flags, 0);
				ck_assert_int_eq(m.fd, -1);
			}
			imsg_free(&m);
			next++;
		}
		ck_assert_int_eq(rv, 0);
		if (r.rlen > 0)
			saw_incomplete = 1;
	}

	/* the test only means something if transfers were really cut */
	ck_assert(saw_pending_write);
	ck_assert(saw_incomplete);
	ck_assert_int_eq(imsgbuf_write(&w), 1);
	ck_assert_uint_eq(w.queued, 0);
	ck_assert_uint_eq(r.rlen, 0);
	ck_assert_uint_eq(r.nrfds, 0);

	imsgbuf_clear(&w);
	imsgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_byte_at_a_time)
{
	struct imsgbuf	 r;
	struct imsg	 m;
	struct imsg_hdr	 h1, h2;
	unsigned char	 stream[2 * sizeof(struct imsg_hdr) + 100];
	unsigned char	*p;
	size_t		 i, total, end1;
	int		 sv[2], rv;

	/* a 100-byte message followed by an empty one */
	h1.type = 7;
	h1.len = (uint32_t)(IMSG_HEADER_SIZE + 100);
	h1.peerid = 9;
	h1.flags = 0;
	h2.type = 8;
	h2.len = (uint32_t)IMSG_HEADER_SIZE;
	h2.peerid = 10;
	h2.flags = 0;
	memcpy(stream, &h1, sizeof(h1));
	p = make_payload(7, 100);
	memcpy(stream + sizeof(h1), p, 100);
	free(p);
	end1 = sizeof(h1) + 100;
	memcpy(stream + end1, &h2, sizeof(h2));
	total = end1 + sizeof(h2);

	mkpair(sv);
	imsgbuf_init(&r, sv[1]);
	errno = 0;
	ck_assert_int_eq(imsgbuf_read(&r), -1);
	ck_assert_int_eq(errno, EAGAIN);

	for (i = 0; i < total; i++) {
		ck_assert_int_eq(write(sv[0], stream + i, 1), 1);
		ck_assert_int_eq(imsgbuf_read(&r), 1);
		rv = imsg_get(&r, &m);
		if (i + 1 == end1) {
			ck_assert_int_eq(rv, 1);
			ck_assert_uint_eq(m.hdr.type, 7);
			ck_assert_uint_eq(m.hdr.peerid, 9);
			check_payload(&m, 7, 100);
			imsg_free(&m);
		} else if (i + 1 == total) {
			ck_assert_int_eq(rv, 1);
			ck_assert_uint_eq(m.hdr.type, 8);
			ck_assert_uint_eq(m.hdr.peerid, 10);
			check_payload(&m, 8, 0);
			imsg_free(&m);
		} else
			ck_assert_int_eq(rv, 0);
	}
	ck_assert_uint_eq(r.rlen, 0);

	imsgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* A caller that reads without draining hits the guard, not an overflow. */
START_TEST(test_read_full_rbuf)
{
	struct imsgbuf	 r;
	struct imsg	 m;
	unsigned char	*p;
	ssize_t		 n;
	size_t		 got = 0;
	int		 sv[2], i, nmsg = 0;

	mkpair(sv);
	imsgbuf_init(&r, sv[1]);
	p = make_payload(1, IMSG_MAX_PAYLOAD);
	for (i = 0; i < 3; i++) {
		raw_hdr(sv[0], 1, IMSG_MAX_SIZE, 0, 0);
		raw_write_all(sv[0], p, IMSG_MAX_PAYLOAD);
	}
	free(p);

	while ((n = imsgbuf_read(&r)) > 0)
		got += (size_t)n;
	ck_assert_int_eq(n, -1);
	ck_assert_int_eq(errno, ENOBUFS);
	ck_assert_uint_eq(got, sizeof(r.rbuf));

	/* draining makes room again and the stream is intact */
	for (;;) {
		while (imsg_get(&r, &m) == 1) {
			check_payload(&m, 1, IMSG_MAX_PAYLOAD);
			imsg_free(&m);
			nmsg++;
		}
		if (nmsg == 3)
			break;
		ck_assert_int_gt(imsgbuf_read(&r), 0);
	}
	imsgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* imsgbuf_flush against a slow reader in another process. */
START_TEST(test_flush_slow_reader)
{
	struct imsgbuf	*w, *r;
	struct imsg	 m;
	void		*p;
	pid_t		 pid;
	uint32_t	 i;
	int		 sv[2], status;

	mkpair(sv);
	small_sndbuf(sv[0]);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		close(sv[0]);
		if ((r = malloc(sizeof(*r))) == NULL)
			_exit(10);
		imsgbuf_init(r, sv[1]);
		for (i = 0; i < 64; i++) {
			usleep(i % 8 == 0 ? 2000 : 0);
			if (get_msg(r, &m) != 1)
				_exit(11);
			if (m.hdr.type != i || m.datalen != 4000 + i)
				_exit(12);
			check_payload(&m, i, 4000 + i);
			imsg_free(&m);
		}
		imsgbuf_clear(r);
		free(r);
		_exit(0);
	}
	close(sv[1]);

	w = malloc(sizeof(*w));
	ck_assert_ptr_nonnull(w);
	imsgbuf_init(w, sv[0]);
	for (i = 0; i < 64; i++) {
		p = make_payload(i, 4000 + i);
		ck_assert_int_eq(imsg_compose(w, i, 0, -1, p, 4000 + i), 0);
		free(p);
	}
	ck_assert_int_eq(imsgbuf_flush(w), 0);
	ck_assert_uint_eq(w->queued, 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);

	/* the reader is gone now: flush fails instead of hanging */
	ck_assert_int_eq(imsg_compose(w, 1, 0, -1, NULL, 0), 0);
	errno = 0;
	ck_assert_int_eq(imsgbuf_flush(w), -1);
	ck_assert_int_eq(errno, EPIPE);

	imsgbuf_clear(w);
	free(w);
	close(sv[0]);
}
END_TEST

/*
 * Descriptor passing.
 */

START_TEST(test_fd_interleaved)
{
	/* which of the messages carry a descriptor */
	static const int hasfd[] = { 0, 1, 0, 1, 1, 0, 0, 1 };
	const size_t	 nmsg = sizeof(hasfd) / sizeof(hasfd[0]);
	struct imsgbuf	 w, r;
	struct imsg	 m;
	int		 pipes[8][2];
	char		 tag[32];
	size_t		 i;
	int		 sv[2], fd, base;

	mkpair(sv);
	imsgbuf_init(&w, sv[0]);
	imsgbuf_init(&r, sv[1]);
	base = count_fds();

	for (i = 0; i < nmsg; i++) {
		pipes[i][0] = pipes[i][1] = -1;
		if (hasfd[i])
			mkpipe(pipes[i]);
		ck_assert_int_eq(imsg_compose(&w, (uint32_t)i, 0,
		    pipes[i][0], &i, sizeof(i)), 0);
	}
	ck_assert_int_eq(imsgbuf_flush(&w), 0);
	/* the sender closed every read end it sent */
	ck_assert_int_eq(count_fds(), base + 4);

	for (i = 0; i < nmsg; i++) {
		ck_assert_int_eq(get_msg(&r, &m), 1);
		ck_assert_uint_eq(m.hdr.type, i);
		ck_assert_uint_eq(m.datalen, sizeof(i));
		ck_assert_int_eq(memcmp(m.data, &i, sizeof(i)), 0);
		if (!hasfd[i]) {
			ck_assert_uint_eq(m.hdr.flags, 0);
			ck_assert_int_eq(m.fd, -1);
			imsg_free(&m);
			continue;
		}
		ck_assert_uint_eq(m.hdr.flags, IMSGF_HASFD);
		ck_assert_int_ge(m.fd, 0);
		/* received descriptors must not leak into exec'd programs */
		ck_assert_int_eq(fcntl(m.fd, F_GETFD) & FD_CLOEXEC,
		    FD_CLOEXEC);
		/* the right pipe: the data written there comes out here */
		snprintf(tag, sizeof(tag), "message %zu", i);
		check_pipe_link(pipes[i][1], m.fd, tag);
		if (i == 1) {
			/* taking it leaves nothing for imsg_free to close */
			fd = imsg_take_fd(&m);
			ck_assert_int_ge(fd, 0);
			ck_assert_int_eq(m.fd, -1);
			imsg_free(&m);
			ck_assert(fd_is_open(fd));
			close(fd);
		} else
			imsg_free(&m);
		close(pipes[i][1]);
	}
	ck_assert_uint_eq(r.nrfds, 0);
	ck_assert_int_eq(count_fds(), base);

	imsgbuf_clear(&w);
	imsgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/*
 * The sender keeps a descriptor while its message waits and closes it
 * once it is on its way.  Descriptor numbers get reused, so count them.
 */
START_TEST(test_fd_closed_after_send)
{
	struct imsgbuf	 w, r;
	struct imsg	 m, fdmsg;
	void		*p;
	int		 sv[2], pp[2], base, rv, iter, n;

	mkpair(sv);
	small_sndbuf(sv[0]);
	imsgbuf_init(&w, sv[0]);
	imsgbuf_init(&r, sv[1]);
	mkpipe(pp);
	base = count_fds();

	/* clog the socket so the descriptor's message has to wait */
	p = make_payload(0, IMSG_MAX_PAYLOAD);
	for (n = 0; n < 8; n++)
		ck_assert_int_eq(imsg_compose(&w, 0, 0, -1, p,
		    IMSG_MAX_PAYLOAD), 0);
	free(p);
	ck_assert_int_eq(imsgbuf_write(&w), 0);
	ck_assert_int_eq(imsg_compose(&w, 1, 0, pp[0], "x", 1), 0);
	ck_assert_int_eq(imsgbuf_write(&w), 0);
	ck_assert(fd_is_open(pp[0]));
	ck_assert_int_eq(count_fds(), base);

	fdmsg.fd = -1;
	fdmsg.data = NULL;
	for (iter = 0; (rv = imsgbuf_write(&w)) != 1; iter++) {
		ck_assert_int_lt(iter, 100000);
		ck_assert_int_eq(rv, 0);
		if (imsgbuf_read(&r) == -1)
			ck_assert_int_eq(errno, EAGAIN);
		while (imsg_get(&r, &m) == 1) {
			if (m.hdr.type == 1)
				fdmsg = m;
			else
				imsg_free(&m);
		}
	}
	/*
	 * All written: the sender's copy is closed; what is open on top of
	 * the baseline minus that is what the receiver holds.
	 */
	ck_assert_int_eq(count_fds(), base - 1 + (int)r.nrfds +
	    (fdmsg.fd >= 0));

	while (fdmsg.fd == -1) {
		ck_assert_int_eq(get_msg(&r, &m), 1);
		if (m.hdr.type == 1)
			fdmsg = m;
		else
			imsg_free(&m);
	}
	ck_assert_int_eq(count_fds(), base);
	check_pipe_link(pp[1], fdmsg.fd, "through the socket");
	imsg_free(&fdmsg);
	ck_assert_int_eq(count_fds(), base - 1);

	imsgbuf_clear(&w);
	imsgbuf_clear(&r);
	close(pp[1]);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_clear_closes_fds)
{
	struct imsgbuf	 w, r;
	int		 sv[2], pp[2], base;
	ssize_t		 n;

	base = count_fds();
	mkpair(sv);
	imsgbuf_init(&w, sv[0]);
	imsgbuf_init(&r, sv[1]);

	/* unsent: owned by the queue, closed by clear */
	mkpipe(pp);
	close(pp[1]);
	ck_assert_int_eq(imsg_compose(&w, 1, 0, pp[0], NULL, 0), 0);
	imsgbuf_clear(&w);
	ck_assert_uint_eq(w.queued, 0);
	ck_assert_int_eq(imsgbuf_write(&w), 1);
	ck_assert_int_eq(count_fds(), base + 2);

	/* received but never taken out with imsg_get */
	mkpipe(pp);
	close(pp[1]);
	ck_assert_int_eq(imsg_compose(&w, 1, 0, pp[0], NULL, 0), 0);
	ck_assert_int_eq(imsgbuf_flush(&w), 0);
	n = imsgbuf_read(&r);
	ck_assert_int_eq(n, (ssize_t)IMSG_HEADER_SIZE);
	ck_assert_uint_eq(r.nrfds, 1);
	ck_assert_int_eq(count_fds(), base + 3);
	imsgbuf_clear(&r);
	ck_assert_uint_eq(r.nrfds, 0);
	ck_assert_int_eq(count_fds(), base + 2);

	close(sv[0]);
	close(sv[1]);
	ck_assert_int_eq(count_fds(), base);
}
END_TEST

START_TEST(test_hasfd_without_fd)
{
	struct imsgbuf	r;
	struct imsg	m;
	int		sv[2];

	mkpair(sv);
	imsgbuf_init(&r, sv[1]);
	raw_hdr(sv[0], 1, (uint32_t)IMSG_HEADER_SIZE + 4, 0, IMSGF_HASFD);
	raw_write_all(sv[0], "abcd", 4);
	errno = 0;
	ck_assert_int_eq(get_msg(&r, &m), -1);
	ck_assert_int_eq(errno, EBADMSG);
	imsgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

static void
too_many_fds(size_t first, size_t second)
{
	struct imsgbuf	r;
	struct imsg_hdr	h;
	int		fds[RAW_MAX_FDS];
	int		sv[2], base;
	size_t		i;
	ssize_t		n;

	base = count_fds();
	mkpair(sv);
	imsgbuf_init(&r, sv[1]);

	h.type = 1;
	h.len = (uint32_t)IMSG_HEADER_SIZE;
	h.peerid = 0;
	h.flags = IMSGF_HASFD;
	for (i = 0; i < first + second; i++) {
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		ck_assert_int_ge(fds[i], 0);
	}
	raw_send_fds(sv[0], fds, first, &h, sizeof(h));
	if (second > 0)
		raw_send_fds(sv[0], fds + first, second, &h, sizeof(h));
	for (i = 0; i < first + second; i++)
		close(fds[i]);

	/* read without draining, as a careless caller would */
	do {
		n = imsgbuf_read(&r);
	} while (n > 0);
	ck_assert_int_eq(n, -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	ck_assert_uint_le(r.nrfds, IMSG_MAX_FDS_QUEUED);

	imsgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);
	ck_assert_int_eq(count_fds(), base);
}

/* More than fit in the control buffer at once: MSG_CTRUNC. */
START_TEST(test_too_many_fds_one_sendmsg)
{
	too_many_fds(IMSG_MAX_FDS_QUEUED + 4, 0);
}
END_TEST

/* Each batch fits, but together they overflow the queue. */
START_TEST(test_too_many_fds_queue)
{
	too_many_fds(IMSG_MAX_FDS_QUEUED - 6, 10);
}
END_TEST

/*
 * Exactly as many as the queue holds is fine, then reads are refused;
 * the queued descriptors come out in order, each with its own message.
 */
START_TEST(test_fd_queue_full)
{
	struct imsgbuf	r;
	struct imsg	m;
	struct {
		struct imsg_hdr	hdr;
		uint32_t	seq;
	}		msg;
	int		pipes[IMSG_MAX_FDS_QUEUED][2];
	char		tag[32];
	uint32_t	seq;
	int		sv[2], base, i;

	base = count_fds();
	mkpair(sv);
	imsgbuf_init(&r, sv[1]);
	msg.hdr.type = 1;
	msg.hdr.len = (uint32_t)sizeof(msg);
	msg.hdr.peerid = 0;
	msg.hdr.flags = IMSGF_HASFD;
	/* one descriptor per message, as imsgbuf_write sends them */
	for (i = 0; i < IMSG_MAX_FDS_QUEUED; i++) {
		mkpipe(pipes[i]);
		msg.seq = (uint32_t)i;
		raw_send_fds(sv[0], &pipes[i][0], 1, &msg, sizeof(msg));
		close(pipes[i][0]);
	}

	while (r.nrfds < IMSG_MAX_FDS_QUEUED)
		ck_assert_int_gt(imsgbuf_read(&r), 0);
	errno = 0;
	ck_assert_int_eq(imsgbuf_read(&r), -1);
	ck_assert_int_eq(errno, ENOBUFS);

	for (i = 0; i < IMSG_MAX_FDS_QUEUED; i++) {
		ck_assert_int_eq(imsg_get(&r, &m), 1);
		ck_assert_uint_eq(m.datalen, sizeof(seq));
		memcpy(&seq, m.data, sizeof(seq));
		ck_assert_uint_eq(seq, i);
		ck_assert_int_ge(m.fd, 0);
		snprintf(tag, sizeof(tag), "pipe %d", i);
		check_pipe_link(pipes[i][1], m.fd, tag);
		imsg_free(&m);
		close(pipes[i][1]);
	}
	ck_assert_int_eq(imsg_get(&r, &m), 0);
	ck_assert_uint_eq(r.nrfds, 0);
	imsgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);
	ck_assert_int_eq(count_fds(), base);
}
END_TEST

/*
 * Protocol errors and dead peers.
 */

START_TEST(test_hdr_len_too_big)
{
	struct imsgbuf	r;
	struct imsg	m;
	int		sv[2];

	mkpair(sv);
	imsgbuf_init(&r, sv[1]);
	/* refused on the header alone, without waiting for a payload */
	raw_hdr(sv[0], 1, IMSG_MAX_SIZE + 1, 0, 0);
	errno = 0;
	ck_assert_int_eq(get_msg(&r, &m), -1);
	ck_assert_int_eq(errno, EBADMSG);
	imsgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_hdr_len_too_small)
{
	struct imsgbuf	r;
	struct imsg	m;
	int		sv[2];

	mkpair(sv);
	imsgbuf_init(&r, sv[1]);
	raw_hdr(sv[0], 1, (uint32_t)IMSG_HEADER_SIZE - 1, 0, 0);
	raw_hdr(sv[0], 1, (uint32_t)IMSG_HEADER_SIZE, 0, 0);
	errno = 0;
	ck_assert_int_eq(get_msg(&r, &m), -1);
	ck_assert_int_eq(errno, EBADMSG);
	imsgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_hdr_zero_len)
{
	struct imsgbuf	r;
	struct imsg	m;
	int		sv[2];

	mkpair(sv);
	imsgbuf_init(&r, sv[1]);
	raw_hdr(sv[0], 1, 0, 0, 0);
	errno = 0;
	ck_assert_int_eq(get_msg(&r, &m), -1);
	ck_assert_int_eq(errno, EBADMSG);
	imsgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_unknown_flags)
{
	struct imsgbuf	r;
	struct imsg	m;
	int		sv[2];

	mkpair(sv);
	imsgbuf_init(&r, sv[1]);
	raw_hdr(sv[0], 1, (uint32_t)IMSG_HEADER_SIZE, 0, 0x2);
	errno = 0;
	ck_assert_int_eq(get_msg(&r, &m), -1);
	ck_assert_int_eq(errno, EBADMSG);
	imsgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

static void
truncated(size_t cut)
{
	struct imsgbuf	 r;
	struct imsg	 m;
	struct imsg_hdr	 h;
	unsigned char	 buf[sizeof(h) + 64];
	ssize_t		 n;
	int		 sv[2], rv;

	h.type = 1;
	h.len = (uint32_t)sizeof(buf);
	h.peerid = 0;
	h.flags = 0;
	memcpy(buf, &h, sizeof(h));
	memset(buf + sizeof(h), 'x', sizeof(buf) - sizeof(h));

	mkpair(sv);
	imsgbuf_init(&r, sv[1]);
	raw_write_all(sv[0], buf, cut);
	close(sv[0]);

	ck_assert_int_eq(imsgbuf_read(&r), (ssize_t)cut);
	ck_assert_int_eq(r.eof, 0);
	ck_assert_int_eq(imsg_get(&r, &m), 0);
	n = imsgbuf_read(&r);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(r.eof, 1);
	errno = 0;
	rv = imsg_get(&r, &m);
	ck_assert_int_eq(rv, -1);
	ck_assert_int_eq(errno, EPIPE);
	imsgbuf_clear(&r);
	close(sv[1]);
}

START_TEST(test_truncated_payload)
{
	truncated(sizeof(struct imsg_hdr) + 32);
}
END_TEST

START_TEST(test_truncated_header)
{
	truncated(7);
}
END_TEST

/* A clean end of file between messages is not an error. */
START_TEST(test_clean_eof)
{
	struct imsgbuf	w, r;
	struct imsg	m;
	int		sv[2];

	mkpair(sv);
	imsgbuf_init(&w, sv[0]);
	imsgbuf_init(&r, sv[1]);
	ck_assert_int_eq(imsg_compose(&w, 5, 6, -1, "bye", 3), 0);
	ck_assert_int_eq(imsgbuf_flush(&w), 0);
	close(sv[0]);
	ck_assert_int_eq(get_msg(&r, &m), 1);
	ck_assert_uint_eq(m.hdr.type, 5);
	imsg_free(&m);
	ck_assert_int_eq(get_msg(&r, &m), 0);
	ck_assert_int_eq(r.eof, 1);
	imsgbuf_clear(&w);
	imsgbuf_clear(&r);
	close(sv[1]);
}
END_TEST

START_TEST(test_peer_death)
{
	struct imsgbuf	w;
	struct imsg	m;
	int		sv[2];

	/* a SIGPIPE would kill this test */
	ck_assert(signal(SIGPIPE, SIG_DFL) != SIG_ERR);
	mkpair(sv);
	imsgbuf_init(&w, sv[0]);
	close(sv[1]);

	ck_assert_int_eq(imsg_compose(&w, 1, 0, -1, "hello", 5), 0);
	errno = 0;
	ck_assert_int_eq(imsgbuf_write(&w), -1);
	ck_assert_int_eq(errno, EPIPE);
	/* still queued: nothing went anywhere */
	ck_assert_uint_eq(w.queued, IMSG_HEADER_SIZE + 5);

	ck_assert_int_eq(imsgbuf_read(&w), 0);
	ck_assert_int_eq(w.eof, 1);
	ck_assert_int_eq(imsg_get(&w, &m), 0);

	imsgbuf_clear(&w);
	close(sv[0]);
}
END_TEST

/* The peer dies with our message unread: still EPIPE and end of file. */
START_TEST(test_peer_death_unread)
{
	struct imsgbuf	w;
	int		sv[2];

	ck_assert(signal(SIGPIPE, SIG_DFL) != SIG_ERR);
	mkpair(sv);
	imsgbuf_init(&w, sv[0]);
	ck_assert_int_eq(imsg_compose(&w, 1, 0, -1, "unread", 6), 0);
	ck_assert_int_eq(imsgbuf_write(&w), 1);
	close(sv[1]);

	ck_assert_int_eq(imsg_compose(&w, 2, 0, -1, "more", 4), 0);
	errno = 0;
	ck_assert_int_eq(imsgbuf_write(&w), -1);
	ck_assert_int_eq(errno, EPIPE);
	ck_assert_int_eq(imsgbuf_read(&w), 0);
	ck_assert_int_eq(w.eof, 1);

	imsgbuf_clear(&w);
	close(sv[0]);
}
END_TEST

START_TEST(test_enobufs)
{
	struct imsgbuf	 w;
	void		*p;
	int		 sv[2], pp[2], rv, base;
	size_t		 before;
	unsigned int	 n = 0, more = 0;

	base = count_fds();
	mkpair(sv);
	imsgbuf_init(&w, sv[0]);
	p = make_payload(0, IMSG_MAX_PAYLOAD);

	/* nothing written yet: exactly the bound fits */
	while (imsg_compose(&w, 0, 0, -1, p, IMSG_MAX_PAYLOAD) == 0)
		n++;
	ck_assert_int_eq(errno, ENOBUFS);
	ck_assert_uint_eq(n, IMSG_MAX_QUEUED / IMSG_MAX_SIZE);
	ck_assert_uint_eq(w.queued, IMSG_MAX_QUEUED);

	/* refused with a descriptor: the caller keeps it */
	mkpipe(pp);
	errno = 0;
	ck_assert_int_eq(imsg_compose(&w, 0, 0, pp[0], NULL, 0), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	ck_assert(fd_is_open(pp[0]));

	/* what the kernel takes makes room, until the peer is full too */
	for (;;) {
		before = w.queued;
		rv = imsgbuf_write(&w);
		ck_assert_int_eq(rv, 0);
		if (w.queued == before)
			break;
		while (imsg_compose(&w, 0, 0, -1, p, IMSG_MAX_PAYLOAD) == 0)
			more++;
		ck_assert_int_eq(errno, ENOBUFS);
		ck_assert_uint_le(w.queued, IMSG_MAX_QUEUED);
	}
	ck_assert_uint_gt(more, 0);
	errno = 0;
	ck_assert_int_eq(imsg_compose(&w, 0, 0, -1, p, IMSG_MAX_PAYLOAD), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	ck_assert_uint_le(w.queued, IMSG_MAX_QUEUED);

	free(p);
	imsgbuf_clear(&w);
	close(pp[0]);
	close(pp[1]);
	close(sv[0]);
	close(sv[1]);
	ck_assert_int_eq(count_fds(), base);
}
END_TEST

static Suite *
imsg_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("imsg");

	tc = tcase_create("framing");
	tcase_add_test(tc, test_roundtrip_sizes);
	tcase_add_test(tc, test_empty_state);
	tcase_add_test(tc, test_compose_too_big);
	tcase_add_test(tc, test_clean_eof);
	suite_add_tcase(s, tc);

	tc = tcase_create("partial");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_partial_small_sndbuf);
	tcase_add_test(tc, test_byte_at_a_time);
	tcase_add_test(tc, test_read_full_rbuf);
	tcase_add_test(tc, test_flush_slow_reader);
	suite_add_tcase(s, tc);

	tc = tcase_create("descriptors");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_fd_interleaved);
	tcase_add_test(tc, test_fd_closed_after_send);
	tcase_add_test(tc, test_clear_closes_fds);
	tcase_add_test(tc, test_hasfd_without_fd);
	tcase_add_test(tc, test_too_many_fds_one_sendmsg);
	tcase_add_test(tc, test_too_many_fds_queue);
	tcase_add_test(tc, test_fd_queue_full);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_hdr_len_too_big);
	tcase_add_test(tc, test_hdr_len_too_small);
	tcase_add_test(tc, test_hdr_zero_len);
	tcase_add_test(tc, test_unknown_flags);
	tcase_add_test(tc, test_truncated_payload);
	tcase_add_test(tc, test_truncated_header);
	tcase_add_test(tc, test_peer_death);
	tcase_add_test(tc, test_peer_death_unread);
	tcase_add_test(tc, test_enobufs);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(imsg_suite());
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
