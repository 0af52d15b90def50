/*
 * shimtest: drives clockshim.so for the tests, reads the clock model,
 * and measures an NTP server's offset.  Each argument is one command,
 * its fields after commas; each prints one line.
 *
 *	adj,FIELD=V...		clock_adjtime(); also adjtimex, ntp_adjtime.
 *				Fields: clock (id, 0), modes, freq (ppm),
 *				offset, status, maxerror, esterror, sec,
 *				usec.  Prints "NAME ret=R errno=E
 *				offset=O freq=PPM status=0xS maxerror=M
 *				esterror=E time=SEC.USEC".
 *	adjtime[,delta=US]	adjtime(); no delta: read only.  Prints
 *				"adjtime ret=R errno=E old_sec=S old_usec=U".
 *	settime, settimeofday	set the clock to now.  "NAME ret=R errno=E"
 *	rtcread,path=P		RTC_RD_TIME.  "rtcread ret=R errno=E time=T
 *				chr=C", C 1 when fstat() says a device.
 *	rtcset,path=P,time=T	RTC_SET_TIME.  "rtcset ret=R errno=E"
 *	sleep,ms=N
 *	now			the time of day as the process reads it:
 *				"now realtime=S tod=S time=S", the
 *				seconds of clock_gettime(CLOCK_REALTIME),
 *				gettimeofday() and time().
 *	model,log=P[,t=NS][,freq0=PPM][,origin=NS]
 *				the model of the log at t (default now):
 *				"model correction=S freq=PPM slew_left=S
 *				steps=N stepped=S"
 *	ntp,addr=A,port=N	one NTP request: "ntp offset=S delay=S" or
 *				"ntp timeout"; offset = server - this clock.
 *
 * Clock-changing commands refuse to run with CAP_SYS_TIME: whatever the
 * shim does, this program cannot move the machine's clock.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <linux/rtc.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "ntp.h"
#include "vclock.h"

#define CAP_SYS_TIME_BIT	25

struct field {
	const char	*name;
	const char	*value;
};

#define MAX_FIELDS	12

/* Split "cmd,a=1,b=2" in place. */
static int
split(char *arg, struct field *f)
{
	char	*p, *eq;
	int	 n = 0;

	while ((p = strsep(&arg, ",")) != NULL) {
		if (n == MAX_FIELDS)
			errx(2, "too many fields");
		if (n == 0) {
			f[n].name = p;
			f[n].value = NULL;
		} else {
			if ((eq = strchr(p, '=')) == NULL)
				errx(2, "field without a value: %s", p);
			*eq = '\0';
			f[n].name = p;
			f[n].value = eq + 1;
		}
		n++;
	}
	return n;
}

static const char *
get(const struct field *f, int n, const char *name)
{
	int	 i;

	for (i = 1; i < n; i++)
		if (strcmp(f[i].name, name) == 0)
			return f[i].value;
	return NULL;
}

static long long
num(const char *s)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0')
		errx(2, "bad number: %s", s);
	return v;
}

static double
real(const char *s)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0')
		errx(2, "bad number: %s", s);
	return v;
}

static void
check_fields(const struct field *f, int n, const char *const *ok)
{
	int	 i, j;

	for (i = 1; i < n; i++) {
		for (j = 0; ok[j] != NULL; j++)
			if (strcmp(f[i].name, ok[j]) == 0)
				break;
		if (ok[j] == NULL)
			errx(2, "%s: unknown field %s", f[0].name, f[i].name);
	}
}

/* Refuse to go on if a clock change could reach the real kernel. */
static void
guard(void)
{
	char		 line[256];
	unsigned long long caps;
	FILE		*fp;
	int		 found = 0;

	if ((fp = fopen("/proc/self/status", "r")) == NULL)
		err(2, "/proc/self/status");
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "CapEff: %llx", &caps) == 1) {
			found = 1;
			break;
		}
	fclose(fp);
	if (!found || (caps & (1ULL << CAP_SYS_TIME_BIT)))
		errx(2, "refusing to run with CAP_SYS_TIME: use "
		    "setpriv --bounding-set=-sys_time");
}

