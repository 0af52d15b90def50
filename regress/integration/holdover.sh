#!/bin/sh
# Holdover: real upstreams (chronyd -x, local stratum 3) in a namespace
# of their own, reached over a veth pair from the daemon's namespace; the
# daemon's clock calls are caught by the clock shim (regress/clock) and
# it runs without CAP_SYS_TIME besides.  With "holdover 20":
#
#   - it synchronises: status says so, the offset is near zero (chronyd
#     serves this machine's clock), clients get stratum 4, and a few
#     updates set the frequency (from the kernel's 12.5 ppm);
#   - every upstream is killed: the clock is held, never stepped, its
#     frequency untouched (no clock call at all after the last update);
#   - it stays synchronised for the 20 s after the last update and no
#     longer: then it says so once in the log, status shows it, clients
#     get leap 3 and stratum 16;
#   - the sources' reach drops until they are shown unreachable;
#   - a reload changes the bound in place: "holdover none" makes the
#     clock synchronised again (its root distance is still small), and
#     "holdover 20" unsynchronised, each at once.
# shellcheck source=regress/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_root

CHRONYD="$PWD/build/ext/chrony/usr/sbin/chronyd"
SHIM="$PWD/$O/regress/clockshim.so"
PROBE="$PWD/$O/regress/ntpprobe"
CLOCKLOG="$TMP/clock.log"
HOLDOVER=20
for f in "$CHRONYD" "$SHIM" "$PROBE"; do
	if [ ! -x "$f" ]; then
		echo "FAIL: $TEST_NAME: no $f (make integration-check)" >&2
		exit 1
	fi
done

# netns_add NAME: a namespace of this test's, removed by lib.sh's trap.
netns_add() {
	ip netns add "$1"
	NETNS_MADE="$NETNS_MADE $1"
	ip -n "$1" link set lo up
}
NS_U="ntpdho$$u"
NS_D="ntpdho$$d"
netns_add "$NS_U"
netns_add "$NS_D"
ip -n "$NS_D" link add hod type veth peer name hou netns "$NS_U"
ip -n "$NS_D" addr add 10.209.0.1/24 dev hod
for i in 1 2 3; do
	ip -n "$NS_U" addr add "10.209.0.1$i/24" dev hou
done
ip -n "$NS_D" link set hod up
ip -n "$NS_U" link set hou up
# The daemon serves on its own loopback, where the probe asks.
ip -n "$NS_D" addr add 10.209.1.1/32 dev lo
ip -n "$NS_D" addr add 10.209.1.10/32 dev lo
in_d() { ip netns exec "$NS_D" "$@"; }

UPSTREAMS=""
for i in 1 2 3; do
	cat >"$TMP/chrony$i.conf" <<CONF
allow all
local stratum 3
bindaddress 10.209.0.1$i
cmdport 0
bindcmdaddress /
pidfile $TMP/chronyd$i.pid
CONF
	ip netns exec "$NS_U" setpriv --bounding-set=-sys_time "$CHRONYD" \
		-x -d -u root -f "$TMP/chrony$i.conf" >"$TMP/chronyd$i.log" 2>&1 &
	UPSTREAMS="$UPSTREAMS $!"
	DAEMON_PIDS="$DAEMON_PIDS $!"
done
answers() {
	for i in 1 2 3; do
		in_d "$PROBE" -t 200 "10.209.0.1$i" 123 | grep -q '^reply ' ||
		    return 1
	done
}
i=0
while ! answers && [ $i -lt 50 ]; do
	i=$((i + 1))
	sleep 0.1
done
check "the three chronyd upstreams answer across the veth" answers

conf="$TMP/ntpd.conf"
write_conf "$conf" \
	"server 10.209.0.11 iburst minpoll 3 maxpoll 3" \
	"server 10.209.0.12 iburst minpoll 3 maxpoll 3" \
	"server 10.209.0.13 iburst minpoll 3 maxpoll 3" \
	"holdover $HOLDOVER" 'driftfile none' \
	'listen on 10.209.1.1' 'allow 10.209.1.0/24'
