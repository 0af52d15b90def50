#!/bin/sh
# Live reload: a broken file is refused with its file and line and
# changes nothing; a good one is applied as a difference and ntpctl
# reload says what changed: a source added keeps the kept source's
# samples, a namespace added gets a server, one removed loses it, rules
# change in place (same server process), and every change is in the
# audit trail with who made it (ntpctl's uid and pid, or SIGHUP).
# shellcheck source=regress/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_root

FAKE="$PWD/$O/regress/fakentp"
PROBE="$PWD/$O/regress/ntpprobe"
SOCK="$TMP/ntpd.sock"
CONF="$TMP/ntpd.conf"
TRAIL="$TMP/audit.log"
UPORT=12471	# the fake upstreams
LPORT=12472	# the daemon's listeners

command -v jq >/dev/null || { fail "jq is missing (make deps)"; finish; }

ctl() {
	"$NTPCTL" -S "$SOCK" "$@"
}

# reload_says DESC STATUS PATTERN...: ntpctl reload exits with STATUS
# and prints a line matching each PATTERN (grep -Ex).
reload_says() {
	what=$1
	want=$2
	shift 2
	rc=0
	ctl reload >"$TMP/reload.out" 2>&1 || rc=$?
	check "$what: exit $want (got $rc)" test "$rc" = "$want"
	for re in "$@"; do
		check "$what: says /$re/" grep -Eqx -- "$re" "$TMP/reload.out"
	done
}

# samples HOST: the number of samples the daemon has of that source.
samples() {
	ctl -j -s peers | jq -r --arg h "$1" \
	    '.sources[] | select(.name == $h) | .samples'
}

# proc_pid NETNS: the pid status shows for that namespace's server.
proc_pid() {
	ctl -j -s status | jq -r --arg n "$1" \
	    '.processes[] | select(.role == "server" and .namespace == $n) |
	    .pid'
}

# records PATTERN: the trail has a record matching PATTERN (grep -E).
records() {
	log_has "$TRAIL" "$1" 5
}

make_netns a 10.79.1.1/24
NS_A=$NETNS
make_netns b 10.79.2.1/24
NS_B=$NETNS

"$FAKE" -t 120 127.0.7.1 $UPORT >"$TMP/fake1.log" 2>&1 &
DAEMON_PIDS="$DAEMON_PIDS $!"
"$FAKE" -t 120 127.0.7.2 $UPORT >"$TMP/fake2.log" 2>&1 &
DAEMON_PIDS="$DAEMON_PIDS $!"

base() {
	write_conf "$CONF" "statistics \"$TMP/stats.log\"" \
	    "server 127.0.7.1 port $UPORT minpoll 3 maxpoll 3 iburst" \
	    "listen on 127.0.7.10 port $LPORT" \
	    "$@"
}

base "allow 127.0.0.0/8" \
    "namespace $NS_A {" "listen on 10.79.1.1 port $LPORT" "allow all" "}"
start_daemon "$CONF" "$TMP/ntpd.log"
i=0
while [ "$(samples 127.0.7.1)" -lt 2 ]; do
	i=$((i + 1))
	[ $i -gt 200 ] && break
	sleep 0.1
done
check "synchronised before the reloads" \
    log_has "$TMP/ntpd.log" "server \[default\]: clock synchronised" 60
before=$(samples 127.0.7.1)
check "samples before the reload ($before)" test "$before" -ge 2
pid_default=$(proc_pid default)
pid_a=$(proc_pid "$NS_A")
check "a server in namespace $NS_A ($pid_a)" test -n "$pid_a"
probe=$("$PROBE" -t 1000 127.0.7.10 $LPORT 2>&1 || true)
check "the default listener answers 127/8 (got: $probe)" \
    sh -c 'printf "%s\n" "$1" | grep -q "^reply 48 "' sh "$probe"

# 1. A broken file: refused, with its file and line; nothing changes.
cp "$CONF" "$TMP/good.conf"
base "allow 127.0.0.0/8" "server 127.0.7.2 port $UPORT minpoll 3" \
    "tolerance soon" "namespace $NS_A {" "listen on 10.79.1.1 port $LPORT" \
    "allow all" "}"
reload_says "broken file" 1 \
    "$CONF:10: invalid tolerance \"soon\" .*" \
    "ntpctl: reload: ntpd: configuration refused; the one in force is unchanged"
check "still running after the refusal" kill -0 "$DAEMON_PID"
check "the source added by the refused file is not there" \
    test "$(ctl -j -s peers | jq '.sources | length')" = 1
check "the refusal is audited with ntpctl's uid" \
    records "who=uid:0,pid:[0-9]+ event=reload .*result=refused"
check "the daemon logged the refusal with file and line" \
    log_has "$TMP/ntpd.log" "$CONF:10: invalid tolerance"

# 2. Not root: refused before anything is read.
rc=0
setpriv --reuid=nobody --regid=nogroup --clear-groups \
    "$NTPCTL" -S "$SOCK" reload >"$TMP/nobody.out" 2>&1 || rc=$?
check "reload as nobody: exit 1 (got $rc)" test "$rc" = 1
check "reload as nobody: permission denied" \
    grep -q "permission denied" "$TMP/nobody.out"