static const char *
errname(int rv, int e)
{
	const char	*s;

	if (rv != -1)
		return "0";
	return (s = strerrorname_np(e)) != NULL ? s : "?";
}

static void
do_adj(const struct field *f, int n)
{
	static const char *const ok[] = { "clock", "modes", "freq",
	    "offset", "status", "maxerror", "esterror", "sec", "usec", NULL };
	struct timex	 tx;
	const char	*v;
	clockid_t	 clock = CLOCK_REALTIME;
	int		 rv;

	check_fields(f, n, ok);
	memset(&tx, 0, sizeof(tx));
	if ((v = get(f, n, "clock")) != NULL)
		clock = num(v);
	if ((v = get(f, n, "modes")) != NULL)
		tx.modes = num(v);
	if ((v = get(f, n, "freq")) != NULL)
		tx.freq = (long)(real(v) * 65536);
	if ((v = get(f, n, "offset")) != NULL)
		tx.offset = num(v);
	if ((v = get(f, n, "status")) != NULL)
		tx.status = num(v);
	if ((v = get(f, n, "maxerror")) != NULL)
		tx.maxerror = num(v);
	if ((v = get(f, n, "esterror")) != NULL)
		tx.esterror = num(v);
	if ((v = get(f, n, "sec")) != NULL)
		tx.time.tv_sec = num(v);
	if ((v = get(f, n, "usec")) != NULL)
		tx.time.tv_usec = num(v);

	errno = 0;
	if (strcmp(f[0].name, "adj") == 0)
		rv = clock_adjtime(clock, &tx);
	else if (strcmp(f[0].name, "adjtimex") == 0)
		rv = adjtimex(&tx);
	else
		rv = ntp_adjtime(&tx);
	printf("%s ret=%d errno=%s offset=%ld freq=%.6f status=0x%04x "
	    "maxerror=%ld esterror=%ld time=%lld.%06ld\n", f[0].name, rv,
	    errname(rv, errno), tx.offset, tx.freq / 65536.0, tx.status,
	    tx.maxerror, tx.esterror, (long long)tx.time.tv_sec,
	    (long)tx.time.tv_usec);
}

static void
do_adjtime(const struct field *f, int n)
{
	static const char *const ok[] = { "delta", NULL };
	struct timeval	 delta, old;
	const char	*v;
	long long	 us;
	int		 rv;

	check_fields(f, n, ok);
	memset(&old, 0, sizeof(old));
	if ((v = get(f, n, "delta")) != NULL) {
		us = num(v);
		delta.tv_sec = us / 1000000;
		delta.tv_usec = us % 1000000;
	}
	errno = 0;
	rv = adjtime(v != NULL ? &delta : NULL, &old);
	printf("adjtime ret=%d errno=%s old_sec=%lld old_usec=%ld\n", rv,
	    errname(rv, errno), (long long)old.tv_sec, (long)old.tv_usec);
}

static void
do_settime(const struct field *f)
{
	struct timespec	 ts;
	struct timeval	 tv;
	int		 rv;

	clock_gettime(CLOCK_REALTIME, &ts);
	errno = 0;
	if (strcmp(f[0].name, "settime") == 0)
		rv = clock_settime(CLOCK_REALTIME, &ts);
	else {
		tv.tv_sec = ts.tv_sec;
		tv.tv_usec = ts.tv_nsec / 1000;
		rv = settimeofday(&tv, NULL);
	}
	printf("%s ret=%d errno=%s\n", f[0].name, rv, errname(rv, errno));
}

