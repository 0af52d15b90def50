/*
 * The audit trail's record format and hash chain (see audit.h): built
 * and appended by the daemon's parent, read and verified by ntpctl.
 * Every line this file writes is parsed back before it is written, so
 * the writer can never produce a record the reader would refuse.
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "audit.h"

/* The longest possible record must fit a line, whatever the fields. */
#define SEQ_DIGITS_MAX	20
#define NOTE_MAX	(sizeof(" chain=resumed") - 1)
_Static_assert(sizeof("seq=") - 1 + SEQ_DIGITS_MAX +
    sizeof(" time=") - 1 + AUDIT_TIME_LEN +
    sizeof(" who=") - 1 + AUDIT_WHO_MAX - 1 +
    sizeof(" event=") - 1 + AUDIT_NAME_MAX + NOTE_MAX +
    AUDIT_FIELDS_MAX - 1 +
    sizeof(" prev=") - 1 + AUDIT_HEX_LEN +
    sizeof(" hash=") - 1 + AUDIT_HEX_LEN + 1 <= AUDIT_LINE_MAX,
    "a full record must fit AUDIT_LINE_MAX");

/* 9999-12-31T23:59:59Z: the last second the time field can spell. */
#define TIME_MAX_SECS	253402300799LL

static const char *const reserved_keys[] = {
	"seq", "time", "who", "event", "chain", "prev", "hash",
};

static int
fail(char *msg, size_t msglen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Set msg and errno; always -1, for "return fail(...)". */
static int
fail(char *msg, size_t msglen, int code, const char *fmt, ...)
{
	va_list	 ap;

	if (msg != NULL && msglen > 0) {
		va_start(ap, fmt);
		vsnprintf(msg, msglen, fmt, ap);
		va_end(ap);
	}
	errno = code;
	return -1;
}

/* [a-z][a-z0-9_-]*, 1 to AUDIT_NAME_MAX bytes: keys and event names. */
static int
name_valid(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > AUDIT_NAME_MAX || s[0] < 'a' || s[0] > 'z')
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] < 'a' || s[i] > 'z') && (s[i] < '0' || s[i] > '9') &&
		    s[i] != '-' && s[i] != '_')
			return 0;
	}
	return 1;
}

static int
reserved(const char *key)
{
	size_t	 i;

	for (i = 0; i < sizeof(reserved_keys) / sizeof(reserved_keys[0]); i++)
		if (strcmp(key, reserved_keys[i]) == 0)
			return 1;
	return 0;
}

/*
 * A decimal without leading zeros, at most max.  *end is where it
 * stopped; returns 0 when there were no digits or too many.
 */
static int
parse_dec(const char *s, const char **end, uint64_t max, uint64_t *out)
{
	uint64_t	 v = 0;
	size_t		 i;

	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		if (i > 0 && v == 0)
			return 0;			/* leading zero */
		if (v > (max - (uint64_t)(s[i] - '0')) / 10)
			return 0;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (i == 0)
		return 0;
	*end = s + i;
	*out = v;
	return 1;
}

/* startup | daemon | signal:SIG[A-Z0-9]{1,12} | uid:N,pid:N */
static int
who_valid(const char *s)
{
	const char	*p;
	uint64_t	 n;
	size_t		 i;

	if (strnlen(s, AUDIT_WHO_MAX) >= AUDIT_WHO_MAX)
		return 0;
	if (strcmp(s, AUDIT_WHO_STARTUP) == 0 ||
	    strcmp(s, AUDIT_WHO_DAEMON) == 0)
		return 1;
	if (strncmp(s, "signal:SIG", 10) == 0) {
		p = s + 10;
		for (i = 0; p[i] != '\0'; i++)
			if ((p[i] < 'A' || p[i] > 'Z') &&
			    (p[i] < '0' || p[i] > '9'))
				return 0;
		return i >= 1 && i <= 12;
	}
	if (strncmp(s, "uid:", 4) != 0 ||
	    !parse_dec(s + 4, &p, UINT32_MAX, &n) ||
	    strncmp(p, ",pid:", 5) != 0 ||
	    !parse_dec(p + 5, &p, INT32_MAX, &n))
		return 0;
	return *p == '\0';
}

int
audit_who_peer(char *buf, size_t len, uid_t uid, pid_t pid)
{
	int	 n;

	if (buf == NULL || pid < 0) {
		errno = EINVAL;
		return -1;
	}
	n = snprintf(buf, len, "uid:%u,pid:%d", (unsigned int)uid, (int)pid);
	if (n < 0 || (size_t)n >= len) {
		errno = ERANGE;
		return -1;
	}
	return 0;
}

int
audit_who_signal(char *buf, size_t len, int signo)
{
	const char	*name = sigabbrev_np(signo);
	char		 tmp[AUDIT_WHO_MAX];
	int		 n;

	if (buf == NULL || signo <= 0) {
		errno = EINVAL;
		return -1;
	}
	/* Real-time signals have no plain name: their number then. */
	if (name != NULL)
		n = snprintf(tmp, sizeof(tmp), "signal:SIG%s", name);
	else
		n = snprintf(tmp, sizeof(tmp), "signal:SIG%d", signo);
	if (n < 0 || (size_t)n >= sizeof(tmp) || !who_valid(tmp))
		n = snprintf(tmp, sizeof(tmp), "signal:SIG%d", signo);
	if (n < 0 || (size_t)n >= len) {
		errno = ERANGE;
		return -1;
	}
	memcpy(buf, tmp, (size_t)n + 1);
	return 0;
}

