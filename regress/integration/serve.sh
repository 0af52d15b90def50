#!/bin/sh
# Serving time: who gets answers, what the answers say, what is never
# answered; tenants in their own namespaces, real clients, isolation.
# shellcheck source=regress/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_root

PROBE="$PWD/$O/regress/ntpprobe"
CHRONYD="$PWD/build/ext/chrony/usr/sbin/chronyd"

# probe ARGS...: one request, its answer line (or "timeout").
probe() {
	"$PROBE" -t 500 "$@"
}

# expect DESC WANT-REGEX ARGS...: the probe's answer must match.
expect() {
	desc=$1
	want=$2
	shift 2
	got=$(probe "$@")
	check "$desc (got \"$got\")" sh -c "echo '$got' | grep -Eq '$want'"
}

# --- Access rules, kisses, modes and lengths, on loopback ---------------
conf="$TMP/lo.conf"
write_conf "$conf" \
	'listen on 127.0.0.1 port 12301' \
	'allow 127.1.0.0/16' \
	'deny 127.1.2.0/24' \
	'deny 127.1.3.3 kod' \
	'ratelimit 1 burst 4 kod' \
	'local stratum 9'
start_daemon "$conf" "$TMP/lo.log"
lo=$DAEMON_PID
LO="127.0.0.1 12301"

expect "an allowed client gets time" \
	'^reply 48 li 0 vn 4 mode 4 stratum 9 .* origin-ok 1$' -s 127.1.1.1 $LO
expect "a client in a denied /24 inside the allowed /16 gets nothing" \
	'^timeout$' -s 127.1.2.5 $LO
expect "a client denied with kod gets a kiss-o'-death DENY" \
	'^reply 48 li 3 vn 4 mode 4 stratum 0 refid DENY origin-ok 1$' \
	-s 127.1.3.3 $LO
expect "a client outside every rule gets nothing" '^timeout$' -s 127.2.0.1 $LO
expect "the version is echoed (v3)" '^reply 48 li 0 vn 3 ' \
	-s 127.1.1.2 -v 3 $LO
expect "mode 6 (control) is never answered" '^timeout$' -s 127.1.1.3 -m 6 $LO
expect "mode 7 (private) is never answered" '^timeout$' -s 127.1.1.3 -m 7 $LO
expect "symmetric active is not answered" '^timeout$' -s 127.1.1.3 -m 1 $LO
expect "broadcast is not answered" '^timeout$' -s 127.1.1.3 -m 5 $LO
expect "a 47-byte request is not answered" '^timeout$' -s 127.1.1.3 -l 47 $LO
expect "version 5 is not answered" '^timeout$' -s 127.1.1.3 -v 5 $LO
expect "a 1024-byte request gets 48 bytes, never more" '^reply 48 ' \
	-s 127.1.1.3 -l 1024 $LO
got=$("$PROBE" -t 300 -s 127.1.1.4 -n 8 $LO)
check "a burst over the limit: 4 answers and 4 kisses RATE (got $got)" \
	test "$got" = "sent 8 replies 8 kod 4"
expect "the kiss says RATE" 'stratum 0 refid RATE' -s 127.1.1.4 $LO

sleep 1.2	# the statistics reach the engine once a second
"$NTPCTL" -S "$TMP/ntpd.sock" -s clients >"$TMP/clients"
# 3 denied: 127.1.2.5, 127.1.3.3 (kod), 127.2.0.1; 4 ignored: modes 1,
# 5, 6, 7; 127.1.1.4 asked 9 times, 5 over its limit.
check "ntpctl -s clients counts the denied" \
	grep -q " 3 denied" "$TMP/clients"
check "ntpctl -s clients counts the ignored modes" \
	grep -q " 4 ignored" "$TMP/clients"
check "ntpctl -s clients counts the malformed (short, version 5)" \
	grep -q " 2 malformed" "$TMP/clients"
check "ntpctl -s clients lists the busiest client first" \
	sh -c "grep -A1 CLIENT '$TMP/clients' | tail -n 1 | grep -Eq '^  127.1.1.4/32 +9 +5$'"
check "denials are logged with the source" \
	log_has "$TMP/lo.log" "denied a request from 127.1.2.5"
kill -TERM "$lo"
wait_exit "$lo" 5

# --- Tenants in their own namespaces, on port 123 -----------------------
make_netns a 10.251.1.1/32 10.251.1.10/32 10.251.9.10/32 \
	fd00:251:1::1/128 fd00:251:1::10/128 fd00:251:9::10/128
NS_A=$NETNS
make_netns b 10.251.2.1/32 10.251.2.10/32
NS_B=$NETNS
make_netns u 10.251.3.1/32
NS_U=$NETNS
make_netns n 10.251.4.1/32
NS_N=$NETNS
conf="$TMP/tenants.conf"
write_conf "$conf" \
	"namespace $NS_A {" \
	'	listen on 10.251.1.1' \
	'	listen on fd00:251:1::1' \
	'	allow 10.251.1.0/24' \
	'	allow fd00:251:1::/64' \
	'	local stratum 5' \
	'}' \
	"namespace $NS_B {" \
	'	listen on 10.251.2.1' \
	'	allow 10.251.2.0/24' \
	'	ratelimit off' \
	'	local stratum 5' \
	'}' \
	"namespace $NS_U {" \
	'	listen on 10.251.3.1' \
	'	allow 10.251.3.0/24' \
	'}' \
	"namespace $NS_N {" \
	'	listen on 10.251.4.1' \
	'	local stratum 5' \
	'}'
