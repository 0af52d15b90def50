/*
 * Configuration text between processes.  Sending the text rather than
 * the parsed structures means one parser, one set of checks, and no
 * second encoding of every list to keep in step with config.h.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "ntpd.h"
#include "reconf.h"

int
reconf_send(struct imsgbuf *ibuf, const char *text, size_t len)
{
	size_t	 off, n;

	for (off = 0; off < len; off += n) {
		n = len - off;
		if (n > IMSG_MAX_PAYLOAD)
			n = IMSG_MAX_PAYLOAD;
		if (imsg_compose(ibuf, IMSG_RECONF, 0, -1, text + off, n) ==
		    -1)
			return -1;
	}
	return imsg_compose(ibuf, IMSG_RECONF_END, 0, -1, NULL, 0);
}

void
reconf_piece(struct reconf_buf *rb, const struct imsg *imsg)
{
	char	*grown;

	if (rb->failed)
		return;
	if (imsg->datalen == 0 || imsg->datalen > RECONF_TEXT_MAX - rb->len) {
		rb->failed = 1;
		return;
	}
	if ((grown = realloc(rb->text, rb->len + imsg->datalen)) == NULL) {
		rb->failed = 1;
		return;
	}
	memcpy(grown + rb->len, imsg->data, imsg->datalen);
	rb->text = grown;
	rb->len += imsg->datalen;
}

static void
reconf_clear(struct reconf_buf *rb)
{
	free(rb->text);
	memset(rb, 0, sizeof(*rb));
}

static struct ntpd_conf *
parse_text(const char *text, size_t len, const char *name)
{
	struct ntpd_conf	*conf;
	FILE			*fp;

	/* fmemopen() will not take an empty buffer. */
	if (len == 0)
		fp = fmemopen((void *)"\n", 1, "r");
	else
		fp = fmemopen((void *)text, len, "r");
	if (fp == NULL) {
		log_warn("%s", name);
		return NULL;
	}
	conf = config_parse_stream(fp, name);
	fclose(fp);
	return conf;
}

struct ntpd_conf *
reconf_take(struct reconf_buf *rb, const struct imsg *imsg)
{
	struct ntpd_conf	*conf = NULL;

	if (imsg->datalen != 0)
		log_warnx("malformed end of configuration");
	else if (rb->failed)
		log_warnx("new configuration too long or out of memory");
	else
		conf = parse_text(rb->text, rb->len, "new configuration");
	reconf_clear(rb);
	return conf;
}

static int
read_all(int fd, const char *path, char **text, size_t *len)
{
	struct stat	 st;
	char		*buf;
	size_t		 off = 0;
	ssize_t		 n;

	if (fstat(fd, &st) == -1) {
		log_warn("%s", path);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		log_warnx("%s: not a regular file", path);
		return -1;
	}
	if (st.st_size > RECONF_TEXT_MAX) {
		log_warnx("%s: longer than %d bytes", path, RECONF_TEXT_MAX);
		return -1;
	}
	/* One more byte than allowed shows a file that grew meanwhile. */
	if ((buf = malloc(RECONF_TEXT_MAX + 1)) == NULL) {
		log_warn("%s", path);
		return -1;
	}
	while ((n = read(fd, buf + off, RECONF_TEXT_MAX + 1 - off)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			log_warn("%s", path);
			free(buf);
			return -1;
		}
		off += (size_t)n;
		if (off > RECONF_TEXT_MAX) {
			log_warnx("%s: longer than %d bytes", path,
			    RECONF_TEXT_MAX);
			free(buf);
			return -1;
		}
	}
	*text = buf;
	*len = off;
	return 0;
}

struct ntpd_conf *
reconf_read(const char *path, char **text, size_t *len)
{
	struct ntpd_conf	*conf;
	int			 fd;

	*text = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("%s", path);
		return NULL;
	}
	if (read_all(fd, path, text, len) == -1) {
		close(fd);
		return NULL;
	}
	close(fd);
	if ((conf = parse_text(*text, *len, path)) == NULL) {
		free(*text);
		*text = NULL;
		*len = 0;
	}
	return conf;
}
