#!/bin/sh
# On a running daemon: every child's identity, jail, seccomp and network
# namespace, as the kernel reports them in /proc.
# shellcheck source=regress/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_root

make_netns a 10.250.1.1/32
NS_A=$NETNS
make_netns b 10.250.2.1/32 fd00:250:2::1/128
NS_B=$NETNS
make_netns c
NS_C=$NETNS
conf="$TMP/ntpd.conf"
write_conf "$conf" \
	'server 192.0.2.1' \
	'listen on 127.0.0.1 port 12123' \
	"namespace $NS_A {" \
	'	listen on 10.250.1.1' \
	'}' \
	"namespace $NS_B {" \
	'	listen on 10.250.2.1 port 1123' \
	'	listen on fd00:250:2::1 port 1123' \
	'}' \
	"namespace $NS_C {" \
	'	listen on * port 1124' \
	'}'
start_daemon "$conf" "$TMP/log"
parent=$DAEMON_PID
ntp_uid=$(id -u _ntp)
ntp_gid=$(id -g _ntp)

engine=$(child_pid "$parent" "ntpd: engine")
dns=$(child_pid "$parent" "ntpd: dns")
srv_default=$(child_pid "$parent" "ntpd: server [default]")
srv_a=$(child_pid "$parent" "ntpd: server [$NS_A]")
srv_b=$(child_pid "$parent" "ntpd: server [$NS_B]")
srv_c=$(child_pid "$parent" "ntpd: server [$NS_C]")
check "process titles name every role" \
	test -n "$engine" -a -n "$dns" -a -n "$srv_default" -a -n "$srv_a" \
	-a -n "$srv_b" -a -n "$srv_c"
check "exactly six children" \
	test "$(ps -o pid= --ppid "$parent" | wc -l)" -eq 6

check "parent runs as root" test "$(status_field "$parent" Uid)" = "0	0	0	0"
# bit 25 of the bounding set is CAP_SYS_TIME: the test's own guard
capbnd=$(status_field "$parent" CapBnd)
check "parent cannot change the clock in this test" \
	test $(((0x$capbnd >> 25) & 1)) -eq 0

for pid in $engine $dns $srv_default $srv_a $srv_b $srv_c; do
	comm=$(cat "/proc/$pid/comm")
	check "$comm: uid is _ntp in all four slots" \
		test "$(status_field "$pid" Uid)" = \
		"$ntp_uid	$ntp_uid	$ntp_uid	$ntp_uid"
	check "$comm: gid is _ntp in all four slots" \
		test "$(status_field "$pid" Gid)" = \
		"$ntp_gid	$ntp_gid	$ntp_gid	$ntp_gid"
	check "$comm: no supplementary groups" \
		test -z "$(status_field "$pid" Groups)"
	check "$comm: no effective capabilities" \
		test "$(status_field "$pid" CapEff)" = 0000000000000000
	check "$comm: no permitted capabilities" \
		test "$(status_field "$pid" CapPrm)" = 0000000000000000
	check "$comm: NoNewPrivs: 1" test "$(status_field "$pid" NoNewPrivs)" = 1
	check "$comm: Seccomp: 2 (filter)" test "$(status_field "$pid" Seccomp)" = 2
done

for pid in $engine $srv_default $srv_a $srv_b $srv_c; do
	check "$(cat "/proc/$pid/comm") (pid $pid): root is /var/empty" \
		test "$(readlink "/proc/$pid/root")" = /var/empty
done
check "dns: not chrooted (the resolver reads /etc)" \
	test "$(readlink "/proc/$dns/root")" = /

netns_of() { readlink "/proc/$1/ns/net"; }
inode_of() { echo "net:[$(stat -L -c %i "/run/netns/$1")]"; }
check "engine in the daemon's namespace" \
	test "$(netns_of "$engine")" = "$(netns_of "$parent")"
check "default server in the daemon's namespace" \
	test "$(netns_of "$srv_default")" = "$(netns_of "$parent")"
check "server [$NS_A] in namespace $NS_A" \
	test "$(netns_of "$srv_a")" = "$(inode_of "$NS_A")"
check "server [$NS_B] in namespace $NS_B" \
	test "$(netns_of "$srv_b")" = "$(inode_of "$NS_B")"

# Each server holds its sockets in its own namespace, and no more.
check "server [$NS_A] bound 10.250.1.1:123 in $NS_A" \
	sh -c "ip netns exec $NS_A ss -Hunlp | grep -q '10.250.1.1:123 .*pid=$srv_a'"
check "server [$NS_B] bound both its addresses in $NS_B" \
	sh -c "test \$(ip netns exec $NS_B ss -Hunlp | grep -c 'pid=$srv_b') -eq 2"
check "server [$NS_C] listen on *: bound 0.0.0.0:1124" \
	sh -c "ip netns exec $NS_C ss -Hunlp | grep -q ' 0.0.0.0:1124 .*pid=$srv_c,'"
check "server [$NS_C] listen on *: bound [::]:1124" \
	sh -c "ip netns exec $NS_C ss -Hunlp | grep -q ' \[::\]:1124 .*pid=$srv_c,'"
check "server [$NS_C] listen on *: two sockets, no more" \
	test "$(ip netns exec "$NS_C" ss -Hunlp | grep -c "pid=$srv_c,")" -eq 2
check "default server bound 127.0.0.1:12123" \
	sh -c "ss -Hunlp | grep -q '127.0.0.1:12123 .*pid=$srv_default'"
check "the engine holds no UDP socket yet" \
	sh -c "! ss -Hunap | grep -q 'pid=$engine,'"

# ntpctl shows the same picture, and any local user may read it.
"$NTPCTL" -S "$TMP/ntpd.sock" -s status >"$TMP/status"
for pid in $parent $engine $dns $srv_default $srv_a $srv_b $srv_c; do
	check "status lists pid $pid" grep -q " $pid " "$TMP/status"
done
check "status lists the source" grep -q "server   192.0.2.1" "$TMP/status"
check "status lists the v6 listener" grep -q "fd00:250:2::1 .* 1123" "$TMP/status"
check "status says unsynchronised" grep -q "unsynchronised" "$TMP/status"
check "status is readable by an unprivileged user" \
	sh -c "setpriv --reuid=65534 --regid=65534 --clear-groups \
	$NTPCTL -S $TMP/ntpd.sock -s status >/dev/null"

kill -TERM "$parent"
wait_exit "$parent" 5
check "SIGTERM: the daemon exits with status 0 (got $EXIT_STATUS)" \
	test "$EXIT_STATUS" = 0
for pid in $engine $dns $srv_default $srv_a $srv_b $srv_c; do
	check "SIGTERM: child $pid is gone" gone "$pid"
done
check "SIGTERM: the control socket is removed" test ! -e "$TMP/ntpd.sock"
check "SIGTERM: logged as a clean stop" grep -q "^stopped$" "$TMP/log"
finish