static void
do_rtc(const struct field *f, int n)
{
	static const char *const ok[] = { "path", "time", NULL };
	struct rtc_time	 rt;
	struct stat	 st;
	struct tm	 tm;
	const char	*path, *v;
	time_t		 t;
	int		 fd, rv, e;

	check_fields(f, n, ok);
	if ((path = get(f, n, "path")) == NULL)
		errx(2, "%s: need path=", f[0].name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		err(2, "%s", path);
	memset(&rt, 0, sizeof(rt));
	if (strcmp(f[0].name, "rtcread") == 0) {
		errno = 0;
		rv = ioctl(fd, RTC_RD_TIME, &rt);
		memset(&tm, 0, sizeof(tm));
		tm.tm_sec = rt.tm_sec;
		tm.tm_min = rt.tm_min;
		tm.tm_hour = rt.tm_hour;
		tm.tm_mday = rt.tm_mday;
		tm.tm_mon = rt.tm_mon;
		tm.tm_year = rt.tm_year;
		e = errno;
		if (fstat(fd, &st) == -1)
			err(2, "fstat %s", path);
		printf("rtcread ret=%d errno=%s time=%lld chr=%d\n", rv,
		    errname(rv, e), rv == -1 ? 0LL : (long long)timegm(&tm),
		    S_ISCHR(st.st_mode));
	} else {
		if ((v = get(f, n, "time")) == NULL)
			errx(2, "rtcset: need time=");
		t = (time_t)num(v);
		if (gmtime_r(&t, &tm) == NULL)
			errx(2, "rtcset: bad time");
		rt.tm_sec = tm.tm_sec;
		rt.tm_min = tm.tm_min;
		rt.tm_hour = tm.tm_hour;
		rt.tm_mday = tm.tm_mday;
		rt.tm_mon = tm.tm_mon;
		rt.tm_year = tm.tm_year;
		errno = 0;
		rv = ioctl(fd, RTC_SET_TIME, &rt);
		printf("rtcset ret=%d errno=%s\n", rv, errname(rv, errno));
	}
	close(fd);
}

static void
do_model(const struct field *f, int n)
{
	static const char *const ok[] = { "log", "t", "freq0", "origin",
	    NULL };
	struct vclock		 vc;
	struct vclock_sum	 sum;
	struct timespec		 ts;
	const char		*path, *v;
	double			 freq0 = 0;
	int64_t			 t, origin = 0;
	FILE			*fp;

	check_fields(f, n, ok);
	if ((path = get(f, n, "log")) == NULL)
		errx(2, "model: need log=");
	clock_gettime(CLOCK_REALTIME, &ts);
	t = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	if ((v = get(f, n, "t")) != NULL)
		t = num(v);
	if ((v = get(f, n, "freq0")) != NULL)
		freq0 = real(v);
	if ((v = get(f, n, "origin")) != NULL)
		origin = num(v);
	vclock_init(&vc, freq0, origin);
	if ((fp = fopen(path, "r")) == NULL)
		err(2, "%s", path);
	if (vclock_parse_file(&vc, fp) == -1)
		errx(2, "%s:%zu: %s", path, vc.errline, vc.errstr);
	fclose(fp);
	vclock_at(&vc, t, &sum);
	printf("model correction=%.9f freq=%.9f slew_left=%.9f steps=%zu "
	    "stepped=%.9f\n", sum.correction, sum.freq, sum.slew_left,
	    sum.steps, sum.stepped);
	vclock_free(&vc);
}

/* What NTPD_CLOCKSHIM_SHIFT moves: each way of reading the time of day. */
static void
do_now(int n)
{
	struct timespec	 ts;
	struct timeval	 tv;
	time_t		 t;

	if (n != 1)
		errx(2, "now takes no fields");
	clock_gettime(CLOCK_REALTIME, &ts);
	gettimeofday(&tv, NULL);
	t = time(NULL);
	printf("now realtime=%lld tod=%lld time=%lld\n", (long long)ts.tv_sec,
	    (long long)tv.tv_sec, (long long)t);
}

static void
do_ntp(const struct field *f, int n)
{
	static const char *const ok[] = { "addr", "port", NULL };
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	struct ntp_packet	 req, rep;
	struct pollfd		 pfd;
	struct timespec		 t1, t4;
	struct ntp_ts		 t1n, t4n;
	unsigned char		 buf[NTP_HEADER_SIZE], in[1024];
	const char		*addr, *port;
	ssize_t			 len;
	int			 fd;

	check_fields(f, n, ok);
	if ((addr = get(f, n, "addr")) == NULL ||
	    (port = get(f, n, "port")) == NULL)
		errx(2, "ntp: need addr= and port=");
	if (num(port) < 1 || num(port) > 65535 ||
	    addr_parse(addr, num(port), &ss, &sslen) == -1)
		errx(2, "ntp: bad address or port");
	if ((fd = socket(ss.ss_family, SOCK_DGRAM, 0)) == -1)
		err(2, "socket");
	if (connect(fd, (struct sockaddr *)&ss, sslen) == -1)
		err(2, "connect");
	memset(&req, 0, sizeof(req));
	req.leap = NTP_LEAP_UNSYNC;
	req.version = 4;
	req.mode = NTP_MODE_CLIENT;
	clock_gettime(CLOCK_REALTIME, &t1);
	req.transmit = t1n = ntp_ts_from_timespec(&t1);
	if (ntp_encode(&req, buf, sizeof(buf)) == -1 ||
	    send(fd, buf, sizeof(buf), 0) != sizeof(buf))
		err(2, "send");
	pfd.fd = fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 2000) <= 0 ||
	    (len = recv(fd, in, sizeof(in), 0)) <= 0) {
		printf("ntp timeout\n");
		close(fd);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &t4);
	t4n = ntp_ts_from_timespec(&t4);
	if (ntp_decode(in, len, &rep) == -1 ||
	    !ntp_ts_equal(rep.origin, t1n))
		errx(2, "ntp: bad reply");
	printf("ntp offset=%.6f delay=%.6f\n",
	    (ntp_ts_diff(rep.receive, t1n) + ntp_ts_diff(rep.transmit, t4n))
	    / 2, ntp_ts_diff(t4n, t1n) - ntp_ts_diff(rep.transmit,
	    rep.receive));
	close(fd);
}

