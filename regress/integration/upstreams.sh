#!/bin/sh
# The clock discipline end to end against real upstreams: four chronyd
# (-x, local stratum 3, without CAP_SYS_TIME) in a namespace of their
# own, reached over a veth pair from the daemon's namespace.  Each reads
# the time of day shifted by whole seconds (NTPD_CLOCKSHIM_SHIFT of the
# clock shim, regress/clock), three honest ones alike and a liar one
# second further.  The daemon's clock calls are caught by the clock shim
# and it runs without CAP_SYS_TIME besides: nothing reaches a real clock.
#
#   - each chronyd serves the time it was shifted to (checked with ntpdig,
#     so that a shim that does not shift chronyd fails here, loudly);
#   - three upstreams 5 s ahead and a liar 6 s ahead: exactly one step of
#     +5 s at start, before any slew, then slews only, each well within
#     the tolerance; the liar is a falseticker and never the system peer
#     nor combined; clients get stratum 4 (chronyd's 3 + 1), refid an
#     honest upstream;
#   - then the honest three jump an hour: the correction is refused (the
#     first refusal is logged), no step, no slew beyond the tolerance,
#     the three are shown as refused, and the liar, now the only source
#     within the tolerance, is still never used (minsources 2).
#
# The shim does not make the daemon read its own virtual clock: after
# the step it still reads the real one, and would see the upstreams 5 s
# ahead for ever.  fakentp -c (sync.sh) serves what the stepped clock
# would see; chronyd cannot, so once the step is made the upstreams are
# restarted 5 s earlier (honest +0 s, liar +1 s): what a clock stepped
# by +5 s sees of them, to within the step's error (checked: 10 ms).
# Slews and the frequency are not followed: they are microseconds here.
# shellcheck source=regress/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_root

CHRONYD="$PWD/build/ext/chrony/usr/sbin/chronyd"
SHIM="$PWD/$O/regress/clockshim.so"
PROBE="$PWD/$O/regress/ntpprobe"
CLOCKLOG="$TMP/clock.log"
for f in "$CHRONYD" "$SHIM" "$PROBE"; do
	if [ ! -x "$f" ]; then
		echo "FAIL: $TEST_NAME: no $f (make integration-check)" >&2
		exit 1
	fi
done
if ! command -v ntpdig >/dev/null 2>&1; then
	echo "FAIL: $TEST_NAME: no ntpdig (Debian package ntpsec-ntpdig)" >&2
	exit 1
fi
t_start=$(date +%s)

# netns_add NAME: a namespace of this test's, removed by lib.sh's trap.
netns_add() {
	ip netns add "$1"
	NETNS_MADE="$NETNS_MADE $1"
	ip -n "$1" link set lo up
}
NS_U="ntpdup$$u"
NS_D="ntpdup$$d"
netns_add "$NS_U"
netns_add "$NS_D"
ip -n "$NS_D" link add upd type veth peer name upu netns "$NS_U"
ip -n "$NS_D" addr add 10.214.0.1/24 dev upd
for i in 1 2 3 4; do
	ip -n "$NS_U" addr add "10.214.0.1$i/24" dev upu
done
ip -n "$NS_D" link set upd up
ip -n "$NS_U" link set upu up
# The daemon serves on its own loopback, where the probe asks.
ip -n "$NS_D" addr add 10.214.1.1/32 dev lo
ip -n "$NS_D" addr add 10.214.1.10/32 dev lo
in_d() { ip netns exec "$NS_D" "$@"; }

# Upstreams 1 to 3 are honest, 4 is the liar.  Their PIDs are UP1..UP4;
# lib.sh's trap ends those still running, and the daemon.
LIAR=10.214.0.14
DAEMON_PID=""
UP1="" UP2="" UP3="" UP4=""
track() { DAEMON_PIDS="$DAEMON_PID $UP1 $UP2 $UP3 $UP4"; }
# No command sockets: without "bindcmdaddress /" each would take the
# machine's /run/chrony/chronyd.sock from the one before (or from a real
# chronyd), and a chronyd that cannot bind it exits.
for i in 1 2 3 4; do
	cat >"$TMP/chrony$i.conf" <<CONF