t_start=$(date +%s)
# Not through in_d: $! must be the daemon (ip, env and setpriv exec).
ip netns exec "$NS_D" env LD_PRELOAD="$SHIM" NTPD_CLOCKSHIM="$CLOCKLOG" \
	NTPD_CLOCKSHIM_FREQ=12.5 setpriv --bounding-set=-sys_time "$NTPD" -d -v -f "$conf" \
	>"$TMP/log" 2>&1 &
DAEMON_PID=$!
DAEMON_PIDS="$DAEMON_PIDS $DAEMON_PID"

ctl() { "$NTPCTL" -S "$TMP/ntpd.sock" -s "$1"; }
synced() { ctl status 2>/dev/null | grep -Eq '^clock: +synchronised$'; }
unsynced() { ctl status 2>/dev/null | grep -Eq '^clock: +unsynchronised$'; }
# probe_says REGEX: a client's request gets a reply that matches.
probe_says() {
	in_d "$PROBE" -s 10.209.1.10 -t 1000 10.209.1.1 123 | grep -Eq "$1"
}
# A number of seconds from fmt_offset() ("+12.3us", "-1.234ms", "+2s").
secs() {
	awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1e6;
	    else if (v ~ /ms$/) n /= 1e3; printf "%.9f\n", n }'
}

i=0
while ! synced && [ $i -lt 200 ]; do
	i=$((i + 1))
	sleep 0.2
done
check "it synchronises to the chronyd upstreams ($(($(date +%s) - t_start)) s)" \
	synced
ctl status >"$TMP/status1" 2>&1 || true
ctl peers >"$TMP/peers1" 2>&1 || true
off=$(sed -n 's/^offset: *\([^,]*\),.*/\1/p' "$TMP/status1")
check "its offset to them is near zero (got ${off:-none})" \
	awk -v v="$(secs "${off:-x}")" -v s="$off" \
	    'BEGIN { if (v < 0) v = -v; exit !(s != "" && v < 0.005) }'
check "clients are told: synchronised, stratum 4" \
	probe_says '^reply 48 li 0 vn 4 mode 4 stratum 4 refid 10\.209\.0\.1[123] '
# A few updates, each setting the frequency, before the upstreams go.
i=0
while [ "$(grep -c ' freq ' "$CLOCKLOG")" -lt 3 ] && [ $i -lt 200 ]; do
	i=$((i + 1))
	sleep 0.2
done
check "three updates set the frequency ($(grep -c ' freq ' "$CLOCKLOG"))" \
	test "$(grep -c ' freq ' "$CLOCKLOG")" -ge 3
check "the clock was slewed, and neither stepped nor refused" \
	sh -c "grep -q ' slew ' '$CLOCKLOG' && ! grep -Eq ' (step|denied) ' \
	    '$CLOCKLOG'"

# Every upstream goes away.
for p in $UPSTREAMS; do
	kill -TERM "$p"
done
for p in $UPSTREAMS; do
	wait "$p" 2>/dev/null || true
done
t_kill=$(date +%s%N)

# Until the holdover ends, status is read every 0.2 s: the last time it
# was seen synchronised and the first time it was not.
t_seen=$t_kill
t_unsync=""
while [ $(($(date +%s%N) - t_kill)) -lt $(((HOLDOVER + 15) * 1000000000)) ]; do
	now=$(date +%s%N)
	if synced; then
		t_seen=$now
	elif unsynced; then
		t_unsync=$now
		break
	fi
	sleep 0.2
done
# The last clock update: the parent's last slew (every update with clock
# control slews, and the parent logs it a moment after the engine's).
t_update=$(awk '$2 == "slew" { t = $1 } END { print t }' "$CLOCKLOG")
check "status says unsynchronised once the upstreams are gone" \
	test -n "$t_unsync"
t_unsync=${t_unsync:-0}
ms_seen=$(((t_seen - t_update) / 1000000))
ms_unsync=$(((t_unsync - t_update) / 1000000))
check "still synchronised $ms_seen ms after the last update (want >= $(((HOLDOVER - 1) * 1000)))" \
	test "$ms_seen" -ge $(((HOLDOVER - 1) * 1000))
check "not unsynchronised before the bound: $ms_unsync ms after the last update (want >= $((HOLDOVER * 1000 - 100)))" \
	test "$ms_unsync" -ge $((HOLDOVER * 1000 - 100))
check "unsynchronised within 2 s of the bound ($ms_unsync ms)" \
	test "$ms_unsync" -le $(((HOLDOVER + 2) * 1000))
