/*
 * Time zones.  A zone is a TZif file under the zoneinfo directory; a
 * name is taken only when the kernel can show that resolving it never
 * leaves that directory (openat2(2) with RESOLVE_BENEATH).  Where
 * openat2(2) is missing, every component is opened with O_NOFOLLOW
 * instead: no link is followed at all, which refuses link names such as
 * US/Eastern but never lets one out.
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/openat2.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "syncdir.h"
#include "tz.h"

#define TZ_DEPTH_MAX	8	/* Area/Region/City is 3 deep */
#define TZ_OPEN_FLAGS	(O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
#define TZ_MAGIC	"TZif"
#define TZ_MAGIC_LEN	4

struct zone_names {
	char	**v;
	size_t	  n;
	size_t	  cap;
};

static int	open_nofollow(int, const char *);
static int	zone_open(const char *, const char *);
static int	path_clean(const char *, char *, size_t);
static int	skip_top(const char *);
static int	names_add(struct zone_names *, const char *);
static int	name_cmp(const void *, const void *);
static int	walk(const char *, int, char *, size_t, int,
		    struct zone_names *);
static int	walk_entry(const char *, int, const char *, char *, size_t,
		    int, struct zone_names *);

/*
 * Top-level names that are not zones to offer: posix/ repeats the
 * database, right/ counts leap seconds (an NTP-kept clock does not, so
 * those zones would show the time 27 s off), posixrules is the default
 * rule for TZ strings, localtime points back at /etc/localtime.  The
 * first component of name is compared, so both tz_list() and
 * tz_zone_check() use this: what can be set is what is listed.
 */
static int
skip_top(const char *name)
{
	static const char *const skip[] = {
		"posix", "right", "posixrules", "localtime",
	};
	size_t	 i, n;

	n = strcspn(name, "/");
	for (i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (strlen(skip[i]) == n && strncmp(name, skip[i], n) == 0)
			return 1;
	return 0;
}

int
tz_name_valid(const char *name)
{
	size_t		 i, len;
	int		 start = 1;	/* at a component's first byte */
	unsigned char	 c;

	if (name == NULL)
		return 0;
	len = strnlen(name, TZ_NAME_MAX + 1);
	if (len == 0 || len > TZ_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		c = (unsigned char)name[i];
		if (c == '/') {
			/* a leading '/' or an empty component */
			if (start)
				return 0;
			start = 1;
			continue;
		}
		/* '.' and '-' would make ".", "..", hidden files, options */
		if (start && (c == '.' || c == '-'))
			return 0;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '+' ||
		    c == '-' || c == '.'))
			return 0;
		if (c == '.' && name[i + 1] == '.')
			return 0;
		start = 0;
	}
	/* no trailing '/' */
	return !start;
}

/*
 * Without openat2(2): each component opened with O_NOFOLLOW, so any
 * link fails with ELOOP.  name has passed tz_name_valid().
 */
