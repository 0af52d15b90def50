/*
 * imsg: framed messages with optional descriptor passing between the
 * daemon's processes over AF_UNIX stream socketpairs.  Outgoing messages
 * wait in a queue and leave with sendmsg(2) as the socket accepts them;
 * incoming bytes and descriptors accumulate in the imsgbuf until a whole
 * message can be handed out.  The contract is in imsg.h.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"

/* Most messages one sendmsg(2) carries. */
#define IMSG_WRITE_IOV	16

/* Header and payload in one allocation, ready for the wire. */
struct imsg_out {
	TAILQ_ENTRY(imsg_out)	 entry;
	size_t			 len;	/* header plus payload */
	size_t			 off;	/* bytes already written */
	int			 fd;	/* to send with byte 0, or -1 */
	unsigned char		 buf[];
};

static int	imsg_recv_fds(struct imsgbuf *, struct msghdr *);

void
imsgbuf_init(struct imsgbuf *ibuf, int fd)
{
	memset(ibuf, 0, sizeof(*ibuf));
	ibuf->fd = fd;
	TAILQ_INIT(&ibuf->outq);
}

void
imsgbuf_clear(struct imsgbuf *ibuf)
{
	struct imsg_out	*o;
	size_t		 i;

	while ((o = TAILQ_FIRST(&ibuf->outq)) != NULL) {
		TAILQ_REMOVE(&ibuf->outq, o, entry);
		if (o->fd >= 0)
			close(o->fd);
		free(o);
	}
	ibuf->queued = 0;

	for (i = 0; i < ibuf->nrfds; i++)
		close(ibuf->rfds[i]);
	ibuf->nrfds = 0;
	ibuf->rlen = 0;
}

int
imsg_compose(struct imsgbuf *ibuf, uint32_t type, uint32_t peerid, int fd,
    const void *data, size_t datalen)
{
	struct imsg_out	*o;
	struct imsg_hdr	 hdr;
	size_t		 len;

	if (datalen > IMSG_MAX_PAYLOAD) {
		errno = EMSGSIZE;
		return -1;
	}
	if (data == NULL && datalen != 0) {
		errno = EINVAL;
		return -1;
	}
	len = IMSG_HEADER_SIZE + datalen;
	/* queued never exceeds the bound, so this cannot overflow */
	if (ibuf->queued + len > IMSG_MAX_QUEUED) {
		errno = ENOBUFS;
		return -1;
	}
	if ((o = malloc(sizeof(*o) + len)) == NULL)
		return -1;

	hdr.type = type;
	hdr.len = (uint32_t)len;
	hdr.peerid = peerid;
	hdr.flags = fd >= 0 ? IMSGF_HASFD : 0;
	memcpy(o->buf, &hdr, sizeof(hdr));
	if (datalen != 0)
		memcpy(o->buf + IMSG_HEADER_SIZE, data, datalen);
	o->len = len;
	o->off = 0;
	o->fd = fd >= 0 ? fd : -1;

	TAILQ_INSERT_TAIL(&ibuf->outq, o, entry);
	ibuf->queued += len;
	return 0;
}

