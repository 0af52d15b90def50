/*
 * imsg: framed messages between the daemon's processes, with optional
 * descriptor passing, over AF_UNIX SOCK_STREAM socketpairs.
 *
 * A message on the wire is a fixed header followed by its payload:
 *
 *	uint32_t type		what the payload is; meaning is the caller's
 *	uint32_t len		header plus payload, in bytes
 *	uint32_t peerid		caller's routing id (a source, a namespace, ...)
 *	uint32_t flags		IMSGF_HASFD: one descriptor travels with it
 *
 * all in host byte order (both ends are on one host).  A message never
 * exceeds IMSG_MAX_SIZE bytes; the sender refuses larger ones and the
 * receiver treats a larger length as a protocol error.  A descriptor is
 * sent as SCM_RIGHTS with the first byte of its message, and the receiver
 * hands it out with the message whose header has IMSGF_HASFD.
 *
 * The socket should be non-blocking; imsgbuf_write() and imsgbuf_read()
 * then never block and may move any part of a message.
 */
#ifndef NTPD_IMSG_H
#define NTPD_IMSG_H

#include <sys/types.h>
#include <sys/queue.h>
#include <stddef.h>
#include <stdint.h>

#define IMSG_HEADER_SIZE	sizeof(struct imsg_hdr)
#define IMSG_MAX_SIZE		16384
#define IMSG_MAX_PAYLOAD	(IMSG_MAX_SIZE - IMSG_HEADER_SIZE)
#define IMSG_MAX_FDS_QUEUED	16
#define IMSG_MAX_QUEUED		(4 * 1024 * 1024)

#define IMSGF_HASFD		0x1

struct imsg_hdr {
	uint32_t	type;
	uint32_t	len;
	uint32_t	peerid;
	uint32_t	flags;
};

struct imsg {
	struct imsg_hdr	 hdr;
	int		 fd;		/* -1 unless IMSGF_HASFD */
	void		*data;		/* payload, owned by the imsg */
	size_t		 datalen;
};

struct imsg_out;			/* a queued outgoing message */
TAILQ_HEAD(imsg_outq, imsg_out);

struct imsgbuf {
	int		 fd;
	/* receive side: bytes read but not yet returned as messages */
	unsigned char	 rbuf[2 * IMSG_MAX_SIZE];
	size_t		 rlen;
	int		 rfds[IMSG_MAX_FDS_QUEUED];
	size_t		 nrfds;
	int		 eof;
	/* send side */
	struct imsg_outq outq;
	size_t		 queued;	/* bytes still to write */
};

void	imsgbuf_init(struct imsgbuf *, int fd);
/* Frees queued output and received descriptors; does not close ibuf->fd. */
void	imsgbuf_clear(struct imsgbuf *);

/*
 * Queue one message.  On success the buffer owns fd (closed once sent or
 * on imsgbuf_clear()).  Returns 0, or -1 with errno: EMSGSIZE when the
 * payload exceeds IMSG_MAX_PAYLOAD, ENOBUFS when queueing it would leave
 * more than IMSG_MAX_QUEUED bytes waiting (a peer that stopped reading),
 * EINVAL when data is NULL with a non-zero datalen, ENOMEM.  On failure
 * fd is left open and still the caller's.  A negative fd means none.
 */
int	imsg_compose(struct imsgbuf *, uint32_t type, uint32_t peerid, int fd,
	    const void *data, size_t datalen);

/*
 * Write what can be written now.  Returns 1 when everything is written,
 * 0 when output remains (EAGAIN; poll for POLLOUT), -1 on error (errno;
 * EPIPE when the peer is gone).  Never raises SIGPIPE.
 */
int	imsgbuf_write(struct imsgbuf *);

/* Write until everything is out, waiting with poll() as needed: 0 or -1. */
int	imsgbuf_flush(struct imsgbuf *);

/*
 * Read what is available.  Returns the number of bytes read (> 0), 0 on
 * end of file (peer closed or died), or -1 with errno (EAGAIN when
 * nothing is there; EMSGSIZE when the peer sent more descriptors than fit
 * or a control message was cut, which the caller must treat as fatal for
 * this channel; ENOBUFS when the read buffer or descriptor queue is full
 * because imsg_get() was not called until it returned 0).
 */
ssize_t	imsgbuf_read(struct imsgbuf *);

/*
 * Take the next complete message out of the read buffer.  Returns 1 and
 * fills *imsg, 0 when no complete message is buffered yet, or -1 with
 * errno: EBADMSG when the header's length is smaller than the header or
 * larger than IMSG_MAX_SIZE, or the message claims a descriptor that did
 * not arrive, or has unknown flag bits; EPIPE when end of file was seen
 * with a partial (truncated) message still buffered; ENOMEM.  Every -1 is
 * final for the channel.
 */
int	imsg_get(struct imsgbuf *, struct imsg *);

/* Free the payload and close the descriptor if nobody took it (fd >= 0). */
void	imsg_free(struct imsg *);

/* Take the message's descriptor: the caller now owns it. */
int	imsg_take_fd(struct imsg *);

#endif /* NTPD_IMSG_H */
