#!/bin/sh
# Leap seconds end to end.  Upstreams (fakentp -l) announce a leap second;
# the daemons' clock calls are caught by the clock shim (regress/clock),
# and they run without CAP_SYS_TIME besides.  Three daemons at once:
#
#   now	  today's date; three sources of four announce an insertion:
#	  clients get leap 1, status shows it, and the kernel has it armed
#	  (STA_INS) only if today is the last day of the month;
#   dec	  the shim starts the daemon's clock at 2026-12-30 23:59:30 UTC;
#	  three sources announce an insertion: passed on at once, armed in
#	  the kernel only by the updates after midnight, on the 31st;
#   jun	  at 2027-06-30 12:00:00 UTC, three sources of four announce a
#	  deletion, one an insertion: clients get leap 2, STA_DEL is armed.
#
# The shifted daemons' upstreams serve the real time plus the same shift
# (fakentp -o), so the daemons find their clocks right and slew only.
# shellcheck source=regress/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_root

FAKE="$PWD/$O/regress/fakentp"
SHIM="$PWD/$O/regress/clockshim.so"
SHIMTEST="$PWD/$O/regress/shimtest"
PROBE="$PWD/$O/regress/ntpprobe"
for f in "$FAKE" "$SHIM" "$SHIMTEST" "$PROBE"; do
	if [ ! -x "$f" ]; then
		echo "FAIL: $TEST_NAME: no $f (make integration-check)" >&2
		exit 1
	fi
done
STA_INS=16	# 0x0010
STA_DEL=32	# 0x0020

# The shift that puts a clock read now at DATE (UTC).
shift_to() {
	echo $(($(date -u -d "$1" +%s) - $(date +%s)))
}

out=$(setpriv --bounding-set=-sys_time env LD_PRELOAD="$SHIM" \
	NTPD_CLOCKSHIM="$TMP/shimtest.log" NTPD_CLOCKSHIM_SHIFT="$(shift_to \
	'2026-12-31 23:58:00')" "$SHIMTEST" now 2>&1 || true)
want=$(date -u -d '2026-12-31 23:58:00' +%s)
check "the shim shifts every read of the time of day (got: $out)" \
	sh -c "echo '$out' | awk -v w=$want '\$1 == \"now\" {
	    for (i = 2; i <= 4; i++) { split(\$i, kv, \"=\");
	    d = kv[2] - w; if (d < 0 || d > 2) exit 1 } ok = 1 }
	    END { exit !ok }'"

# start NAME SHIFT FIRST PORT LEAP...: a daemon NAME whose clock reads
# SHIFT s from the real one, with one upstream per LEAP on 127.0.9.FIRST
# onwards, port PORT; it serves 10.210.1.1 in a namespace of its own.
start() {
	name=$1 shift_s=$2 n=$3 port=$4
	shift 4
	ns="ntpdle$$$name"
	ip netns add "$ns"
	NETNS_MADE="$NETNS_MADE $ns"
	ip -n "$ns" link set lo up
	ip -n "$ns" addr add 10.210.1.1/32 dev lo
	ip -n "$ns" addr add 10.210.1.10/32 dev lo
	{
		echo "socket \"$TMP/$name.sock\""
		echo "audit \"$TMP/$name.audit\""
		echo 'rtc none'
		echo 'lastknown none'
		echo 'driftfile none'
	} >"$TMP/$name.conf"
	for leap in "$@"; do
		"$FAKE" -t 120 -o "$shift_s" -l "$leap" -c "$TMP/$name.clock" \
		    "127.0.9.$n" "$port" &
		DAEMON_PIDS="$DAEMON_PIDS $!"
		echo "server 127.0.9.$n port $port iburst minpoll 3 maxpoll 3" \
		    >>"$TMP/$name.conf"
		n=$((n + 1))
	done
	printf 'namespace %s {\nlisten on 10.210.1.1\nallow all\n}\n' "$ns" \
	    >>"$TMP/$name.conf"
	LD_PRELOAD="$SHIM" NTPD_CLOCKSHIM="$TMP/$name.clock" \
	    NTPD_CLOCKSHIM_SHIFT="$shift_s" \
	    setpriv --bounding-set=-sys_time "$NTPD" -d -v -f \
	    "$TMP/$name.conf" >"$TMP/$name.log" 2>&1 &
	DAEMON_PIDS="$DAEMON_PIDS $!"
	eval "PID_$name=\$!"
}

ctl() { "$NTPCTL" -S "$TMP/$1.sock" -s "$2"; }
# probe_says NAME REGEX: a client of NAME gets a reply that matches.
probe_says() {
	ip netns exec "ntpdle$$$1" "$PROBE" -s 10.210.1.10 -t 1000 \
	    10.210.1.1 123 | grep -Eq "$2"
}
# status_events NAME: "REAL_NS STATUS_WORD" of each ADJ_STATUS call.
status_events() {
	[ -f "$TMP/$1.clock" ] || return 0
	while read -r t kind v; do
		[ "$kind" = status ] && echo "$t $((v))"
	done <"$TMP/$1.clock"
}
# armed_count NAME BIT [FROM_NS [TO_NS]]: of the status calls in the
# time range, how many set BIT, and how many there were: "SET TOTAL".
armed_count() {
	status_events "$1" | awk -v b="$2" -v lo="${3:-0}" -v hi="${4:-0}" '
	    $1 >= lo && (hi == 0 || $1 < hi) {
		n++; if (int($2 / b) % 2) set++ }
	    END { printf "%d %d\n", set, n }'
}
# of COUNT: "SET of TOTAL", to read.
of() { echo "${1% *} of ${1#* }"; }
# wait_for SECONDS COMMAND...: until it succeeds.
wait_for() {
	limit=$(($1 * 5))
	shift
	i=0
	while ! "$@" && [ $i -lt "$limit" ]; do
		i=$((i + 1))
		sleep 0.2
	done
}
synced() { ctl "$1" status 2>/dev/null | grep -Eq '^clock: +synchronised$'; }
# leap_shown NAME TEXT: status shows the leap as TEXT, exactly.
leap_shown() { ctl "$1" status 2>/dev/null | grep -q "^leap: *$2\$"; }
updates() { [ "$(status_events "$1" | wc -l)" -ge "$2" ]; }

