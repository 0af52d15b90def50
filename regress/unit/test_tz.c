/*
 * Unit tests for common/tz.c: zone names, zone files, the listing,
 * reading and replacing a localtime link.  Each test builds its own
 * zoneinfo tree and etc directory in a temporary directory; the real
 * /etc/localtime is never touched.
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tz.h"

#define SYS_ZONEINFO	"/usr/share/zoneinfo"

static char	top[PATH_MAX];		/* the temporary directory */
static char	zdir[PATH_MAX];		/* top/zoneinfo */
static char	edir[PATH_MAX];		/* top/etc */
static char	lt[PATH_MAX];		/* top/etc/localtime */
static char	outside[PATH_MAX];	/* top/outside */

/* buf = a/b */
static void
pathf(char *buf, const char *a, const char *b)
{
	int	 r;

	r = snprintf(buf, PATH_MAX, "%s/%s", a, b);
	ck_assert(r > 0 && r < PATH_MAX);
}

static void
put(const char *rel, const char *content)
{
	char	 p[PATH_MAX];
	FILE	*fp;

	pathf(p, top, rel);
	ck_assert_ptr_nonnull(fp = fopen(p, "w"));
	ck_assert_int_eq(fputs(content, fp) >= 0, 1);
	ck_assert_int_eq(fclose(fp), 0);
}

static void
zone(const char *rel)
{
	put(rel, "TZif2\0\0\0 not a real zone, enough for the magic\n");
}

static void
dir(const char *rel)
{
	char	 p[PATH_MAX];

	pathf(p, top, rel);
	ck_assert_int_eq(mkdir(p, 0755), 0);
}

static void
link_(const char *target, const char *rel)
{
	char	 p[PATH_MAX];

	pathf(p, top, rel);
	ck_assert_int_eq(symlink(target, p), 0);
}

/*
 * The tree the tests share: zones, links inside and out, files of the
 * database that are not zones, and the trees tz_list() leaves out.
 */
