# shellcheck shell=sh
# Variables set here (EXIT_STATUS, NETNS...) are read by the tests that
# source this file.
# shellcheck disable=SC2034
# Shared by the integration tests: sourced, not run.
#
# Every daemon is started under setpriv --bounding-set=-sys_time, so it
# cannot change the clock whatever its code does.  Network namespaces
# are made here with names unique to the test run and removed on exit;
# only processes started here are ever signalled, by PID.

set -eu

: "${O:=build}"
NTPD="$PWD/$O/ntpd"
NTPCTL="$PWD/$O/ntpctl"
TEST_NAME=$(basename "$0")
TMP=$(mktemp -d "/tmp/ntpd-test.XXXXXX")
chmod 0755 "$TMP"
NETNS_MADE=""
DAEMON_PIDS=""
FAILURES=0

cleanup() {
	for pid in $DAEMON_PIDS; do
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null || true
			sleep 0.5
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done
	for ns in $NETNS_MADE; do
		ip netns del "$ns" 2>/dev/null || true
	done
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $TEST_NAME: $*" >&2
	FAILURES=$((FAILURES + 1))
}

pass() {
	echo "ok: $*"
}

# check DESCRIPTION COMMAND...: the command must succeed.
check() {
	desc=$1
	shift
	if "$@"; then
		pass "$desc"
	else
		fail "$desc"
	fi
}

finish() {
	if [ "$FAILURES" -ne 0 ]; then
		echo "$TEST_NAME: $FAILURES failure(s)" >&2
		exit 1
	fi
	echo "$TEST_NAME: all passed"
}

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "FAIL: $TEST_NAME needs root (network namespaces, setuid)" >&2
		exit 1
	fi
}

# make_netns SUFFIX ADDRESS...: a namespace with lo up and the addresses
# on it; its name is left in NETNS (not printed: a $(...) subshell would
# lose the record that cleanup needs).
make_netns() {
	NETNS="ntpdt$$$1"
	shift
	ip netns add "$NETNS"
	NETNS_MADE="$NETNS_MADE $NETNS"
	ip -n "$NETNS" link set lo up
	for a in "$@"; do
		ip -n "$NETNS" addr add "$a" dev lo
	done
}

# start_daemon CONF LOG: start ntpd in the foreground, in the background,
# measuring only (-x: it never asks to move the clock); sets DAEMON_PID
# and waits until the control socket answers.
start_daemon() {
	setpriv --bounding-set=-sys_time "$NTPD" -d -v -x -f "$1" >"$2" 2>&1 &
	DAEMON_PID=$!
	DAEMON_PIDS="$DAEMON_PIDS $DAEMON_PID"
	sock=$(sed -n 's/^socket "\(.*\)"$/\1/p' "$1")
	i=0
	while ! "$NTPCTL" -S "$sock" -s status >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 400 ] || ! kill -0 "$DAEMON_PID" 2>/dev/null; then
			echo "daemon did not come up; its log:" >&2
			cat "$2" >&2
			return 1
		fi
		sleep 0.05
	done
}

# wait_exit PID SECONDS: wait for a process this shell started to end;
# sets EXIT_STATUS to its exit status, or to "alive" on time-out.  Not
# for use in $(...): only this shell can collect the status.
wait_exit() {
	i=0
	while [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != Z ] &&
	    kill -0 "$1" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt $(($2 * 20)) ]; then
			EXIT_STATUS=alive
			return 0
		fi
		sleep 0.05
	done
	EXIT_STATUS=0
	wait "$1" 2>/dev/null || EXIT_STATUS=$?
}

# child_pid PARENT TITLE: the pid of the child whose title is TITLE.
child_pid() {
	for p in $(ps -o pid= --ppid "$1"); do
		if [ "$(tr '\0' ' ' <"/proc/$p/cmdline" | sed 's/ *$//')" = "$2" ]; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# log_has FILE PATTERN [SECONDS]: wait (5 s by default) for a line
# matching PATTERN (grep -E) to appear in FILE.
log_has() {
	i=0
	while ! grep -Eq "$2" "$1"; do
		i=$((i + 1))
		[ $i -gt $((${3:-5} * 20)) ] && return 1
		sleep 0.05
	done
}

# gone PID: no such process, or only its zombie (a dead child whose new
# parent has not collected it yet).
gone() {
	st=$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)
	[ -z "$st" ] || [ "$st" = Z ]
}

# status_field PID FIELD: a line's value from /proc/PID/status.
status_field() {
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"
}

# write_conf FILE LINES...: a config with a socket and an audit trail
# of this test's own ($TMP/audit.log), and neither the machine's RTC nor
# its last-known-time file.
write_conf() {
	f=$1
	shift
	{
		echo "socket \"$TMP/ntpd.sock\""
		echo "audit \"$TMP/audit.log\""
		echo "rtc none"
		echo "lastknown none"
		for line in "$@"; do
			echo "$line"
		done
	} >"$f"
}
