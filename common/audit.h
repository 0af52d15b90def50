/*
 * The audit trail: one text line per event, each carrying a BLAKE2b
 * hash chained to the line before it, so that a modified, deleted or
 * reordered record can be found and named.  The daemon's parent writes
 * it (struct audit); ntpctl reads and verifies it (audit_reader,
 * audit_parse, audit_verify_*).
 *
 * A record, in this order, fields separated by one space:
 *
 *	seq=N time=YYYY-MM-DDTHH:MM:SS.mmmZ who=WHO event=NAME
 *	    [chain=resumed|broken] [KEY=VALUE ...] prev=HEX hash=HEX\n
 *
 *	seq	1 for the first record of a file, then +1 per record
 *	time	UTC wall clock, milliseconds; it may go backwards across a
 *		clock step, so order is by seq only
 *	who	startup | daemon | signal:SIGNAME | uid:N,pid:N
 *	event	a name: [a-z][a-z0-9_-]*, at most AUDIT_NAME_MAX bytes
 *	chain	written by the daemon, never by callers: the file's tail did
 *		not parse when it was opened (see audit_open)
 *	KEY	a name, not one of the above nor prev or hash, no repeats
 *	VALUE	bare when it is non-empty printable ASCII without space,
 *		'"', '\\' or '='; otherwise in double quotes, with \" \\ \n
 *		\r \t and \xHH (lower-case hex) for every other byte below
 *		0x20 or from 0x7f.  Exactly one spelling per value: a line
 *		using another is malformed.
 *	prev	the previous record's hash, 64 zero digits for the first
 *	hash	BLAKE2b-256 over the previous hash (32 raw bytes) followed
 *		by this line up to, not including, " hash=", as lower-case
 *		hex
 *
 * A line is printable ASCII only and at most AUDIT_LINE_MAX bytes with
 * its newline.  The syslog copy (audit_append) is the same line without
 * "prev=" and the newline: seq and hash there are the external anchor
 * that shows records deleted from the end of the file, which the file
 * alone cannot.  The hash has no key: it finds a changed record, not a
 * writer who rewrites everything after it; the syslog copy does that.
 */
#ifndef NTPD_AUDIT_H
#define NTPD_AUDIT_H

#include <sys/types.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define AUDIT_FILE_DEFAULT	"/var/lib/ntpd/audit.log"

#define AUDIT_LINE_MAX		1024	/* a record, newline included */
#define AUDIT_NAME_MAX		32	/* an event name or a key */
#define AUDIT_WHO_MAX		48	/* a who, terminator included */
#define AUDIT_FIELDS_MAX	720	/* " KEY=VALUE..." text of a record */
#define AUDIT_FIELDS_NMAX	32	/* KEY=VALUE pairs in a record */
#define AUDIT_HASH_LEN		32	/* BLAKE2b-256 */
#define AUDIT_HEX_LEN		(2 * AUDIT_HASH_LEN)
#define AUDIT_TIME_LEN		24	/* "2026-11-21T22:31:05.123Z" */
#define AUDIT_MSG_MAX		160	/* an error's description */
#define AUDIT_TAIL_MAX		65536	/* how far back audit_open looks */

/* who, when it is not a control client or a signal. */
#define AUDIT_WHO_STARTUP	"startup"	/* configuration at start */
#define AUDIT_WHO_DAEMON	"daemon"	/* the daemon's own decision */

/* Event names, so that writers agree on them. */
#define AUDIT_EV_START		"start"
#define AUDIT_EV_STOP		"stop"
#define AUDIT_EV_RELOAD		"reload"
#define AUDIT_EV_SOURCE_ADD	"source-add"
#define AUDIT_EV_SOURCE_DEL	"source-remove"
#define AUDIT_EV_ACL_ADD	"acl-add"	/* allow or deny rule */
#define AUDIT_EV_ACL_DEL	"acl-remove"
#define AUDIT_EV_LISTEN_ADD	"listen-add"
#define AUDIT_EV_LISTEN_DEL	"listen-remove"
#define AUDIT_EV_NETNS_ADD	"netns-add"
#define AUDIT_EV_NETNS_DEL	"netns-remove"
#define AUDIT_EV_RATELIMIT	"ratelimit-set"
#define AUDIT_EV_TOLERANCE	"tolerance-set"
#define AUDIT_EV_TIMEZONE	"timezone-set"
#define AUDIT_EV_SETTING	"setting-set"	/* any other statement */
#define AUDIT_EV_CLOCK_STEP	"clock-step"
#define AUDIT_EV_REFUSED	"correction-refused"

