/*
 * clockshim.so: an LD_PRELOAD library for the tests.  In the process it
 * is loaded into, the clock-changing calls reach a virtual kernel clock
 * discipline instead of the real one, and each change is appended to a
 * log that the test's upstream server (fakentp -c) and the test read.
 *
 * Environment, read once when the library is loaded:
 *	NTPD_CLOCKSHIM=LOG	  turn the shim on; without it every call
 *				  goes to the real libc unchanged.
 *	NTPD_CLOCKSHIM_FREQ=PPM	  the kernel frequency to start from (0).
 *	NTPD_CLOCKSHIM_RTC=FILE	  RTC_RD_TIME and RTC_SET_TIME on a
 *				  descriptor of FILE (the same inode,
 *				  whatever name was opened) are served
 *				  from it, and fstat() shows it as the
 *				  character device an RTC is.
 *	NTPD_CLOCKSHIM_SHIFT=S	  the process reads the time of day S
 *				  seconds (an integer) from the real one:
 *				  a test can start the virtual clock on
 *				  another date, such as the last day of a
 *				  month.  See "Shifted reads" below.
 *
 * When on, no clock-changing call ever reaches the kernel: supported
 * ones change the virtual state, anything else fails with EPERM and is
 * logged as "denied".  The log format and the signs are in vclock.h.
 * The state is the process's own and starts fresh in each.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <linux/rtc.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_S	1000000000LL
#define US_PER_S	1000000L
/* The kernel's limits and constants (kernel/time/ntp.c). */
#define PHASE_LIMIT	16000000L	/* us: maxerror's ceiling */
#define MAXFREQ_SCALED	(500L << 16)	/* +-500 ppm */
#define FREQ_LIMIT	(LLONG_MAX / 65536000LL) /* overflow: EINVAL */
#define KERNEL_TICK	10000L		/* us, USER_HZ 100 */
/* The kernel's own bits under the ADJ_OFFSET_SINGLESHOT of userland. */
#define ADJ_ADJTIME	0x8000
#define ADJ_READONLY	0x2000
/* Modes served here; anything else is denied. */
#define MODES_OK	(ADJ_FREQUENCY | ADJ_MAXERROR | ADJ_ESTERROR | \
			 ADJ_STATUS | ADJ_SETOFFSET | ADJ_MICRO | ADJ_NANO)
#define MODES_OK_SS	(MODES_OK | ADJ_ADJTIME | ADJ_OFFSET)
#define STATUS_RONLY	(STA_PPSSIGNAL | STA_PPSJITTER | STA_PPSWANDER | \
			 STA_PPSERROR | STA_CLOCKERR | STA_NANO | STA_MODE | \
			 STA_CLK)
/* glibc's adjtime() range, and ours for a singleshot (the kernel has none). */
#define ADJTIME_MAX_US	(2146LL * US_PER_S - 1)
#define SINGLESHOT_MAX	((long)INT_MAX)
/* A step that keeps the sum in 64-bit nanoseconds. */
#define STEP_MAX_S	(INT64_MAX / NS_PER_S / 2)
/* NTPD_CLOCKSHIM_SHIFT: some 300 years either way. */
#define SHIFT_MAX_S	10000000000LL
/* The fake RTC file's times, in Unix seconds. */
#define RTC_SECS_MAX	100000000000LL
/* High descriptor for the log, out of the way of the daemon's own. */
#define LOG_FD_MIN	200

static struct {
	int		 on;
	char		 log[PATH_MAX];
	char		 rtc[PATH_MAX];		/* "": no RTC */
	int		 logfd;
	dev_t		 logdev;
	ino_t		 logino;
	int		 complained;
	long		 freq;			/* ppm << 16, as timex.freq */
	int		 status;
	int		 state;			/* TIME_OK, _INS or _DEL */
	long		 maxerror;		/* us */
	long		 esterror;		/* us */
	long		 constant;
	long		 adjust;		/* singleshot: us asked for */
	int64_t		 adjust_at;		/* real ns, when */
	int64_t		 second;		/* the last second ticked */
	int64_t		 shift;			/* s added to every read */
} vk = { .logfd = -1 };

