/*
 * The system's time zone: names checked against the tz database,
 * /etc/localtime read and replaced.  The parent uses tz_install(),
 * ntpctl the rest.  Directories are arguments so that tests can use a
 * tree of their own; dir and localtime paths given to tz_current() and
 * tz_install() must be absolute.
 */
#ifndef NTPD_TZ_H
#define NTPD_TZ_H

#include <stddef.h>

#define TZ_ZONEINFO_DIR	"/usr/share/zoneinfo"
#define TZ_LOCALTIME	"/etc/localtime"
#define TZ_NAME_MAX	255	/* bytes of a zone name, NUL excluded */
#define TZ_LIST_MAX	20000	/* zones tz_list() will collect */

/*
 * Syntax only: 1..TZ_NAME_MAX bytes, components of [A-Za-z0-9._+-]
 * separated by single '/'; no leading or trailing '/', no empty
 * component, none starting with '.' or '-', no "..".  1 if valid.
 */
int	tz_name_valid(const char *name);

/*
 * Is dir/name a zone?  It must be reached without leaving dir (a link
 * inside dir is followed, one that leaves it is not), be a regular file
 * and start with the TZif magic; the posix/ and right/ trees,
 * posixrules and localtime are not offered.  0, or -1 with errno:
 * EINVAL (bad name, not a zone file), EISDIR, ENOENT (also for the names
 * not offered), ELOOP (leaves dir), or what open(2) says.
 */
int	tz_zone_check(const char *dir, const char *name);

/*
 * Call cb with every zone name under dir, in strcmp() order: the names
 * tz_zone_check() accepts.  A non-zero return from cb stops the walk
 * and is returned; otherwise 0, or -1 with errno.
 */
int	tz_list(const char *dir, int (*cb)(const char *name, void *arg),
	    void *arg);

/*
 * The zone localtime_path links to, into buf.  0, or -1 with buf set
 * to "" and errno: ENOENT (no such file: the C library then uses UTC),
 * EINVAL (not a symbolic link, a copied file whose name is unknown),
 * EXDEV (a link that does not name a zone under dir), ENAMETOOLONG.
 */
int	tz_current(const char *localtime_path, const char *dir, char *buf,
	    size_t len);

/*
 * Check name, then make localtime_path a symbolic link to dir/name in
 * one rename(2): a reader sees the old link or the new, never neither.
 * On failure localtime_path is untouched and no temporary file is
 * left.  0, or -1 with errno.
 */
int	tz_install(const char *dir, const char *name,
	    const char *localtime_path);

#endif /* NTPD_TZ_H */