allow all
local stratum 3
bindaddress 10.214.0.1$i
cmdport 0
bindcmdaddress /
pidfile $TMP/chronyd$i.pid
CONF
done
# start_chronyd I SHIFT: upstream I reading the time SHIFT s ahead.
start_chronyd() {
	ip netns exec "$NS_U" env LD_PRELOAD="$SHIM" \
		NTPD_CLOCKSHIM="$TMP/chronyd$1.clock" NTPD_CLOCKSHIM_SHIFT="$2" \
		setpriv --bounding-set=-sys_time "$CHRONYD" -x -d -u root \
		-f "$TMP/chrony$1.conf" >>"$TMP/chronyd$1.log" 2>&1 &
	eval "UP$1=\$!"
	track
}
# stop_chronyd I: end upstream I, which this shell started.
stop_chronyd() {
	eval "p=\$UP$1"
	if [ -n "$p" ]; then
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	fi
	eval "UP$1=''"
	track
}
# offset_to I: the offset ntpdig measures to upstream I (real clock).
offset_to() {
	in_d ntpdig -t 1 "10.214.0.1$1" 2>/dev/null |
	    awk 'NF >= 4 { o = $4 } END { print o }'
}
# serves I SECONDS: upstream I answers SECONDS ahead, within 10 ms.
serves() {
	awk -v o="$(offset_to "$1")" -v e="$2" \
	    'BEGIN { d = o - e; if (d < 0) d = -d; exit !(o != "" && d < 0.01) }'
}
# wait_serves I SECONDS: allow it 5 s to come up.
wait_serves() {
	j=0
	while ! serves "$1" "$2"; do
		j=$((j + 1))
		[ $j -ge 25 ] && return 1
		sleep 0.2
	done
}
# check_serves I SECONDS WHAT: a check that upstream I serves that.
check_serves() {
	wait_serves "$1" "$2" || true
	o=$(offset_to "$1")
	check "$3 (got ${o:-nothing})" serves "$1" "$2"
}
# restart HONEST LIAR: every upstream again, at these shifts.
restart() {
	for i in 1 2 3 4; do
		stop_chronyd "$i"
	done
	for i in 1 2 3; do
		start_chronyd "$i" "$1"
	done
	start_chronyd 4 "$2"
}

restart 5 6
for i in 1 2 3; do
	check_serves "$i" 5 "chronyd $i serves the time 5 s ahead"
done
check_serves 4 6 "the liar serves the time 6 s ahead"

# The liar is a second from the others: outside what they agree on,
# within the tolerance, so that selection, not the tolerance, leaves it
# out (shifts are whole seconds: it cannot be half a second off).
conf="$TMP/ntpd.conf"
write_conf "$conf" \
	"server 10.214.0.11 iburst minpoll 3 maxpoll 3" \
	"server 10.214.0.12 iburst minpoll 3 maxpoll 3" \
	"server 10.214.0.13 iburst minpoll 3 maxpoll 3" \
	"server $LIAR iburst minpoll 3 maxpoll 3" \
	'makestep 0.1 3' 'tolerance 2' 'minsources 2' 'driftfile none' \
	'listen on 10.214.1.1' 'allow 10.214.1.0/24'
# Not through in_d: $! must be the daemon (ip, env and setpriv exec).
ip netns exec "$NS_D" env LD_PRELOAD="$SHIM" NTPD_CLOCKSHIM="$CLOCKLOG" \
	setpriv --bounding-set=-sys_time "$NTPD" -d -v -f "$conf" \
	>"$TMP/log" 2>&1 &
DAEMON_PID=$!
track

# Every look at the sources is kept: the liar must never be used.
: >"$TMP/peers.all"
snap() {
	"$NTPCTL" -S "$TMP/ntpd.sock" -s peers >"$TMP/peers" 2>&1 || true
	cat "$TMP/peers" >>"$TMP/peers.all"
}
# count KIND: the clock calls of that kind so far.
count() {
	if [ -f "$CLOCKLOG" ]; then
		grep -c " $1 " "$CLOCKLOG" || true
	else
		echo 0
	fi
}
nsteps() { count step; }
nslews() { count slew; }

