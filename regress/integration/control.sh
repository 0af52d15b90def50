#!/bin/sh
# The control socket as a door into the engine: what anybody may ask,
# what only root may, and what happens to frames ntpctl would never send.
# shellcheck source=regress/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_root

CTLRAW="$PWD/$O/regress/ctlraw"
SOCK="$TMP/ntpd.sock"
conf="$TMP/ntpd.conf"
write_conf "$conf" 'listen on 127.0.0.1 port 12127'
start_daemon "$conf" "$TMP/log"

as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

# ctl_case DESC EXPECTED-FIRST-LINE [nobody] ARGS...
ctl_case() {
	desc=$1
	want=$2
	shift 2
	if [ "$1" = nobody ]; then
		shift
		got=$(as_nobody "$CTLRAW" "$SOCK" "$@" | head -n 1)
	else
		got=$("$CTLRAW" "$SOCK" "$@" | head -n 1)
	fi
	check "$desc (got \"$got\")" test "$got" = "$want"
}

# CTL_SHOW_STATUS = 1, CTL_STATUS = 100, CTL_END = 104; EPERM 1,
# EINVAL 22, EOPNOTSUPP 95.  Type 99 is no request, and not a read.
NOT_A_READ=99
check "status, as nobody: CTL_STATUS comes first" \
	sh -c "setpriv --reuid=65534 --regid=65534 --clear-groups \
	'$CTLRAW' '$SOCK' 1 | head -n 1 | grep -q '^type 100 len '"
check "status ends with CTL_END" \
	sh -c "'$CTLRAW' '$SOCK' 1 | tail -n 1 | grep -qx 'type 104 len 0'"
ctl_case "a request that is not a read, as nobody: refused" \
	"error 1 permission denied: root only" nobody $NOT_A_READ
check "the refusal is logged with the caller's uid" \
	log_has "$TMP/log" \
	"control: request $NOT_A_READ refused to uid 65534 \(pid [0-9]+\)"
ctl_case "a type no request has, as nobody: refused too" \
	"error 1 permission denied: root only" nobody 4000000000
ctl_case "the same as root: unknown" "error 95 unknown request" $NOT_A_READ
check "clients, as nobody: a read, so allowed (CTL_NETNS_STATS first)" \
	sh -c "setpriv --reuid=65534 --regid=65534 --clear-groups \
	'$CTLRAW' '$SOCK' 2 | head -n 1 | grep -q '^type 106 len '"
ctl_case "status with a payload: malformed" "error 22 malformed request" 1 4
ctl_case "a header longer than any message: dropped" eof 1 0 20000
ctl_case "a header shorter than a header: dropped" eof 1 0 8
ctl_case "a frame cut short: dropped" eof 1 0 100

# A client that connects and says nothing is dropped after 5 s.
got=$("$CTLRAW" "$SOCK" hold)
secs=${got#eof after }
secs=${secs% s}
check "an idle connection is closed after about 5 s (got $got)" \
	test "$secs" -ge 4 -a "$secs" -le 7

check "after all that the daemon still answers" \
	sh -c "'$NTPCTL' -S '$SOCK' -s status >/dev/null"
check "and all its processes are there" \
	test "$(ps -o pid= --ppid "$DAEMON_PID" | wc -l)" -eq 3
finish
