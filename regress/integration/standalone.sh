#!/bin/sh
# ntpd -S, the single process for clock simulators:
#   - it refuses root, and CAP_SYS_TIME without root, with a message;
#   - it refuses what it cannot do, a name to resolve and a listener,
#     naming the file and line of each;
#   - as nobody, measuring only (-x), against three agreeing upstreams
#     and a liar: it exchanges, selects, and logs clock updates whose
#     offset is the upstreams' (fakentp -o), never follows the liar, and
#     stops cleanly on SIGTERM;
#   - as nobody, asked to control the clock, which the kernel refuses:
#     it says so once and goes on.
# No process here may set the clock: nobody without CAP_SYS_TIME, and
# -x besides wherever the capability is held.
# shellcheck source=regress/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_root

FAKE="$PWD/$O/regress/fakentp"
PORT=12600
OFFSET=0.25
NOBODY="setpriv --reuid=nobody --regid=nogroup --clear-groups
    --inh-caps=-all --bounding-set=-sys_time"

# run_for SECONDS LOG CMD...: run a command that should end by itself;
# EXIT_STATUS is its status, or "alive" (then it is killed).
run_for() {
	secs=$1
	log=$2
	shift 2
	"$@" >"$log" 2>&1 &
	pid=$!
	DAEMON_PIDS="$DAEMON_PIDS $pid"
	wait_exit "$pid" "$secs"
	if [ "$EXIT_STATUS" = alive ]; then
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
}

# Nothing answers on this port: a run that got past its checks would
# only wait, measuring nothing, controlling nothing (-x).
conf="$TMP/idle.conf"
write_conf "$conf" "server 127.0.10.9 port $((PORT + 9))"

run_for 5 "$TMP/root.log" setpriv --bounding-set=-sys_time \
	"$NTPD" -S -x -f "$conf"
check "as root it refuses (exit 1, got $EXIT_STATUS)" \
	test "$EXIT_STATUS" = 1
check "saying why" grep -q "ntpd -S refuses to run with root" "$TMP/root.log"

run_for 5 "$TMP/cap.log" setpriv --reuid=nobody --regid=nogroup \
	--clear-groups --inh-caps=+sys_time --ambient-caps=+sys_time \
	"$NTPD" -S -x -f "$conf"
check "as nobody with CAP_SYS_TIME it refuses (exit 1, got $EXIT_STATUS)" \
	test "$EXIT_STATUS" = 1
check "saying why" grep -q "refuses to run with CAP_SYS_TIME" "$TMP/cap.log"

bad="$TMP/bad.conf"
write_conf "$bad" "server 127.0.10.1 port $PORT" \
	"server ntp.example.org" "listen on 127.0.10.1"
# write_conf puts four lines first.
# shellcheck disable=SC2086
run_for 5 "$TMP/bad.log" $NOBODY "$NTPD" -S -x -f "$bad"
check "a name and a listener are refused (exit 1, got $EXIT_STATUS)" \
	test "$EXIT_STATUS" = 1
check "the name, by file and line" \
	grep -q "^$bad:6: \"ntp.example.org\" needs resolving" "$TMP/bad.log"
check "the listener, by file and line" \
	grep -q "^$bad:7: -S serves no clients" "$TMP/bad.log"
check "the numeric server is not" sh -c "! grep -q ':5:' '$TMP/bad.log'"
# shellcheck disable=SC2086
if $NOBODY "$NTPD" -n -S -f "$bad" >/dev/null 2>&1; then
	fail "-n -S finds the same"
else
	pass "-n -S finds the same"
fi

# Three upstreams agreeing, a fourth a second away from them.
for i in 1 2 3; do
	"$FAKE" -t 300 -o $OFFSET 127.0.10.$i $PORT &
	DAEMON_PIDS="$DAEMON_PIDS $!"
done
"$FAKE" -t 300 -o 1.25 127.0.10.4 $PORT &
DAEMON_PIDS="$DAEMON_PIDS $!"

# start_s NAME [OPTION]: ntpd -S -v as nobody, with a statistics log.
start_s() {
	: >"$TMP/$1.stats"
	chown nobody "$TMP/$1.stats"
	write_conf "$TMP/$1.conf" \
		"server 127.0.10.1 port $PORT iburst minpoll 3 maxpoll 3" \
		"server 127.0.10.2 port $PORT iburst minpoll 3 maxpoll 3" \
		"server 127.0.10.3 port $PORT iburst minpoll 3 maxpoll 3" \
		"server 127.0.10.4 port $PORT iburst minpoll 3 maxpoll 3" \
		"makestep 0.1 3" "driftfile none" \
		"statistics \"$TMP/$1.stats\""
	# shellcheck disable=SC2086
	$NOBODY "$NTPD" -S -v ${2:-} -f "$TMP/$1.conf" >"$TMP/$1.log" 2>&1 &
	DAEMON_PID=$!
	DAEMON_PIDS="$DAEMON_PIDS $DAEMON_PID"
}

start_s measure -x
MEASURE=$DAEMON_PID
start_s control
CONTROL=$DAEMON_PID

# updates FILE: clock updates in a statistics log.
updates() {
	grep -c ' update ' "$1" || true
}
i=0
while [ "$(updates "$TMP/measure.stats")" -lt 3 ] ||
    [ "$(updates "$TMP/control.stats")" -lt 3 ]; do
	i=$((i + 1))
	[ $i -gt 1200 ] && break
	sleep 0.1
done

check "it runs as nobody" test "$(status_field "$MEASURE" Uid)" = \
	"$(printf '65534\t65534\t65534\t65534')"
check "one process: no children" \
	test -z "$(ps -o pid= --ppid "$MEASURE")"
check "it exchanges with every upstream" sh -c "for i in 1 2 3 4; do \
	grep -q \"sample source=127.0.10.\$i \" '$TMP/measure.stats' || \
	exit 1; done"
check "it selects an honest upstream" \
	grep -Eq "system peer 127\.0\.10\.[123]:$PORT" "$TMP/measure.log"
check "never the liar" \
	sh -c "! grep -q 'system peer 127.0.10.4:' '$TMP/measure.log'"
check "it logs clock updates (got $(updates "$TMP/measure.stats"))" \
	test "$(updates "$TMP/measure.stats")" -ge 3
check "their offset is the upstreams' $OFFSET s, within 5 ms" \
	awk -v want=$OFFSET '$2 == "update" {
		n++
		sub(/^offset=/, "", $3)
		d = $3 - want
		if (d < -0.005 || d > 0.005)
			bad = 1
	} END { exit !(n >= 3 && !bad) }' "$TMP/measure.stats"
check "measuring only (-x), it asks nothing of the clock" \
	sh -c "! grep -q 'cannot adjust the clock' '$TMP/measure.log'"

check "controlling, it logs clock updates too" \
	test "$(updates "$TMP/control.stats")" -ge 3
check "the kernel's refusal is said, once" \
	test "$(grep -c 'cannot adjust the clock: Operation not permitted' \
	    "$TMP/control.log")" -eq 1
check "and it goes on" kill -0 "$CONTROL"

for pid in $MEASURE $CONTROL; do
	kill -TERM "$pid"
	wait_exit "$pid" 10
	check "SIGTERM stops it cleanly (got $EXIT_STATUS)" \
		test "$EXIT_STATUS" = 0
done
check "saying so" grep -q '^stopped$' "$TMP/measure.log"

[ "$FAILURES" -eq 0 ] || for f in measure.log measure.stats control.log \
    root.log cap.log bad.log; do
	echo "== $f"
	cat "$TMP/$f"
done >&2
finish