i=0
while [ "$(nsteps)" -eq 0 ] && [ $i -lt 600 ] &&
    kill -0 "$DAEMON_PID" 2>/dev/null; do
	i=$((i + 1))
	sleep 0.1
done
check "the clock is stepped at start ($(($(date +%s) - t_start)) s)" \
	test "$(nsteps)" -ge 1
# What a clock stepped by +5 s now sees of the upstreams.
restart 0 1
t_restart=$(date +%s%N)
for i in 1 2 3; do
	check_serves "$i" 0 "chronyd $i now serves the real time"
done
check_serves 4 1 "the liar now serves the time 1 s ahead"
check "the step is logged" log_has "$TMP/log" "clock stepped by \+5\.0" 5

check "clients are told: synchronised, stratum 4, an honest refid" \
	sh -c "for i in \$(seq 1 40); do \
	    ip netns exec $NS_D $PROBE -s 10.214.1.10 -t 1000 10.214.1.1 123 | \
	    grep -Eq '^reply 48 li 0 vn 4 mode 4 stratum 4 refid 10\.214\.0\.1[123] ' \
	    && exit 0; sleep 0.5; done; exit 1"
# Updates come as the sources' estimates rest on new samples: a burst
# at once, then a poll (8 s) apart.  Wait for two updates from the
# polls, 10 s or more after the restart.
# late_slews: the slews made 10 s or more after the restart.
late_slews() {
	awk -v t="$t_restart" '$2 == "slew" && $1 >= t + 10000000000 { n++ }
	    END { print n + 0 }' "$CLOCKLOG"
}
i=0
while [ "$(late_slews)" -lt 2 ] && [ $i -lt 120 ]; do
	i=$((i + 1))
	snap
	sleep 0.5
done
"$NTPCTL" -S "$TMP/ntpd.sock" -s status >"$TMP/status1" 2>&1 || true
# The liar is a second off: its interval leaves the others' once its
# filter holds a few samples.
i=0
while [ $i -lt 120 ]; do
	snap
	grep -Eq "^x $LIAR:123 .* falseticker" "$TMP/peers" && break
	i=$((i + 1))
	sleep 0.5
done
cp "$TMP/peers" "$TMP/peers1"

check "exactly one step was made (got $(nsteps))" test "$(nsteps)" -eq 1
check "it was of +5 s, within 10 ms" \
	awk '$2 == "step" && !n++ { d = $3 - 5; ok = (d < 0 ? -d : d) < 0.01 }
	    END { exit !ok }' "$CLOCKLOG"
check "it came first, before any slew" \
	awk '$2 == "slew" && !s { s = NR } $2 == "step" && !t { t = NR }
	    END { exit !(t > 0 && (s == 0 || t < s)) }' "$CLOCKLOG"
check "slews followed ($(nslews), $(late_slews) from the polls), each under 10 ms, well within the tolerance" \
	awk -v t="$t_restart" '$2 == "slew" { v = $3 < 0 ? -$3 : $3;
	    if (v >= 0.01) bad = 1; if ($1 >= t + 10000000000) n++ }
	    END { exit !(n >= 2 && !bad) }' "$CLOCKLOG"
# A number of seconds from fmt_offset() ("+12.3us", "-1.234ms", "+2s").
secs() {
	awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1e6;
	    else if (v ~ /ms$/) n /= 1e3; printf "%.9f\n", n }'
}
off=$(sed -n 's/^offset: *\([^,]*\),.*/\1/p' "$TMP/status1")
# status_ok: synchronised, the offset under 1 ms.
status_ok() {
	grep -Eq '^clock: +synchronised$' "$TMP/status1" &&
	    awk -v v="$(secs "${off:-x}")" -v s="$off" \
	    'BEGIN { if (v < 0) v = -v; exit !(s != "" && v < 0.001) }'
}
check "status: synchronised, the offset under 1 ms (got ${off:-none})" status_ok
check "the liar is a falseticker" \
	grep -Eq "^x $LIAR:123 .* falseticker" "$TMP/peers1"