start_daemon "$conf" "$TMP/tenants.log"
check "a namespace with no allow rule: the daemon says so at startup" \
	log_has "$TMP/tenants.log" \
	"no allow rule is in force in namespace $NS_N: its listeners will answer nobody"
check "and that namespace's listener answers nobody" \
	sh -c "ip netns exec $NS_N $PROBE -t 500 10.251.4.1 123 | grep -qx timeout"
in_a() { ip netns exec "$NS_A" "$@"; }
in_b() { ip netns exec "$NS_B" "$@"; }
in_u() { ip netns exec "$NS_U" "$@"; }

check "A's client gets time from A's VIP over IPv4" \
	sh -c "ip netns exec $NS_A $PROBE -s 10.251.1.10 10.251.1.1 123 | grep -q 'stratum 5'"
check "A's client gets time from A's VIP over IPv6" \
	sh -c "ip netns exec $NS_A $PROBE -s fd00:251:1::10 fd00:251:1::1 123 | grep -q 'stratum 5'"
check "an IPv4 address outside A's allow list gets nothing" \
	sh -c "ip netns exec $NS_A $PROBE -t 500 -s 10.251.9.10 10.251.1.1 123 | grep -qx timeout"
check "an IPv6 address outside A's allow list gets nothing" \
	sh -c "ip netns exec $NS_A $PROBE -t 500 -s fd00:251:9::10 fd00:251:1::1 123 | grep -qx timeout"
check "A's client gets no answer from B's VIP (no path to it)" \
	sh -c "! ip netns exec $NS_A $PROBE -t 500 -s 10.251.1.10 10.251.2.1 123 2>/dev/null | grep -q reply"

# Real clients: they accept a served clock and refuse an unsynchronised one.
out=$(in_a ntpdig -t 2 10.251.1.1 2>&1 | tr '\n' ' ' || true)
check "ntpdig accepts A's time, stratum 5 (got: $out)" \
	sh -c "echo '$out' | grep -q ' 10.251.1.1 s5 '"
out=$(in_a ntpdate -q 10.251.1.1 2>&1 | tr '\n' ' ' || true)
check "ntpdate -q accepts A's time, stratum 5 (got: $out)" \
	sh -c "echo '$out' | grep -q ' s5 '"
out=$(in_a setpriv --bounding-set=-sys_time "$CHRONYD" -Q -u root -f /dev/null \
	'server 10.251.1.1 iburst maxsamples 4' 2>&1 | grep -v '^$' | tail -n 2 |
	tr '\n' ' ' || true)
check "chronyd -Q accepts A's time with an offset near zero (got: $out)" \
	sh -c "echo '$out' | grep -Eq 'System clock wrong by -?0\.0000[0-9]+ seconds'"
check "an unsynchronised server says so: leap 3, stratum 16" \
	sh -c "ip netns exec $NS_U $PROBE 10.251.3.1 123 | grep -q 'li 3 vn 4 mode 4 stratum 16'"
out=$(in_u setpriv --bounding-set=-sys_time "$CHRONYD" -Q -u root -f /dev/null \
	-t 6 'server 10.251.3.1 iburst maxsamples 4' 2>&1 | tail -n 2 |
	tr '\n' ' ' || true)
check "chronyd -Q refuses the unsynchronised server (got: $out)" \
	sh -c "! echo '$out' | grep -q 'System clock wrong'"
out=$(in_u ntpdig -t 2 10.251.3.1 2>&1 | tr '\n' ' ' || true)
check "ntpdig refuses the unsynchronised server (got: $out)" \
	sh -c "! echo '$out' | grep -q ' 10.251.3.1 s'"

# A capture in B sees B's traffic and none of A's.  ip netns exec execs
# tcpdump, so $! is tcpdump itself; SIGTERM, as a background job here
# ignores SIGINT.
ip netns exec "$NS_B" timeout 30 tcpdump -i any -n -l -U udp port 123 \
	>"$TMP/capture" 2>/dev/null &
tcpdump=$!
DAEMON_PIDS="$DAEMON_PIDS $tcpdump"
sleep 1
in_a "$PROBE" -s 10.251.1.10 -n 20 10.251.1.1 123 >/dev/null
in_b "$PROBE" -s 10.251.2.10 -n 3 10.251.2.1 123 >/dev/null
sleep 0.5
kill -TERM "$tcpdump"
wait "$tcpdump" 2>/dev/null || true
check "the capture in B sees B's exchanges (6 packets)" \
	test "$(grep -c '10.251.2' "$TMP/capture")" -eq 6
check "the capture in B sees none of A's packets" \
	sh -c "! grep -q '10.251.1' '$TMP/capture'"

# A floods far over its rate limit; B's clients lose nothing.
in_a "$PROBE" -t 1 -s 10.251.1.10 -n 20000 10.251.1.1 123 >"$TMP/flood" &
flood=$!
got=$(in_b "$PROBE" -t 1000 -s 10.251.2.10 -n 200 -i 5 10.251.2.1 123)
wait "$flood" || true
check "A's flood was limited (got: $(cat "$TMP/flood"))" \
	sh -c "test \$(sed 's/.*replies \([0-9]*\).*/\1/' '$TMP/flood') -lt 1000"
check "B lost nothing while A flooded (got: $got)" \
	test "$got" = "sent 200 replies 200 kod 0"
finish
