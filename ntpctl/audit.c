/*
 * ntpctl audit [verify] [-f file]: print the audit trail in columns, or
 * check its hash chain and name the first record that was modified,
 * deleted or reordered.  Only what audit_parse() accepted is printed,
 * and values stay escaped, so a trail cannot send control bytes to the
 * terminal.
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/audit.h"	/* this directory has its own audit.h */
#include "audit.h"

static int
audit_usage(void)
{
	fprintf(stderr, "usage: ntpctl audit [verify] [-f file]\n");
	return 2;
}

static void
print_entry(const struct audit_entry *e)
{
	char	 val[AUDIT_LINE_MAX];
	size_t	 i;

	printf("%6" PRIu64 "  %s  %-20s %-18s", e->seq, e->time, e->who,
	    e->event);
	for (i = 0; i < e->nfields; i++) {
		if (audit_encode_value(val, sizeof(val), e->fields[i].value,
		    e->fields[i].valuelen) == -1)
			strlcpy(val, "?", sizeof(val));
		printf(" %s=%s", e->fields[i].key, val);
	}
	putchar('\n');
}

/* Every record that parses; a warning for each line that does not. */
static int
audit_show(FILE *fp, const char *path)
{
	struct audit_reader	*r;
	struct audit_entry	*e;
	struct audit_line	 l;
	char			 why[AUDIT_MSG_MAX];
	int			 rc, bad = 0;

	if ((r = malloc(sizeof(*r))) == NULL ||
	    (e = malloc(sizeof(*e))) == NULL) {
		free(r);
		warn("audit");
		return 2;
	}
	audit_reader_file(r, fp);
	printf("%6s  %-24s  %-20s %-18s %s\n", "SEQ", "TIME (UTC)", "WHO",
	    "EVENT", "DETAILS");
	while ((rc = audit_reader_next(r, &l)) == 1) {
		if (l.toolong) {
			warnx("audit: line %" PRIu64 ": longer than %d bytes",
			    l.lineno, AUDIT_LINE_MAX);
			bad = 1;
			continue;
		}
		if (audit_parse(l.text, l.len, e, why, sizeof(why)) == -1) {
			warnx("audit: line %" PRIu64 ": %s: %s", l.lineno,
			    l.unterminated ? "truncated" : "malformed", why);
			bad = 1;
			continue;
		}
		print_entry(e);
		/* Printed, but not vouched for. */
		if (memcmp(e->hash, e->computed, AUDIT_HASH_LEN) != 0) {
			warnx("audit: line %" PRIu64 " (seq %" PRIu64 "): "
			    "modified: hash does not match the record",
			    l.lineno, e->seq);
			bad = 1;
		} else if (l.unterminated) {
			warnx("audit: line %" PRIu64 " (seq %" PRIu64 "): "
			    "truncated: no newline at the end", l.lineno,
			    e->seq);
			bad = 1;
		}
	}
	if (rc == -1)
		warn("audit: %s", path);
	free(r);
	free(e);
	if (fflush(stdout) == EOF) {
		warn("audit: stdout");
		return 2;
	}
	return rc == -1 ? 2 : bad;
}

static int
audit_check(FILE *fp, const char *path)
{
	struct audit_verdict	 v;
	char			 hex[AUDIT_HEX_LEN + 1];
	int			 rc;

	rc = audit_verify_file(fp, &v);
	if (rc == -1) {
		errno = v.error != 0 ? v.error : errno;
		warn("audit: %s", path);
		return 2;
	}
	if (rc == 1) {
		printf("audit: line %" PRIu64, v.line);
		if (v.have_seq)
			printf(" (seq %" PRIu64 ")", v.seq);
		printf(": %s: %s\n", audit_problem_name(v.kind), v.msg);
	} else {
		printf("audit: %" PRIu64 " record%s, chain intact\n",
		    v.nrecords, v.nrecords == 1 ? "" : "s");
		/* Deleting from the end shows only against syslog's copy. */
		if (v.nrecords > 0) {
			audit_hex(hex, v.last_hash);
			printf("audit: last seq=%" PRIu64 " hash=%s\n",
			    v.last_seq, hex);
		}
	}
	if (fflush(stdout) == EOF) {
		warn("audit: stdout");
		return 2;
	}
	return rc;
}

int
ctl_audit(int argc, char *argv[])
{
	const char	*path = AUDIT_FILE_DEFAULT;
	FILE		*fp;
	int		 i, verify = 0, rc;

	if (argc < 1 || argv == NULL)
		return audit_usage();
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-f") == 0) {
			if (++i >= argc)
				return audit_usage();
			path = argv[i];
		} else if (strncmp(argv[i], "-f", 2) == 0)
			path = argv[i] + 2;
		else if (strcmp(argv[i], "verify") == 0 && !verify)
			verify = 1;
		else
			return audit_usage();
	}
	if (*path == '\0')
		return audit_usage();

	if (strcmp(path, "-") == 0) {
		fp = stdin;
		path = "standard input";
	} else if ((fp = fopen(path, "re")) == NULL) {
		warn("audit: %s", path);
		return 2;
	}
	rc = verify ? audit_check(fp, path) : audit_show(fp, path);
	if (fp != stdin)
		fclose(fp);
	return rc;
}
