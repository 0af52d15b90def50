/*
 * What the views share: names for the daemon's numbers, times as people
 * read them, and the tests of what the daemon has not told us yet.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "ntpctl.h"
#include "select.h"

/* The order of the metric's state set and of the JSON documentation. */
const char *const peer_state_keys[NPEER_STATES] = {
	"syspeer", "combined", "candidate", "falseticker", "refused",
	"unusable", "denied",
};

const struct why_name why_names[NWHY] = {
	{ SELECT_WHY_UNREACH,	"unreachable" },
	{ SELECT_WHY_NOSELECT,	"noselect" },
	{ SELECT_WHY_UNSYNC,	"unsynchronised" },
	{ SELECT_WHY_DISTANCE,	"distance" },
	{ SELECT_WHY_INVALID,	"invalid" },
};

/* Seconds in the unit people read them in, with a sign or not. */
static const char *
fmt_seconds(double s, const char *sign, char *buf, size_t len)
{
	double	 a = fabs(s);

	if (!isfinite(s))
		snprintf(buf, len, "-");
	else if (a < 1e-3)
		snprintf(buf, len, "%s%.1fus", s < 0 ? "-" : sign, a * 1e6);
	else if (a < 1)
		snprintf(buf, len, "%s%.3fms", s < 0 ? "-" : sign, a * 1e3);
	else
		snprintf(buf, len, "%s%.3fs", s < 0 ? "-" : sign, a);
	return buf;
}

/* A time in seconds as people read it: "+12.3us", "-1.234ms", "+2.000s". */
const char *
fmt_offset(double s, char *buf, size_t len)
{
	return fmt_seconds(s, "+", buf, len);
}

/* The same without a sign, for delays, jitter and the like. */
const char *
fmt_span(double s, char *buf, size_t len)
{
	return fmt_seconds(s, "", buf, len);
}

/*
 * A string from the daemon made safe for a terminal: printable ASCII
 * stays, anything else becomes \ooo, a backslash \\.  The result lives
 * in one of a few rotating buffers, so that one printf may take several.
 */
const char *
safe_str(const char *s)
{
	static char	 bufs[8][4 * CTL_HOST_MAX + 1];
	static size_t	 next;
	char		*buf = bufs[next++ % 8];
	size_t		 n = 0, size = sizeof(bufs[0]);
	unsigned char	 c;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (n + 5 > size)
			break;
		if (c == '\\') {
			buf[n++] = '\\';
			buf[n++] = '\\';
		} else if (c >= 0x20 && c < 0x7f)
			buf[n++] = (char)c;
		else
			n += (size_t)snprintf(buf + n, size - n, "\\%03o", c);
	}
	buf[n] = '\0';
	return buf;
}