/*
 * "uid:N,pid:N" for a control client (SO_PEERCRED), "signal:SIGHUP" for
 * a signal, into buf.  Return 0, or -1 with errno (ERANGE: buf short).
 */
int	audit_who_peer(char *buf, size_t len, uid_t uid, pid_t pid);
int	audit_who_signal(char *buf, size_t len, int signo);

/*
 * Writer side, step 1: a record under construction.  Every failure is
 * remembered (the first one), so a caller may add all fields and check
 * once: audit_append() refuses a record that had an error.
 */
struct audit_rec {
	char		event[AUDIT_NAME_MAX + 1];
	char		who[AUDIT_WHO_MAX];
	struct timespec	time;		/* now, unless audit_rec_settime() */
	char		fields[AUDIT_FIELDS_MAX];	/* " KEY=VALUE..." */
	size_t		len;
	char		keys[AUDIT_FIELDS_NMAX][AUDIT_NAME_MAX + 1];
	size_t		nkeys;
	int		error;		/* errno of the first failure, or 0 */
	char		msg[AUDIT_MSG_MAX];
};

/*
 * Each returns 0, or -1 with errno and rec->msg set: EINVAL for a bad
 * event, who or key (or a reserved key: seq time who event chain prev
 * hash), E2BIG when the record would exceed AUDIT_FIELDS_MAX bytes or
 * AUDIT_FIELDS_NMAX fields.  Values are any bytes; they are escaped.
 */
int	audit_rec_init(struct audit_rec *, const char *event, const char *who);
void	audit_rec_settime(struct audit_rec *, const struct timespec *);
int	audit_rec_add(struct audit_rec *, const char *key, const char *value);
int	audit_rec_addn(struct audit_rec *, const char *key, const void *value,
	    size_t len);
int	audit_rec_addf(struct audit_rec *, const char *key, const char *fmt,
	    ...) __attribute__((format(printf, 3, 4)));

/* How audit_open() found the file. */
enum audit_state {
	AUDIT_NOFILE,		/* audit_init(): numbered, hashed, not stored */
	AUDIT_NEW,		/* empty: the chain starts at seq 1 */
	AUDIT_CONTINUED,	/* last line a valid record: chain goes on */
	AUDIT_RESUMED,		/* junk after the last valid record (a torn
				   write): the chain goes on from that record,
				   the next one says chain=resumed */
	AUDIT_BROKEN,		/* no valid record in the last AUDIT_TAIL_MAX
				   bytes: a new chain from seq 1, the next
				   record says chain=broken */
};

/* Writer side, step 2: the file and the chain's state.  No globals. */
struct audit {
	int		 fd;		/* -1: no file */
	enum audit_state state;
	uint64_t	 next_seq;
	uint8_t		 prev[AUDIT_HASH_LEN];
	const char	*note;		/* chain= of the next record, or NULL */
	int		 need_nl;	/* the file ends inside a line */
	char		 msg[AUDIT_MSG_MAX];	/* the last error, or the
						   state in words */
};

/* No file: records are still numbered and hashed for syslog. */
void	audit_init(struct audit *);

/*
 * Open PATH for appending: created with mode 0600 if missing; refused
 * (-1, errno) if it is a symbolic link, not a regular file, not owned by
 * the effective uid, writable by group or others, or locked by another
 * writer.  The file is never truncated or rewritten: a torn or foreign
 * tail stays as evidence, is ended with a newline, and the chain goes on
 * from the last valid record found (a->state says how).  The audit file
 * is the record of what happened, so nothing is ever silently dropped:
 * verification keeps reporting such a tail until the file is rotated.
 */
int	audit_open(struct audit *, const char *path);
void	audit_close(struct audit *);

/*
 * Number, chain and hash the record; write it with one write(2) and
 * fsync.  If sysline is not NULL, the syslog form goes there (it is
 * filled even when writing fails, so the event still reaches syslog).
 * Returns 0, or -1 with errno and a->msg; a record not written does not
 * advance the chain.
 */
