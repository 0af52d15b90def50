/*
 * ntpctl timezone: list and show need no daemon, only the tz database
 * and /etc/localtime; set is checked here so that a typo is reported at
 * once, and checked again by the daemon, which alone may act on it.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timezone.h"
#include "tz.h"

static int	tz_usage(void);
static int	print_name(const char *, void *);
static int	cmd_list(void);
static int	cmd_show(void);

static int
tz_usage(void)
{
	fprintf(stderr, "usage: ntpctl timezone list | show | set name\n");
	return CTL_TZ_USAGE;
}

static int
print_name(const char *name, void *arg)
{
	(void)arg;
	if (puts(name) == EOF)
		return -1;
	return 0;
}

static int
cmd_list(void)
{
	if (tz_list(TZ_ZONEINFO_DIR, print_name, NULL) != 0) {
		fprintf(stderr, "ntpctl: %s: %s\n", TZ_ZONEINFO_DIR,
		    strerror(errno));
		return CTL_TZ_ERROR;
	}
	if (fflush(stdout) == EOF) {
		fprintf(stderr, "ntpctl: stdout: %s\n", strerror(errno));
		return CTL_TZ_ERROR;
	}
	return CTL_TZ_OK;
}

int
ctl_timezone_print_times(FILE *fp, time_t t)
{
	struct tm	 utc, loc;
	char		 ubuf[64], lbuf[64];
	long		 off;
	char		 sign = '+';

	if (fp == NULL || gmtime_r(&t, &utc) == NULL ||
	    localtime_r(&t, &loc) == NULL)
		return -1;
	if (strftime(ubuf, sizeof(ubuf), "%a %Y-%m-%d %H:%M:%S UTC",
	    &utc) == 0 ||
	    strftime(lbuf, sizeof(lbuf), "%a %Y-%m-%d %H:%M:%S %Z",
	    &loc) == 0)
		return -1;
	off = loc.tm_gmtoff;
	if (off < 0) {
		sign = '-';
		off = -off;
	}
	if (fprintf(fp, "Universal time: %s\n", ubuf) < 0 ||
	    fprintf(fp, "Local time:     %s\n", lbuf) < 0)
		return -1;
	/* seconds only where a zone has them (local mean time) */
	if (off % 60 != 0) {
		if (fprintf(fp, "UTC offset:     %c%02ld:%02ld:%02ld\n", sign,
		    off / 3600, off / 60 % 60, off % 60) < 0)
			return -1;
	} else if (fprintf(fp, "UTC offset:     %c%02ld:%02ld\n", sign,
	    off / 3600, off / 60 % 60) < 0)
		return -1;
	return 0;
}

static int
cmd_show(void)
{
	char	 name[TZ_NAME_MAX + 1];
	time_t	 now;

	if (tz_current(TZ_LOCALTIME, TZ_ZONEINFO_DIR, name,
	    sizeof(name)) == 0)
		printf("Time zone:      %s\n", name);
	else {
		switch (errno) {
		case ENOENT:
			printf("Time zone:      UTC (no %s)\n", TZ_LOCALTIME);
			break;
		case EINVAL:
			printf("Time zone:      unknown (%s is a copy, not a "
			    "link into %s)\n", TZ_LOCALTIME, TZ_ZONEINFO_DIR);
			break;
		case EXDEV:
			printf("Time zone:      unknown (%s does not link to "
			    "a zone in %s)\n", TZ_LOCALTIME, TZ_ZONEINFO_DIR);
			break;
		default:
			fprintf(stderr, "ntpctl: %s: %s\n", TZ_LOCALTIME,
			    strerror(errno));
			return CTL_TZ_ERROR;
		}
	}
	/* the system's zone, not the caller's TZ */
	if (unsetenv("TZ") == -1) {
		fprintf(stderr, "ntpctl: unsetenv: %s\n", strerror(errno));
		return CTL_TZ_ERROR;
	}
	tzset();
	if ((now = time(NULL)) == (time_t)-1 ||
	    ctl_timezone_print_times(stdout, now) == -1 ||
	    fflush(stdout) == EOF) {
		fprintf(stderr, "ntpctl: cannot print the time\n");
		return CTL_TZ_ERROR;
	}
	return CTL_TZ_OK;
}

int
ctl_timezone_validate(const char *name, char *err, size_t errlen)
{
	char	 dummy[1];

	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (!tz_name_valid(name)) {
		snprintf(err, errlen, "invalid time zone name: Area/City of "
		    "letters, digits, '_', '+', '-', '.', at most %d bytes",
		    TZ_NAME_MAX);
		return -1;
	}
	if (tz_zone_check(TZ_ZONEINFO_DIR, name) == 0)
		return 0;
	switch (errno) {
	case ENOENT:
	case ENOTDIR:
		snprintf(err, errlen, "%s: no such time zone (see ntpctl "
		    "timezone list)", name);
		break;
	case EISDIR:
		snprintf(err, errlen, "%s: a group of time zones, not one "
		    "(see ntpctl timezone list)", name);
		break;
	case ELOOP:
		snprintf(err, errlen, "%s: a link leading out of %s", name,
		    TZ_ZONEINFO_DIR);
		break;
	case EINVAL:
		snprintf(err, errlen, "%s: not a time zone file", name);
		break;
	default:
		snprintf(err, errlen, "%s: %s", name, strerror(errno));
		break;
	}
	return -1;
}

int
ctl_timezone(int argc, char *argv[])
{
	char	 err[512];

	if (argc < 2 || argv == NULL || argv[1] == NULL)
		return tz_usage();
	if (strcmp(argv[1], "list") == 0 && argc == 2)
		return cmd_list();
	if (strcmp(argv[1], "show") == 0 && argc == 2)
		return cmd_show();
	if (strcmp(argv[1], "set") == 0 && argc == 3) {
		if (ctl_timezone_validate(argv[2], err, sizeof(err)) == -1) {
			fprintf(stderr, "ntpctl: %s\n", err);
			return CTL_TZ_ERROR;
		}
		return CTL_TZ_SEND;
	}
	return tz_usage();
}