static int
open_nofollow(int dfd, const char *name)
{
	struct stat	 st;
	char		 comp[TZ_NAME_MAX + 1];
	const char	*p = name, *e;
	size_t		 n;
	int		 cur = dfd, fd, save;

	while ((e = strchr(p, '/')) != NULL) {
		n = (size_t)(e - p);
		if (n >= sizeof(comp)) {
			fd = -1;
			errno = ENAMETOOLONG;
		} else {
			memcpy(comp, p, n);
			comp[n] = '\0';
			fd = openat(cur, comp, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
			/* a link to a directory says ENOTDIR: say ELOOP */
			if (fd == -1 && errno == ENOTDIR &&
			    fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(st.st_mode))
				errno = ELOOP;
		}
		if (cur != dfd) {
			save = errno;
			close(cur);
			errno = save;
		}
		if (fd == -1)
			return -1;
		cur = fd;
		p = e + 1;
	}
	fd = openat(cur, p, TZ_OPEN_FLAGS | O_NOFOLLOW);
	if (cur != dfd) {
		save = errno;
		close(cur);
		errno = save;
	}
	return fd;
}

/*
 * Open dir/name for reading, never resolving outside dir.  Links
 * inside dir are followed (Debian's US/Eastern -> ../America/New_York);
 * an absolute link or a ".." above dir fails, reported as ELOOP.
 * O_NONBLOCK so that a FIFO cannot hang us before fstat() refuses it.
 */
static int
zone_open(const char *dir, const char *name)
{
	struct open_how	 how;
	int		 dfd, fd, tries = 0, save;

	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	memset(&how, 0, sizeof(how));
	how.flags = TZ_OPEN_FLAGS;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	/* EAGAIN: a concurrent rename made ".." unverifiable; retry. */
	do {
		fd = (int)syscall(SYS_openat2, dfd, name, &how, sizeof(how));
	} while (fd == -1 && errno == EAGAIN && ++tries < 8);
	/* ENOSYS: old kernel; EPERM: a seccomp profile that forbids it. */
	if (fd == -1 && (errno == ENOSYS || errno == EPERM))
		fd = open_nofollow(dfd, name);
	else if (fd == -1 && errno == EXDEV)
		errno = ELOOP;
	save = errno;
	close(dfd);
	errno = save;
	return fd;
}

int
tz_zone_check(const char *dir, const char *name)
{
	struct stat	 st;
	char		 magic[TZ_MAGIC_LEN];
	ssize_t		 n;
	int		 fd, save;

	if (dir == NULL || !tz_name_valid(name)) {
		errno = EINVAL;
		return -1;
	}
	if (skip_top(name)) {
		errno = ENOENT;
		return -1;
	}
	if ((fd = zone_open(dir, name)) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	if ((n = pread(fd, magic, sizeof(magic), 0)) == -1)
		goto fail;
	if (n != (ssize_t)sizeof(magic) ||
	    memcmp(magic, TZ_MAGIC, TZ_MAGIC_LEN) != 0) {
		errno = EINVAL;
		goto fail;
	}
	close(fd);
	return 0;
 fail:
	save = errno;
	close(fd);
	errno = save;
	return -1;
}

static int
names_add(struct zone_names *zn, const char *name)
{
	char	**v;
	size_t	  cap;

	if (zn->n >= TZ_LIST_MAX) {
		errno = EOVERFLOW;
		return -1;
	}
	if (zn->n == zn->cap) {
		cap = zn->cap == 0 ? 512 : zn->cap * 2;
		if ((v = reallocarray(zn->v, cap, sizeof(*v))) == NULL)
			return -1;
		zn->v = v;
		zn->cap = cap;
	}
	if ((zn->v[zn->n] = strdup(name)) == NULL)
		return -1;
	zn->n++;
	return 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * One directory entry: rel holds the path of its directory (rlen
 * bytes); the entry's own name is appended for the time of the call.
 */
static int
walk_entry(const char *dir, int dfd, const char *ent, char *rel,
    size_t rlen, int depth, struct zone_names *zn)
{
	struct stat	 st;
	size_t		 n, len;
	int		 fd, ret = -1;

	n = strlen(ent);
	len = rlen + (rlen > 0) + n;
	/* too long to be a zone name */
	if (len > TZ_NAME_MAX)
		return 0;
	if (rlen > 0)
		rel[rlen] = '/';
	memcpy(rel + rlen + (rlen > 0), ent, n + 1);

	if (fstatat(dfd, ent, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		/* gone since readdir(): nothing to list */
		ret = errno == ENOENT ? 0 : -1;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		/* a real directory only: links to directories are aliases */
		if (depth + 1 >= TZ_DEPTH_MAX) {
			ret = 0;
			goto out;
		}
		fd = openat(dfd, ent, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (fd == -1)
			goto out;
		ret = walk(dir, fd, rel, len, depth + 1, zn);
		goto out;
	}
	ret = 0;
	if ((!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) ||
	    !tz_name_valid(rel))
		goto out;
	if (tz_zone_check(dir, rel) == 0) {
		ret = names_add(zn, rel);
		goto out;
	}
	/* Not a zone (zone.tab, a link leaving dir...): leave it out. */
	switch (errno) {
	case EINVAL:
	case EISDIR:
	case ENOENT:
	case ENOTDIR:
	case ELOOP:
	case EACCES:
		break;
	default:
		ret = -1;
		break;
	}
 out:
	rel[rlen] = '\0';
	return ret;
}

/* Takes dfd over, closes it. */
static int
walk(const char *dir, int dfd, char *rel, size_t rlen, int depth,
    struct zone_names *zn)
{
	DIR		*d;
	struct dirent	*de;
	int		 ret = -1, save;

	if ((d = fdopendir(dfd)) == NULL) {
		save = errno;
		close(dfd);
		errno = save;
		return -1;
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno == 0)
				ret = 0;
			break;
		}
		/* ".", ".." and hidden files are never zones */
		if (de->d_name[0] == '.')
			continue;
		if (depth == 0 && skip_top(de->d_name))
			continue;
		if (walk_entry(dir, dirfd(d), de->d_name, rel, rlen, depth,
		    zn) == -1)
			break;
	}
	save = errno;
	closedir(d);
	errno = save;
	return ret;
}

int
tz_list(const char *dir, int (*cb)(const char *, void *), void *arg)
{
	struct zone_names	 zn = { NULL, 0, 0 };
	char			 rel[TZ_NAME_MAX + 1] = "";
	size_t			 i;
	int			 fd, ret = -1, save;

	if (dir == NULL || cb == NULL) {
		errno = EINVAL;
		return -1;
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	if (walk(dir, fd, rel, 0, 0, &zn) == -1)
		goto out;
	if (zn.n > 0)
		qsort(zn.v, zn.n, sizeof(*zn.v), name_cmp);
	ret = 0;
	for (i = 0; i < zn.n && ret == 0; i++)
		ret = cb(zn.v[i], arg);
 out:
	save = errno;
	for (i = 0; i < zn.n; i++)
		free(zn.v[i]);
	free(zn.v);
	errno = save;
	return ret;
}

/*
 * Lexical cleaning of an absolute path: empty and "." components go,
 * ".." takes the previous one off.  Only used to compare a link's text
 * with dir; nothing is opened.
 */
static int
path_clean(const char *in, char *out, size_t len)
{
	const char	*p = in, *e;
	size_t		 o = 1, n;

	if (in[0] != '/' || len < 2) {
		errno = EINVAL;
		return -1;
	}
	out[0] = '/';
	out[1] = '\0';
	while (*p != '\0') {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		if ((e = strchr(p, '/')) == NULL)
			e = p + strlen(p);
		n = (size_t)(e - p);
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (o > 1 && out[o - 1] != '/')
				o--;
			if (o > 1)
				o--;
			out[o] = '\0';
		} else if (!(n == 1 && p[0] == '.')) {
			if (o + (o > 1) + n >= len) {
				errno = ENAMETOOLONG;
				return -1;
			}
			if (o > 1)
				out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
			out[o] = '\0';
		}
		p = e;
	}
	return 0;
}

int
tz_current(const char *localtime_path, const char *dir, char *buf,
    size_t len)
{
	char		 link[PATH_MAX], joined[PATH_MAX], full[PATH_MAX];
	char		 cdir[PATH_MAX];
	const char	*name, *slash;
	ssize_t		 n;
	size_t		 dlen;
	int		 r;

	if (buf == NULL || len == 0) {
		errno = EINVAL;
		return -1;
	}
	buf[0] = '\0';
	if (localtime_path == NULL || dir == NULL ||
	    localtime_path[0] != '/' || dir[0] != '/') {
		errno = EINVAL;
		return -1;
	}
	if (strnlen(localtime_path, PATH_MAX) >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* EINVAL here: a regular file, a copy whose zone is unknown */
	if ((n = readlink(localtime_path, link, sizeof(link))) == -1)
		return -1;
	if ((size_t)n >= sizeof(link)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	link[n] = '\0';

	if (link[0] == '/') {
		if (path_clean(link, full, sizeof(full)) == -1)
			return -1;
	} else {
		/* relative to the directory that holds the link */
		slash = strrchr(localtime_path, '/');
		r = snprintf(joined, sizeof(joined), "%.*s/%s",
		    (int)(slash - localtime_path), localtime_path, link);
		if (r < 0 || (size_t)r >= sizeof(joined)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (path_clean(joined, full, sizeof(full)) == -1)
			return -1;
	}
	if (path_clean(dir, cdir, sizeof(cdir)) == -1)
		return -1;

	dlen = strlen(cdir);
	if (dlen == 1)
		name = full + 1;
	else if (strncmp(full, cdir, dlen) == 0 && full[dlen] == '/')
		name = full + dlen + 1;
	else {
		errno = EXDEV;
		return -1;
	}
	if (!tz_name_valid(name)) {
		errno = EXDEV;
		return -1;
	}
	if (strlcpy(buf, name, len) >= len) {
		buf[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
tz_install(const char *dir, const char *name, const char *localtime_path)
{
	char	 cdir[PATH_MAX], target[PATH_MAX], tmp[PATH_MAX];
	size_t	 ltlen;
	int	 i, r, save;

	if (dir == NULL || name == NULL || localtime_path == NULL ||
	    dir[0] != '/' || localtime_path[0] != '/') {
		errno = EINVAL;
		return -1;
	}
	ltlen = strnlen(localtime_path, PATH_MAX);
	if (ltlen >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* a directory name, not a file to replace */
	if (localtime_path[ltlen - 1] == '/') {
		errno = EINVAL;
		return -1;
	}
	if (tz_zone_check(dir, name) == -1)
		return -1;
	if (path_clean(dir, cdir, sizeof(cdir)) == -1)
		return -1;
	r = snprintf(target, sizeof(target), "%s/%s",
	    strcmp(cdir, "/") == 0 ? "" : cdir, name);
	if (r < 0 || (size_t)r >= sizeof(target)) {
		errno = ENAMETOOLONG;
		return -1;
	}

	/* A fresh link beside localtime_path: rename(2) stays in one dir. */
	for (i = 0;; i++) {
		r = snprintf(tmp, sizeof(tmp), "%s.ntpd-%08x", localtime_path,
		    arc4random());
		if (r < 0 || (size_t)r >= sizeof(tmp)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (symlink(target, tmp) == 0)
			break;
		if (errno != EEXIST || i >= 8)
			return -1;
	}
	if (rename(tmp, localtime_path) == -1) {
		save = errno;
		(void)unlink(tmp);
		errno = save;
		return -1;
	}
	/*
	 * The rename was the change, and it is done: a failure to sync the
	 * directory costs durability across a crash only, and reporting
	 * the change as failed would be false.
	 */
	(void)sync_parent_dir(localtime_path);
	return 0;
}
