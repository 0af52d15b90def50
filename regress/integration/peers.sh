#!/bin/sh
# The engine's sources: real upstreams (chronyd -x) are measured and
# selected, a liar is marked a falseticker, a kiss-o'-death DENY stops
# the queries, a reply that answers nothing is refused, a silent source
# is unreachable.  No clock is touched: the daemon only measures (-x).
# shellcheck source=regress/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_root

CHRONYD="$PWD/build/ext/chrony/usr/sbin/chronyd"
FAKE="$PWD/$O/regress/fakentp"

make_netns p 10.253.0.1/32 10.253.0.2/32 10.253.0.3/32 10.253.0.4/32 \
	10.253.0.5/32 10.253.0.6/32
NS=$NETNS

# Two honest upstreams, chronyd serving its (this machine's) clock.
for i in 1 2; do
	cat >"$TMP/chrony$i.conf" <<CONF
allow all
local stratum 3
bindaddress 10.253.0.$i
cmdport 0
bindcmdaddress /
pidfile $TMP/chronyd$i.pid
CONF
	ip netns exec "$NS" setpriv --bounding-set=-sys_time "$CHRONYD" \
		-x -d -u root -f "$TMP/chrony$i.conf" >"$TMP/chronyd$i.log" 2>&1 &
	DAEMON_PIDS="$DAEMON_PIDS $!"
done
# A liar 2 s ahead, a server that says DENY, one whose replies answer
# nothing (wrong origin); 10.253.0.6 has no server at all.
ip netns exec "$NS" "$FAKE" -t 60 -o 2 10.253.0.3 123 &
DAEMON_PIDS="$DAEMON_PIDS $!"
ip netns exec "$NS" "$FAKE" -t 60 -k DENY 10.253.0.4 123 &
DAEMON_PIDS="$DAEMON_PIDS $!"
ip netns exec "$NS" "$FAKE" -t 60 -b 10.253.0.5 123 &
DAEMON_PIDS="$DAEMON_PIDS $!"

conf="$TMP/ntpd.conf"
write_conf "$conf"
for i in 1 2 3 4 5 6; do
	echo "server 10.253.0.$i iburst minpoll 3 maxpoll 3" >>"$conf"
done
ip netns exec "$NS" setpriv --bounding-set=-sys_time "$NTPD" -d -v \
	-f "$conf" >"$TMP/ntpd.log" 2>&1 &
DAEMON_PID=$!
DAEMON_PIDS="$DAEMON_PIDS $DAEMON_PID"

# iburst: four exchanges 2 s apart, the fewest that bring a source's
# distance under the limit; wait for one regular poll (8 s) beyond them,
# so that a single sample lost or held cannot decide the outcome.
sleep 16
"$NTPCTL" -S "$TMP/ntpd.sock" -s peers >"$TMP/peers"
cat "$TMP/peers"
line() { grep "10.253.0.$1:123" "$TMP/peers"; }
# Columns: mark, source, ST 3, POLL 4, REACH 5, AGE 6, OFFSET 7, DELAY 8,
# JITTER 9, SENT 10, LOST 11, BAD 12, KOD 13.
field() { line "$1" | awk -v f="$2" '{print $f}'; }

check "a majority agrees" grep -q "^selection: a majority agrees" "$TMP/peers"
check "the honest sources are the system peer and combined" \
	sh -c "line() { grep \"10.253.0.\$1:123\" '$TMP/peers'; }
	    { line 1; line 2; } | cut -c1 | sort | tr -d '\n' | grep -qx '*+'"
check "the honest sources' stratum is 3" \
	test "$(field 1 3)" = 3 -a "$(field 2 3)" = 3
check "the honest sources answered all of the burst (reach 17 or more)" \
	test "$(field 1 5)" -ge 17 -a "$(field 2 5)" -ge 17
check "the combined offset is within 1 ms of zero" \
	sh -c "grep '^combined offset' '$TMP/peers' | grep -Eq 'offset [+-][0-9.]+us,'"
check "the liar 2 s ahead is a falseticker" \
	test "$(line 3 | cut -c1)" = x
check "the liar's offset is shown as about +2 s" \
	sh -c "line() { grep \"10.253.0.\$1:123\" '$TMP/peers'; }
	    line 3 | grep -q ' +2.000s '"
check "the DENY server is marked as refusing us" \
	test "$(line 4 | cut -c1)" = "!"
check "the DENY server was asked exactly once" \
	test "$(field 4 10)" = 1 -a "$(field 4 13)" = 1
check "the DENY is logged" \
	log_has "$TMP/ntpd.log" "source 10.253.0.4 refuses us \(kiss-o'-death DENY\)"
check "replies that answer nothing are refused, the source unusable" \
	test "$(line 5 | cut -c1)" = "?" -a "$(field 5 12)" -gt 0 \
	-a "$(field 5 5)" = 0
check "the silent source is unusable, its polls lost" \
	test "$(line 6 | cut -c1)" = "?" -a "$(field 6 11)" -gt 0 \
	-a "$(field 6 12)" = 0

# Measuring only (-x), and the honest sources agree with this machine's
# clock: it is synchronised, though never touched.
check "status says synchronised" \
	sh -c "'$NTPCTL' -S '$TMP/ntpd.sock' -s status | grep -q 'clock: *synchronised'"
finish