void
audit_hex(char *buf, const uint8_t hash[AUDIT_HASH_LEN])
{
	static const char	 digits[] = "0123456789abcdef";
	size_t			 i;

	for (i = 0; i < AUDIT_HASH_LEN; i++) {
		buf[2 * i] = digits[hash[i] >> 4];
		buf[2 * i + 1] = digits[hash[i] & 0xf];
	}
	buf[AUDIT_HEX_LEN] = '\0';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;			/* upper case is not canonical */
}

static int
unhex(const char *s, size_t len, uint8_t out[AUDIT_HASH_LEN])
{
	size_t	 i;
	int	 hi, lo;

	if (len != AUDIT_HEX_LEN)
		return 0;
	for (i = 0; i < AUDIT_HASH_LEN; i++) {
		if ((hi = hexval(s[2 * i])) == -1 ||
		    (lo = hexval(s[2 * i + 1])) == -1)
			return 0;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 1;
}

/* BLAKE2b-256 over the previous hash, then the text before " hash=". */
static void
chain_hash(uint8_t out[AUDIT_HASH_LEN], const uint8_t prev[AUDIT_HASH_LEN],
    const char *text, size_t len)
{
	crypto_generichash_state	 st;

	crypto_generichash_init(&st, NULL, 0, AUDIT_HASH_LEN);
	crypto_generichash_update(&st, prev, AUDIT_HASH_LEN);
	crypto_generichash_update(&st, (const unsigned char *)text, len);
	crypto_generichash_final(&st, out, AUDIT_HASH_LEN);
}

/* A value that may stand bare: no quoting, no escapes. */
static int
bare_ok(const uint8_t *v, size_t len)
{
	size_t	 i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (v[i] <= ' ' || v[i] >= 0x7f || v[i] == '"' ||
		    v[i] == '\\' || v[i] == '=')
			return 0;
	return 1;
}

ssize_t
audit_encode_value(char *dst, size_t dstlen, const void *value, size_t len)
{
	static const char	 digits[] = "0123456789abcdef";
	const uint8_t		*v = value;
	char			 esc[4];
	size_t			 i, n = 0, k;

	if (dst == NULL || (value == NULL && len > 0)) {
		errno = EINVAL;
		return -1;
	}
	if (bare_ok(v, len)) {
		if (len >= dstlen || len > SSIZE_MAX)
			goto short_buf;
		memcpy(dst, v, len);
		dst[len] = '\0';
		return (ssize_t)len;
	}
	if (dstlen < 3)
		goto short_buf;
	dst[n++] = '"';
	for (i = 0; i < len; i++) {
		k = 0;
		switch (v[i]) {
		case '"':
		case '\\':
			esc[k++] = '\\';
			esc[k++] = (char)v[i];
			break;
		case '\n':
			esc[k++] = '\\';
			esc[k++] = 'n';
			break;
		case '\r':
			esc[k++] = '\\';
			esc[k++] = 'r';
			break;
		case '\t':
			esc[k++] = '\\';
			esc[k++] = 't';
			break;
		default:
			if (v[i] >= ' ' && v[i] < 0x7f) {
				esc[k++] = (char)v[i];
				break;
			}
			esc[k++] = '\\';
			esc[k++] = 'x';
			esc[k++] = digits[v[i] >> 4];
			esc[k++] = digits[v[i] & 0xf];
			break;
		}
		/* Room for this, the closing quote and the terminator. */
		if (n + k + 2 > dstlen)
			goto short_buf;
		memcpy(dst + n, esc, k);
		n += k;
	}
	dst[n++] = '"';
	dst[n] = '\0';
	return (ssize_t)n;

 short_buf:
	if (dstlen > 0)
		dst[0] = '\0';
	errno = ERANGE;
	return -1;
}

/*
 * Decode a value spelled s[0..len) into out (NUL added) and check that
 * it is the one spelling the writer would use.  Returns 0 or -1.
 */
static int
decode_value(const char *s, size_t len, char *out, size_t outlen,
    size_t *olen, char *err, size_t errlen)
{
	char	 again[AUDIT_LINE_MAX];
	size_t	 i, n = 0;
	ssize_t	 elen;
	int	 hi, lo;

	if (len >= outlen)
		return fail(err, errlen, EINVAL, "value too long");
	if (len == 0 || s[0] != '"') {
		memcpy(out, s, len);
		n = len;
	} else {
		if (len < 2 || s[len - 1] != '"')
			return fail(err, errlen, EINVAL, "unterminated quote");
		for (i = 1; i < len - 1; i++) {
			if (s[i] == '"')
				return fail(err, errlen, EINVAL,
				    "stray quote in a value");
			if (s[i] != '\\') {
				out[n++] = s[i];
				continue;
			}
			if (++i >= len - 1)
				return fail(err, errlen, EINVAL,
				    "unfinished escape");
			switch (s[i]) {
			case '"':
			case '\\':
				out[n++] = s[i];
				break;
			case 'n':
				out[n++] = '\n';
				break;
			case 'r':
				out[n++] = '\r';
				break;
			case 't':
				out[n++] = '\t';
				break;
			case 'x':
				if (i + 2 >= len - 1 ||
				    (hi = hexval(s[i + 1])) == -1 ||
				    (lo = hexval(s[i + 2])) == -1)
					return fail(err, errlen, EINVAL,
					    "bad \\x escape");
				out[n++] = (char)(hi << 4 | lo);
				i += 2;
				break;
			default:
				return fail(err, errlen, EINVAL,
				    "unknown escape \\%c", s[i]);
			}
		}
	}
	out[n] = '\0';
	/* One spelling per value, so one text never means two things. */
	elen = audit_encode_value(again, sizeof(again), out, n);
	if (elen < 0 || (size_t)elen != len || memcmp(again, s, len) != 0)
		return fail(err, errlen, EINVAL, "value not in canonical form");
	*olen = n;
	return 0;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ", digits in range. */
static int
time_valid(const char *s, size_t len)
{
	static const char	 shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	int			 mon, day, hour, min, sec;
	size_t			 i;

	if (len != AUDIT_TIME_LEN)
		return 0;
	for (i = 0; i < len; i++) {
		if (shape[i] == 'd') {
			if (s[i] < '0' || s[i] > '9')
				return 0;
		} else if (s[i] != shape[i])
			return 0;
	}
#define TWO(p)	((s[p] - '0') * 10 + (s[(p) + 1] - '0'))
	mon = TWO(5);
	day = TWO(8);
	hour = TWO(11);
	min = TWO(14);
	sec = TWO(17);
#undef TWO
	return mon >= 1 && mon <= 12 && day >= 1 && day <= 31 &&
	    hour <= 23 && min <= 59 && sec <= 60;
}

static void
format_time(char buf[AUDIT_TIME_LEN + 1], const struct timespec *ts)
{
	struct tm	 tm;
	time_t		 t;
	long		 ms;
	char		 tmp[96];	/* what the compiler cannot bound */
	int		 n;

	/* Clamped to what the field can spell; the clock is never this
	   far out, but a record must still be written. */
	t = ts->tv_sec < 0 ? 0 :
	    ts->tv_sec > TIME_MAX_SECS ? (time_t)TIME_MAX_SECS : ts->tv_sec;
	ms = ts->tv_nsec < 0 ? 0 :
	    ts->tv_nsec >= 1000000000L ? 999 : ts->tv_nsec / 1000000L;
	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	n = snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ms);
	if (n != AUDIT_TIME_LEN)
		strlcpy(tmp, "1970-01-01T00:00:00.000Z", sizeof(tmp));
	memcpy(buf, tmp, AUDIT_TIME_LEN + 1);
}

/*
 * Records under construction.
 */

/* The first failure sticks; later ones keep its message. */
static int
rec_fail(struct audit_rec *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
rec_fail(struct audit_rec *r, int code, const char *fmt, ...)
{
	va_list	 ap;

	if (r->error == 0) {
		r->error = code;
		va_start(ap, fmt);
		vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
		va_end(ap);
	}
	errno = code;
	return -1;
}

int
audit_rec_init(struct audit_rec *r, const char *event, const char *who)
{
	if (r == NULL) {
		errno = EINVAL;
		return -1;
	}
	memset(r, 0, sizeof(*r));
	if (clock_gettime(CLOCK_REALTIME, &r->time) == -1)
		memset(&r->time, 0, sizeof(r->time));
	if (event == NULL || !name_valid(event, strlen(event)))
		return rec_fail(r, EINVAL, "invalid event name");
	if (who == NULL || !who_valid(who))
		return rec_fail(r, EINVAL, "invalid who");
	strlcpy(r->event, event, sizeof(r->event));
	strlcpy(r->who, who, sizeof(r->who));
	return 0;
}

void
audit_rec_settime(struct audit_rec *r, const struct timespec *ts)
{
	if (r != NULL && ts != NULL)
		r->time = *ts;
}

int
audit_rec_addn(struct audit_rec *r, const char *key, const void *value,
    size_t len)
{
	char	 enc[AUDIT_FIELDS_MAX];
	size_t	 klen, need, i;
	ssize_t	 elen;

	if (r == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (r->error != 0) {
		errno = r->error;
		return -1;
	}
	if (key == NULL || !name_valid(key, strlen(key)))
		return rec_fail(r, EINVAL, "invalid key");
	if (reserved(key))
		return rec_fail(r, EINVAL, "key %s is reserved", key);
	for (i = 0; i < r->nkeys; i++)
		if (strcmp(r->keys[i], key) == 0)
			return rec_fail(r, EINVAL, "key %s repeated", key);
	if (r->nkeys >= AUDIT_FIELDS_NMAX)
		return rec_fail(r, E2BIG, "more than %d fields",
		    AUDIT_FIELDS_NMAX);
	if (value == NULL && len > 0)
		return rec_fail(r, EINVAL, "no value for key %s", key);
	if ((elen = audit_encode_value(enc, sizeof(enc), value, len)) == -1)
		return rec_fail(r, E2BIG, "value of %s too long", key);
	klen = strlen(key);
	need = 1 + klen + 1 + (size_t)elen;		/* " key=value" */
	if (r->len + need >= sizeof(r->fields))
		return rec_fail(r, E2BIG, "record too long at key %s", key);
	r->fields[r->len] = ' ';
	memcpy(r->fields + r->len + 1, key, klen);
	r->fields[r->len + 1 + klen] = '=';
	memcpy(r->fields + r->len + 2 + klen, enc, (size_t)elen);
	r->len += need;
	r->fields[r->len] = '\0';
	strlcpy(r->keys[r->nkeys++], key, sizeof(r->keys[0]));
	return 0;
}

int
audit_rec_add(struct audit_rec *r, const char *key, const char *value)
{
	if (value == NULL) {
		if (r != NULL)
			return rec_fail(r, EINVAL, "no value");
		errno = EINVAL;
		return -1;
	}
	return audit_rec_addn(r, key, value, strlen(value));
}

int
audit_rec_addf(struct audit_rec *r, const char *key, const char *fmt, ...)
{
	char	 buf[AUDIT_FIELDS_MAX];
	va_list	 ap;
	int	 n;

	if (r == NULL || fmt == NULL) {
		if (r != NULL)
			return rec_fail(r, EINVAL, "no format");
		errno = EINVAL;
		return -1;
	}
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return rec_fail(r, EINVAL, "bad format for key");
	if ((size_t)n >= sizeof(buf))
		return rec_fail(r, E2BIG, "value too long");
	return audit_rec_addn(r, key, buf, (size_t)n);
}

/*
 * Parsing.
 */

int
audit_parse(const char *line, size_t len, struct audit_entry *e, char *err,
    size_t errlen)
{
	char		 val[AUDIT_LINE_MAX];
	const char	*key, *v, *end;
	size_t		 pos = 0, klen, vlen, dlen = 0, used = 0, hashed = 0, i;
	int		 field = 0, have_prev = 0, have_hash = 0;
	uint64_t	 seq;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (line == NULL || e == NULL)
		return fail(err, errlen, EINVAL, "no line");
	memset(e, 0, sizeof(*e));
	if (len == 0)
		return fail(err, errlen, EINVAL, "empty line");
	if (len > AUDIT_LINE_MAX - 1)
		return fail(err, errlen, EINVAL, "longer than %d bytes",
		    AUDIT_LINE_MAX);
	for (i = 0; i < len; i++)
		if ((unsigned char)line[i] < ' ' ||
		    (unsigned char)line[i] > '~')
			return fail(err, errlen, EINVAL,
			    "byte 0x%02x at column %zu",
			    (unsigned char)line[i], i + 1);

	while (pos < len) {
		if (have_hash)
			return fail(err, errlen, EINVAL,
			    "text after the hash field");
		if (field > 0) {
			if (line[pos] != ' ' || ++pos >= len)
				return fail(err, errlen, EINVAL,
				    "bad separator at column %zu", pos + 1);
		}
		key = line + pos;
		for (klen = 0; pos + klen < len && line[pos + klen] != '=' &&
		    line[pos + klen] != ' '; klen++)
			;
		if (pos + klen >= len || line[pos + klen] != '=' ||
		    !name_valid(key, klen))
			return fail(err, errlen, EINVAL,
			    "bad key at column %zu", pos + 1);
		pos += klen + 1;
		v = line + pos;
		vlen = 0;
		if (pos < len && line[pos] == '"') {
			/* To the closing quote, stepping over escapes. */
			for (vlen = 1; pos + vlen < len &&
			    line[pos + vlen] != '"'; vlen++)
				if (line[pos + vlen] == '\\')
					vlen++;
			if (pos + vlen >= len)
				return fail(err, errlen, EINVAL,
				    "unterminated quote at column %zu",
				    pos + 1);
			vlen++;
		} else {
			while (pos + vlen < len && line[pos + vlen] != ' ')
				vlen++;
		}
		if (decode_value(v, vlen, val, sizeof(val), &dlen, err,
		    errlen) == -1)
			return -1;
#define KEY_IS(s)	(klen == sizeof(s) - 1 && memcmp(key, s, klen) == 0)
		/* Reserved fields are plain text: no NUL may hide in them. */
		if ((field < 4 || KEY_IS("prev") || KEY_IS("hash") ||
		    KEY_IS("chain")) && memchr(val, '\0', dlen) != NULL)
			return fail(err, errlen, EINVAL, "NUL in field %.*s",
			    (int)klen, key);
		switch (field) {
		case 0:
			if (!KEY_IS("seq"))
				return fail(err, errlen, EINVAL,
				    "first field is not seq");
			if (!parse_dec(val, &end, UINT64_MAX, &seq) ||
			    *end != '\0' || seq == 0)
				return fail(err, errlen, EINVAL, "bad seq");
			e->seq = seq;
			break;
		case 1:
			if (!KEY_IS("time") || !time_valid(val, dlen))
				return fail(err, errlen, EINVAL, "bad time");
			memcpy(e->time, val, dlen + 1);
			break;
		case 2:
			if (!KEY_IS("who") || dlen >= sizeof(e->who) ||
			    !who_valid(val))
				return fail(err, errlen, EINVAL, "bad who");
			memcpy(e->who, val, dlen + 1);
			break;
		case 3:
			if (!KEY_IS("event") || !name_valid(val, dlen))
				return fail(err, errlen, EINVAL, "bad event");
			memcpy(e->event, val, dlen + 1);
			break;
		default:
			if (KEY_IS("prev")) {
				if (have_prev || !unhex(val, dlen, e->prev))
					return fail(err, errlen, EINVAL,
					    "bad prev");
				have_prev = 1;
				break;
			}
			if (KEY_IS("hash")) {
				if (!have_prev || !unhex(val, dlen, e->hash))
					return fail(err, errlen, EINVAL,
					    "bad hash");
				have_hash = 1;
				/* Hashed: the text before " hash=". */
				hashed = (size_t)(key - line) - 1;
				break;
			}
			if (have_prev)
				return fail(err, errlen, EINVAL,
				    "field after prev");
			if (KEY_IS("chain")) {
				if (field != 4 ||
				    (strcmp(val, "resumed") != 0 &&
				    strcmp(val, "broken") != 0))
					return fail(err, errlen, EINVAL,
					    "bad chain field");
			} else {
				for (i = 0; i < sizeof(reserved_keys) /
				    sizeof(reserved_keys[0]); i++)
					if (klen == strlen(reserved_keys[i]) &&
					    memcmp(key, reserved_keys[i],
					    klen) == 0)
						return fail(err, errlen, EINVAL,
						    "misplaced %.*s field",
						    (int)klen, key);
			}
			for (i = 0; i < e->nfields; i++)
				if (strlen(e->fields[i].key) == klen &&
				    memcmp(e->fields[i].key, key, klen) == 0)
					return fail(err, errlen, EINVAL,
					    "key %.*s repeated", (int)klen,
					    key);
			if (e->nfields >= AUDIT_FIELDS_NMAX)
				return fail(err, errlen, EINVAL,
				    "more than %d fields", AUDIT_FIELDS_NMAX);
			if (used + dlen + 1 > sizeof(e->store))
				return fail(err, errlen, EINVAL,
				    "fields too long");
			memcpy(e->fields[e->nfields].key, key, klen);
			e->fields[e->nfields].key[klen] = '\0';
			memcpy(e->store + used, val, dlen + 1);
			e->fields[e->nfields].value = e->store + used;
			e->fields[e->nfields].valuelen = dlen;
			e->nfields++;
			used += dlen + 1;
			break;
		}
#undef KEY_IS
		pos += vlen;
		field++;
	}
	if (!have_hash)
		return fail(err, errlen, EINVAL, "no hash field");
	chain_hash(e->computed, e->prev, line, hashed);
	return 0;
}

/*
 * Reading lines.
 */

void
audit_reader_fd(struct audit_reader *r, int fd)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
}

void
audit_reader_file(struct audit_reader *r, FILE *fp)
{
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	r->fp = fp;
}

static int
reader_fill(struct audit_reader *r)
{
	ssize_t	 n;
	size_t	 got;

	r->off = r->len = 0;
	if (r->fp != NULL) {
		got = fread(r->buf, 1, sizeof(r->buf), r->fp);
		if (got == 0 && ferror(r->fp)) {
			if (errno == 0)
				errno = EIO;
			return -1;
		}
		if (got == 0)
			r->eof = 1;
		r->len = got;
		return 0;
	}
	if (r->fd < 0) {
		errno = EBADF;
		return -1;
	}
	do
		n = read(r->fd, r->buf, sizeof(r->buf));
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	if (n == 0)
		r->eof = 1;
	r->len = (size_t)n;
	return 0;
}

int
audit_reader_next(struct audit_reader *r, struct audit_line *l)
{
	size_t	 n = 0;
	int	 any = 0, nl = 0;
	char	 c;

	memset(l, 0, sizeof(*l));
	while (!nl) {
		if (r->off == r->len) {
			if (r->eof)
				break;
			if (reader_fill(r) == -1)
				return -1;
			continue;
		}
		any = 1;
		c = r->buf[r->off++];
		if (c == '\n')
			nl = 1;
		else if (n < AUDIT_LINE_MAX - 1)
			r->line[n++] = c;
		else
			l->toolong = 1;		/* the rest is skipped */
	}
	if (!any)
		return 0;
	r->line[n] = '\0';
	l->text = r->line;
	l->len = n;
	l->lineno = ++r->lineno;
	l->unterminated = !nl;
	return 1;
}

/*
 * Verifying.
 */

const char *
audit_problem_name(enum audit_problem p)
{
	switch (p) {
	case AUDIT_OK:
		return "chain intact";
	case AUDIT_MALFORMED:
		return "malformed";
	case AUDIT_TRUNCATED:
		return "truncated";
	case AUDIT_MODIFIED:
		return "modified";
	case AUDIT_DELETED:
		return "deleted";
	case AUDIT_REORDERED:
		return "reordered";
	case AUDIT_IOERROR:
		return "read error";
	}
	return "unknown";
}

static int
verdict(struct audit_verdict *v, enum audit_problem kind, uint64_t line,
    const struct audit_entry *e, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int
verdict(struct audit_verdict *v, enum audit_problem kind, uint64_t line,
    const struct audit_entry *e, const char *fmt, ...)
{
	va_list	 ap;

	v->kind = kind;
	v->line = line;
	if (e != NULL) {
		v->seq = e->seq;
		v->have_seq = 1;
	}
	va_start(ap, fmt);
	vsnprintf(v->msg, sizeof(v->msg), fmt, ap);
	va_end(ap);
	return 1;
}

/*
 * After a gap [lo, hi) at some line: do the missing records come later
 * (reordered) or never (deleted)?  Reads the rest of the input.
 * Returns 1, 0, or -1 on a read error.
 */
static int
missing_comes_later(struct audit_reader *r, uint64_t lo, uint64_t hi)
{
	struct audit_entry	 e;
	struct audit_line	 l;
	int			 rc;

	while ((rc = audit_reader_next(r, &l)) == 1) {
		if (l.toolong ||
		    audit_parse(l.text, l.len, &e, NULL, 0) == -1)
			continue;
		if (e.seq >= lo && e.seq < hi)
			return 1;
	}
	return rc;
}

int
audit_verify(struct audit_reader *r, struct audit_verdict *v)
{
	struct audit_entry	 e;
	struct audit_line	 l;
	char			 why[AUDIT_MSG_MAX];
	uint8_t			 prev[AUDIT_HASH_LEN];
	uint64_t		 expect = 1, prev_line = 0, prev_seq = 0;
	int			 rc;

	if (v == NULL || r == NULL) {
		errno = EINVAL;
		return -1;
	}
	memset(v, 0, sizeof(*v));
	memset(prev, 0, sizeof(prev));
	for (;;) {
		if ((rc = audit_reader_next(r, &l)) == -1)
			goto ioerror;
		if (rc == 0)
			break;
		if (l.toolong)
			return verdict(v, AUDIT_MALFORMED, l.lineno, NULL,
			    "longer than %d bytes", AUDIT_LINE_MAX);
		if (audit_parse(l.text, l.len, &e, why, sizeof(why)) == -1) {
			if (l.unterminated)
				return verdict(v, AUDIT_TRUNCATED, l.lineno,
				    NULL, "last line cut short");
			return verdict(v, AUDIT_MALFORMED, l.lineno, NULL,
			    "%s", why);
		}
		/* Even a whole record lacking its newline was cut short. */
		if (l.unterminated)
			return verdict(v, AUDIT_TRUNCATED, l.lineno, &e,
			    "no newline at the end");
		if (memcmp(e.hash, e.computed, AUDIT_HASH_LEN) != 0)
			return verdict(v, AUDIT_MODIFIED, l.lineno, &e,
			    "hash does not match the record");
		if (e.seq < expect)
			return verdict(v, AUDIT_REORDERED, l.lineno, &e,
			    "seq %" PRIu64 " after seq %" PRIu64, e.seq,
			    prev_seq);
		if (e.seq > expect) {
			if (e.seq - expect == 1)
				verdict(v, AUDIT_DELETED, l.lineno, &e,
				    "1 record missing before it (seq %" PRIu64
				    ")", expect);
			else
				verdict(v, AUDIT_DELETED, l.lineno, &e,
				    "%" PRIu64 " records missing before it "
				    "(seq %" PRIu64 "-%" PRIu64 ")",
				    e.seq - expect, expect, e.seq - 1);
			if ((rc = missing_comes_later(r, expect, e.seq)) == -1)
				goto ioerror;
			if (rc == 1) {
				v->kind = AUDIT_REORDERED;
				snprintf(v->msg, sizeof(v->msg), "seq %" PRIu64
				    " comes later in the file", expect);
			}
			return 1;
		}
		if (memcmp(e.prev, prev, AUDIT_HASH_LEN) != 0) {
			/* Both hashes check, so the record before was
			   rewritten and its hash recomputed. */
			if (prev_line == 0)
				return verdict(v, AUDIT_MODIFIED, l.lineno, &e,
				    "first record links to a predecessor");
			verdict(v, AUDIT_MODIFIED, prev_line, NULL,
			    "hash recomputed; line %" PRIu64 " links to "
			    "another record", l.lineno);
			v->seq = prev_seq;
			v->have_seq = 1;
			v->nrecords--;
			return 1;
		}
		v->nrecords++;
		v->last_seq = e.seq;
		memcpy(v->last_hash, e.hash, AUDIT_HASH_LEN);
		memcpy(prev, e.hash, AUDIT_HASH_LEN);
		prev_line = l.lineno;
		prev_seq = e.seq;
		expect = e.seq + 1;
	}
	v->kind = AUDIT_OK;
	return 0;

 ioerror:
	v->kind = AUDIT_IOERROR;
	v->error = errno;
	snprintf(v->msg, sizeof(v->msg), "%s", strerror(errno));
	return -1;
}

/* The reader is large for a stack: one from the heap. */
static int
verify_alloc(int fd, FILE *fp, struct audit_verdict *v)
{
	struct audit_reader	*r;
	int			 rc, saved;

	if ((r = malloc(sizeof(*r))) == NULL) {
		memset(v, 0, sizeof(*v));
		v->kind = AUDIT_IOERROR;
		v->error = errno;
		snprintf(v->msg, sizeof(v->msg), "%s", strerror(errno));
		return -1;
	}
	if (fp != NULL)
		audit_reader_file(r, fp);
	else
		audit_reader_fd(r, fd);
	rc = audit_verify(r, v);
	saved = errno;
	free(r);
	errno = saved;
	return rc;
}

int
audit_verify_fd(int fd, struct audit_verdict *v)
{
	if (v == NULL) {
		errno = EINVAL;
		return -1;
	}
	return verify_alloc(fd, NULL, v);
}

int
audit_verify_file(FILE *fp, struct audit_verdict *v)
{
	if (fp == NULL || v == NULL) {
		errno = EINVAL;
		return -1;
	}
	return verify_alloc(-1, fp, v);
}

/*
 * Writing.
 */

void
audit_init(struct audit *a)
{
	memset(a, 0, sizeof(*a));
	a->fd = -1;
	a->state = AUDIT_NOFILE;
	a->next_seq = 1;
}

/* pread exactly len bytes at off. */
static int
read_at(int fd, char *buf, size_t len, off_t off)
{
	ssize_t	 n;
	size_t	 got = 0;

	while (got < len) {
		n = pread(fd, buf + got, len - got, off + (off_t)got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0) {
			errno = EIO;		/* shrank under us */
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

/*
 * Find where the chain goes on: the last line of the file's tail that is
 * a record whose hash checks.  Anything after it is a torn write or
 * foreign text: it stays, and the next record says so.
 */
static int
recover(struct audit *a, off_t size)
{
	struct audit_entry	*e = NULL;
	char			*buf = NULL;
	size_t			 n, start, end, ls, le;
	off_t			 off;
	int			 last = 1;

	if (size == 0) {
		a->state = AUDIT_NEW;
		snprintf(a->msg, sizeof(a->msg), "new audit trail");
		return 0;
	}
	off = size > AUDIT_TAIL_MAX ? size - AUDIT_TAIL_MAX : 0;
	n = (size_t)(size - off);
	if ((buf = malloc(n)) == NULL || (e = malloc(sizeof(*e))) == NULL) {
		free(buf);
		return fail(a->msg, sizeof(a->msg), ENOMEM, "out of memory");
	}
	if (read_at(a->fd, buf, n, off) == -1) {
		fail(a->msg, sizeof(a->msg), errno, "reading the tail: %s",
		    strerror(errno));
		goto out;
	}
	end = n;
	if (buf[n - 1] != '\n') {
		a->need_nl = 1;
		last = 0;
		while (end > 0 && buf[end - 1] != '\n')
			end--;
	}
	/* Mid-file, the window's first line is likely a fragment. */
	start = 0;
	if (off > 0) {
		while (start < end && buf[start] != '\n')
			start++;
		if (start < end)
			start++;
	}
	/* Complete lines, last first: each is buf[ls..le), '\n' at le. */
	while (end > start) {
		le = end - 1;
		for (ls = le; ls > start && buf[ls - 1] != '\n'; ls--)
			;
		if (audit_parse(buf + ls, le - ls, e, NULL, 0) == 0 &&
		    memcmp(e->hash, e->computed, AUDIT_HASH_LEN) == 0 &&
		    e->seq < UINT64_MAX) {
			a->next_seq = e->seq + 1;
			memcpy(a->prev, e->hash, AUDIT_HASH_LEN);
			if (last) {
				a->state = AUDIT_CONTINUED;
				snprintf(a->msg, sizeof(a->msg),
				    "audit trail continues after seq %" PRIu64,
				    e->seq);
			} else {
				a->state = AUDIT_RESUMED;
				a->note = "resumed";
				snprintf(a->msg, sizeof(a->msg), "audit trail "
				    "ends in a torn or foreign line; "
				    "continuing after seq %" PRIu64, e->seq);
			}
			goto done;
		}
		last = 0;
		end = ls;
	}
	a->state = AUDIT_BROKEN;
	a->note = "broken";
	a->next_seq = 1;
	memset(a->prev, 0, sizeof(a->prev));
	snprintf(a->msg, sizeof(a->msg), "no valid record in the last %zu "
	    "bytes of the audit trail; starting a new chain", n);
 done:
	free(buf);
	free(e);
	return 0;
 out:
	free(buf);
	free(e);
	return -1;
}

int
audit_open(struct audit *a, const char *path)
{
	struct stat	 st;
	int		 fd, created = 0, saved;

	if (a == NULL) {
		errno = EINVAL;
		return -1;
	}
	audit_init(a);
	if (path == NULL || *path == '\0')
		return fail(a->msg, sizeof(a->msg), EINVAL, "no file name");
	fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (fd != -1)
		created = 1;
	else if (errno == EEXIST)
		fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1)
		return fail(a->msg, sizeof(a->msg), errno, "%s: %s", path,
		    errno == ELOOP ? "is a symbolic link" : strerror(errno));
	/* Exactly 0600 whatever the umask. */
	if (created && fchmod(fd, 0600) == -1)
		goto bad_errno;
	if (fstat(fd, &st) == -1)
		goto bad_errno;
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return fail(a->msg, sizeof(a->msg), EINVAL,
		    "%s: not a regular file", path);
	}
	/* A trail others may write vouches for nothing. */
	if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		close(fd);
		return fail(a->msg, sizeof(a->msg), EPERM,
		    "%s: must be owned by uid %u and not writable by group "
		    "or others", path, (unsigned int)geteuid());
	}
	/* Two writers would fork the chain. */
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		saved = errno;
		close(fd);
		return fail(a->msg, sizeof(a->msg), saved,
		    "%s: %s", path, saved == EWOULDBLOCK ?
		    "in use by another process" : strerror(saved));
	}
	a->fd = fd;
	if (recover(a, st.st_size) == -1) {
		saved = errno;
		close(fd);
		a->fd = -1;
		errno = saved;
		return -1;
	}
	return 0;

 bad_errno:
	saved = errno;
	close(fd);
	return fail(a->msg, sizeof(a->msg), saved, "%s: %s", path,
	    strerror(saved));
}

void
audit_close(struct audit *a)
{
	if (a == NULL)
		return;
	if (a->fd != -1)
		close(a->fd);
	audit_init(a);
}

/* write(2) the whole buffer in one call; a short write is an error. */
static int
write_once(struct audit *a, const char *buf, size_t len)
{
	ssize_t	 n;

	do
		n = write(a->fd, buf, len);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return fail(a->msg, sizeof(a->msg), errno, "write: %s",
		    strerror(errno));
	if ((size_t)n != len) {
		/* Part of a line is in the file: end it before the next. */
		a->need_nl = 1;
		return fail(a->msg, sizeof(a->msg), EIO,
		    "short write (%zd of %zu bytes)", n, len);
	}
	return 0;
}

int
audit_append(struct audit *a, const struct audit_rec *r, char *sysline,
    size_t syslen)
{
	struct audit_entry	*e;
	char			 line[AUDIT_LINE_MAX], tbuf[AUDIT_TIME_LEN + 1];
	char			 hex[AUDIT_HEX_LEN + 1];
	uint8_t			 hash[AUDIT_HASH_LEN];
	size_t			 len, prevpos, hashpos, s;
	int			 n, bad;

	if (sysline != NULL && syslen > 0)
		sysline[0] = '\0';
	if (a == NULL || r == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (r->error != 0)
		return fail(a->msg, sizeof(a->msg), r->error,
		    "record refused: %s", r->msg);
	if (!name_valid(r->event, strnlen(r->event, sizeof(r->event))) ||
	    strnlen(r->who, sizeof(r->who)) >= sizeof(r->who) ||
	    !who_valid(r->who) || r->len >= sizeof(r->fields) ||
	    strnlen(r->fields, sizeof(r->fields)) != r->len)
		return fail(a->msg, sizeof(a->msg), EINVAL,
		    "record not built by audit_rec_init");
	if (a->next_seq == 0 || a->next_seq == UINT64_MAX)
		return fail(a->msg, sizeof(a->msg), EOVERFLOW,
		    "sequence exhausted");

	format_time(tbuf, &r->time);
	n = snprintf(line, sizeof(line), "seq=%" PRIu64 " time=%s who=%s "
	    "event=%s%s%s%s", a->next_seq, tbuf, r->who, r->event,
	    a->note != NULL ? " chain=" : "", a->note != NULL ? a->note : "",
	    r->fields);
	if (n < 0 || (size_t)n >= sizeof(line))
		return fail(a->msg, sizeof(a->msg), E2BIG, "record too long");
	prevpos = (size_t)n;
	audit_hex(hex, a->prev);
	n = snprintf(line + prevpos, sizeof(line) - prevpos, " prev=%s", hex);
	if (n < 0 || (size_t)n >= sizeof(line) - prevpos)
		return fail(a->msg, sizeof(a->msg), E2BIG, "record too long");
	hashpos = prevpos + (size_t)n;
	chain_hash(hash, a->prev, line, hashpos);
	audit_hex(hex, hash);
	n = snprintf(line + hashpos, sizeof(line) - hashpos, " hash=%s\n",
	    hex);
	if (n < 0 || (size_t)n >= sizeof(line) - hashpos)
		return fail(a->msg, sizeof(a->msg), E2BIG, "record too long");
	len = hashpos + (size_t)n;

	/* The syslog copy: all but prev (the previous line's hash). */
	if (sysline != NULL && syslen > 0) {
		s = prevpos < syslen - 1 ? prevpos : syslen - 1;
		memcpy(sysline, line, s);
		snprintf(sysline + s, syslen - s, "%.*s",
		    (int)(len - 1 - hashpos), line + hashpos);
	}

	/* The reader must accept every line the writer makes. */
	if ((e = malloc(sizeof(*e))) == NULL)
		return fail(a->msg, sizeof(a->msg), ENOMEM, "out of memory");
	bad = audit_parse(line, len - 1, e, a->msg, sizeof(a->msg)) == -1 ||
	    memcmp(e->hash, hash, AUDIT_HASH_LEN) != 0;
	free(e);
	if (bad)
		return fail(a->msg, sizeof(a->msg), EINVAL,
		    "record does not parse back");

	if (a->fd != -1) {
		if (a->need_nl) {
			if (write_once(a, "\n", 1) == -1)
				return -1;
			a->need_nl = 0;
		}
		if (write_once(a, line, len) == -1)
			return -1;
	}
	/* Written, so the chain moves on even if it may not be durable. */
	a->next_seq++;
	memcpy(a->prev, hash, AUDIT_HASH_LEN);
	a->note = NULL;
	if (a->fd != -1 && fsync(a->fd) == -1)
		return fail(a->msg, sizeof(a->msg), errno, "fsync: %s",
		    strerror(errno));
	return 0;
}
