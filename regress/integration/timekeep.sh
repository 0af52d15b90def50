#!/bin/sh
# The RTC, the last-known time and the time zone, through the clock shim
# (every clock and RTC call of the parent goes to a virtual clock and a
# fake RTC file) and a private mount namespace (the daemon's /etc is a
# copy; the machine's own /etc/localtime is never touched):
#   - at start, a clock behind the RTC or the last-known time is stepped
#     forward once, to the later of them, and the step is audited;
#   - a clock ahead of both is not stepped back;
#   - no RTC is said once and is no error;
#   - once synchronised, the RTC and the last-known file are written;
#   - timezone: the configured zone at start, ntpctl timezone set (root
#     only, audited), a bad name refused by ntpd itself.
# shellcheck source=regress/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_root

FAKE="$PWD/$O/regress/fakentp"
CTLRAW="$PWD/$O/regress/ctlraw"
SHIM="$PWD/$O/regress/clockshim.so"
CLOCKLOG="$TMP/clock.log"
SOCK="$TMP/ntpd.sock"
TRAIL="$TMP/audit.log"
PORT=12481

for z in Asia/Tokyo Europe/Paris; do
	[ -f "/usr/share/zoneinfo/$z" ] ||
		{ fail "tzdata is missing (make deps)"; finish; }
done

# conf FILE LINES...: rtc and lastknown as the case says.
conf() {
	f=$1
	shift
	{
		echo "socket \"$SOCK\""
		echo "audit \"$TRAIL\""
		echo "driftfile none"
		for line in "$@"; do
			echo "$line"
		done
	} >"$f"
}

# start FILE LOG: the daemon under the shim, in a mount namespace of its
# own whose /etc is $TMP/etc; DAEMON_PID is the daemon itself (unshare
# and sh exec into it).
start() {
	: >"$CLOCKLOG"
	NTPD_CLOCKSHIM_RTC="$TMP/rtc" LD_PRELOAD="$SHIM" \
	    NTPD_CLOCKSHIM="$CLOCKLOG" \
	    unshare -m --propagation private sh -c '
		mount --bind "$1/etc" /etc && exec setpriv \
		    --bounding-set=-sys_time "$2" -d -v -f "$3"' \
	    sh "$TMP" "$NTPD" "$1" >"$2" 2>&1 &
	DAEMON_PID=$!
	DAEMON_PIDS="$DAEMON_PIDS $DAEMON_PID"
	i=0
	while ! "$NTPCTL" -S "$SOCK" -s status >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 200 ] || gone "$DAEMON_PID"; then
			echo "daemon did not come up; its log:" >&2
			cat "$2" >&2
			return 1
		fi
		sleep 0.05
	done
}

stop() {
	kill -TERM "$DAEMON_PID"
	wait_exit "$DAEMON_PID" 10
	check "$1: stopped (status $EXIT_STATUS)" test "$EXIT_STATUS" = 0
}

steps() {
	grep -c " step " "$CLOCKLOG" || true
}

cp -a /etc "$TMP/etc"
ln -sfn /usr/share/zoneinfo/UTC "$TMP/etc/localtime"
real_tz=$(readlink /etc/localtime || true)
now=$(date +%s)

# 1. The RTC 100 s and the last-known time 200 s ahead: one step, +200,
#    to the last-known time.  The zone of the configuration is set.
echo "$((now + 100)) $now" >"$TMP/rtc"
echo "$((now + 200))" >"$TMP/lastknown"
conf "$TMP/a.conf" "rtc $TMP/rtc" "lastknown $TMP/lastknown" \
    "timezone Asia/Tokyo"
start "$TMP/a.conf" "$TMP/a.log"
check "behind both: one step" test "$(steps)" = 1
check "behind both: forward to the later, the last-known time" \
    grep -Eq " step 20[01]\.[0-9]+$" "$CLOCKLOG"
check "the step is audited as done at startup, from the last-known time" \
    log_has "$TRAIL" "who=startup event=clock-step source=lastknown offset=\+20[01] "
check "the configured zone is in force in the daemon's /etc" \
    test "$(readlink "$TMP/etc/localtime")" = /usr/share/zoneinfo/Asia/Tokyo
