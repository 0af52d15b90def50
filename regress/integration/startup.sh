#!/bin/sh
# Starting up: what is refused, with what message, and that a refused
# start leaves nothing behind (no process, no socket).
# shellcheck source=regress/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_root

good="$TMP/good.conf"
write_conf "$good" 'listen on 127.0.0.1 port 12125'

# run_ntpd LOG ARGS...: run ntpd in the foreground under the clock guard;
# sets RC.
run_ntpd() {
	log=$1
	shift
	RC=0
	timeout 10 setpriv --bounding-set=-sys_time "$NTPD" "$@" \
		>"$log" 2>&1 || RC=$?
}

# refused DESC EXPECTED-TEXT ARGS...: ntpd must exit 1 saying that, and
# leave no control socket behind.
refused() {
	desc=$1
	text=$2
	shift 2
	run_ntpd "$TMP/refused.log" "$@"
	check "$desc: exit status 1 (got $RC)" test "$RC" = 1
	check "$desc: says \"$text\"" grep -qF -- "$text" "$TMP/refused.log"
	check "$desc: no control socket left" test ! -e "$TMP/ntpd.sock"
}

# As an ordinary user: no start, but a configuration check works.
RC=0
setpriv --reuid=65534 --regid=65534 --clear-groups "$NTPD" -d -f "$good" \
	>"$TMP/nonroot.log" 2>&1 || RC=$?
check "non-root start: exit status 1 (got $RC)" test "$RC" = 1
check "non-root start: a clear message" \
	grep -qx "ntpd: need root privileges" "$TMP/nonroot.log"
RC=0
setpriv --reuid=65534 --regid=65534 --clear-groups "$NTPD" -n -f "$good" \
	>"$TMP/nonroot-n.log" 2>&1 || RC=$?
check "non-root -n on a good file: exit 0 (got $RC)" test "$RC" = 0
check "-n says the file is fine" \
	grep -qx "$good: configuration OK" "$TMP/nonroot-n.log"

bad="$TMP/bad.conf"
write_conf "$bad" 'listen on 127.0.0.1' 'frobnicate yes' 'listen on'
refused "-n on a bad file" "$bad:6: unknown keyword \"frobnicate\"" -n -f "$bad"
check "-n on a bad file: the second error is reported too" \
	grep -qF "$bad:7:" "$TMP/refused.log"
refused "start with a bad file" "$bad:6:" -d -f "$bad"
refused "start with a missing file" "$TMP/missing.conf" -d -f "$TMP/missing.conf"
refused "an unknown option" "usage: ntpd" -d -Z -f "$good"

write_conf "$TMP/user.conf" 'user nosuchuser' 'listen on 127.0.0.1 port 12125'
refused "an unknown user" "unknown user nosuchuser" -d -f "$TMP/user.conf"
write_conf "$TMP/root.conf" 'user root' 'listen on 127.0.0.1 port 12125'
refused "user root" "user root has uid or gid 0" -d -f "$TMP/root.conf"

mkdir -p "$TMP/jail"
touch "$TMP/jail/leftover"
write_conf "$TMP/jail.conf" "chroot \"$TMP/jail\"" \
	'listen on 127.0.0.1 port 12125'
refused "a jail directory that is not empty" "not empty (holds leftover)" \
	-d -f "$TMP/jail.conf"
rm "$TMP/jail/leftover"
chmod 0777 "$TMP/jail"
refused "a world-writable jail directory" "writable by group or others" \
	-d -f "$TMP/jail.conf"

# Failures inside a child: the daemon must stop as a whole.
write_conf "$TMP/netns.conf" 'namespace ntpd-test-no-such-ns {' \
	'	listen on 10.250.9.1' '}'
refused "a missing network namespace" \
	"network namespace ntpd-test-no-such-ns: /run/netns/ntpd-test-no-such-ns: No such file or directory" \
	-d -f "$TMP/netns.conf"
check "a missing network namespace: the server's death is reported" \
	grep -q "lost child: server \[ntpd-test-no-such-ns\] (pid [0-9]*) exited with status 1" \
	"$TMP/refused.log"

make_netns n 10.250.4.1/32
write_conf "$TMP/bind.conf" "namespace $NETNS {" '	listen on 10.250.4.2' '}'
refused "an address the namespace does not have" \
	"bind 10.250.4.2:123: Cannot assign requested address" \
	-d -f "$TMP/bind.conf"

# And the good file does start, in the foreground, as root.
start_daemon "$good" "$TMP/good.log"
check "a good file starts" grep -q "starting: 1 server process" "$TMP/good.log"
kill -INT "$DAEMON_PID"
wait_exit "$DAEMON_PID" 5
check "SIGINT stops it cleanly (status $EXIT_STATUS)" test "$EXIT_STATUS" = 0
finish