static void
setup(void)
{
	char	 t[PATH_MAX];
	char	*tmp;

	if ((tmp = getenv("TMPDIR")) == NULL || tmp[0] != '/')
		tmp = "/tmp";
	pathf(top, tmp, "test_tz.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(top));
	pathf(zdir, top, "zoneinfo");
	pathf(edir, top, "etc");
	pathf(lt, edir, "localtime");
	pathf(outside, top, "outside");

	dir("zoneinfo");
	dir("etc");
	dir("outside");
	zone("outside/Zone");
	dir("zoneinfo/Europe");
	dir("zoneinfo/America");
	dir("zoneinfo/America/Argentina");
	dir("zoneinfo/US");
	dir("zoneinfo/posix");
	dir("zoneinfo/posix/Europe");
	dir("zoneinfo/right");
	zone("zoneinfo/Europe/Paris");
	zone("zoneinfo/Europe/Berlin");
	zone("zoneinfo/America/New_York");
	zone("zoneinfo/America/Argentina/Buenos_Aires");
	zone("zoneinfo/UTC");
	zone("zoneinfo/Etc+1");
	zone("zoneinfo/posix/Europe/Paris");
	zone("zoneinfo/right/UTC");
	zone("zoneinfo/posixrules");
	zone("zoneinfo/.hidden");
	zone("zoneinfo/Bad name");
	put("zoneinfo/zone.tab", "FR\t+4852+00220\tEurope/Paris\n");
	put("zoneinfo/tzdata.zi", "# version 2025b\n");
	put("zoneinfo/leapseconds", "Leap\t1972\tJun\t30\t23:59:60\t+\tS\n");
	put("zoneinfo/Short", "TZ");
	put("zoneinfo/Empty", "");
	link_("../America/New_York", "zoneinfo/US/Eastern");
	link_("Europe/Paris", "zoneinfo/Link");
	pathf(t, outside, "Zone");
	link_(t, "zoneinfo/Escape");
	link_("../outside/Zone", "zoneinfo/Escape2");
	link_(outside, "zoneinfo/Evil");
	link_("Europe", "zoneinfo/Dirlink");
	link_("Nowhere", "zoneinfo/Dangling");
	link_(lt, "zoneinfo/localtime");
	link_(lt, "zoneinfo/Loop");
	pathf(t, top, "zoneinfo/fifo");
	ck_assert_int_eq(mkfifo(t, 0644), 0);
}

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void
teardown(void)
{
	if (top[0] != '\0')
		nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
read_link(const char *p, char *buf, size_t len)
{
	ssize_t	 n;

	n = readlink(p, buf, len - 1);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
}

/* Entries of top/etc: localtime alone means no temporary was left. */
static int
etc_entries(void)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	ck_assert_ptr_nonnull(d = opendir(edir));
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* ---- names ---- */

static const char *good_names[] = {
	"UTC",
	"Europe/Paris",
	"America/Argentina/Buenos_Aires",
	"America/Port-au-Prince",
	"Etc/GMT+5",
	"Etc/GMT-14",
	"EST5EDT",
	"W-SU",
	"a.b",
	"Foo/a.b.c",
};

START_TEST(name_good)
{
	ck_assert_msg(tz_name_valid(good_names[_i]), "%s", good_names[_i]);
}
END_TEST

static const char *bad_names[] = {
	"",
	"../etc/passwd",
	"/etc/passwd",
	"Europe/../../etc/passwd",
	"a//b",
	"a/./b",
	"a/../b",
	"./a",
	"a/.",
	"a/..",
	"..",
	".",
	"Europe/",
	"Europe/Paris/",
	"/",
	".hidden",
	"a/.b",
	"a..b",
	"-rf",
	"a/-b",
	"Europe Paris",
	"Europe/Paris ",
	" Europe/Paris",
	"Europe\tParis",
	"Europe/Paris\n",
	"Europe/\x01Paris",
	"Europe/Paris\x7f",
	"Europe/P\xc3\xa0ris",
	"Europe\\Paris",
	"Europe:Paris",
	"*",
	"~root",
	"$HOME",
};

START_TEST(name_bad)
{
	ck_assert_msg(!tz_name_valid(bad_names[_i]), "%s", bad_names[_i]);
}
END_TEST

START_TEST(name_length)
{
	char	 name[TZ_NAME_MAX + 2];

	ck_assert(!tz_name_valid(NULL));
	memset(name, 'a', sizeof(name));
	name[TZ_NAME_MAX] = '\0';
	ck_assert(tz_name_valid(name));
	name[3] = '/';
	ck_assert(tz_name_valid(name));
	name[TZ_NAME_MAX] = 'a';
	name[TZ_NAME_MAX + 1] = '\0';
	ck_assert(!tz_name_valid(name));
}
END_TEST

/* ---- zone files ---- */

START_TEST(check_zones)
{
	ck_assert_int_eq(tz_zone_check(zdir, "Europe/Paris"), 0);
	ck_assert_int_eq(tz_zone_check(zdir, "UTC"), 0);
	ck_assert_int_eq(tz_zone_check(zdir, "Etc+1"), 0);
	ck_assert_int_eq(tz_zone_check(zdir,
	    "America/Argentina/Buenos_Aires"), 0);
	/* links that stay inside */
	ck_assert_int_eq(tz_zone_check(zdir, "US/Eastern"), 0);
	ck_assert_int_eq(tz_zone_check(zdir, "Link"), 0);
	ck_assert_int_eq(tz_zone_check(zdir, "Dirlink/Paris"), 0);
}
END_TEST

struct refusal {
	const char	*name;
	int		 err;
};

static const struct refusal refusals[] = {
	{ "Europe/London",	ENOENT },
	{ "Nowhere/Zone",	ENOENT },
	{ "Dangling",		ENOENT },
	{ "UTC/Paris",		ENOTDIR },
	{ "zone.tab",		EINVAL },	/* not TZif */
	{ "tzdata.zi",		EINVAL },
	{ "leapseconds",	EINVAL },
	{ "Short",		EINVAL },
	{ "Empty",		EINVAL },
	{ "fifo",		EINVAL },	/* and no hang */
	{ "Europe",		EISDIR },
	{ "Dirlink",		EISDIR },
	{ "Escape",		ELOOP },	/* absolute link out */
	{ "Escape2",		ELOOP },	/* ".." out */
	{ "Evil/Zone",		ELOOP },	/* a directory link out */
	{ "Loop",		ELOOP },	/* would loop to itself */
	/* valid zones, but not offered */
	{ "localtime",		ENOENT },
	{ "posixrules",		ENOENT },
	{ "posix/Europe/Paris",	ENOENT },
	{ "right/UTC",		ENOENT },
	{ "../outside/Zone",	EINVAL },	/* refused by name */
	{ "Bad name",		EINVAL },
	{ ".hidden",		EINVAL },
};

START_TEST(check_refused)
{
	const struct refusal	*r = &refusals[_i];

	errno = 0;
	ck_assert_msg(tz_zone_check(zdir, r->name) == -1, "%s", r->name);
	ck_assert_msg(errno == r->err, "%s: errno %d (%s), want %d",
	    r->name, errno, strerror(errno), r->err);
}
END_TEST

START_TEST(check_args)
{
	char	 p[PATH_MAX];

	errno = 0;
	ck_assert_int_eq(tz_zone_check(NULL, "UTC"), -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(tz_zone_check(zdir, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	pathf(p, top, "nodir");
	errno = 0;
	ck_assert_int_eq(tz_zone_check(p, "UTC"), -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

/*
 * Without openat2(2) (a seccomp filter answers ENOSYS, in a child so
 * the filter dies with it): no link is followed at all.
 */
START_TEST(check_fallback)
{
	scmp_filter_ctx	 ctx;
	pid_t		 pid;
	int		 status, bad = 0;

	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		ctx = seccomp_init(SCMP_ACT_ALLOW);
		if (ctx == NULL || seccomp_rule_add(ctx,
		    SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(openat2), 0) != 0 ||
		    seccomp_load(ctx) != 0)
			_exit(100);
		seccomp_release(ctx);
		bad |= tz_zone_check(zdir, "Europe/Paris") != 0;
		bad |= (tz_zone_check(zdir, "America/Argentina/"
		    "Buenos_Aires") != 0) << 1;
		bad |= !(tz_zone_check(zdir, "US/Eastern") == -1 &&
		    errno == ELOOP) << 2;
		bad |= !(tz_zone_check(zdir, "Escape") == -1 &&
		    errno == ELOOP) << 3;
		bad |= !(tz_zone_check(zdir, "Evil/Zone") == -1 &&
		    errno == ELOOP) << 4;
		bad |= !(tz_zone_check(zdir, "Europe/London") == -1 &&
		    errno == ENOENT) << 5;
		bad |= !(tz_zone_check(zdir, "zone.tab") == -1 &&
		    errno == EINVAL) << 6;
		bad |= !(tz_zone_check(zdir, "Europe") == -1 &&
		    errno == EISDIR) << 7;
		_exit(bad);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_msg(WEXITSTATUS(status) == 0, "fallback checks: %#x",
	    WEXITSTATUS(status));
}
END_TEST

/* ---- listing ---- */

struct names {
	char	 v[32][TZ_NAME_MAX + 1];
	int	 n;
	int	 stop_after;	/* 0: never */
};

static int
collect(const char *name, void *arg)
{
	struct names	*ns = arg;

	ck_assert_int_lt(ns->n, 32);
	strlcpy(ns->v[ns->n], name, sizeof(ns->v[0]));
	ns->n++;
	if (ns->stop_after != 0 && ns->n == ns->stop_after)
		return 7;
	return 0;
}

START_TEST(list_filtered_sorted)
{
	static const char	*want[] = {
		"America/Argentina/Buenos_Aires",
		"America/New_York",
		"Etc+1",
		"Europe/Berlin",
		"Europe/Paris",
		"Link",
		"US/Eastern",
		"UTC",
	};
	static struct names	 ns;
	size_t			 i;

	memset(&ns, 0, sizeof(ns));
	ck_assert_int_eq(tz_list(zdir, collect, &ns), 0);
	ck_assert_int_eq(ns.n, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_str_eq(ns.v[i], want[i]);
}
END_TEST

START_TEST(list_stop)
{
	static struct names	 ns;

	memset(&ns, 0, sizeof(ns));
	ns.stop_after = 2;
	ck_assert_int_eq(tz_list(zdir, collect, &ns), 7);
	ck_assert_int_eq(ns.n, 2);
	ck_assert_str_eq(ns.v[1], "America/New_York");
}
END_TEST

START_TEST(list_errors)
{
	static struct names	 ns;
	char			 p[PATH_MAX];

	memset(&ns, 0, sizeof(ns));
	pathf(p, top, "nodir");
	errno = 0;
	ck_assert_int_eq(tz_list(p, collect, &ns), -1);
	ck_assert_int_eq(errno, ENOENT);
	errno = 0;
	ck_assert_int_eq(tz_list(zdir, NULL, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	/* an empty database lists nothing, and that is no error */
	ck_assert_int_eq(tz_list(edir, collect, &ns), 0);
	ck_assert_int_eq(ns.n, 0);
}
END_TEST

/* ---- current ---- */

START_TEST(current_absolute)
{
	char	 t[PATH_MAX], buf[TZ_NAME_MAX + 1];

	pathf(t, zdir, "Europe/Paris");
	ck_assert_int_eq(symlink(t, lt), 0);
	ck_assert_int_eq(tz_current(lt, zdir, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "Europe/Paris");
	/* dir written with a trailing slash, the link with odd parts */
	pathf(t, zdir, "/");
	ck_assert_int_eq(tz_current(lt, t, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "Europe/Paris");
	ck_assert_int_eq(unlink(lt), 0);
	pathf(t, zdir, ".//America/./Argentina//Buenos_Aires");
	ck_assert_int_eq(symlink(t, lt), 0);
	ck_assert_int_eq(tz_current(lt, zdir, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "America/Argentina/Buenos_Aires");
}
END_TEST

START_TEST(current_relative)
{
	char	 buf[TZ_NAME_MAX + 1];

	/* as /etc/localtime -> ../usr/share/zoneinfo/Europe/Paris */
	ck_assert_int_eq(symlink("../zoneinfo/Europe/Paris", lt), 0);
	ck_assert_int_eq(tz_current(lt, zdir, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "Europe/Paris");
	ck_assert_int_eq(unlink(lt), 0);
	ck_assert_int_eq(symlink("../etc/../zoneinfo/US/Eastern", lt), 0);
	ck_assert_int_eq(tz_current(lt, zdir, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "US/Eastern");
}
END_TEST

START_TEST(current_refused)
{
	char	 t[PATH_MAX], buf[TZ_NAME_MAX + 1];

	/* missing: the C library uses UTC */
	strlcpy(buf, "junk", sizeof(buf));
	errno = 0;
	ck_assert_int_eq(tz_current(lt, zdir, buf, sizeof(buf)), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_str_eq(buf, "");

	/* a copy: the name is unknown */
	put("etc/localtime", "TZif2 copied\n");
	strlcpy(buf, "junk", sizeof(buf));
	errno = 0;
	ck_assert_int_eq(tz_current(lt, zdir, buf, sizeof(buf)), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(unlink(lt), 0);

	/* outside dir, and climbing out of it */
	pathf(t, outside, "Zone");
	ck_assert_int_eq(symlink(t, lt), 0);
	errno = 0;
	ck_assert_int_eq(tz_current(lt, zdir, buf, sizeof(buf)), -1);
	ck_assert_int_eq(errno, EXDEV);
	ck_assert_int_eq(unlink(lt), 0);
	ck_assert_int_eq(symlink("../zoneinfo/../outside/Zone", lt), 0);
	errno = 0;
	ck_assert_int_eq(tz_current(lt, zdir, buf, sizeof(buf)), -1);
	ck_assert_int_eq(errno, EXDEV);
	ck_assert_int_eq(unlink(lt), 0);
	/* dir itself, and a prefix that is not a directory boundary */
	ck_assert_int_eq(symlink("../zoneinfo", lt), 0);
	errno = 0;
	ck_assert_int_eq(tz_current(lt, zdir, buf, sizeof(buf)), -1);
	ck_assert_int_eq(errno, EXDEV);
	ck_assert_int_eq(unlink(lt), 0);
	ck_assert_int_eq(symlink("../zoneinfoX/Europe/Paris", lt), 0);
	errno = 0;
	ck_assert_int_eq(tz_current(lt, zdir, buf, sizeof(buf)), -1);
	ck_assert_int_eq(errno, EXDEV);
	ck_assert_int_eq(unlink(lt), 0);

	/* a buffer too small */
	ck_assert_int_eq(symlink("../zoneinfo/Europe/Paris", lt), 0);
	strlcpy(buf, "junk", sizeof(buf));
	errno = 0;
	ck_assert_int_eq(tz_current(lt, zdir, buf, 12), -1);
	ck_assert_int_eq(errno, ENAMETOOLONG);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(tz_current(lt, zdir, buf, 13), 0);
	ck_assert_str_eq(buf, "Europe/Paris");

	/* relative paths are refused */
	errno = 0;
	ck_assert_int_eq(tz_current("etc/localtime", zdir, buf, sizeof(buf)),
	    -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(tz_current(lt, zdir, NULL, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

/* ---- install ---- */

START_TEST(install_new)
{
	char	 t[PATH_MAX], want[PATH_MAX], buf[TZ_NAME_MAX + 1];

	ck_assert_int_eq(tz_install(zdir, "Europe/Paris", lt), 0);
	read_link(lt, t, sizeof(t));
	pathf(want, zdir, "Europe/Paris");
	ck_assert_str_eq(t, want);
	ck_assert_int_eq(tz_current(lt, zdir, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "Europe/Paris");
	ck_assert_int_eq(etc_entries(), 1);
}
END_TEST

START_TEST(install_replaces_link)
{
	char		 buf[TZ_NAME_MAX + 1];
	struct stat	 st;

	ck_assert_int_eq(symlink("../zoneinfo/Europe/Paris", lt), 0);
	ck_assert_int_eq(tz_install(zdir, "US/Eastern", lt), 0);
	ck_assert_int_eq(lstat(lt, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_int_eq(tz_current(lt, zdir, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "US/Eastern");
	/* the link is usable: it leads to the zone */
	ck_assert_int_eq(stat(lt, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(etc_entries(), 1);
	/* the same zone again is fine */
	ck_assert_int_eq(tz_install(zdir, "US/Eastern", lt), 0);
	ck_assert_int_eq(etc_entries(), 1);
}
END_TEST

START_TEST(install_replaces_file)
{
	char		 buf[TZ_NAME_MAX + 1];
	struct stat	 st;

	put("etc/localtime", "TZif2 copied\n");
	ck_assert_int_eq(tz_install(zdir, "UTC", lt), 0);
	ck_assert_int_eq(lstat(lt, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_int_eq(tz_current(lt, zdir, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "UTC");
	ck_assert_int_eq(etc_entries(), 1);
}
END_TEST

static const struct refusal install_refusals[] = {
	{ "../outside/Zone",	EINVAL },
	{ "/etc/passwd",	EINVAL },
	{ "Europe/London",	ENOENT },
	{ "zone.tab",		EINVAL },
	{ "Europe",		EISDIR },
	{ "Escape",		ELOOP },
	{ "Loop",		ELOOP },
	{ "localtime",		ENOENT },
	{ "right/UTC",		ENOENT },
	{ "fifo",		EINVAL },
};

START_TEST(install_refused_keeps_old)
{
	const struct refusal	*r = &install_refusals[_i];
	char			 t[PATH_MAX];

	ck_assert_int_eq(symlink("../zoneinfo/Europe/Paris", lt), 0);
	errno = 0;
	ck_assert_int_eq(tz_install(zdir, r->name, lt), -1);
	ck_assert_msg(errno == r->err, "%s: errno %d (%s), want %d",
	    r->name, errno, strerror(errno), r->err);
	read_link(lt, t, sizeof(t));
	ck_assert_str_eq(t, "../zoneinfo/Europe/Paris");
	ck_assert_int_eq(etc_entries(), 1);
}
END_TEST

START_TEST(install_failed_rename)
{
	char		 p[PATH_MAX];
	struct stat	 st;

	/* rename(2) of a link over a directory fails: nothing left behind */
	ck_assert_int_eq(mkdir(lt, 0755), 0);
	errno = 0;
	ck_assert_int_eq(tz_install(zdir, "UTC", lt), -1);
	ck_assert_int_eq(errno, EISDIR);
	ck_assert_int_eq(lstat(lt, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(etc_entries(), 1);

	/* a directory that does not exist */
	pathf(p, top, "nodir/localtime");
	errno = 0;
	ck_assert_int_eq(tz_install(zdir, "UTC", p), -1);
	ck_assert_int_eq(errno, ENOENT);

	/* relative paths, a trailing slash */
	errno = 0;
	ck_assert_int_eq(tz_install("zoneinfo", "UTC", lt), -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(tz_install(zdir, "UTC", "localtime"), -1);
	ck_assert_int_eq(errno, EINVAL);
	pathf(p, edir, "localtime/");
	errno = 0;
	ck_assert_int_eq(tz_install(zdir, "UTC", p), -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(tz_install(zdir, NULL, lt), -1);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

/* ---- the system's database, where there is one ---- */

struct sys_walk {
	char	 prev[TZ_NAME_MAX + 1];
	int	 n, paris, eastern, bad;
};

static int
collect_system(const char *name, void *arg)
{
	struct sys_walk	*st = arg;

	if (st->n > 0 && strcmp(st->prev, name) >= 0)
		st->bad = 1;
	if (strncmp(name, "posix/", 6) == 0 ||
	    strncmp(name, "right/", 6) == 0 ||
	    strcmp(name, "zone.tab") == 0 ||
	    strcmp(name, "localtime") == 0 ||
	    strcmp(name, "posixrules") == 0 || !tz_name_valid(name))
		st->bad = 1;
	if (strcmp(name, "Europe/Paris") == 0)
		st->paris = 1;
	if (strcmp(name, "US/Eastern") == 0)
		st->eastern = 1;
	strlcpy(st->prev, name, sizeof(st->prev));
	st->n++;
	return 0;
}

START_TEST(system_database)
{
	struct sys_walk	 st;
	char		 buf[TZ_NAME_MAX + 1], env[PATH_MAX + 1];
	struct tm	 tm;
	time_t		 winter = 1767225600;	/* 2026-01-01 00:00 UTC */
	time_t		 summer = 1782864000;	/* 2026-07-01 00:00 UTC */

	/* tzdata is a dependency (make deps): its absence is a failure. */
	ck_assert_msg(access(SYS_ZONEINFO "/Europe/Paris", R_OK) == 0,
	    "no %s/Europe/Paris: is tzdata installed?", SYS_ZONEINFO);
	ck_assert_int_eq(tz_zone_check(SYS_ZONEINFO, "Europe/Paris"), 0);
	ck_assert_int_eq(tz_zone_check(SYS_ZONEINFO, "zone.tab") == -1 &&
	    errno == EINVAL, 1);
	ck_assert_int_eq(tz_zone_check(SYS_ZONEINFO, "right/Europe/Paris") ==
	    -1 && errno == ENOENT, 1);
	ck_assert_int_eq(tz_zone_check(SYS_ZONEINFO, "localtime") == -1 &&
	    errno == ENOENT, 1);

	memset(&st, 0, sizeof(st));
	ck_assert_int_eq(tz_list(SYS_ZONEINFO, collect_system, &st), 0);
	ck_assert_int_eq(st.bad, 0);
	ck_assert_int_eq(st.paris, 1);
	ck_assert_int_gt(st.n, 300);
	if (access(SYS_ZONEINFO "/US/Eastern", R_OK) == 0)
		ck_assert_int_eq(st.eastern, 1);

	/* into our own etc: the C library then reads it as a zone */
	ck_assert_int_eq(tz_install(SYS_ZONEINFO, "Europe/Paris", lt), 0);
	ck_assert_int_eq(tz_current(lt, SYS_ZONEINFO, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "Europe/Paris");
	snprintf(env, sizeof(env), ":%s", lt);
	ck_assert_int_eq(setenv("TZ", env, 1), 0);
	tzset();
	ck_assert_ptr_nonnull(localtime_r(&winter, &tm));
	ck_assert_int_eq(tm.tm_gmtoff, 3600);
	ck_assert_ptr_nonnull(localtime_r(&summer, &tm));
	ck_assert_int_eq(tm.tm_gmtoff, 7200);
	unsetenv("TZ");
	tzset();
}
END_TEST

static Suite *
tz_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("tz");

	tc = tcase_create("name");
	tcase_add_loop_test(tc, name_good, 0,
	    sizeof(good_names) / sizeof(good_names[0]));
	tcase_add_loop_test(tc, name_bad, 0,
	    sizeof(bad_names) / sizeof(bad_names[0]));
	tcase_add_test(tc, name_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("check");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, check_zones);
	tcase_add_loop_test(tc, check_refused, 0,
	    sizeof(refusals) / sizeof(refusals[0]));
	tcase_add_test(tc, check_args);
	tcase_add_test(tc, check_fallback);
	suite_add_tcase(s, tc);

	tc = tcase_create("list");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, list_filtered_sorted);
	tcase_add_test(tc, list_stop);
	tcase_add_test(tc, list_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("current");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, current_absolute);
	tcase_add_test(tc, current_relative);
	tcase_add_test(tc, current_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("install");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, install_new);
	tcase_add_test(tc, install_replaces_link);
	tcase_add_test(tc, install_replaces_file);
	tcase_add_loop_test(tc, install_refused_keeps_old, 0,
	    sizeof(install_refusals) / sizeof(install_refusals[0]));
	tcase_add_test(tc, install_failed_rename);
	tcase_add_test(tc, system_database);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(tz_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