check "the end of holdover is logged" \
	log_has "$TMP/log" "clock unsynchronised: no update for $HOLDOVER s"
check "clients are told: unsynchronised, leap 3, stratum 16" \
	probe_says '^reply 48 li 3 vn 4 mode 4 stratum 16 '

# The sources' reach register empties, a bit per 8 s poll.
i=0
while [ $i -lt 250 ]; do
	ctl peers >"$TMP/peers2" 2>&1 || true
	[ "$(grep -c ' unreachable ' "$TMP/peers2")" -eq 3 ] && break
	i=$((i + 1))
	sleep 0.2
done
ctl status >"$TMP/status2" 2>&1 || true
# Columns: mark, source, ST 3, POLL 4, REACH 5, AGE 6, OFFSET 7, DELAY 8,
# JITTER 9, SENT 10, LOST 11.
check "the sources were all reached before" \
	test "$(awk '$2 ~ /^10\.209\.0\.1[123]:123$/ && $5 != 0' \
	    "$TMP/peers1" | wc -l)" -eq 3
check "each source is shown unreachable, reach 0, its polls lost" \
	test "$(awk '$2 ~ /^10\.209\.0\.1[123]:123$/ && $1 == "?" &&
	    $5 == 0 && $11 > 0 && / unreachable /' "$TMP/peers2" | wc -l)" -eq 3
check "status still says unsynchronised" unsynced
check "the end of holdover was logged once" \
	test "$(grep -c '^engine: clock unsynchronised' "$TMP/log")" -eq 1

# reload_to SETTING: the same file with another holdover; ntpctl says so.
reload_to() {
	sed -i "s/^holdover .*/holdover $1/" "$conf"
	"$NTPCTL" -S "$TMP/ntpd.sock" reload >"$TMP/reload.out" 2>&1
}
# within_2s COMMAND...: it succeeds within 2 s.
within_2s() {
	i=0
	while ! "$@"; do
		i=$((i + 1))
		[ $i -ge 10 ] && return 1
		sleep 0.2
	done
}
check "a reload to \"holdover none\" is taken" reload_to none
check "and says: ~ holdover $HOLDOVER -> holdover none" \
	grep -qx "~ holdover $HOLDOVER -> holdover none" "$TMP/reload.out"
check "the clock is synchronised again at once" within_2s synced
check "a reload back to \"holdover $HOLDOVER\" is taken" \
	reload_to "$HOLDOVER"
check "the clock is unsynchronised again at once" within_2s unsynced
check "both ends were logged" \
	test "$(grep -c "^engine: clock unsynchronised: no update for $HOLDOVER s" \
	    "$TMP/log")" -eq 2

# Nothing reached the clock after the last update: no step, no slew, no
# new frequency, no status, not even refused.
check "no clock call after the last update" \
	awk -v u="$t_update" '$1 > u + 1000000000 { bad = 1 }
	    END { exit bad }' "$CLOCKLOG"
check "never a step" sh -c "! grep -Eq ' (step|denied) ' '$CLOCKLOG'"
freq_log=$(awk '$2 == "freq" { f = $3 } END { printf "%.3f", f }' "$CLOCKLOG")
freq_shown=$(sed -n 's/^frequency: *\([-+0-9.]*\) ppm$/\1/p' "$TMP/status2")
check "the frequency is held at the last update's ($freq_log ppm; status: ${freq_shown:-none})" \
	awk -v a="$freq_log" -v b="$freq_shown" \
	    'BEGIN { d = a - b; if (d < 0) d = -d; exit !(b != "" && d < 0.0015) }'

kill -TERM "$DAEMON_PID"
wait_exit "$DAEMON_PID" 10
check "the daemon stops cleanly (got $EXIT_STATUS)" test "$EXIT_STATUS" = 0
echo "holdover.sh: $(($(date +%s) - t_start)) s with the daemon"
[ "$FAILURES" -eq 0 ] || { echo "status:"; cat "$TMP/status1" "$TMP/status2";
	echo "peers:"; cat "$TMP/peers1" "$TMP/peers2"; echo "clock calls:";
	cat "$CLOCKLOG"; echo "log:"; cat "$TMP/log"; } >&2
finish