/* The length of the well-formed UTF-8 sequence at s, 0 if there is none. */
size_t
utf8_valid(const unsigned char *s, size_t n)
{
	size_t		 len, i;
	uint32_t	 cp;

	if (n == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* No overlong forms, no surrogates, nothing beyond U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

const char *
netns_name(const char *ns)
{
	return ns[0] == '\0' ? "default" : ns;
}

const char *
role_name(uint32_t role)
{
	switch (role) {
	case CTL_PROC_PARENT:
		return "parent";
	case CTL_PROC_ENGINE:
		return "engine";
	case CTL_PROC_DNS:
		return "dns";
	case CTL_PROC_SERVER:
		return "server";
	}
	return "unknown";
}

const char *
select_key(uint32_t st)
{
	switch (st) {
	case CTL_SEL_NONE:
		return "none";
	case CTL_SEL_OK:
		return "ok";
	case CTL_SEL_NO_SOURCES:
		return "no_sources";
	case CTL_SEL_NO_MAJORITY:
		return "no_majority";
	case CTL_SEL_TOO_FEW:
		return "too_few";
	case CTL_SEL_WAITING:
		return "waiting";
	}
	return "unknown";
}

const char *
select_text(uint32_t st)
{
	switch (st) {
	case CTL_SEL_OK:
		return "a majority agrees";
	case CTL_SEL_NO_SOURCES:
		return "no usable source";
	case CTL_SEL_NO_MAJORITY:
		return "no majority: the sources disagree";
	case CTL_SEL_TOO_FEW:
		return "too few sources agree";
	case CTL_SEL_WAITING:
		return "waiting for a majority: sources still measuring";
	default:
		return "no source has been heard from yet";
	}
}

/* The leap indicator, NTP's numbering. */
const char *
leap_key(uint32_t leap)
{
	switch (leap) {
	case 0:
		return "none";
	case 1:
		return "insert";
	case 2:
		return "delete";
	case 3:
		return "unsynchronised";
	}
	return "unknown";
}

const char *
leap_text(uint32_t leap)
{
	switch (leap) {
	case 0:
		return "none";
	case 1:
		return "a second inserted at the end of the day";
	case 2:
		return "a second deleted at the end of the day";
	case 3:
		return "unsynchronised (alarm)";
	}
	return "unknown";
}

const char *
peer_state_key(const struct ctl_peer *p)
{
	if (p->stopped)
		return "denied";
	switch (p->state) {
	case CTL_PEER_SYSPEER:
		return "syspeer";
	case CTL_PEER_COMBINED:
		return "combined";
	case CTL_PEER_CANDIDATE:
		return "candidate";
	case CTL_PEER_FALSETICKER:
		return "falseticker";
	case CTL_PEER_REFUSED:
		return "refused";
	default:
		return "unusable";
	}
}

/* For people: an unusable source says why, the first reason of all. */
const char *
peer_state_word(const struct ctl_peer *p)
{
	size_t	 i;

	if (p->stopped || p->state != CTL_PEER_UNUSABLE)
		return peer_state_key(p);
	for (i = 0; i < NWHY; i++)
		if (p->why & why_names[i].bit)
			return why_names[i].key;
	return "unusable";
}

/* One mark per state, as ntpq and chronyc users will expect. */
char
peer_mark(const struct ctl_peer *p)
{
	if (p->stopped)
		return '!';
	switch (p->state) {
	case CTL_PEER_SYSPEER:
		return '*';
	case CTL_PEER_COMBINED:
		return '+';
	case CTL_PEER_CANDIDATE:
		return '-';
	case CTL_PEER_FALSETICKER:
		return 'x';
	case CTL_PEER_REFUSED:
		return '~';
	default:
		return '?';
	}
}

/* The address a source is known by; its name until it is resolved. */
const char *
peer_source(const struct ctl_peer *p)
{
	return p->addr[0] != '\0' ? p->addr : p->host;
}

/* Agrees with the majority and is not refused: one the time rests on. */
int
peer_agrees(const struct ctl_peer *p)
{
	if (p->stopped)
		return 0;
	return p->state == CTL_PEER_SYSPEER ||
	    p->state == CTL_PEER_COMBINED || p->state == CTL_PEER_CANDIDATE;
}

size_t
sources_usable(const struct peers_view *v)
{
	size_t	 i, n = 0;

	for (i = 0; i < v->npeers; i++)
		if (peer_agrees(&v->peers[i]))
			n++;
	return n;
}

/*
 * The discipline's figures: our stratum is never 0 (1..16), so a 0
 * there is a daemon that does not fill them in.
 */
int
discipline_known(const struct ctl_system *s)
{
	return s->stratum != 0;
}

/* The combined offset exists only when a majority agreed. */
int
offset_known(const struct ctl_system *s)
{
	return s->select_status == CTL_SEL_OK && isfinite(s->offset);
}

int
since_update_known(const struct ctl_system *s)
{
	return discipline_known(s) && s->updates > 0 &&
	    isfinite(s->since_update) && s->since_update >= 0;
}

/* The poll interval in seconds, if the exponent is a sane one. */
int
poll_seconds(int32_t poll, long long *secs)
{
	if (poll < 0 || poll > 30)
		return -1;
	*secs = 1LL << poll;
	return 0;
}

/*
 * now as UTC ("2026-11-21 22:40:01"), local time and its zone
 * ("2026-11-21 23:40:01", "CET +0100"); -1 if the time is not one.
 */
int
time_strings(const struct timespec *now, char *utc, size_t utclen,
    char *local, size_t locallen, char *zone, size_t zonelen)
{
	struct tm	 tm;
	time_t		 t = now->tv_sec;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(utc, utclen, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		return -1;
	tzset();
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(local, locallen, "%Y-%m-%d %H:%M:%S", &tm) == 0 ||
	    strftime(zone, zonelen, "%Z %z", &tm) == 0)
		return -1;
	return 0;
}
