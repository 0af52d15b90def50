#!/bin/sh
# Fail closed: when any child dies the daemon stops, saying which child
# and why; when the parent dies the children go with it.
# shellcheck source=regress/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_root

make_netns t 10.250.3.1/32
NS=$NETNS
conf="$TMP/ntpd.conf"
write_conf "$conf" \
	'listen on 127.0.0.1 port 12124' \
	"namespace $NS {" \
	'	listen on 10.250.3.1' \
	'}'

# kill_child TITLE SIGNAL EXPECTED-LOG-TEXT
kill_child() {
	title=$1
	sig=$2
	why=$3
	log="$TMP/log.$sig.$(echo "$title" | tr -c 'a-z' _)"
	start_daemon "$conf" "$log"
	parent=$DAEMON_PID
	victim=$(child_pid "$parent" "ntpd: $title")
	others=$(ps -o pid= --ppid "$parent" | grep -vw "$victim" | tr '\n' ' ')
	kill "-$sig" "$victim"
	wait_exit "$parent" 10
	check "$title killed by SIG$sig: daemon exits with status 1 (got $EXIT_STATUS)" \
		test "$EXIT_STATUS" = 1
	label=${title#ntpd: }
	check "$title killed by SIG$sig: the log says which child and why" \
		grep -qF "lost child: $label (pid $victim) $why" "$log"
	for pid in $others; do
		check "$title killed by SIG$sig: sibling $pid stopped too" \
			gone "$pid"
	done
	check "$title killed by SIG$sig: control socket removed" \
		test ! -e "$TMP/ntpd.sock"
}

kill_child "engine" KILL "killed by signal 9 (SIGKILL)"
kill_child "dns" KILL "killed by signal 9 (SIGKILL)"
kill_child "server [default]" KILL "killed by signal 9 (SIGKILL)"
kill_child "server [$NS]" KILL "killed by signal 9 (SIGKILL)"
kill_child "engine" SYS "killed by signal 31 (SIGSYS), a forbidden system call"
kill_child "server [$NS]" TERM "exited with status 0"

# The parent dies without a word: every child must follow at once.
start_daemon "$conf" "$TMP/log.parent"
parent=$DAEMON_PID
children=$(ps -o pid= --ppid "$parent" | tr '\n' ' ')
kill -KILL "$parent"
wait_exit "$parent" 5
sleep 0.5
for pid in $children; do
	check "parent killed: child $pid is gone" gone "$pid"
done

# Its socket is left behind; the next start must take it over...
check "parent killed: a stale control socket remains" test -S "$TMP/ntpd.sock"
start_daemon "$conf" "$TMP/log.restart"
first=$DAEMON_PID
pass "a new daemon starts over the stale socket"

# ...but never the socket of a daemon that is still running.
rc=0
setpriv --bounding-set=-sys_time "$NTPD" -d -f "$conf" \
	>"$TMP/log.second" 2>&1 || rc=$?
check "a second daemon on the same socket fails (status $rc)" test "$rc" = 1
check "a second daemon says why" \
	grep -qF "$TMP/ntpd.sock: another ntpd is running" "$TMP/log.second"
check "the first daemon still answers" \
	sh -c "$NTPCTL -S $TMP/ntpd.sock -s status >/dev/null"
kill -TERM "$first"
wait_exit "$first" 5
check "the first daemon stops cleanly (status $EXIT_STATUS)" \
	test "$EXIT_STATUS" = 0

# A parent that cannot signal its children (no CAP_KILL, they run as
# _ntp) must still stop them, by closing their channels, and not hang.
setpriv --bounding-set=-sys_time,-kill "$NTPD" -d -f "$conf" \
	>"$TMP/log.nokill" 2>&1 &
nokill=$!
DAEMON_PIDS="$DAEMON_PIDS $nokill"
i=0
while ! "$NTPCTL" -S "$TMP/ntpd.sock" -s status >/dev/null 2>&1 && [ $i -lt 100 ]; do
	i=$((i + 1))
	sleep 0.05
done
children=$(ps -o pid= --ppid "$nokill" | tr '\n' ' ')
kill -TERM "$nokill"
wait_exit "$nokill" 10
check "without CAP_KILL: the daemon still stops, status 0 (got $EXIT_STATUS)" \
	test "$EXIT_STATUS" = 0
check "without CAP_KILL: the failed signals are logged" \
	grep -q "cannot signal engine (pid [0-9]*): Operation not permitted" \
	"$TMP/log.nokill"
for pid in $children; do
	check "without CAP_KILL: child $pid is gone" gone "$pid"
done
finish