/* The real functions, found at load: before any seccomp filter. */
static int	(*real_clock_adjtime)(clockid_t, struct timex *);
static int	(*real_adjtimex)(struct timex *);
static int	(*real_ntp_adjtime)(struct timex *);
static int	(*real_adjtime)(const struct timeval *, struct timeval *);
static int	(*real_clock_settime)(clockid_t, const struct timespec *);
static int	(*real_settimeofday)(const struct timeval *,
		    const struct timezone *);
static int	(*real_ioctl)(int, unsigned long, ...);
static int	(*real_fstat)(int, struct stat *);
static int	(*real_fstat64)(int, struct stat64 *);
static int	(*real_clock_gettime)(clockid_t, struct timespec *);
static int	(*real_gettimeofday)(struct timeval *, void *);
static time_t	(*real_time)(time_t *);
static ssize_t	(*real_recvmsg)(int, struct msghdr *, int);
static int	(*real_recvmmsg)(int, struct mmsghdr *, unsigned int, int,
		    struct timespec *);

static void	resolve(void);

/* The real time: the log and the model count in it, never shifted. */
static int64_t
now_ns(void)
{
	struct timespec	 ts;

	if (real_clock_gettime == NULL)
		resolve();
	real_clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static void
say(const char *msg, const char *arg)
{
	char	 buf[PATH_MAX + 128];
	int	 n;

	n = snprintf(buf, sizeof(buf), "clockshim: %s%s%s\n", msg,
	    arg != NULL ? ": " : "", arg != NULL ? arg : "");
	if (n <= 0)
		return;
	if (write(STDERR_FILENO, buf, (size_t)n < sizeof(buf) ? (size_t)n :
	    sizeof(buf) - 1) == -1)
		return;		/* nowhere left to say it */
}

/* A test that sets the environment wrong must not run on regardless. */
static void
fatal(const char *msg, const char *arg)
{
	say(msg, arg);
	_exit(125);
}

static void *
next(const char *name)
{
	void	*fn;

	if ((fn = dlsym(RTLD_NEXT, name)) == NULL)
		fatal("no such function after the shim", name);
	return fn;
}

/* Also called where a constructor of another library came first. */
static void
resolve(void)
{
	real_clock_adjtime = (int (*)(clockid_t, struct timex *))next(
	    "clock_adjtime");
	real_adjtimex = (int (*)(struct timex *))next("adjtimex");
	real_ntp_adjtime = (int (*)(struct timex *))next("ntp_adjtime");
	real_adjtime = (int (*)(const struct timeval *, struct timeval *))
	    next("adjtime");
	real_clock_settime = (int (*)(clockid_t, const struct timespec *))
	    next("clock_settime");
	real_settimeofday = (int (*)(const struct timeval *,
	    const struct timezone *))next("settimeofday");
	real_ioctl = (int (*)(int, unsigned long, ...))next("ioctl");
	real_fstat = (int (*)(int, struct stat *))next("fstat");
	real_fstat64 = (int (*)(int, struct stat64 *))next("fstat64");
	real_clock_gettime = (int (*)(clockid_t, struct timespec *))next(
	    "clock_gettime");
	real_gettimeofday = (int (*)(struct timeval *, void *))next(
	    "gettimeofday");
	real_time = (time_t (*)(time_t *))next("time");
	real_recvmsg = (ssize_t (*)(int, struct msghdr *, int))next(
	    "recvmsg");
	real_recvmmsg = (int (*)(int, struct mmsghdr *, unsigned int, int,
	    struct timespec *))next("recvmmsg");
}

__attribute__((constructor)) static void
shim_init(void)
{
	const char	*log, *freq, *rtc, *shift;
	char		*end;
	double		 ppm = 0;
	long long	 secs = 0;

	if (real_ioctl == NULL)
		resolve();
	if ((log = getenv("NTPD_CLOCKSHIM")) == NULL || *log == '\0')
		return;
	if (strlen(log) >= sizeof(vk.log))
		fatal("NTPD_CLOCKSHIM too long", NULL);
	strcpy(vk.log, log);
	if ((rtc = getenv("NTPD_CLOCKSHIM_RTC")) != NULL) {
		if (strlen(rtc) >= sizeof(vk.rtc))
			fatal("NTPD_CLOCKSHIM_RTC too long", NULL);
		strcpy(vk.rtc, rtc);
	}
	if ((freq = getenv("NTPD_CLOCKSHIM_FREQ")) != NULL) {
		errno = 0;
		ppm = strtod(freq, &end);
		if (errno != 0 || end == freq || *end != '\0' ||
		    !(ppm >= -500 && ppm <= 500))
			fatal("NTPD_CLOCKSHIM_FREQ: ppm in [-500, 500]", freq);
	}
	if ((shift = getenv("NTPD_CLOCKSHIM_SHIFT")) != NULL) {
		errno = 0;
		secs = strtoll(shift, &end, 10);
		if (errno != 0 || end == shift || *end != '\0' ||
		    secs < -SHIFT_MAX_S || secs > SHIFT_MAX_S)
			fatal("NTPD_CLOCKSHIM_SHIFT: whole seconds, at most "
			    "1e10 either way", shift);
	}
	vk.shift = secs;
	vk.freq = (long)(ppm * 65536 + (ppm < 0 ? -0.5 : 0.5));
	/* A kernel that no NTP daemon has touched since boot. */
	vk.status = STA_UNSYNC;
	vk.state = TIME_OK;
	vk.maxerror = PHASE_LIMIT;
	vk.esterror = PHASE_LIMIT;
	vk.constant = 2;
	vk.second = now_ns() / NS_PER_S;
	vk.on = 1;
}

/* fstat() for the shim itself, which serves fstat() to the process. */
static int
fd_stat(int fd, struct stat *st)
{
	return fstatat(fd, "", st, AT_EMPTY_PATH);
}

/*
 * Our log descriptor, (re)opened when needed: a daemon may close every
 * descriptor it does not know, and the number may then be reused for
 * something of its own, which must never be written to.
 */
static int
log_fd(void)
{
	struct stat	 st, pst;
	int		 fd, hi;

	/* Still ours, and still the file of that name (not removed). */
	if (vk.logfd != -1 && fd_stat(vk.logfd, &st) == 0 &&
	    st.st_dev == vk.logdev && st.st_ino == vk.logino &&
	    stat(vk.log, &pst) == 0 && pst.st_dev == vk.logdev &&
	    pst.st_ino == vk.logino)
		return vk.logfd;
	vk.logfd = -1;
	if ((fd = open(vk.log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0644)) == -1)
		return -1;
	if ((hi = fcntl(fd, F_DUPFD_CLOEXEC, LOG_FD_MIN)) != -1) {
		close(fd);
		fd = hi;
	}
	if (fd_stat(fd, &st) == -1) {
		close(fd);
		return -1;
	}
	vk.logfd = fd;
	vk.logdev = st.st_dev;
	vk.logino = st.st_ino;
	return fd;
}

/* Before any change: a change the test cannot see must not happen. */
static int
log_ready(void)
{
	if (log_fd() != -1)
		return 0;
	if (!vk.complained)
		say("cannot open the log, refusing clock calls", vk.log);
	vk.complained = 1;
	errno = EPERM;
	return -1;
}

/* One line, one write(2): a reader never sees half of it. */
static void
log_event(int64_t now, const char *kind, const char *value)
{
	char	 line[128];
	int	 fd, n;

	n = snprintf(line, sizeof(line), "%lld %s %s\n", (long long)now,
	    kind, value);
	if (n <= 0 || (size_t)n >= sizeof(line) || (fd = log_fd()) == -1 ||
	    write(fd, line, n) != n) {
		if (!vk.complained)
			say("cannot write the log", vk.log);
		vk.complained = 1;
	}
}

/* Nanoseconds as seconds with nine decimals, from integers. */
static void
fmt_ns(char *buf, size_t len, int64_t ns)
{
	uint64_t	 a = ns < 0 ? -(uint64_t)ns : (uint64_t)ns;

	(void)snprintf(buf, len, "%s%llu.%09llu", ns < 0 ? "-" : "",
	    (unsigned long long)(a / NS_PER_S),
	    (unsigned long long)(a % NS_PER_S));
}

static void
log_ns(int64_t now, const char *kind, int64_t ns)
{
	char	 v[32];

	fmt_ns(v, sizeof(v), ns);
	log_event(now, kind, v);
}

static void
log_long(int64_t now, const char *kind, long value)
{
	char	 v[32];

	(void)snprintf(v, sizeof(v), "%ld", value);
	log_event(now, kind, v);
}

static void
log_freq(int64_t now)
{
	char	 v[32];

	(void)snprintf(v, sizeof(v), "%.9f", vk.freq / 65536.0);
	log_event(now, "freq", v);
}

static int
deny(const char *name)
{
	if (log_ready() == 0)
		log_event(now_ns(), "denied", name);
	errno = EPERM;
	return -1;
}

/*
 * What the kernel does once a second (second_overflow): maxerror grows
 * by 500 us a second up to its ceiling, which unsynchronises the clock,
 * and a leap second armed in the status becomes the state.  No leap
 * second is ever inserted or deleted here.
 */
static void
vk_tick(int64_t now)
{
	int64_t	 n, sec = now / NS_PER_S;

	if (sec <= vk.second)
		return;
	n = sec - vk.second;
	vk.second = sec;
	if (n > PHASE_LIMIT / 500)
		n = PHASE_LIMIT / 500 + 1;
	vk.maxerror += 500 * n;
	if (vk.maxerror > PHASE_LIMIT) {
		vk.maxerror = PHASE_LIMIT;
		vk.status |= STA_UNSYNC;
	}
	switch (vk.state) {
	case TIME_OK:
		if (vk.status & STA_INS)
			vk.state = TIME_INS;
		else if (vk.status & STA_DEL)
			vk.state = TIME_DEL;
		break;
	case TIME_INS:
		if (!(vk.status & STA_INS))
			vk.state = TIME_OK;
		break;
	case TIME_DEL:
		if (!(vk.status & STA_DEL))
			vk.state = TIME_OK;
		break;
	}
}

/* What the singleshot slew has still to do, in us. */
static long
vk_left(int64_t now)
{
	int64_t	 done;

	if (vk.adjust == 0 || now <= vk.adjust_at)
		return vk.adjust;
	done = (now - vk.adjust_at) / 2000;	/* ns at 500 us per s */
	done /= 1000;
	if (vk.adjust > 0)
		return done >= vk.adjust ? 0 : vk.adjust - (long)done;
	return done >= -vk.adjust ? 0 : vk.adjust + (long)done;
}

/* The kernel's is_error_status(). */
static int
vk_error(int st)
{
	return (st & (STA_UNSYNC | STA_CLOCKERR)) ||
	    ((st & (STA_PPSFREQ | STA_PPSTIME)) && !(st & STA_PPSSIGNAL)) ||
	    ((st & (STA_PPSTIME | STA_PPSJITTER)) ==
	    (STA_PPSTIME | STA_PPSJITTER)) ||
	    ((st & STA_PPSFREQ) && (st & (STA_PPSWANDER | STA_PPSERROR)));
}

/* The kernel's process_adj_status(). */
static void
vk_status(int status)
{
	if ((vk.status & STA_PLL) && !(status & STA_PLL)) {
		vk.state = TIME_OK;
		vk.status = STA_UNSYNC;
	}
	vk.status &= STATUS_RONLY;
	vk.status |= status & ~STATUS_RONLY;
}

static long
clamp(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void
vk_fill(struct timex *tx, int64_t now)
{
	tx->freq = vk.freq;
	tx->maxerror = vk.maxerror;
	tx->esterror = vk.esterror;
	tx->status = vk.status;
	tx->constant = vk.constant;
	tx->precision = 1;
	tx->tolerance = MAXFREQ_SCALED;
	tx->tick = KERNEL_TICK;
	tx->ppsfreq = tx->jitter = tx->stabil = 0;
	tx->shift = 0;
	tx->jitcnt = tx->calcnt = tx->errcnt = tx->stbcnt = 0;
	tx->tai = 0;
	/* The time clock_gettime() shows the process: real, or shifted. */
	tx->time.tv_sec = now / NS_PER_S + vk.shift;
	tx->time.tv_usec = now % NS_PER_S;
	if (!(vk.status & STA_NANO))
		tx->time.tv_usec /= 1000;
}

/*
 * clock_adjtime() on the virtual state, in the kernel's order
 * (do_adjtimex): validate, step, then either the singleshot or the
 * other modes.  With ADJ_OFFSET_SINGLESHOT the kernel ignores every
 * other mode but ADJ_SETOFFSET, and so does this.
 */
static int
vk_adjtimex(const char *name, clockid_t id, struct timex *tx)
{
	char		 v[16];
	int64_t		 now, step = 0;
	unsigned int	 modes;
	long		 old;

	if (tx == NULL) {
		errno = EFAULT;
		return -1;
	}
	modes = tx->modes;
	if (id != CLOCK_REALTIME ||
	    (modes & ~((modes & ADJ_ADJTIME) ? MODES_OK_SS : MODES_OK)))
		return deny(name);

	if ((modes & ADJ_ADJTIME) && (!(modes & ADJ_OFFSET) ||
	    (!(modes & ADJ_READONLY) && (tx->offset < -SINGLESHOT_MAX ||
	    tx->offset > SINGLESHOT_MAX)))) {
		errno = EINVAL;
		return -1;
	}
	if (modes & ADJ_SETOFFSET) {
		if (tx->time.tv_usec < 0 || tx->time.tv_usec >=
		    ((modes & ADJ_NANO) ? NS_PER_S : US_PER_S) ||
		    tx->time.tv_sec < -STEP_MAX_S ||
		    tx->time.tv_sec > STEP_MAX_S) {
			errno = EINVAL;
			return -1;
		}
		step = (int64_t)tx->time.tv_sec * NS_PER_S +
		    tx->time.tv_usec * ((modes & ADJ_NANO) ? 1 : 1000);
	}
	if ((modes & ADJ_FREQUENCY) && (tx->freq < -FREQ_LIMIT ||
	    tx->freq > FREQ_LIMIT)) {
		errno = EINVAL;
		return -1;
	}
	if (modes != 0 && modes != ADJ_OFFSET_SS_READ && log_ready() == -1)
		return -1;

	now = now_ns();
	vk_tick(now);
	if (modes & ADJ_SETOFFSET)
		log_ns(now, "step", step);
	if (modes & ADJ_ADJTIME) {
		old = vk_left(now);
		if (!(modes & ADJ_READONLY)) {
			vk.adjust = tx->offset;
			vk.adjust_at = now;
			log_ns(now, "slew", (int64_t)tx->offset * 1000);
		}
		tx->offset = old;
	} else {
		if (modes & ADJ_STATUS)
			vk_status(tx->status);
		if (modes & ADJ_NANO)
			vk.status |= STA_NANO;
		if (modes & ADJ_MICRO)
			vk.status &= ~STA_NANO;
		if (modes & ADJ_STATUS) {
			(void)snprintf(v, sizeof(v), "0x%04x",
			    (unsigned int)vk.status);
			log_event(now, "status", v);
		}
		if (modes & ADJ_FREQUENCY) {
			vk.freq = clamp(tx->freq, -MAXFREQ_SCALED,
			    MAXFREQ_SCALED);
			log_freq(now);
		}
		if (modes & ADJ_MAXERROR) {
			vk.maxerror = clamp(tx->maxerror, 0, PHASE_LIMIT);
			log_long(now, "maxerror", vk.maxerror);
		}
		if (modes & ADJ_ESTERROR) {
			vk.esterror = clamp(tx->esterror, 0, PHASE_LIMIT);
			log_long(now, "esterror", vk.esterror);
		}
		tx->offset = 0;		/* the PLL's offset: no PLL here */
	}
	vk_fill(tx, now);
	return vk_error(vk.status) ? TIME_ERROR : vk.state;
}

int
clock_adjtime(clockid_t id, struct timex *tx)
{
	if (vk.on)
		return vk_adjtimex("clock_adjtime", id, tx);
	if (real_clock_adjtime == NULL)
		resolve();
	return real_clock_adjtime(id, tx);
}

int
adjtimex(struct timex *tx)
{
	if (vk.on)
		return vk_adjtimex("adjtimex", CLOCK_REALTIME, tx);
	if (real_adjtimex == NULL)
		resolve();
	return real_adjtimex(tx);
}

int
ntp_adjtime(struct timex *tx)
{
	if (vk.on)
		return vk_adjtimex("ntp_adjtime", CLOCK_REALTIME, tx);
	if (real_ntp_adjtime == NULL)
		resolve();
	return real_ntp_adjtime(tx);
}

/* As glibc's: a singleshot through clock_adjtime, in its range. */
int
adjtime(const struct timeval *delta, struct timeval *olddelta)
{
	struct timex	 tx;
	int64_t		 us;

	if (!vk.on) {
		if (real_adjtime == NULL)
			resolve();
		return real_adjtime(delta, olddelta);
	}
	memset(&tx, 0, sizeof(tx));
	tx.modes = ADJ_OFFSET_SS_READ;
	if (delta != NULL) {
		if (delta->tv_sec < -3000 || delta->tv_sec > 3000 ||
		    delta->tv_usec < -3000 * US_PER_S ||
		    delta->tv_usec > 3000 * US_PER_S)
			goto inval;
		us = (int64_t)delta->tv_sec * US_PER_S + delta->tv_usec;
		if (us < -ADJTIME_MAX_US || us > ADJTIME_MAX_US)
			goto inval;
		tx.modes = ADJ_OFFSET_SINGLESHOT;
		tx.offset = us;
	}
	if (vk_adjtimex("adjtime", CLOCK_REALTIME, &tx) == -1)
		return -1;
	if (olddelta != NULL) {
		/* Both fields carry the sign, as glibc returns them. */
		olddelta->tv_sec = tx.offset / US_PER_S;
		olddelta->tv_usec = tx.offset % US_PER_S;
	}
	return 0;
 inval:
	errno = EINVAL;
	return -1;
}

int
clock_settime(clockid_t id, const struct timespec *ts)
{
	if (vk.on)
		return deny("clock_settime");
	if (real_clock_settime == NULL)
		resolve();
	return real_clock_settime(id, ts);
}

int
settimeofday(const struct timeval *tv, const struct timezone *tz)
{
	if (vk.on)
		return deny("settimeofday");
	if (real_settimeofday == NULL)
		resolve();
	return real_settimeofday(tv, tz);
}

/* The fake RTC is the same file, whatever name the daemon opened. */
static int
is_rtc(int fd)
{
	struct stat	 a, b;

	return vk.rtc[0] != '\0' && fd_stat(fd, &a) == 0 &&
	    stat(vk.rtc, &b) == 0 && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino;
}

/* "<rtc seconds> <real seconds when written>\n" */
static int
rtc_load(long long *rtc, long long *at)
{
	char	 buf[64], *p, *end;
	ssize_t	 n;
	int	 fd;

	if ((fd = open(vk.rtc, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	errno = 0;
	*rtc = strtoll(buf, &end, 10);
	if (end == buf || *end != ' ')
		return -1;
	p = end + 1;
	*at = strtoll(p, &end, 10);
	if (end == p || (*end != '\n' && *end != '\0') || errno != 0)
		return -1;
	/* Unix seconds from 1970 to year 5138: no overflow below. */
	if (*rtc < 0 || *rtc > RTC_SECS_MAX || *at < 0 || *at > RTC_SECS_MAX)
		return -1;
	return 0;
}

static int
rtc_store(long long rtc, long long at)
{
	char	 buf[64];
	int	 fd, n, rv = 0;

	n = snprintf(buf, sizeof(buf), "%lld %lld\n", rtc, at);
	if ((fd = open(vk.rtc, O_WRONLY | O_TRUNC | O_CLOEXEC)) == -1)
		return -1;
	if (write(fd, buf, n) != n)
		rv = -1;
	if (close(fd) == -1)
		rv = -1;
	return rv;
}

static int
month_days(int mon, long long year)
{
	static const int days[12] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int	 leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return days[mon] + (mon == 1 && leap);
}

static int
rtc_ioctl(unsigned long req, struct rtc_time *rt)
{
	struct tm	 tm;
	long long	 rtc, at, now;
	time_t		 t;
	char		 v[32];

	if (rt == NULL) {
		errno = EFAULT;
		return -1;
	}
	now = now_ns() / NS_PER_S;
	if (req == RTC_RD_TIME) {
		if (rtc_load(&rtc, &at) == -1)
			goto eio;
		t = (time_t)(rtc + (now - at));
		if (gmtime_r(&t, &tm) == NULL)
			goto eio;
		memset(rt, 0, sizeof(*rt));
		rt->tm_sec = tm.tm_sec;
		rt->tm_min = tm.tm_min;
		rt->tm_hour = tm.tm_hour;
		rt->tm_mday = tm.tm_mday;
		rt->tm_mon = tm.tm_mon;
		rt->tm_year = tm.tm_year;
		rt->tm_wday = tm.tm_wday;
		rt->tm_yday = tm.tm_yday;
		return 0;
	}
	/* The kernel's rtc_valid_tm(). */
	if (rt->tm_year < 70 || rt->tm_year > INT_MAX - 1900 ||
	    (unsigned int)rt->tm_mon >= 12 || rt->tm_mday < 1 ||
	    rt->tm_mday > month_days(rt->tm_mon, rt->tm_year + 1900LL) ||
	    (unsigned int)rt->tm_hour >= 24 ||
	    (unsigned int)rt->tm_min >= 60 ||
	    (unsigned int)rt->tm_sec >= 60) {
		errno = EINVAL;
		return -1;
	}
	if (log_ready() == -1)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_sec = rt->tm_sec;
	tm.tm_min = rt->tm_min;
	tm.tm_hour = rt->tm_hour;
	tm.tm_mday = rt->tm_mday;
	tm.tm_mon = rt->tm_mon;
	tm.tm_year = rt->tm_year;
	if ((t = timegm(&tm)) == (time_t)-1 || rtc_store(t, now) == -1)
		goto eio;
	(void)snprintf(v, sizeof(v), "%lld", (long long)t);
	log_event(now_ns(), "rtcset", v);
	return 0;
 eio:
	errno = EIO;
	return -1;
}

int
ioctl(int fd, unsigned long req, ...)
{
	va_list		 ap;
	void		*arg;

	/* As the libc wrapper does: one argument, whatever it is. */
	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (vk.on && (req == RTC_RD_TIME || req == RTC_SET_TIME) &&
	    is_rtc(fd))
		return rtc_ioctl(req, arg);
	if (real_ioctl == NULL)
		resolve();
	return real_ioctl(fd, req, arg);
}

/* The daemon checks that its RTC is a character device. */
int
fstat(int fd, struct stat *st)
{
	if (real_fstat == NULL)
		resolve();
	if (real_fstat(fd, st) == -1)
		return -1;
	if (vk.on && S_ISREG(st->st_mode) && is_rtc(fd))
		st->st_mode = (st->st_mode & ~S_IFMT) | S_IFCHR;
	return 0;
}

int
fstat64(int fd, struct stat64 *st)
{
	if (real_fstat64 == NULL)
		resolve();
	if (real_fstat64(fd, st) == -1)
		return -1;
	if (vk.on && S_ISREG(st->st_mode) && is_rtc(fd))
		st->st_mode = (st->st_mode & ~S_IFMT) | S_IFCHR;
	return 0;
}

/*
 * Shifted reads.  With NTPD_CLOCKSHIM_SHIFT every reading of the time of
 * day the process makes is the real one plus the shift: clock_gettime()
 * of the realtime clocks, gettimeofday(), time(), adjtimex()'s time and
 * the kernel's receive timestamps (SO_TIMESTAMP, SO_TIMESTAMPNS) that
 * recvmsg() and recvmmsg() bring.  So a daemon lives on that date
 * throughout, and its upstream agrees with it when it serves the real
 * time plus the same shift (fakentp -o).  The log stays in real time.
 */
static int
shifted(void)
{
	return vk.on && vk.shift != 0;
}

int
clock_gettime(clockid_t id, struct timespec *ts)
{
	int	 rv;

	if (real_clock_gettime == NULL)
		resolve();
	rv = real_clock_gettime(id, ts);
	if (rv == 0 && shifted() && (id == CLOCK_REALTIME ||
	    id == CLOCK_REALTIME_COARSE || id == CLOCK_TAI))
		ts->tv_sec += vk.shift;
	return rv;
}

int
gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	int	 rv;

	if (real_gettimeofday == NULL)
		resolve();
	rv = real_gettimeofday(tv, tz);
	if (rv == 0 && shifted())
		tv->tv_sec += vk.shift;
	return rv;
}

time_t
time(time_t *t)
{
	time_t	 now;

	if (real_time == NULL)
		resolve();
	now = real_time(NULL);
	if (now != (time_t)-1 && shifted())
		now += vk.shift;
	if (t != NULL)
		*t = now;
	return now;
}

/* The receive timestamps of one message, moved by the shift. */
static void
shift_cmsgs(struct msghdr *msg)
{
	struct cmsghdr	*cm;
	struct timespec	 ts;
	struct timeval	 tv;

	for (cm = CMSG_FIRSTHDR(msg); cm != NULL; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET)
			continue;
		if (cm->cmsg_type == SCM_TIMESTAMPNS &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(ts))) {
			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
			ts.tv_sec += vk.shift;
			memcpy(CMSG_DATA(cm), &ts, sizeof(ts));
		} else if (cm->cmsg_type == SCM_TIMESTAMP &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(tv))) {
			memcpy(&tv, CMSG_DATA(cm), sizeof(tv));
			tv.tv_sec += vk.shift;
			memcpy(CMSG_DATA(cm), &tv, sizeof(tv));
		}
	}
}

ssize_t
recvmsg(int fd, struct msghdr *msg, int flags)
{
	ssize_t	 n;

	if (real_recvmsg == NULL)
		resolve();
	n = real_recvmsg(fd, msg, flags);
	if (n >= 0 && msg != NULL && shifted())
		shift_cmsgs(msg);
	return n;
}

int
recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags,
    struct timespec *timeout)
{
	int	 i, n;

	if (real_recvmmsg == NULL)
		resolve();
	n = real_recvmmsg(fd, vec, vlen, flags, timeout);
	if (n > 0 && vec != NULL && shifted())
		for (i = 0; i < n; i++)
			shift_cmsgs(&vec[i].msg_hdr);
	return n;
}