int
imsgbuf_write(struct imsgbuf *ibuf)
{
	union {
		struct cmsghdr	hdr;
		unsigned char	buf[CMSG_SPACE(sizeof(int))];
	}		 cmsgbuf;
	struct iovec	 iov[IMSG_WRITE_IOV];
	struct msghdr	 msg;
	struct cmsghdr	*cmsg;
	struct imsg_out	*o, *head;
	size_t		 niov, left, chunk;
	ssize_t		 n;
	int		 fd;

	while ((head = TAILQ_FIRST(&ibuf->outq)) != NULL) {
		/*
		 * A message with a descriptor always heads its sendmsg and
		 * the descriptor leaves with that message's byte 0, so the
		 * receiver can pair them up; its fd is -1 once it is sent.
		 */
		fd = head->fd;
		niov = 0;
		for (o = head; o != NULL && niov < IMSG_WRITE_IOV;
		    o = TAILQ_NEXT(o, entry)) {
			if (o != head && o->fd >= 0)
				break;
			iov[niov].iov_base = o->buf + o->off;
			iov[niov].iov_len = o->len - o->off;
			niov++;
		}

		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = iov;
		msg.msg_iovlen = niov;
		if (fd >= 0) {
			memset(&cmsgbuf, 0, sizeof(cmsgbuf));
			msg.msg_control = cmsgbuf.buf;
			msg.msg_controllen = sizeof(cmsgbuf.buf);
			cmsg = CMSG_FIRSTHDR(&msg);
			cmsg->cmsg_len = CMSG_LEN(sizeof(int));
			cmsg->cmsg_level = SOL_SOCKET;
			cmsg->cmsg_type = SCM_RIGHTS;
			memcpy(CMSG_DATA(cmsg), &fd, sizeof(fd));
		}

		n = sendmsg(ibuf->fd, &msg, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				return 0;
			/* a peer that died with our data unread */
			if (errno == ECONNRESET)
				errno = EPIPE;
			return -1;
		}
		if (n == 0)	/* no progress on a stream; do not spin */
			return 0;

		/* The kernel holds its own reference now. */
		if (fd >= 0) {
			close(fd);
			head->fd = -1;
		}

		ibuf->queued -= (size_t)n;
		for (left = (size_t)n; left > 0; left -= chunk) {
			o = TAILQ_FIRST(&ibuf->outq);
			chunk = o->len - o->off;
			if (chunk > left)
				chunk = left;
			o->off += chunk;
			if (o->off == o->len) {
				TAILQ_REMOVE(&ibuf->outq, o, entry);
				free(o);
			}
		}
	}
	return 1;
}