# 3. A good file: a source added, namespace a removed and b added, a
#    deny rule and a tolerance, a ratelimit in place.
base "deny 127.0.0.0/8 kod" "server 127.0.7.2 port $UPORT minpoll 3 maxpoll 3" \
    "tolerance 2" "ratelimit 5 burst 20" \
    "namespace $NS_B {" "listen on 10.79.2.1 port $LPORT" "allow all" "}"
reload_says "good file" 0 \
    "\+ server 127\.0\.7\.2 port $UPORT minpoll 3 maxpoll 3" \
    "~ tolerance none -> tolerance 2" \
    "- allow 127\.0\.0\.0/8" \
    "\+ deny 127\.0\.0\.0/8 kod" \
    "\+ ratelimit 5 burst 20 clients 65536" \
    "- namespace $NS_A" \
    "\+ namespace $NS_B" \
    "\+ listen on 10\.79\.2\.1 port $LPORT \(namespace $NS_B\)"
check "two sources now" \
    test "$(ctl -j -s peers | jq '.sources | length')" = 2
after=$(samples 127.0.7.1)
check "the kept source kept its samples ($before -> $after)" \
    test "$after" -ge "$before"
check "the default server is the same process" \
    test "$(proc_pid default)" = "$pid_default"
check "namespace $NS_A's server stopped" sh -c '
	i=0
	while ! { [ ! -d "/proc/$1" ] || grep -q "^State:.*Z" "/proc/$1/status"; }; do
		i=$((i + 1)); [ $i -gt 100 ] && exit 1; sleep 0.05
	done' sh "$pid_a"
check "status lists no server for $NS_A" test -z "$(proc_pid "$NS_A")"
pid_b=$(proc_pid "$NS_B")
check "status lists a server for $NS_B ($pid_b)" test -n "$pid_b"
probe=$(ip netns exec "$NS_B" "$PROBE" -t 1000 10.79.2.1 $LPORT 2>&1 || true)
check "the new namespace is served (got: $probe)" \
    sh -c 'printf "%s\n" "$1" | grep -q "^reply 48 "' sh "$probe"
probe=$("$PROBE" -t 1000 127.0.7.10 $LPORT 2>&1 || true)
check "the new deny rule is in force in place (got: $probe)" \
    sh -c 'printf "%s\n" "$1" | grep -q "refid DENY"' sh "$probe"
for ev in source-add tolerance-set acl-remove acl-add ratelimit-set \
    netns-remove netns-add listen-add; do
	check "audited: $ev by ntpctl" records "who=uid:0,pid:[0-9]+ event=$ev "
done
check "audited: the reload and its count" \
    records "event=reload .*result=applied changes=[0-9]+ "
check "still running after the reload" kill -0 "$DAEMON_PID"

# 4. The same file again: nothing to do.
reload_says "unchanged file" 0 "no changes"

# 5. SIGHUP: the first source removed, recorded as done by the signal.
base "deny 127.0.0.0/8 kod" "server 127.0.7.2 port $UPORT minpoll 3 maxpoll 3" \
    "tolerance 2" "ratelimit 5 burst 20" \
    "namespace $NS_B {" "listen on 10.79.2.1 port $LPORT" "allow all" "}"
sed -i "/^server 127.0.7.1 /d" "$CONF"
kill -HUP "$DAEMON_PID"
check "SIGHUP: the source removal is audited" \
    records "who=signal:SIGHUP event=source-remove old=\"server 127\.0\.7\.1 "
check "SIGHUP: one source left" sh -c '
	i=0
	while [ "$("$1" -S "$2" -j -s peers | jq ".sources | length")" != 1 ]; do
		i=$((i + 1)); [ $i -gt 100 ] && exit 1; sleep 0.05
	done' sh "$NTPCTL" "$SOCK"

# 6. What only a restart can change is refused, and said so.
{ echo "user nobody"; cat "$CONF"; } >"$TMP/user.conf"
cp "$TMP/user.conf" "$CONF"
reload_says "a new user" 1 "$CONF: \"user\" cannot change while ntpd runs: .*"
check "still running" kill -0 "$DAEMON_PID"

# 7. A namespace that does not exist: refused with its line.
base "namespace ntpdt-none-$$ {" "listen on 10.79.9.1" "}"
reload_says "a missing namespace" 1 \
    "$CONF:8: network namespace ntpdt-none-$$: .*No such file or directory"

# The statistics log, kept across the reloads, and its picture.
check "statistics: the header" \
    sh -c 'head -n 1 "$1" | grep -qx "# ntpd statistics 1"' sh "$TMP/stats.log"
check "statistics: samples of the source" \
    grep -Eq "^[0-9]+\.[0-9]{6} sample source=127\.0\.7\.1 offset=-?[0-9.]+ " \
    "$TMP/stats.log"
check "statistics: clock updates" \
    grep -Eq "^[0-9]+\.[0-9]{6} update offset=.* stratum=2 " "$TMP/stats.log"
check "ntpctl plot draws it" "$NTPCTL" plot -o "$TMP/stats.svg" "$TMP/stats.log"
check "the picture is an SVG with the source in it" \
    sh -c 'grep -q "<svg" "$1" && grep -q "127.0.7.1" "$1"' sh "$TMP/stats.svg"

check "the trail verifies" "$NTPCTL" audit verify -f "$TRAIL"
kill -TERM "$DAEMON_PID"
wait_exit "$DAEMON_PID" 10
check "stopped cleanly (status $EXIT_STATUS)" test "$EXIT_STATUS" = 0
finish