check "an honest upstream is the system peer" \
	grep -Eq '^\* 10\.214\.0\.1[123]:123 ' "$TMP/peers1"
check "the three honest ones are combined or agree" \
	test "$(grep -Ec '^[*+-] 10\.214\.0\.1[123]:123 ' "$TMP/peers1")" -eq 3

# The honest three jump an hour ahead (3605 s on the first date, 3600
# on the stepped clock's); the liar stays, alone within the tolerance.
slews_before=$(nslews)
restart 3600 1
for i in 1 2 3; do
	check_serves "$i" 3600 "chronyd $i now serves the time an hour ahead"
done
check_serves 4 1 "the liar still serves the time 1 s ahead"
# Each filter holds the jump as a spike until it is confirmed: up to its
# 8 samples, 64 s at these polls.  The refusal comes once no two sources
# within the tolerance are left.
i=0
while [ $i -lt 200 ]; do
	snap
	[ "$(grep -Ec '^~ 10\.214\.0\.1[123]:123 ' "$TMP/peers")" -eq 3 ] &&
	    grep -q 'correction of .* refused' "$TMP/log" && break
	i=$((i + 1))
	sleep 0.5
done
cp "$TMP/peers" "$TMP/peers2"
check "a correction of an hour is refused, and said so" \
	grep -Eq "correction of \+3[56][0-9][0-9]\.[0-9]* s refused" "$TMP/log"
check "each honest source is logged as left out for the tolerance" \
	test "$(grep -Ec 'source 10\.214\.0\.1[123](:123)?: offset \+3[56][0-9][0-9]\.[0-9]* s is beyond the tolerance' \
	    "$TMP/log")" -ge 3
check "the three honest ones are shown as refused" \
	test "$(grep -Ec '^~ 10\.214\.0\.1[123]:123 .* refused' "$TMP/peers2")" -eq 3
check "still the one step (got $(nsteps))" test "$(nsteps)" -eq 1
check "no slew beyond the tolerance" \
	awk '$2 == "slew" { v = $3 < 0 ? -$3 : $3; if (v > 2) exit 1 }' \
	"$CLOCKLOG"
check "no slew toward the hour or the liar since (each under 10 ms; $slews_before then $(nslews))" \
	awk -v n="$slews_before" '$2 == "slew" && ++k > n {
	    v = $3 < 0 ? -$3 : $3; if (v >= 0.01) exit 1 }' "$CLOCKLOG"
check "the liar was never the system peer nor combined (of $(grep -c "$LIAR:123" "$TMP/peers.all") looks)" \
	sh -c "grep -q '$LIAR:123' '$TMP/peers.all' &&
	    ! grep -Eq '^[*+] $LIAR:123 ' '$TMP/peers.all'"
check "no clock call was refused by the shim" \
	sh -c "! grep -q ' denied ' '$CLOCKLOG'"
check "chronyd made no clock call (-x)" \
	sh -c "! cat '$TMP'/chronyd[1-4].clock 2>/dev/null | grep -q ."

kill -TERM "$DAEMON_PID"
wait_exit "$DAEMON_PID" 10
check "the daemon stops cleanly (got $EXIT_STATUS)" test "$EXIT_STATUS" = 0
DAEMON_PID=""
for i in 1 2 3 4; do
	stop_chronyd "$i"
done
echo "upstreams.sh: $(($(date +%s) - t_start)) s"
[ "$FAILURES" -eq 0 ] || { echo "status:"; cat "$TMP/status1";
	echo "peers:"; cat "$TMP/peers1" "$TMP/peers2";
	echo "clock calls:"; cat "$CLOCKLOG"; echo "log:"; cat "$TMP/log";
	for i in 1 2 3 4; do echo "chronyd $i:"; cat "$TMP/chronyd$i.log"; done;
	} >&2
finish