int
main(int argc, char *argv[])
{
	struct field	 f[MAX_FIELDS];
	int		 i, n, guarded = 0;
	long long	 ms;

	if (argc < 2)
		errx(2, "usage: shimtest command[,field=value...] ...");
	for (i = 1; i < argc; i++) {
		n = split(argv[i], f);
		if (strcmp(f[0].name, "model") == 0)
			do_model(f, n);
		else if (strcmp(f[0].name, "ntp") == 0)
			do_ntp(f, n);
		else if (strcmp(f[0].name, "now") == 0)
			do_now(n);
		else if (strcmp(f[0].name, "sleep") == 0) {
			if (n != 2 || strcmp(f[1].name, "ms") != 0 ||
			    (ms = num(f[1].value)) < 0 || ms > 60000)
				errx(2, "sleep,ms=0..60000");
			usleep(ms * 1000);
		} else {
			if (!guarded)
				guard();
			guarded = 1;
			if (strcmp(f[0].name, "adj") == 0 ||
			    strcmp(f[0].name, "adjtimex") == 0 ||
			    strcmp(f[0].name, "ntp_adjtime") == 0)
				do_adj(f, n);
			else if (strcmp(f[0].name, "adjtime") == 0)
				do_adjtime(f, n);
			else if (strcmp(f[0].name, "settime") == 0 ||
			    strcmp(f[0].name, "settimeofday") == 0)
				do_settime(f);
			else if (strcmp(f[0].name, "rtcread") == 0 ||
			    strcmp(f[0].name, "rtcset") == 0)
				do_rtc(f, n);
			else
				errx(2, "unknown command %s", f[0].name);
		}
		fflush(stdout);
	}
	return 0;
}