t_start=$(date +%s)
shift_dec=$(shift_to '2026-12-30 23:59:30')
shift_jun=$(shift_to '2027-06-30 12:00:00')
midnight=$(($(date -u -d '2026-12-31 00:00:00' +%s) - shift_dec))
start now 0 1 12901 1 1 1 0
start dec "$shift_dec" 5 12902 1 1 1
start jun "$shift_jun" 8 12903 2 2 2 1

INS="a second inserted at the end of the day"
DEL="a second deleted at the end of the day"

# --- now: today's date ------------------------------------------------------
wait_for 40 synced now
check "now: synchronised" synced now
wait_for 20 updates now 2
if [ "$(date -u -d tomorrow +%d)" = 01 ]; then
	armed=", insertion armed in the kernel"
	set=$(armed_count now $STA_INS | cut -d' ' -f2)
else
	armed=""
	set=0
fi
check "now: the majority's insertion is passed on to clients (leap 1)" \
	probe_says now '^reply 48 li 1 vn 4 mode 4 stratum 2 '
check "now: status shows it, armed only on the last day of a month" \
	leap_shown now "$INS$armed"
got=$(armed_count now $STA_INS)
check "now: $(date -u +%F): STA_INS in $(of "$got") status calls, want $set" \
	test "${got% *}" -eq "$set" -a "${got#* }" -ge 2

# --- jun: a deletion, on the last day of June -------------------------------
wait_for 20 synced jun
check "jun: synchronised" synced jun
wait_for 20 updates jun 2
check "jun: the daemon lives on 2027-06-30 (its audit trail says so)" \
	grep -q 'time=2027-06-30T12:00:' "$TMP/jun.audit"
check "jun: the majority's deletion is passed on to clients (leap 2)" \
	probe_says jun '^reply 48 li 2 vn 4 mode 4 stratum 2 '
check "jun: status shows the deletion armed in the kernel" \
	leap_shown jun "$DEL, deletion armed in the kernel"
got=$(armed_count jun $STA_DEL)
check "jun: every status call arms STA_DEL ($(of "$got"))" \
	test "${got% *}" -eq "${got#* }" -a "${got#* }" -ge 2
got=$(armed_count jun $STA_INS)
check "jun: none arms STA_INS, the minority's ($(of "$got"))" \
	test "${got% *}" -eq 0

# --- dec: not on the 30th, armed on the 31st --------------------------------
wait_for 20 synced dec
check "dec: synchronised" synced dec
check "dec: the daemon lives on 2026-12-30 (its audit trail says so)" \
	grep -q 'time=2026-12-30T23:59:3' "$TMP/dec.audit"
check "dec: the insertion is passed on to clients at once (leap 1)" \
	probe_says dec '^reply 48 li 1 vn 4 mode 4 stratum 2 '
# Before its midnight (half a second of slack each way: time() is read
# a moment before the status call is logged).
before=$(armed_count dec $STA_INS 0 $((midnight * 1000000000 - 500000000)))
check "dec: updates on the 30th do not arm it ($(of "$before"))" \
	test "${before% *}" -eq 0 -a "${before#* }" -ge 1
check "dec: status shows it not armed on the 30th" leap_shown dec "$INS"
# After it: the next update, within a poll.
sleep $((midnight - $(date +%s) + 1)) 2>/dev/null || true
after_arm() {
	got=$(armed_count dec $STA_INS $((midnight * 1000000000 + 500000000)))
	[ "${got#* }" -ge 1 ]
}
wait_for 20 after_arm
after=$(armed_count dec $STA_INS $((midnight * 1000000000 + 500000000)))
check "dec: updates on the 31st arm STA_INS ($(of "$after"))" \
	test "${after% *}" -eq "${after#* }" -a "${after#* }" -ge 1
check "dec: status shows the insertion armed in the kernel" \
	leap_shown dec "$INS, insertion armed in the kernel"
check "dec: clients still get leap 1" \
	probe_says dec '^reply 48 li 1 vn 4 mode 4 stratum 2 '

for name in now dec jun; do
	check "$name: never stepped, no clock call refused" \
	    sh -c "! grep -Eq ' (step|denied) ' '$TMP/$name.clock'"
	eval "pid=\$PID_$name"
	kill -TERM "$pid"
	wait_exit "$pid" 10
	check "$name: the daemon stops cleanly (got $EXIT_STATUS)" \
	    test "$EXIT_STATUS" = 0
done
echo "leap.sh: $(($(date +%s) - t_start)) s with the daemons"
[ "$FAILURES" -eq 0 ] || for name in now dec jun; do
	{ echo "== $name:"; ctl "$name" status; ctl "$name" peers;
	    cat "$TMP/$name.clock" "$TMP/$name.log"; } >&2 2>/dev/null
done
finish
