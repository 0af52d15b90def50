#!/bin/sh
# The audit trail end to end: ntpd writes it (start, stop), ntpctl shows
# it and verifies it, and a modified, deleted, reordered or cut record
# is named by line.
# shellcheck source=regress/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_root

# verify_says FILE EXIT-STATUS PATTERN: ntpctl audit verify on FILE.
verify_says() {
	rc=0
	out=$("$NTPCTL" audit verify -f "$1" 2>&1) || rc=$?
	check "verify: exit $2 (got $rc: $out)" test "$rc" = "$2"
	check "verify says /$3/ (got \"$out\")" \
		sh -c 'printf "%s\n" "$1" | head -n 1 | grep -Eq "$2"' sh \
		"$out" "$3"
}

check "an empty trail verifies" sh -c '"$1" audit verify -f /dev/null |
	grep -qx "audit: 0 records, chain intact"' sh "$NTPCTL"

# Usage and I/O errors are status 2, never 0 or 1.
rc=0
"$NTPCTL" audit verify -f "$TMP/none" >/dev/null 2>&1 || rc=$?
check "a missing file: exit 2 (got $rc)" test "$rc" = 2
rc=0
"$NTPCTL" audit bogus >/dev/null 2>&1 || rc=$?
check "a bad word: exit 2 (got $rc)" test "$rc" = 2
rc=0
"$NTPCTL" audit -f >/dev/null 2>&1 || rc=$?
check "-f without a file: exit 2 (got $rc)" test "$rc" = 2

trail="$TMP/audit.log"
conf="$TMP/ntpd.conf"
# write_conf names $TMP/audit.log as the trail.
write_conf "$conf" 'listen on 127.0.0.1 port 12131'

# records FILE PATTERN N: wait up to 5 s for N lines matching PATTERN.
records() {
	i=0
	while [ "$(grep -Ec "$2" "$1" 2>/dev/null)" != "$3" ]; do
		i=$((i + 1))
		[ $i -gt 100 ] && return 1
		sleep 0.05
	done
}

# Two runs of the daemon: the second continues the first one's chain.
for run in 1 2; do
	start_daemon "$conf" "$TMP/log.$run"
	check "run $run: start recorded" records "$trail" \
		"^seq=[0-9]+ [^ ]+ who=startup event=start( |$)" "$run"
	kill -TERM "$DAEMON_PID"
	wait_exit "$DAEMON_PID" 10
	check "run $run: ntpd stopped (status $EXIT_STATUS)" \
		test "$EXIT_STATUS" != alive
	check "run $run: stop recorded, with the signal as who" records \
		"$trail" "^seq=[0-9]+ [^ ]+ who=signal:SIGTERM event=stop( |$)" \
		"$run"
done

check "the trail is mode 0600" test "$(stat -c %a "$trail")" = 600
check "the first record starts the chain" \
	sh -c "head -n 1 '$trail' |
	grep -Eq '^seq=1 .* prev=0{64} hash=[0-9a-f]{64}$'"
n=$(wc -l <"$trail")
check "the second run continued the first's chain" test "$n" -ge 4
verify_says "$trail" 0 "^audit: $n records, chain intact$"

# The syslog copy carries each record's seq and hash: the anchor that
# shows records deleted from the end of the file.
last=$("$NTPCTL" audit verify -f "$trail" |
	sed -n 's/^audit: last \(seq=[0-9]*\) \(hash=[0-9a-f]*\)$/\1 .*\2/p')
check "the last record's seq and hash are in the daemon's log" \
	grep -Eq "$last" "$TMP/log.2"

out=$("$NTPCTL" audit -f "$trail")
check "audit shows the records in columns" \
	sh -c 'printf "%s\n" "$1" |
	grep -Eq "^ +1  [0-9T:.-]+Z  startup +start"' sh "$out"

# Tampering, one kind at a time, on copies.
t="$TMP/tampered.log"
sed '2s/ event=/ event=x/' "$trail" >"$t"
verify_says "$t" 1 "^audit: line 2 \(seq 2\): modified"
sed '2d' "$trail" >"$t"
verify_says "$t" 1 "^audit: line 2 \(seq 3\): deleted"
sed -e '2{h;d}' -e '3G' "$trail" >"$t"
verify_says "$t" 1 "^audit: line 2 \(seq 3\): reordered"
head -c -10 "$trail" >"$t"
verify_says "$t" 1 "^audit: line $n: truncated"
rc=0
"$NTPCTL" audit -f "$t" >/dev/null 2>&1 || rc=$?
check "audit on a damaged trail: exit 1 (got $rc)" test "$rc" = 1

finish
