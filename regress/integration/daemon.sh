#!/bin/sh
# Without -d: the command returns once the daemon is in the background,
# detached from the terminal's session, serving its control socket.
# shellcheck source=regress/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_root

conf="$TMP/ntpd.conf"
sock="$TMP/ntpd.sock"
write_conf "$conf" 'listen on 127.0.0.1 port 12126'
RC=0
timeout 10 setpriv --bounding-set=-sys_time "$NTPD" -f "$conf" \
	>"$TMP/out" 2>&1 </dev/null || RC=$?
check "ntpd returns at once with status 0 (got $RC)" test "$RC" = 0
check "ntpd prints nothing on its terminal" test ! -s "$TMP/out"

# A daemon logs to syslog, which a test cannot read: when it does not
# answer, say what is left of it and run the same configuration in the
# foreground for a moment, so that the reason is in the test's output.
diagnose() {
	echo "ntpctl: $("$NTPCTL" -S "$sock" -s status 2>&1 >/dev/null)" >&2
	if [ -e "$sock" ]; then
		echo "the control socket exists; held by:" >&2
		ss -xlp | grep -F "$sock" >&2 || true
	else
		echo "the control socket is gone: the daemon has stopped" >&2
	fi
	echo "the same configuration in the foreground:" >&2
	setpriv --bounding-set=-sys_time "$NTPD" -d -v -f "$conf" \
	    >"$TMP/fg" 2>&1 </dev/null &
	fg=$!
	sleep 3
	kill -TERM "$fg" 2>/dev/null || true
	wait "$fg" 2>/dev/null || true
	cat "$TMP/fg" >&2
}

# Generous: a loaded machine may take a while, and success ends the wait.
# The socket is made before the command returns, so its absence means
# the daemon has already stopped.  The engine answers as soon as it is
# up, before the parent has told it of every process: wait for the
# parent's line, not only for an answer.
parent_pid() {
	sed -n 's/^  parent *\([0-9]*\) .*/\1/p' "$TMP/status"
}
i=0
: >"$TMP/status"
while ! "$NTPCTL" -S "$sock" -s status >"$TMP/status" 2>/dev/null ||
    [ -z "$(parent_pid)" ]; do
	i=$((i + 1))
	[ $i -gt 400 ] || [ ! -e "$sock" ] && break
	sleep 0.05
done
pid=$(parent_pid)
if [ -z "$pid" ]; then
	fail "the daemon answers on its control socket"
	diagnose
	finish
fi
pass "the daemon answers on its control socket"
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
check "its control socket is removed" test ! -e "$sock"
finish