int	audit_append(struct audit *, const struct audit_rec *,
	    char *sysline, size_t syslen);

/* Reader side: bounded lines from a file descriptor or a FILE. */
struct audit_reader {
	int		 fd;		/* -1 when reading fp */
	FILE		*fp;
	char		 buf[4096];
	size_t		 off, len;
	int		 eof;
	uint64_t	 lineno;
	char		 line[AUDIT_LINE_MAX + 1];
};

struct audit_line {
	const char	*text;		/* without the newline, NUL-ended */
	size_t		 len;
	uint64_t	 lineno;	/* from 1 */
	int		 toolong;	/* longer than AUDIT_LINE_MAX: cut */
	int		 unterminated;	/* last line, no newline */
};

void	audit_reader_fd(struct audit_reader *, int fd);
void	audit_reader_file(struct audit_reader *, FILE *);
/* 1: a line; 0: end of input; -1: read error, errno set. */
int	audit_reader_next(struct audit_reader *, struct audit_line *);

/* A parsed record.  Values point into store: do not copy the struct. */
struct audit_field {
	char		 key[AUDIT_NAME_MAX + 1];
	const char	*value;		/* decoded, NUL-ended; may hold NULs */
	size_t		 valuelen;
};

struct audit_entry {
	uint64_t		seq;
	char			time[AUDIT_TIME_LEN + 1];
	char			who[AUDIT_WHO_MAX];
	char			event[AUDIT_NAME_MAX + 1];
	struct audit_field	fields[AUDIT_FIELDS_NMAX];	/* chain too */
	size_t			nfields;
	uint8_t			prev[AUDIT_HASH_LEN];
	uint8_t			hash[AUDIT_HASH_LEN];	/* as written */
	uint8_t			computed[AUDIT_HASH_LEN]; /* of the text */
	char			store[AUDIT_LINE_MAX];
};

/*
 * Parse one line (no newline) strictly.  Returns 0, or -1 with errno
 * EINVAL and the reason in err.  A record parses whatever its hash is:
 * compare e->hash with e->computed.
 */
int	audit_parse(const char *line, size_t len, struct audit_entry *,
	    char *err, size_t errlen);

/*
 * Escape a value as it is written in a record (bare or quoted) into
 * dst.  Returns its length, or -1 with errno ERANGE if dst is short.
 */
ssize_t	audit_encode_value(char *dst, size_t dstlen, const void *value,
	    size_t len);

/* The first problem audit_verify_*() found. */
enum audit_problem {
	AUDIT_OK,
	AUDIT_MALFORMED,	/* the line is not a record */
	AUDIT_TRUNCATED,	/* the last line has no newline */
	AUDIT_MODIFIED,		/* the hash does not match the record */
	AUDIT_DELETED,		/* a sequence gap whose records never come */
	AUDIT_REORDERED,	/* seq goes backwards, or comes later */
	AUDIT_IOERROR,		/* reading failed: error holds errno */
};

struct audit_verdict {
	enum audit_problem	kind;
	uint64_t		line;		/* of the problem, from 1 */
	uint64_t		seq;		/* of that line, if have_seq */
	int			have_seq;
	uint64_t		nrecords;	/* verified before a problem */
	uint64_t		last_seq;	/* of the last verified one */
	uint8_t			last_hash[AUDIT_HASH_LEN];
	int			error;
	char			msg[AUDIT_MSG_MAX];	/* details */
};

/*
 * Verify a whole trail from where the reader stands.  Returns 0 when
 * the chain is intact, 1 when v->kind names a problem, -1 on a read
 * error (v->kind AUDIT_IOERROR).  The end of the file cannot vouch for
 * itself: compare last_seq and last_hash with the syslog copy.
 */
int	audit_verify(struct audit_reader *, struct audit_verdict *);
int	audit_verify_fd(int fd, struct audit_verdict *);
int	audit_verify_file(FILE *, struct audit_verdict *);
const char *audit_problem_name(enum audit_problem);

/* Lower-case hex of a hash into buf (AUDIT_HEX_LEN + 1 bytes). */
void	audit_hex(char *buf, const uint8_t hash[AUDIT_HASH_LEN]);

#endif /* NTPD_AUDIT_H */
