/*
 * Unit tests for common/audit.c: value escaping, the record format, the
 * hash chain, and that verification names a modified, deleted,
 * reordered, malformed or truncated record at the right line.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "audit.h"

#define T0	1795300265	/* 2026-11-21T22:31:05Z */
#define BIG	(64 * 1024)

static const char zero_hex[] =
    "0000000000000000000000000000000000000000000000000000000000000000";

struct tmp {
	char	dir[64];
	char	path[128];
};

static void
tmp_make(struct tmp *t)
{
	strlcpy(t->dir, "/tmp/test_audit.XXXXXX", sizeof(t->dir));
	ck_assert_ptr_nonnull(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/audit.log", t->dir);
}

static void
tmp_remove(struct tmp *t)
{
	DIR		*d;
	struct dirent	*de;
	char		 p[PATH_MAX];

	if ((d = opendir(t->dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", t->dir, de->d_name);
		if (unlink(p) == -1)
			(void)rmdir(p);
	}
	closedir(d);
	rmdir(t->dir);
}

static size_t
slurp(const char *path, char *buf, size_t size)
{
	FILE	*fp;
	size_t	 n;

	ck_assert_ptr_nonnull(fp = fopen(path, "r"));
	n = fread(buf, 1, size - 1, fp);
	ck_assert(!ferror(fp));
	ck_assert_int_lt(n, size - 1);
	fclose(fp);
	buf[n] = '\0';
	return n;
}

static void
spill(const char *path, const char *buf, size_t len)
{
	FILE	*fp;

	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	ck_assert_uint_eq(fwrite(buf, 1, len, fp), len);
	ck_assert_int_eq(fclose(fp), 0);
}

/* Offset of line k (from 1) in buf, or len if there is no such line. */
static size_t
line_at(const char *buf, size_t len, int k)
{
	size_t	 off = 0;

	while (--k > 0) {
		const char *nl = memchr(buf + off, '\n', len - off);

		if (nl == NULL)
			return len;
		off = (size_t)(nl - buf) + 1;
	}
	return off;
}

static size_t
line_len(const char *buf, size_t len, int k)
{
	size_t		 off = line_at(buf, len, k);
	const char	*nl = memchr(buf + off, '\n', len - off);

	return nl == NULL ? len - off : (size_t)(nl - buf) - off + 1;
}

static void
append_one(struct audit *a, int i)
{
	struct audit_rec	 r;
	struct timespec		 ts = { T0 + i, 123000000 };
	char			 who[AUDIT_WHO_MAX];

	ck_assert_int_eq(audit_who_peer(who, sizeof(who), 0, 4242 + i), 0);
	ck_assert_int_eq(audit_rec_init(&r, AUDIT_EV_SOURCE_ADD, who), 0);
	audit_rec_settime(&r, &ts);
	ck_assert_int_eq(audit_rec_addf(&r, "source", "10.0.0.%d", i), 0);
	ck_assert_int_eq(audit_rec_add(&r, "note", "added by test"), 0);
	ck_assert_msg(audit_append(a, &r, NULL, 0) == 0, "append: %s",
	    a->msg);
}

/* A trail of n records in t->path. */
static void
write_chain(struct tmp *t, int n)
{
	struct audit	 a;
	int		 i;

	ck_assert_msg(audit_open(&a, t->path) == 0, "open: %s", a.msg);
	for (i = 1; i <= n; i++)
		append_one(&a, i);
	audit_close(&a);
}

static int
verify_path(const char *path, struct audit_verdict *v)
{
	int	 fd, rc;

	ck_assert_int_ne(fd = open(path, O_RDONLY), -1);
	rc = audit_verify_fd(fd, v);
	close(fd);
	return rc;
}

static void
expect(const char *path, enum audit_problem kind, uint64_t line)
{
	struct audit_verdict	 v;
	int			 rc = verify_path(path, &v);

	ck_assert_msg(v.kind == kind && v.line == line,
	    "want %s at line %" PRIu64 ", got %s at line %" PRIu64 ": %s",
	    audit_problem_name(kind), line, audit_problem_name(v.kind),
	    v.line, v.msg);
	ck_assert_int_eq(rc, kind == AUDIT_OK ? 0 : 1);
}

/* The value as the writer spells it. */
static const char *
spelled(const void *v, size_t len)
{
	static char	 buf[AUDIT_LINE_MAX];

	ck_assert_int_ge(audit_encode_value(buf, sizeof(buf), v, len), 0);
	return buf;
}

START_TEST(encode_spellings)
{
	char	 buf[8];

	ck_assert_str_eq(spelled("plain", 5), "plain");
	ck_assert_str_eq(spelled("10.0.0.1:123", 12), "10.0.0.1:123");
	ck_assert_str_eq(spelled("", 0), "\"\"");
	ck_assert_str_eq(spelled("with space", 10), "\"with space\"");
	ck_assert_str_eq(spelled("a=b", 3), "\"a=b\"");
	ck_assert_str_eq(spelled("say \"hi\"", 8), "\"say \\\"hi\\\"\"");
	ck_assert_str_eq(spelled("c:\\x", 4), "\"c:\\\\x\"");
	ck_assert_str_eq(spelled("a\nb\tc\rd", 7), "\"a\\nb\\tc\\rd\"");
	ck_assert_str_eq(spelled("\x01\x7f\x80\xff", 4),
	    "\"\\x01\\x7f\\x80\\xff\"");
	ck_assert_str_eq(spelled("caf\xc3\xa9", 5), "\"caf\\xc3\\xa9\"");
	ck_assert_str_eq(spelled("\0", 1), "\"\\x00\"");

	/* Exactly as long as it takes, terminator included. */
	ck_assert_int_eq(audit_encode_value(buf, 6, "abcde", 5), 5);
	ck_assert_int_eq(audit_encode_value(buf, 5, "abcde", 5), -1);
	ck_assert_int_eq(errno, ERANGE);
	ck_assert_int_eq(audit_encode_value(buf, 6, "a b", 3), 5);
	ck_assert_int_eq(audit_encode_value(buf, 5, "a b", 3), -1);
	ck_assert_int_eq(audit_encode_value(buf, 8, "\xff", 1), 6);
	ck_assert_int_eq(audit_encode_value(buf, 6, "\xff", 1), -1);
	ck_assert_int_eq(audit_encode_value(buf, 0, "", 0), -1);
	ck_assert_int_eq(audit_encode_value(NULL, 8, "a", 1), -1);
	ck_assert_int_eq(audit_encode_value(buf, 8, NULL, 1), -1);
}
END_TEST

/* Values with every awkward byte go to a file and come back equal. */
START_TEST(escape_round_trip)
{
	static const struct {
		const char	*v;
		size_t		 len;
	} vals[] = {
		{ "plain", 5 }, { "two words", 9 }, { "\"quoted\"", 8 },
		{ "back\\slash\\", 11 }, { "k=v", 3 }, { "=", 1 },
		{ "line\nbreak", 10 }, { "\r\n\t", 3 }, { "", 0 },
		{ "\x80\xfe\xff", 3 }, { "nul\0inside", 10 },
		{ "x\\\"y", 4 }, { " lead and trail ", 16 },
	};
	struct tmp		 t;
	struct audit		 a;
	struct audit_rec	 r;
	struct audit_reader	 rd;
	struct audit_line	 l;
	struct audit_entry	 e;
	char			 all[256], key[32], err[AUDIT_MSG_MAX];
	size_t			 i;
	int			 fd;

	tmp_make(&t);
	ck_assert_int_eq(audit_open(&a, t.path), 0);
	ck_assert_int_eq(audit_rec_init(&r, "escape-test", "startup"), 0);
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		snprintf(key, sizeof(key), "v%zu", i);
		ck_assert_int_eq(audit_rec_addn(&r, key, vals[i].v,
		    vals[i].len), 0);
	}
	ck_assert_int_eq(audit_append(&a, &r, NULL, 0), 0);
	/* Every byte value, in two halves to stay within a record. */
	for (i = 0; i < sizeof(all); i++)
		all[i] = (char)i;
	ck_assert_int_eq(audit_rec_init(&r, "escape-test", "startup"), 0);
	ck_assert_int_eq(audit_rec_addn(&r, "low", all, 128), 0);
	ck_assert_int_eq(audit_append(&a, &r, NULL, 0), 0);
	ck_assert_int_eq(audit_rec_init(&r, "escape-test", "startup"), 0);
	ck_assert_int_eq(audit_rec_addn(&r, "high", all + 128, 128), 0);
	ck_assert_int_eq(audit_append(&a, &r, NULL, 0), 0);
	audit_close(&a);

	ck_assert_int_ne(fd = open(t.path, O_RDONLY), -1);
	audit_reader_fd(&rd, fd);
	ck_assert_int_eq(audit_reader_next(&rd, &l), 1);
	ck_assert_msg(audit_parse(l.text, l.len, &e, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_uint_eq(e.nfields, sizeof(vals) / sizeof(vals[0]));
	for (i = 0; i < e.nfields; i++) {
		snprintf(key, sizeof(key), "v%zu", i);
		ck_assert_str_eq(e.fields[i].key, key);
		ck_assert_uint_eq(e.fields[i].valuelen, vals[i].len);
		ck_assert_mem_eq(e.fields[i].value, vals[i].v, vals[i].len);
		ck_assert_int_eq(e.fields[i].value[vals[i].len], '\0');
	}
	ck_assert_int_eq(audit_reader_next(&rd, &l), 1);
	ck_assert_int_eq(audit_parse(l.text, l.len, &e, err, sizeof(err)), 0);
	ck_assert_uint_eq(e.fields[0].valuelen, 128);
	ck_assert_mem_eq(e.fields[0].value, all, 128);
	ck_assert_int_eq(audit_reader_next(&rd, &l), 1);
	ck_assert_int_eq(audit_parse(l.text, l.len, &e, err, sizeof(err)), 0);
	ck_assert_uint_eq(e.fields[0].valuelen, 128);
	ck_assert_mem_eq(e.fields[0].value, all + 128, 128);
	/* Printable ASCII only on disk, whatever went in. */
	for (i = 0; i < l.len; i++)
		ck_assert(l.text[i] >= ' ' && l.text[i] <= '~');
	ck_assert_int_eq(audit_reader_next(&rd, &l), 0);
	close(fd);
	expect(t.path, AUDIT_OK, 0);
	tmp_remove(&t);
}
END_TEST

/*
 * The exact text and hash of a record, against BLAKE2b-256 computed
 * independently:  (32 zero bytes, then the line up to " hash=") |
 * b2sum -l 256.
 */
START_TEST(known_answer)
{
	static const char	 want[] =
	    "seq=1 time=2026-11-21T22:31:05.123Z who=uid:0,pid:4242 "
	    "event=source-add source=10.0.0.1 comment=\"first one\" "
	    "prev=00000000000000000000000000000000"
	    "00000000000000000000000000000000 hash=";
	static const char	 want_hash[] =
	    "9c592672015b6c8564135f4bf3b0b549636139aec72d1cce3f6ee765c4366f93";
	struct tmp		 t;
	struct audit		 a;
	struct audit_rec	 r;
	struct timespec		 ts = { T0, 123456789 };
	char			 buf[BIG], sys[AUDIT_LINE_MAX];
	char			 line[2 * AUDIT_LINE_MAX];

	tmp_make(&t);
	ck_assert_int_eq(audit_open(&a, t.path), 0);
	ck_assert_int_eq(a.state, AUDIT_NEW);
	ck_assert_int_eq(audit_rec_init(&r, "source-add", "uid:0,pid:4242"), 0);
	audit_rec_settime(&r, &ts);
	ck_assert_int_eq(audit_rec_add(&r, "source", "10.0.0.1"), 0);
	ck_assert_int_eq(audit_rec_add(&r, "comment", "first one"), 0);
	ck_assert_int_eq(audit_append(&a, &r, sys, sizeof(sys)), 0);
	audit_close(&a);

	snprintf(line, sizeof(line), "%s%s\n", want, want_hash);
	slurp(t.path, buf, sizeof(buf));
	ck_assert_str_eq(buf, line);

	/* syslog: the same, less prev and the newline. */
	snprintf(line, sizeof(line), "seq=1 time=2026-11-21T22:31:05.123Z "
	    "who=uid:0,pid:4242 event=source-add source=10.0.0.1 "
	    "comment=\"first one\" hash=%s", want_hash);
	ck_assert_str_eq(sys, line);
	tmp_remove(&t);
}
END_TEST

START_TEST(chain_verifies)
{
	struct tmp		 t;
	struct audit_verdict	 v;
	struct audit_entry	 e;
	char			 buf[BIG], hex[AUDIT_HEX_LEN + 1];
	size_t			 len, off;
	FILE			*fp;

	tmp_make(&t);
	write_chain(&t, 20);
	ck_assert_int_eq(verify_path(t.path, &v), 0);
	ck_assert_int_eq(v.kind, AUDIT_OK);
	ck_assert_uint_eq(v.nrecords, 20);
	ck_assert_uint_eq(v.last_seq, 20);
	ck_assert_str_eq(audit_problem_name(v.kind), "chain intact");

	/* last_hash is what the last line says. */
	len = slurp(t.path, buf, sizeof(buf));
	off = line_at(buf, len, 20);
	ck_assert_int_eq(audit_parse(buf + off, line_len(buf, len, 20) - 1,
	    &e, NULL, 0), 0);
	ck_assert_mem_eq(v.last_hash, e.hash, AUDIT_HASH_LEN);
	audit_hex(hex, v.last_hash);
	ck_assert_ptr_nonnull(strstr(buf + off, hex));

	/* The same through a FILE. */
	ck_assert_ptr_nonnull(fp = fopen(t.path, "r"));
	ck_assert_int_eq(audit_verify_file(fp, &v), 0);
	ck_assert_uint_eq(v.nrecords, 20);
	fclose(fp);
	tmp_remove(&t);
}
END_TEST

START_TEST(empty_trail)
{
	struct tmp		 t;
	struct audit_verdict	 v;

	tmp_make(&t);
	spill(t.path, "", 0);
	ck_assert_int_eq(verify_path(t.path, &v), 0);
	ck_assert_uint_eq(v.nrecords, 0);
	tmp_remove(&t);
}
END_TEST

/* The byte that stays in the same class: digit, hex letter, letter... */
static char
other_byte(char c)
{
	if (c >= '0' && c <= '9')
		return c == '0' ? '1' : '0';
	if (c >= 'a' && c <= 'z')
		return c == 'a' ? 'b' : 'a';
	if (c >= 'A' && c <= 'Z')
		return c == 'A' ? 'B' : 'A';
	return c == 'x' ? 'y' : 'x';
}

/*
 * One byte changed anywhere in a record is found at that record's line:
 * as "modified" when the line still parses, else as "malformed".
 */
START_TEST(modified_any_byte)
{
	struct tmp		 t;
	struct audit_verdict	 v;
	char			 orig[BIG], buf[BIG];
	size_t			 len, off, ll, j, nmod = 0;
	int			 k;

	tmp_make(&t);
	write_chain(&t, 5);
	len = slurp(t.path, orig, sizeof(orig));
	for (k = 1; k <= 5; k++) {
		off = line_at(orig, len, k);
		ll = line_len(orig, len, k);
		for (j = 0; j < ll; j++) {
			memcpy(buf, orig, len);
			buf[off + j] = other_byte(buf[off + j]);
			spill(t.path, buf, len);
			ck_assert_int_eq(verify_path(t.path, &v), 1);
			/* The file's last newline gone: cut short. */
			if (off + j == len - 1) {
				ck_assert_int_eq(v.kind, AUDIT_TRUNCATED);
				ck_assert_uint_eq(v.line, 5);
				continue;
			}
			ck_assert_msg(v.line == (uint64_t)k &&
			    (v.kind == AUDIT_MODIFIED ||
			    v.kind == AUDIT_MALFORMED),
			    "byte %zu of line %d: %s at line %" PRIu64,
			    j, k, audit_problem_name(v.kind), v.line);
			if (v.kind == AUDIT_MODIFIED) {
				nmod++;
				ck_assert(v.have_seq);
				ck_assert_uint_eq(v.nrecords, (uint64_t)k - 1);
			}
		}
	}
	/* Values, digits and hashes are most of a line. */
	ck_assert_uint_gt(nmod, 5 * 150);

	/* Named places: a value, seq, prev and hash. */
	memcpy(buf, orig, len);
	off = line_at(buf, len, 3);
	*strstr(buf + off, "10.0.0.3") = '9';
	spill(t.path, buf, len);
	expect(t.path, AUDIT_MODIFIED, 3);
	memcpy(buf, orig, len);
	buf[off + 4] = '7';			/* seq=3 -> seq=7 */
	spill(t.path, buf, len);
	expect(t.path, AUDIT_MODIFIED, 3);
	memcpy(buf, orig, len);
	buf[strstr(buf + off, "prev=") - buf + 9] ^= 1;
	spill(t.path, buf, len);
	expect(t.path, AUDIT_MODIFIED, 3);
	memcpy(buf, orig, len);
	buf[strstr(buf + off, "hash=") - buf + 7] ^= 1;
	spill(t.path, buf, len);
	expect(t.path, AUDIT_MODIFIED, 3);
	tmp_remove(&t);
}
END_TEST

/*
 * A record changed and given a fresh, correct hash: the next record
 * still names the old one, so the changed one is found.
 */
START_TEST(modified_hash_recomputed)
{
	struct tmp			 t;
	struct audit_verdict		 v;
	struct audit_entry		 e;
	crypto_generichash_state	 st;
	uint8_t				 h[AUDIT_HASH_LEN];
	char				 buf[BIG], out[BIG];
	char				 hex[AUDIT_HEX_LEN + 1];
	char				*p, *hp;
	size_t				 len, off, ll, n;

	tmp_make(&t);
	write_chain(&t, 5);
	len = slurp(t.path, buf, sizeof(buf));
	off = line_at(buf, len, 3);
	ll = line_len(buf, len, 3);
	p = strstr(buf + off, "10.0.0.3");
	p[7] = '9';
	ck_assert_int_eq(audit_parse(buf + off, ll - 1, &e, NULL, 0), 0);
	hp = strstr(buf + off, " hash=");
	crypto_generichash_init(&st, NULL, 0, AUDIT_HASH_LEN);
	crypto_generichash_update(&st, e.prev, AUDIT_HASH_LEN);
	crypto_generichash_update(&st, (unsigned char *)buf + off,
	    (size_t)(hp - (buf + off)));
	crypto_generichash_final(&st, h, AUDIT_HASH_LEN);
	audit_hex(hex, h);
	memcpy(hp + 6, hex, AUDIT_HEX_LEN);
	ck_assert_int_eq(audit_parse(buf + off, ll - 1, &e, NULL, 0), 0);
	ck_assert_mem_eq(e.hash, e.computed, AUDIT_HASH_LEN);
	n = len;
	memcpy(out, buf, n);
	spill(t.path, out, n);
	ck_assert_int_eq(verify_path(t.path, &v), 1);
	ck_assert_int_eq(v.kind, AUDIT_MODIFIED);
	ck_assert_uint_eq(v.line, 3);
	ck_assert(v.have_seq);
	ck_assert_uint_eq(v.seq, 3);
	ck_assert_uint_eq(v.nrecords, 2);
	ck_assert_ptr_nonnull(strstr(v.msg, "recomputed"));
	tmp_remove(&t);
}
END_TEST

/* Remove lines [from, to] of the file. */
static void
cut_lines(const char *path, int from, int to)
{
	char	 buf[BIG], out[BIG];
	size_t	 len, a, b;

	len = slurp(path, buf, sizeof(buf));
	a = line_at(buf, len, from);
	b = line_at(buf, len, to + 1);
	memcpy(out, buf, a);
	memcpy(out + a, buf + b, len - b);
	spill(path, out, a + len - b);
}

START_TEST(deleted)
{
	struct tmp		 t;
	struct audit_verdict	 v;

	tmp_make(&t);

	write_chain(&t, 6);
	cut_lines(t.path, 3, 3);
	ck_assert_int_eq(verify_path(t.path, &v), 1);
	ck_assert_int_eq(v.kind, AUDIT_DELETED);
	ck_assert_uint_eq(v.line, 3);
	ck_assert_uint_eq(v.seq, 4);
	ck_assert_uint_eq(v.nrecords, 2);
	ck_assert_ptr_nonnull(strstr(v.msg, "1 record missing"));
	unlink(t.path);

	write_chain(&t, 6);
	cut_lines(t.path, 2, 4);
	ck_assert_int_eq(verify_path(t.path, &v), 1);
	ck_assert_int_eq(v.kind, AUDIT_DELETED);
	ck_assert_uint_eq(v.line, 2);
	ck_assert_uint_eq(v.seq, 5);
	ck_assert_ptr_nonnull(strstr(v.msg, "3 records missing"));
	unlink(t.path);

	/* The head. */
	write_chain(&t, 6);
	cut_lines(t.path, 1, 1);
	expect(t.path, AUDIT_DELETED, 1);
	unlink(t.path);

	/*
	 * The tail: the file alone cannot tell.  That is what the seq and
	 * hash in syslog are for.
	 */
	write_chain(&t, 6);
	cut_lines(t.path, 6, 6);
	ck_assert_int_eq(verify_path(t.path, &v), 0);
	ck_assert_uint_eq(v.last_seq, 5);
	tmp_remove(&t);
}
END_TEST

/* Move line `from` to stand before line `to` (to may be n + 1). */
static void
move_line(const char *path, int from, int to)
{
	char	 buf[BIG], out[BIG];
	size_t	 len, a, l, b, n = 0;

	len = slurp(path, buf, sizeof(buf));
	a = line_at(buf, len, from);
	l = line_len(buf, len, from);
	b = line_at(buf, len, to);
	if (b < a) {
		memcpy(out, buf, b);
		n = b;
		memcpy(out + n, buf + a, l);
		n += l;
		memcpy(out + n, buf + b, a - b);
		n += a - b;
		memcpy(out + n, buf + a + l, len - a - l);
		n += len - a - l;
	} else {
		memcpy(out, buf, a);
		n = a;
		memcpy(out + n, buf + a + l, b - a - l);
		n += b - a - l;
		memcpy(out + n, buf + a, l);
		n += l;
		memcpy(out + n, buf + b, len - b);
		n += len - b;
	}
	ck_assert_uint_eq(n, len);
	spill(path, out, n);
}

START_TEST(reordered)
{
	struct tmp		 t;
	struct audit_verdict	 v;
	char			 buf[BIG], out[BIG];
	size_t			 len, a, l, b;

	tmp_make(&t);

	/* Two neighbours swapped. */
	write_chain(&t, 6);
	move_line(t.path, 4, 3);
	ck_assert_int_eq(verify_path(t.path, &v), 1);
	ck_assert_int_eq(v.kind, AUDIT_REORDERED);
	ck_assert_uint_eq(v.line, 3);
	ck_assert_uint_eq(v.seq, 4);
	unlink(t.path);

	/* The last first. */
	write_chain(&t, 6);
	move_line(t.path, 6, 1);
	expect(t.path, AUDIT_REORDERED, 1);
	unlink(t.path);

	/* The first last. */
	write_chain(&t, 6);
	move_line(t.path, 1, 7);
	expect(t.path, AUDIT_REORDERED, 1);
	unlink(t.path);

	/* One moved back: seq goes backwards. */
	write_chain(&t, 6);
	move_line(t.path, 2, 5);
	expect(t.path, AUDIT_REORDERED, 2);
	unlink(t.path);

	/* A record replayed. */
	write_chain(&t, 6);
	len = slurp(t.path, buf, sizeof(buf));
	a = line_at(buf, len, 2);
	l = line_len(buf, len, 2);
	b = line_at(buf, len, 4);
	memcpy(out, buf, b);
	memcpy(out + b, buf + a, l);
	memcpy(out + b + l, buf + b, len - b);
	spill(t.path, out, len + l);
	ck_assert_int_eq(verify_path(t.path, &v), 1);
	ck_assert_int_eq(v.kind, AUDIT_REORDERED);
	ck_assert_uint_eq(v.line, 4);
	ck_assert_uint_eq(v.seq, 2);
	tmp_remove(&t);
}
END_TEST

START_TEST(truncated)
{
	struct tmp		 t;
	struct audit_verdict	 v;
	char			 buf[BIG];
	size_t			 len;

	tmp_make(&t);
	write_chain(&t, 4);
	len = slurp(t.path, buf, sizeof(buf));

	/* Only the newline lost. */
	spill(t.path, buf, len - 1);
	ck_assert_int_eq(verify_path(t.path, &v), 1);
	ck_assert_int_eq(v.kind, AUDIT_TRUNCATED);
	ck_assert_uint_eq(v.line, 4);
	ck_assert(v.have_seq);
	ck_assert_uint_eq(v.nrecords, 3);

	/* Cut in the middle. */
	spill(t.path, buf, len - 40);
	ck_assert_int_eq(verify_path(t.path, &v), 1);
	ck_assert_int_eq(v.kind, AUDIT_TRUNCATED);
	ck_assert_uint_eq(v.line, 4);
	ck_assert(!v.have_seq);

	/* Cut right after a newline: a shorter, intact trail. */
	spill(t.path, buf, line_at(buf, len, 4));
	expect(t.path, AUDIT_OK, 0);
	tmp_remove(&t);
}
END_TEST

START_TEST(malformed_lines)
{
	struct tmp		 t;
	struct audit_verdict	 v;
	char			 buf[BIG], out[2 * BIG];
	size_t			 len, a;

	tmp_make(&t);
	write_chain(&t, 4);
	len = slurp(t.path, buf, sizeof(buf));
	a = line_at(buf, len, 3);

	/* An empty line. */
	memcpy(out, buf, a);
	out[a] = '\n';
	memcpy(out + a + 1, buf + a, len - a);
	spill(t.path, out, len + 1);
	expect(t.path, AUDIT_MALFORMED, 3);

	/* A line longer than any record may be. */
	memcpy(out, buf, a);
	memset(out + a, 'a', 3000);
	out[a + 3000] = '\n';
	memcpy(out + a + 3001, buf + a, len - a);
	spill(t.path, out, len + 3001);
	ck_assert_int_eq(verify_path(t.path, &v), 1);
	ck_assert_int_eq(v.kind, AUDIT_MALFORMED);
	ck_assert_uint_eq(v.line, 3);
	ck_assert_ptr_nonnull(strstr(v.msg, "longer"));

	/* A NUL byte. */
	memcpy(out, buf, len);
	out[a + 2] = '\0';
	spill(t.path, out, len);
	expect(t.path, AUDIT_MALFORMED, 3);
	tmp_remove(&t);
}
END_TEST

/* A syntactically valid line whose hash is wrong: parse accepts it. */
#define GOOD_HEAD	"seq=1 time=2026-11-21T22:31:05.123Z who=startup " \
			"event=start"
#define GOOD_TAIL	" prev=0000000000000000000000000000000000000000" \
			"000000000000000000000000 hash=000000000000000000" \
			"0000000000000000000000000000000000000000000000"

static const char *good_lines[] = {
	GOOD_HEAD GOOD_TAIL,
	GOOD_HEAD " k=v" GOOD_TAIL,
	GOOD_HEAD " k=\"a b\" l=\"\" m=\"\\x00\\\\\\\"\"" GOOD_TAIL,
	GOOD_HEAD " chain=resumed k=v" GOOD_TAIL,
	GOOD_HEAD " chain=broken" GOOD_TAIL,
	"seq=18446744073709551615 time=2026-11-21T22:31:05.123Z "
	    "who=uid:4294967295,pid:2147483647 event=x" GOOD_TAIL,
	"seq=9 time=2016-12-31T23:59:60.999Z who=signal:SIGHUP "
	    "event=a-b_c" GOOD_TAIL,
	"seq=9 time=2026-01-01T00:00:00.000Z who=daemon event=x "
	    "a=1 b=2 c-d=3 e_f=4" GOOD_TAIL,
};

static const char *bad_lines[] = {
	"",
	" " GOOD_HEAD GOOD_TAIL,
	GOOD_HEAD GOOD_TAIL " ",
	GOOD_HEAD "  k=v" GOOD_TAIL,
	GOOD_HEAD "\tk=v" GOOD_TAIL,
	"seq=0 time=2026-11-21T22:31:05.123Z who=startup event=start"
	    GOOD_TAIL,
	"seq=01 time=2026-11-21T22:31:05.123Z who=startup event=start"
	    GOOD_TAIL,
	"seq=18446744073709551616 time=2026-11-21T22:31:05.123Z "
	    "who=startup event=start" GOOD_TAIL,
	"seq=x time=2026-11-21T22:31:05.123Z who=startup event=start"
	    GOOD_TAIL,
	"time=2026-11-21T22:31:05.123Z seq=1 who=startup event=start"
	    GOOD_TAIL,
	"seq=1 time=2026-13-21T22:31:05.123Z who=startup event=start"
	    GOOD_TAIL,
	"seq=1 time=2026-11-21T24:31:05.123Z who=startup event=start"
	    GOOD_TAIL,
	"seq=1 time=2026-11-21T22:31:05Z who=startup event=start" GOOD_TAIL,
	"seq=1 time=\"2026-11-21 22:31:05.123Z\" who=startup event=start"
	    GOOD_TAIL,
	"seq=1 time=2026-11-21T22:31:05.123Z who=root event=start" GOOD_TAIL,
	"seq=1 time=2026-11-21T22:31:05.123Z who=uid:0 event=start"
	    GOOD_TAIL,
	"seq=1 time=2026-11-21T22:31:05.123Z who=uid:00,pid:1 event=start"
	    GOOD_TAIL,
	"seq=1 time=2026-11-21T22:31:05.123Z who=uid:4294967296,pid:1 "
	    "event=start" GOOD_TAIL,
	"seq=1 time=2026-11-21T22:31:05.123Z who=signal:HUP event=start"
	    GOOD_TAIL,
	"seq=1 time=2026-11-21T22:31:05.123Z who=\"startup\\x00\" "
	    "event=start" GOOD_TAIL,
	"seq=1 time=2026-11-21T22:31:05.123Z who=startup event=Start"
	    GOOD_TAIL,
	"seq=1 time=2026-11-21T22:31:05.123Z who=startup" GOOD_TAIL,
	GOOD_HEAD " k=\"v\"" GOOD_TAIL,		/* needless quotes */
	GOOD_HEAD " k=\"a\\x41\"" GOOD_TAIL,	/* needless escape */
	GOOD_HEAD " k=\"\\xAB\"" GOOD_TAIL,	/* upper-case hex */
	GOOD_HEAD " k=\"\\q\"" GOOD_TAIL,
	GOOD_HEAD " k=\"\\x4\"" GOOD_TAIL,
	GOOD_HEAD " k=\"open" GOOD_TAIL,
	GOOD_HEAD " k=\"a\"b\"" GOOD_TAIL,
	GOOD_HEAD " k=a\"b" GOOD_TAIL,
	GOOD_HEAD " k=a=b" GOOD_TAIL,
	GOOD_HEAD " k=a\\b" GOOD_TAIL,
	GOOD_HEAD " k=" GOOD_TAIL,
	GOOD_HEAD " =v" GOOD_TAIL,
	GOOD_HEAD " K=v" GOOD_TAIL,
	GOOD_HEAD " 1k=v" GOOD_TAIL,
	GOOD_HEAD " k" GOOD_TAIL,
	GOOD_HEAD " k=1 k=2" GOOD_TAIL,
	GOOD_HEAD " seq=2" GOOD_TAIL,
	GOOD_HEAD " k=v chain=resumed" GOOD_TAIL,
	GOOD_HEAD " chain=maybe" GOOD_TAIL,
	GOOD_HEAD " abcdefghijabcdefghijabcdefghijabc=v" GOOD_TAIL,
	GOOD_HEAD " k=\xc3\xa9" GOOD_TAIL,
	GOOD_HEAD,
	GOOD_HEAD " prev=00",
	GOOD_HEAD " hash=0000000000000000000000000000000000000000000000000"
	    "000000000000000",
	GOOD_HEAD " prev=0000000000000000000000000000000000000000000000000"
	    "00000000000000A hash=00000000000000000000000000000000000000000"
	    "00000000000000000000000",
	GOOD_HEAD GOOD_TAIL " k=v",
	GOOD_HEAD " prev=0000000000000000000000000000000000000000000000000"
	    "000000000000000 k=v hash=00000000000000000000000000000000000000"
	    "00000000000000000000000000",
};

START_TEST(parse_good)
{
	struct audit_entry	 e;
	char			 err[AUDIT_MSG_MAX];
	const char		*s = good_lines[_i];

	ck_assert_msg(audit_parse(s, strlen(s), &e, err, sizeof(err)) == 0,
	    "%s: %s", s, err);
}
END_TEST

START_TEST(parse_bad)
{
	struct audit_entry	 e;
	char			 err[AUDIT_MSG_MAX];
	const char		*s = bad_lines[_i];

	ck_assert_msg(audit_parse(s, strlen(s), &e, err, sizeof(err)) == -1,
	    "accepted: %s", s);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_str_ne(err, "");
}
END_TEST

START_TEST(parse_fields)
{
	static const char	 s[] = "seq=42 time=2026-11-21T22:31:05.123Z "
	    "who=signal:SIGHUP event=reload chain=resumed file=/etc/ntpd.conf "
	    "why=\"operator's \\\"test\\\"\"" GOOD_TAIL;
	struct audit_entry	 e;
	char			 big[2 * AUDIT_LINE_MAX];

	ck_assert_int_eq(audit_parse(s, strlen(s), &e, NULL, 0), 0);
	ck_assert_uint_eq(e.seq, 42);
	ck_assert_str_eq(e.time, "2026-11-21T22:31:05.123Z");
	ck_assert_str_eq(e.who, "signal:SIGHUP");
	ck_assert_str_eq(e.event, "reload");
	ck_assert_uint_eq(e.nfields, 3);
	ck_assert_str_eq(e.fields[0].key, "chain");
	ck_assert_str_eq(e.fields[0].value, "resumed");
	ck_assert_str_eq(e.fields[1].key, "file");
	ck_assert_str_eq(e.fields[1].value, "/etc/ntpd.conf");
	ck_assert_str_eq(e.fields[2].key, "why");
	ck_assert_str_eq(e.fields[2].value, "operator's \"test\"");

	/* A line longer than a record may be, though well formed. */
	snprintf(big, sizeof(big), "%s k=%0900d%s", GOOD_HEAD, 0, GOOD_TAIL);
	ck_assert_int_eq(audit_parse(big, strlen(big), &e, NULL, 0), -1);
	ck_assert_int_eq(audit_parse(NULL, 0, &e, NULL, 0), -1);
}
END_TEST

START_TEST(reopen_continues)
{
	struct tmp		 t;
	struct audit		 a;
	struct audit_verdict	 v;
	uint8_t			 last[AUDIT_HASH_LEN];

	tmp_make(&t);
	write_chain(&t, 3);
	ck_assert_int_eq(verify_path(t.path, &v), 0);
	memcpy(last, v.last_hash, sizeof(last));

	ck_assert_int_eq(audit_open(&a, t.path), 0);
	ck_assert_int_eq(a.state, AUDIT_CONTINUED);
	ck_assert_uint_eq(a.next_seq, 4);
	ck_assert_mem_eq(a.prev, last, AUDIT_HASH_LEN);
	ck_assert_ptr_null(a.note);
	ck_assert_int_eq(a.need_nl, 0);
	append_one(&a, 4);
	append_one(&a, 5);
	audit_close(&a);

	ck_assert_int_eq(verify_path(t.path, &v), 0);
	ck_assert_uint_eq(v.nrecords, 5);
	ck_assert_uint_eq(v.last_seq, 5);
	tmp_remove(&t);
}
END_TEST

/* Reopening after a torn write: the fragment stays, the chain goes on. */
START_TEST(reopen_torn_tail)
{
	static const char	 torn[] = "seq=4 time=2026-11-2";
	struct tmp		 t;
	struct audit		 a;
	struct audit_verdict	 v;
	struct audit_entry	 e;
	uint8_t			 last[AUDIT_HASH_LEN];
	char			 buf[BIG];
	size_t			 len, off;
	int			 fd;

	tmp_make(&t);
	write_chain(&t, 3);
	ck_assert_int_eq(verify_path(t.path, &v), 0);
	memcpy(last, v.last_hash, sizeof(last));
	ck_assert_int_ne(fd = open(t.path, O_WRONLY | O_APPEND), -1);
	ck_assert_int_eq(write(fd, torn, strlen(torn)), (ssize_t)strlen(torn));
	close(fd);
	expect(t.path, AUDIT_TRUNCATED, 4);

	ck_assert_int_eq(audit_open(&a, t.path), 0);
	ck_assert_int_eq(a.state, AUDIT_RESUMED);
	ck_assert_uint_eq(a.next_seq, 4);
	ck_assert_int_eq(a.need_nl, 1);
	ck_assert_mem_eq(a.prev, last, AUDIT_HASH_LEN);
	append_one(&a, 4);
	append_one(&a, 5);
	audit_close(&a);

	/* The fragment is still there, and still reported. */
	expect(t.path, AUDIT_MALFORMED, 4);
	len = slurp(t.path, buf, sizeof(buf));
	off = line_at(buf, len, 4);
	ck_assert_int_eq(strncmp(buf + off, torn, strlen(torn)), 0);
	ck_assert_int_eq(buf[off + strlen(torn)], '\n');
	off = line_at(buf, len, 5);
	ck_assert_int_eq(audit_parse(buf + off, line_len(buf, len, 5) - 1,
	    &e, NULL, 0), 0);
	ck_assert_uint_eq(e.seq, 4);
	ck_assert_mem_eq(e.prev, last, AUDIT_HASH_LEN);
	ck_assert_str_eq(e.fields[0].key, "chain");
	ck_assert_str_eq(e.fields[0].value, "resumed");
	/* Only the first record after reopening says so. */
	off = line_at(buf, len, 6);
	ck_assert_int_eq(audit_parse(buf + off, line_len(buf, len, 6) - 1,
	    &e, NULL, 0), 0);
	ck_assert_str_ne(e.fields[0].key, "chain");

	/* Without the fragment, the chain is whole again. */
	cut_lines(t.path, 4, 4);
	ck_assert_int_eq(verify_path(t.path, &v), 0);
	ck_assert_uint_eq(v.nrecords, 5);
	tmp_remove(&t);
}
END_TEST

START_TEST(reopen_foreign_file)
{
	struct tmp		 t;
	struct audit		 a;
	struct audit_entry	 e;
	char			 buf[BIG];
	size_t			 len, off;

	tmp_make(&t);
	spill(t.path, "not an audit trail\n", 19);
	ck_assert_int_eq(audit_open(&a, t.path), 0);
	ck_assert_int_eq(a.state, AUDIT_BROKEN);
	ck_assert_uint_eq(a.next_seq, 1);
	append_one(&a, 1);
	audit_close(&a);
	expect(t.path, AUDIT_MALFORMED, 1);
	len = slurp(t.path, buf, sizeof(buf));
	off = line_at(buf, len, 2);
	ck_assert_int_eq(audit_parse(buf + off, line_len(buf, len, 2) - 1,
	    &e, NULL, 0), 0);
	ck_assert_uint_eq(e.seq, 1);
	ck_assert_str_eq(e.fields[0].value, "broken");
	ck_assert_int_eq(strncmp(buf + off + (strstr(buf + off, "prev=") -
	    (buf + off)) + 5, zero_hex, AUDIT_HEX_LEN), 0);
	tmp_remove(&t);
}
END_TEST

/* Only the tail is read: a big trail reopens from its last record. */
START_TEST(reopen_large)
{
	struct tmp		 t;
	struct audit		 a;
	struct audit_verdict	 v;
	int			 i;

	tmp_make(&t);
	ck_assert_int_eq(audit_open(&a, t.path), 0);
	for (i = 1; i <= 600; i++)
		append_one(&a, i);
	audit_close(&a);
	ck_assert_int_eq(audit_open(&a, t.path), 0);
	ck_assert_int_eq(a.state, AUDIT_CONTINUED);
	ck_assert_uint_eq(a.next_seq, 601);
	append_one(&a, 601);
	audit_close(&a);
	ck_assert_int_eq(verify_path(t.path, &v), 0);
	ck_assert_uint_eq(v.nrecords, 601);
	tmp_remove(&t);
}
END_TEST

START_TEST(file_mode_and_safety)
{
	struct tmp	 t;
	struct audit	 a, b;
	struct stat	 st;
	char		 p[192];
	mode_t		 old;

	tmp_make(&t);
	old = umask(0);
	ck_assert_int_eq(audit_open(&a, t.path), 0);
	umask(old);
	ck_assert_int_eq(stat(t.path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(fcntl(a.fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	ck_assert_int_ne(fcntl(a.fd, F_GETFL) & O_APPEND, 0);

	/* One writer at a time. */
	ck_assert_int_eq(audit_open(&b, t.path), -1);
	ck_assert_int_eq(errno, EWOULDBLOCK);
	ck_assert_ptr_nonnull(strstr(b.msg, "in use"));
	audit_close(&a);

	/* A restrictive umask cannot take the owner's write bit. */
	unlink(t.path);
	old = umask(0277);
	ck_assert_int_eq(audit_open(&a, t.path), 0);
	umask(old);
	ck_assert_int_eq(stat(t.path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	append_one(&a, 1);
	audit_close(&a);

	/* Writable by others: refused, and left as it was. */
	ck_assert_int_eq(chmod(t.path, 0620), 0);
	ck_assert_int_eq(audit_open(&a, t.path), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_eq(a.fd, -1);
	ck_assert_int_eq(stat(t.path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0620);
	ck_assert_int_eq(chmod(t.path, 0640), 0);
	ck_assert_int_eq(audit_open(&a, t.path), 0);
	audit_close(&a);

	/* A symbolic link, a directory. */
	snprintf(p, sizeof(p), "%s/link", t.dir);
	ck_assert_int_eq(symlink(t.path, p), 0);
	ck_assert_int_eq(audit_open(&a, p), -1);
	ck_assert_int_eq(errno, ELOOP);
	ck_assert_int_eq(audit_open(&a, t.dir), -1);
	ck_assert_int_eq(audit_open(&a, ""), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(audit_open(&a, NULL), -1);
	snprintf(p, sizeof(p), "%s/no/such/dir", t.dir);
	ck_assert_int_eq(audit_open(&a, p), -1);
	ck_assert_int_eq(errno, ENOENT);
	tmp_remove(&t);
}
END_TEST

START_TEST(builder_limits)
{
	struct audit_rec	 r;
	char			 big[2 * AUDIT_LINE_MAX], key[32];
	int			 i;

	memset(big, 'v', sizeof(big));

	/* One value too long for any record. */
	ck_assert_int_eq(audit_rec_init(&r, "x", "startup"), 0);
	ck_assert_int_eq(audit_rec_addn(&r, "k", big, AUDIT_FIELDS_MAX), -1);
	ck_assert_int_eq(errno, E2BIG);
	/* The error sticks: the record is spoilt. */
	ck_assert_int_eq(audit_rec_add(&r, "ok", "fine"), -1);
	ck_assert_int_eq(errno, E2BIG);
	ck_assert_int_eq(r.error, E2BIG);

	/* Fields fill the record, then no more. */
	ck_assert_int_eq(audit_rec_init(&r, "x", "startup"), 0);
	for (i = 0; i < 7; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		ck_assert_int_eq(audit_rec_addn(&r, key, big, 96), 0);
	}
	ck_assert_int_eq(audit_rec_addn(&r, "last", big, 96), -1);
	ck_assert_int_eq(errno, E2BIG);

	/* Escaping counts: 200 bytes that need \xHH are 800 written. */
	ck_assert_int_eq(audit_rec_init(&r, "x", "startup"), 0);
	memset(big, 0xff, 200);
	ck_assert_int_eq(audit_rec_addn(&r, "k", big, 200), -1);
	ck_assert_int_eq(errno, E2BIG);

	/* At most AUDIT_FIELDS_NMAX fields. */
	ck_assert_int_eq(audit_rec_init(&r, "x", "startup"), 0);
	for (i = 0; i < AUDIT_FIELDS_NMAX; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		ck_assert_int_eq(audit_rec_add(&r, key, "1"), 0);
	}
	ck_assert_int_eq(audit_rec_add(&r, "one-more", "1"), -1);
	ck_assert_int_eq(errno, E2BIG);

	/* Over-long formatted values. */
	ck_assert_int_eq(audit_rec_init(&r, "x", "startup"), 0);
	ck_assert_int_eq(audit_rec_addf(&r, "k", "%0800d", 1), -1);
	ck_assert_int_eq(errno, E2BIG);
	ck_assert_int_eq(audit_rec_init(&r, "x", "startup"), 0);
	ck_assert_int_eq(audit_rec_addf(&r, "k", "%d ppm", 500), 0);
	ck_assert_str_eq(r.fields, " k=\"500 ppm\"");
}
END_TEST

static const char *bad_keys[] = {
	"", "K", "1k", "-k", "k y", "k=", "k\"", "caf\xc3\xa9",
	"abcdefghijabcdefghijabcdefghijabc",
	"seq", "time", "who", "event", "chain", "prev", "hash",
};

START_TEST(builder_bad_key)
{
	struct audit_rec	 r;

	ck_assert_int_eq(audit_rec_init(&r, "x", "startup"), 0);
	ck_assert_int_eq(audit_rec_add(&r, bad_keys[_i], "v"), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_ne(r.error, 0);
	ck_assert_str_ne(r.msg, "");
}
END_TEST

START_TEST(builder_names)
{
	struct audit_rec	 r;
	struct audit		 a;
	char			 who[AUDIT_WHO_MAX];

	ck_assert_int_eq(audit_rec_init(&r, "Bad", "startup"), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(audit_rec_init(&r, "", "startup"), -1);
	ck_assert_int_eq(audit_rec_init(&r, NULL, "startup"), -1);
	ck_assert_int_eq(audit_rec_init(&r, "x", "root"), -1);
	ck_assert_int_eq(audit_rec_init(&r, "x", NULL), -1);
	ck_assert_int_eq(audit_rec_init(&r, "x", "uid:0,pid:"), -1);
	/* A spoilt record is never written. */
	audit_init(&a);
	ck_assert_int_eq(audit_append(&a, &r, NULL, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_uint_eq(a.next_seq, 1);

	ck_assert_int_eq(audit_rec_add(&r, "k", "v"), -1);
	ck_assert_int_eq(audit_rec_init(&r, "abcdefghijabcdefghijabcdefghijab",
	    "daemon"), 0);
	ck_assert_int_eq(audit_rec_add(&r, "k", "v"), 0);
	ck_assert_int_eq(audit_rec_add(&r, "k", "w"), -1);
	ck_assert_int_eq(errno, EINVAL);

	ck_assert_int_eq(audit_who_peer(who, sizeof(who), 0, 4242), 0);
	ck_assert_str_eq(who, "uid:0,pid:4242");
	ck_assert_int_eq(audit_rec_init(&r, "x", who), 0);
	ck_assert_int_eq(audit_who_peer(who, sizeof(who), 4294967294U,
	    2147483647), 0);
	ck_assert_str_eq(who, "uid:4294967294,pid:2147483647");
	ck_assert_int_eq(audit_rec_init(&r, "x", who), 0);
	ck_assert_int_eq(audit_who_peer(who, 10, 0, 4242), -1);
	ck_assert_int_eq(errno, ERANGE);
	ck_assert_int_eq(audit_who_peer(who, sizeof(who), 0, -1), -1);

	ck_assert_int_eq(audit_who_signal(who, sizeof(who), SIGHUP), 0);
	ck_assert_str_eq(who, "signal:SIGHUP");
	ck_assert_int_eq(audit_rec_init(&r, "x", who), 0);
	ck_assert_int_eq(audit_who_signal(who, sizeof(who), SIGTERM), 0);
	ck_assert_str_eq(who, "signal:SIGTERM");
	ck_assert_int_eq(audit_who_signal(who, sizeof(who), SIGRTMIN + 1), 0);
	ck_assert_int_eq(audit_rec_init(&r, "x", who), 0);
	ck_assert_int_eq(audit_who_signal(who, 8, SIGHUP), -1);
	ck_assert_int_eq(errno, ERANGE);
	ck_assert_int_eq(audit_who_signal(who, sizeof(who), 0), -1);
}
END_TEST

/* The longest record there can be still fits a line, even resumed. */
START_TEST(longest_record_fits)
{
	struct tmp		 t;
	struct audit		 a;
	struct audit_rec	 r;
	struct audit_verdict	 v;
	struct timespec		 ts = { T0, 0 };
	char			 big[AUDIT_FIELDS_MAX], buf[BIG];
	size_t			 n, len;

	memset(big, 'v', sizeof(big));
	for (n = sizeof(big); n > 0; n--) {
		ck_assert_int_eq(audit_rec_init(&r,
		    "abcdefghijabcdefghijabcdefghijab",
		    "uid:4294967295,pid:2147483647"), 0);
		if (audit_rec_addn(&r, "abcdefghijabcdefghijabcdefghijab",
		    big, n) == 0)
			break;
	}
	ck_assert_uint_gt(n, 600);
	audit_rec_settime(&r, &ts);

	tmp_make(&t);
	spill(t.path, "torn", 4);
	ck_assert_int_eq(audit_open(&a, t.path), 0);
	ck_assert_int_eq(a.state, AUDIT_BROKEN);
	a.next_seq = UINT64_MAX - 1;		/* the widest seq */
	ck_assert_msg(audit_append(&a, &r, NULL, 0) == 0, "%s", a.msg);
	audit_close(&a);
	len = slurp(t.path, buf, sizeof(buf));
	ck_assert_uint_le(len - line_at(buf, len, 2), AUDIT_LINE_MAX);
	cut_lines(t.path, 1, 1);
	ck_assert_int_eq(verify_path(t.path, &v), 1);
	ck_assert_int_eq(v.kind, AUDIT_DELETED);	/* it starts at seq 1 */
	ck_assert_int_eq(v.line, 1);
	tmp_remove(&t);
}
END_TEST

/* No file: records are still numbered, chained, and given to syslog. */
START_TEST(no_file)
{
	struct audit		 a;
	struct audit_rec	 r;
	char			 sys[AUDIT_LINE_MAX], sys1[AUDIT_LINE_MAX];
	struct timespec		 ts = { -5, -1 };

	audit_init(&a);
	ck_assert_int_eq(a.state, AUDIT_NOFILE);
	ck_assert_int_eq(audit_rec_init(&r, AUDIT_EV_START, "startup"), 0);
	audit_rec_settime(&r, &ts);
	ck_assert_int_eq(audit_append(&a, &r, sys1, sizeof(sys1)), 0);
	ck_assert_int_eq(strncmp(sys1, "seq=1 time=1970-01-01T00:00:00.000Z "
	    "who=startup event=start hash=", 58), 0);
	ck_assert_ptr_null(strstr(sys1, "prev="));
	ts.tv_sec = (time_t)1 << 40;
	ts.tv_nsec = 999999999;
	audit_rec_settime(&r, &ts);
	ck_assert_int_eq(audit_append(&a, &r, sys, sizeof(sys)), 0);
	ck_assert_int_eq(strncmp(sys, "seq=2 time=9999-12-31T23:59:59.999Z ",
	    36), 0);
	ck_assert_uint_eq(a.next_seq, 3);
	/* A short buffer gets a cut, terminated line. */
	ck_assert_int_eq(audit_append(&a, &r, sys, 10), 0);
	ck_assert_str_eq(sys, "seq=3 tim");
}
END_TEST

/* A failed write leaves the chain where it was. */
START_TEST(write_failure)
{
	struct audit		 a;
	struct audit_rec	 r;
	char			 sys[AUDIT_LINE_MAX];
	int			 fd;

	ck_assert_int_ne(fd = open("/dev/null", O_RDONLY), -1);
	audit_init(&a);
	a.fd = fd;				/* not writable */
	ck_assert_int_eq(audit_rec_init(&r, AUDIT_EV_STOP, "daemon"), 0);
	ck_assert_int_eq(audit_append(&a, &r, sys, sizeof(sys)), -1);
	ck_assert_int_eq(errno, EBADF);
	ck_assert_uint_eq(a.next_seq, 1);
	/* The event still reaches syslog. */
	ck_assert_int_eq(strncmp(sys, "seq=1 ", 6), 0);
	close(fd);
}
END_TEST

START_TEST(reader_lines)
{
	struct audit_reader	 rd;
	struct audit_line	 l;
	char			 in[3000];
	FILE			*fp;

	memset(in, 'z', sizeof(in));
	memcpy(in, "one\n\ntwo\n", 9);
	in[sizeof(in) - 2] = '\n';
	in[sizeof(in) - 1] = 'x';
	ck_assert_ptr_nonnull(fp = fmemopen(in, sizeof(in), "r"));
	audit_reader_file(&rd, fp);
	ck_assert_int_eq(audit_reader_next(&rd, &l), 1);
	ck_assert_str_eq(l.text, "one");
	ck_assert_uint_eq(l.lineno, 1);
	ck_assert_int_eq(audit_reader_next(&rd, &l), 1);
	ck_assert_uint_eq(l.len, 0);
	ck_assert_int_eq(audit_reader_next(&rd, &l), 1);
	ck_assert_str_eq(l.text, "two");
	ck_assert_int_eq(audit_reader_next(&rd, &l), 1);
	ck_assert(l.toolong);
	ck_assert(!l.unterminated);
	ck_assert_uint_eq(l.lineno, 4);
	ck_assert_int_eq(audit_reader_next(&rd, &l), 1);
	ck_assert_str_eq(l.text, "x");
	ck_assert(l.unterminated);
	ck_assert_int_eq(audit_reader_next(&rd, &l), 0);
	ck_assert_int_eq(audit_reader_next(&rd, &l), 0);
	fclose(fp);

	audit_reader_fd(&rd, -1);
	ck_assert_int_eq(audit_reader_next(&rd, &l), -1);
	ck_assert_int_eq(errno, EBADF);
}
END_TEST

START_TEST(verify_read_error)
{
	struct audit_verdict	 v;
	int			 fd;

	/* A directory cannot be read(2). */
	ck_assert_int_ne(fd = open("/tmp", O_RDONLY | O_DIRECTORY), -1);
	ck_assert_int_eq(audit_verify_fd(fd, &v), -1);
	ck_assert_int_eq(v.kind, AUDIT_IOERROR);
	ck_assert_int_eq(v.error, EISDIR);
	close(fd);
}
END_TEST

static Suite *
audit_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("audit");

	tc = tcase_create("format");
	tcase_add_test(tc, encode_spellings);
	tcase_add_test(tc, escape_round_trip);
	tcase_add_test(tc, known_answer);
	tcase_add_loop_test(tc, parse_good, 0,
	    sizeof(good_lines) / sizeof(good_lines[0]));
	tcase_add_loop_test(tc, parse_bad, 0,
	    sizeof(bad_lines) / sizeof(bad_lines[0]));
	tcase_add_test(tc, parse_fields);
	tcase_add_test(tc, reader_lines);
	suite_add_tcase(s, tc);

	tc = tcase_create("builder");
	tcase_add_test(tc, builder_limits);
	tcase_add_loop_test(tc, builder_bad_key, 0,
	    sizeof(bad_keys) / sizeof(bad_keys[0]));
	tcase_add_test(tc, builder_names);
	tcase_add_test(tc, longest_record_fits);
	tcase_add_test(tc, no_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("verify");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, chain_verifies);
	tcase_add_test(tc, empty_trail);
	tcase_add_test(tc, modified_any_byte);
	tcase_add_test(tc, modified_hash_recomputed);
	tcase_add_test(tc, deleted);
	tcase_add_test(tc, reordered);
	tcase_add_test(tc, truncated);
	tcase_add_test(tc, malformed_lines);
	tcase_add_test(tc, verify_read_error);
	suite_add_tcase(s, tc);

	tc = tcase_create("file");
	tcase_add_test(tc, reopen_continues);
	tcase_add_test(tc, reopen_torn_tail);
	tcase_add_test(tc, reopen_foreign_file);
	tcase_add_test(tc, reopen_large);
	tcase_add_test(tc, file_mode_and_safety);
	tcase_add_test(tc, write_failure);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(audit_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