check "the zone at start is audited" \
    log_has "$TRAIL" "who=startup event=timezone-set old=UTC new=Asia/Tokyo"
check "the machine's own /etc/localtime is untouched" \
    test "$(readlink /etc/localtime || true)" = "$real_tz"

# ntpctl timezone set: root only, checked by ntpd too, audited.
out=$("$NTPCTL" -S "$SOCK" timezone set Europe/Paris 2>&1)
check "timezone set Europe/Paris (got: $out)" \
    test "$(readlink "$TMP/etc/localtime")" = /usr/share/zoneinfo/Europe/Paris
check "timezone set says what it did" \
    sh -c 'printf "%s\n" "$1" | grep -qx "time zone set to Europe/Paris (was Asia/Tokyo)"' \
    sh "$out"
check "timezone set is audited with ntpctl's uid" \
    log_has "$TRAIL" "who=uid:0,pid:[0-9]+ event=timezone-set old=Asia/Tokyo new=Europe/Paris"
rc=0
setpriv --reuid=nobody --regid=nogroup --clear-groups \
    "$NTPCTL" -S "$SOCK" timezone set Asia/Tokyo >"$TMP/out" 2>&1 || rc=$?
check "timezone set as nobody: refused (status $rc)" test "$rc" = 1
check "timezone set as nobody: permission denied" \
    grep -q "permission denied" "$TMP/out"
rc=0
"$NTPCTL" -S "$SOCK" timezone set ../../etc/passwd >"$TMP/out" 2>&1 || rc=$?
check "a path as a zone name: refused by ntpctl (status $rc)" test "$rc" = 1
# ntpd checks too: a request no ntpctl would send.
"$CTLRAW" "$SOCK" 5 256 >"$TMP/raw" 2>&1 || true
check "an empty zone name: refused by ntpd" \
    grep -q "not a valid time zone name" "$TMP/raw"
check "the zone is unchanged after the refusals" \
    test "$(readlink "$TMP/etc/localtime")" = /usr/share/zoneinfo/Europe/Paris
stop "behind both"

# 2. The clock ahead of both: never stepped back.
echo "$((now - 1000)) $now" >"$TMP/rtc"
echo "$((now - 500))" >"$TMP/lastknown"
conf "$TMP/b.conf" "rtc $TMP/rtc" "lastknown $TMP/lastknown"
start "$TMP/b.conf" "$TMP/b.log"
check "ahead of both: no step" test "$(steps)" = 0
stop "ahead of both"

# 3. No RTC, and the last-known time 50 s ahead: said once, no error;
#    the step goes to the last-known time.
echo "$((now + 50))" >"$TMP/lastknown"
conf "$TMP/c.conf" "rtc $TMP/no-rtc" "lastknown $TMP/lastknown"
start "$TMP/c.conf" "$TMP/c.log"
check "no RTC: said" grep -q "no RTC at $TMP/no-rtc: not used" "$TMP/c.log"
check "no RTC: still one step, to the last-known time" test "$(steps)" = 1
check "no RTC: the step is audited" log_has "$TRAIL" \
    "who=startup event=clock-step source=lastknown offset=\+(4[0-9]|50) "
stop "no RTC"
check "no RTC: said once" \
    test "$(grep -c "no RTC at" "$TMP/c.log")" = 1

# 4. Synchronised from an upstream: the RTC and the last-known file are
#    written.
echo "$now $now" >"$TMP/rtc"
echo "$((now - 3600))" >"$TMP/lastknown"
"$FAKE" -t 120 -c "$CLOCKLOG" 127.0.8.1 $PORT >"$TMP/fake.log" 2>&1 &
DAEMON_PIDS="$DAEMON_PIDS $!"
conf "$TMP/d.conf" "rtc $TMP/rtc" "lastknown $TMP/lastknown" \
    "server 127.0.8.1 port $PORT iburst minpoll 3 maxpoll 3"
start "$TMP/d.conf" "$TMP/d.log"
check "synchronised" log_has "$TMP/d.log" "clock synchronised" 60
check "the RTC is written once synchronised" \
    log_has "$CLOCKLOG" " rtcset " 90
lk=$(cat "$TMP/lastknown")
check "the last-known time is refreshed ($lk)" \
    test "$lk" -ge "$now"
stop "synchronised"

finish
