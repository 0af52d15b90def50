#!/bin/sh
# Without -d: the command returns once the daemon is in the background,
# detached from the terminal's session, serving its control socket.
# shellcheck source=regress/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_root

conf="$TMP/ntpd.conf"
write_conf "$conf" 'listen on 127.0.0.1 port 12126'
RC=0
timeout 10 setpriv --bounding-set=-sys_time "$NTPD" -f "$conf" \
	>"$TMP/out" 2>&1 </dev/null || RC=$?
check "ntpd returns at once with status 0 (got $RC)" test "$RC" = 0
check "ntpd prints nothing on its terminal" test ! -s "$TMP/out"

i=0
while ! "$NTPCTL" -S "$TMP/ntpd.sock" -s status >"$TMP/status" 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 100 ] && break
	sleep 0.05
done
pid=$(sed -n 's/^  parent *\([0-9]*\) .*/\1/p' "$TMP/status")
check "the daemon answers on its control socket" test -n "$pid"
DAEMON_PIDS="$pid"
check "the daemon is a session leader, away from our terminal" \
	test "$(ps -o sid= -p "$pid" | tr -d ' ')" = "$pid"
check "its stdio is /dev/null" \
	test "$(readlink "/proc/$pid/fd/0")" = /dev/null -a \
	"$(readlink "/proc/$pid/fd/2")" = /dev/null
check "it has its three children (engine, dns, one server)" \
	test "$(ps -o pid= --ppid "$pid" | wc -l)" -eq 3

kill -TERM "$pid"
i=0
while ! gone "$pid"; do
	i=$((i + 1))
	[ $i -gt 100 ] && break
	sleep 0.05
done
check "SIGTERM stops it" gone "$pid"
check "its control socket is removed" test ! -e "$TMP/ntpd.sock"
finish