int
imsgbuf_flush(struct imsgbuf *ibuf)
{
	struct pollfd	 pfd;
	int		 rv;

	for (;;) {
		if ((rv = imsgbuf_write(ibuf)) == 1)
			return 0;
		if (rv == -1)
			return -1;

		pfd.fd = ibuf->fd;
		pfd.events = POLLOUT;
		pfd.revents = 0;
		if (poll(&pfd, 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (pfd.revents & POLLNVAL) {
			errno = EBADF;
			return -1;
		}
		/* POLLERR/POLLHUP: the next write reports the error. */
	}
}

/*
 * Queue the descriptors that came with one recvmsg(2).  Any loss (a cut
 * control message, no room left) makes the pairing of descriptors with
 * messages unreliable, so it is an error and the extras are closed.
 */
static int
imsg_recv_fds(struct imsgbuf *ibuf, struct msghdr *msg)
{
	struct cmsghdr	*cmsg;
	unsigned char	*data, *ctlend;
	size_t		 nbytes, i;
	int		 fd, trunc, lost = 0;

	trunc = (msg->msg_flags & MSG_CTRUNC) != 0;
	ctlend = (unsigned char *)msg->msg_control + msg->msg_controllen;
	for (cmsg = CMSG_FIRSTHDR(msg); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		if (cmsg->cmsg_len < CMSG_LEN(0))
			continue;
		data = CMSG_DATA(cmsg);
		nbytes = cmsg->cmsg_len - CMSG_LEN(0);
		/* never trust a length beyond what was filled in */
		if (nbytes > (size_t)(ctlend - data))
			nbytes = (size_t)(ctlend - data);
		for (i = 0; i + sizeof(int) <= nbytes; i += sizeof(int)) {
			memcpy(&fd, data + i, sizeof(fd));
			if (trunc || ibuf->nrfds >= IMSG_MAX_FDS_QUEUED) {
				close(fd);
				lost = 1;
				continue;
			}
			ibuf->rfds[ibuf->nrfds++] = fd;
		}
	}
	if (trunc || lost) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

ssize_t
imsgbuf_read(struct imsgbuf *ibuf)
{
	union {
		struct cmsghdr	hdr;
		unsigned char	buf[CMSG_SPACE(sizeof(int) *
				    IMSG_MAX_FDS_QUEUED)];
	}		 cmsgbuf;
	struct msghdr	 msg;
	struct iovec	 iov;
	ssize_t		 n;

	/*
	 * Only a caller that does not drain imsg_get() gets here: a
	 * complete message is at most half of rbuf, and each queued
	 * descriptor belongs to a message already (partly) in rbuf.
	 */
	if (ibuf->rlen >= sizeof(ibuf->rbuf) ||
	    ibuf->nrfds >= IMSG_MAX_FDS_QUEUED) {
		errno = ENOBUFS;
		return -1;
	}

	iov.iov_base = ibuf->rbuf + ibuf->rlen;
	iov.iov_len = sizeof(ibuf->rbuf) - ibuf->rlen;
	memset(&msg, 0, sizeof(msg));
	memset(&cmsgbuf, 0, sizeof(cmsgbuf));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cmsgbuf.buf;
	msg.msg_controllen = sizeof(cmsgbuf.buf);

	do {
		n = recvmsg(ibuf->fd, &msg, MSG_CMSG_CLOEXEC);
	} while (n == -1 && errno == EINTR);
	if (n == -1) {
		/* The peer closed with our data unread: it is gone too. */
		if (errno == ECONNRESET) {
			ibuf->eof = 1;
			return 0;
		}
		return -1;
	}

	ibuf->rlen += (size_t)n;
	if (imsg_recv_fds(ibuf, &msg) == -1)
		return -1;
	if (n == 0)
		ibuf->eof = 1;
	return n;
}

int
imsg_get(struct imsgbuf *ibuf, struct imsg *imsg)
{
	struct imsg_hdr	 hdr;
	void		*data = NULL;
	size_t		 datalen;
	int		 fd = -1;

	if (ibuf->rlen < IMSG_HEADER_SIZE) {
		if (ibuf->eof && ibuf->rlen > 0) {
			errno = EPIPE;
			return -1;
		}
		return 0;
	}

	/* rbuf has no alignment to speak of */
	memcpy(&hdr, ibuf->rbuf, sizeof(hdr));
	if (hdr.len < IMSG_HEADER_SIZE || hdr.len > IMSG_MAX_SIZE ||
	    (hdr.flags & ~(uint32_t)IMSGF_HASFD) != 0) {
		errno = EBADMSG;
		return -1;
	}
	if (ibuf->rlen < hdr.len) {
		if (ibuf->eof) {
			errno = EPIPE;
			return -1;
		}
		return 0;
	}

	/* Its descriptor came with its byte 0, which is here. */
	if ((hdr.flags & IMSGF_HASFD) && ibuf->nrfds == 0) {
		errno = EBADMSG;
		return -1;
	}

	datalen = hdr.len - IMSG_HEADER_SIZE;
	if (datalen != 0) {
		if ((data = malloc(datalen)) == NULL)
			return -1;
		memcpy(data, ibuf->rbuf + IMSG_HEADER_SIZE, datalen);
	}

	if (hdr.flags & IMSGF_HASFD) {
		fd = ibuf->rfds[0];
		ibuf->nrfds--;
		memmove(ibuf->rfds, ibuf->rfds + 1,
		    ibuf->nrfds * sizeof(ibuf->rfds[0]));
	}

	ibuf->rlen -= hdr.len;
	memmove(ibuf->rbuf, ibuf->rbuf + hdr.len, ibuf->rlen);

	imsg->hdr = hdr;
	imsg->fd = fd;
	imsg->data = data;
	imsg->datalen = datalen;
	return 1;
}

void
imsg_free(struct imsg *imsg)
{
	if (imsg->fd >= 0)
		close(imsg->fd);
	imsg->fd = -1;
	free(imsg->data);
	imsg->data = NULL;
	imsg->datalen = 0;
}

int
imsg_take_fd(struct imsg *imsg)
{
	int	fd;

	fd = imsg->fd;
	imsg->fd = -1;
	return fd;
}
