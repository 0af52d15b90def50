#!/bin/sh
# ntpctl exporter: the metrics over HTTP from a process of its own, on
# loopback.  It drops to nobody after binding and jails itself; it
# answers /metrics, refuses what it should (other paths and methods,
# heads too large, garbage, the slow), keeps answering while the
# daemon is down, and its systemd unit is well-formed.
# shellcheck source=regress/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_root

SOCK="$TMP/ntpd.sock"
PORT=12463
URL="http://127.0.0.1:$PORT"
UNIT="$PWD/etc/ntpctl-exporter.service"

command -v curl >/dev/null || { fail "curl is missing (make deps)"; finish; }

# http ARGS...: curl with a bound; the status code in CODE, the body in
# $TMP/body, the head in $TMP/head.
http() {
	CODE=$(curl -s -m 10 -o "$TMP/body" -D "$TMP/head" -w '%{http_code}' \
	    "$@") || CODE="curl failed ($?)"
}

# raw TEXT: send TEXT as it is on a connection of its own; the answer
# in $TMP/raw.
raw() {
	printf '%b' "$1" | curl -s -m 10 "telnet://127.0.0.1:$PORT" \
	    >"$TMP/raw" 2>/dev/null || true
}

header() {
	tr -d '\r' <"$TMP/head" | grep -ix "$1"
}

# wait_port: until the exporter answers, 5 s at most.
wait_port() {
	i=0
	until curl -s -m 1 -o /dev/null "$URL/metrics"; do
		i=$((i + 1))
		[ $i -gt 50 ] && return 1
		sleep 0.1
	done
}

conf="$TMP/ntpd.conf"
write_conf "$conf" 'listen on 127.0.0.1 port 12464'
start_daemon "$conf" "$TMP/log"

# --- Refused starts -------------------------------------------------------
for args in "-l 127.0.0.1" "-l 127.0.0.1:0" "-l 127.0.0.1:65536" \
    "-l 127.0.0.1:x" "-l [::1:$PORT" "-l localhost:$PORT" "-u root" \
    "-u no-such-user-here" "extra" "-x"; do
	got=0
	# shellcheck disable=SC2086
	timeout 5 "$NTPCTL" -S "$SOCK" exporter $args >/dev/null 2>&1 || got=$?
	check "exporter $args: refused (status $got)" test "$got" = 1
done
got=0
timeout 5 setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$NTPCTL" -S "$SOCK" exporter -l "127.0.0.1:$PORT" -u nobody \
	>/dev/null 2>&1 || got=$?
check "exporter -u, not as root: refused (status $got)" test "$got" = 1

# --- Started as root: binds, then becomes nobody ----------------------------
"$NTPCTL" -S "$SOCK" exporter -l "127.0.0.1:$PORT" >"$TMP/exporter.log" 2>&1 &
EXP=$!
DAEMON_PIDS="$DAEMON_PIDS $EXP"
check "the exporter answers" wait_port
check "it runs as nobody, for good" \
	test "$(status_field "$EXP" Uid)" = "65534	65534	65534	65534" \
	-a "$(status_field "$EXP" Gid)" = "65534	65534	65534	65534"
check "its only group is nobody's own" \
	test "$(status_field "$EXP" Groups | tr -d ' ')" = 65534
check "no_new_privs and a seccomp filter" \
	test "$(status_field "$EXP" NoNewPrivs)" = 1 \
	-a "$(status_field "$EXP" Seccomp)" = 2
check "no capability left" \
	test "$(status_field "$EXP" CapEff)" = 0000000000000000 \
	-a "$(status_field "$EXP" CapPrm)" = 0000000000000000
check "it listens on 127.0.0.1:$PORT only" sh -c "
	ss -Htlnp | grep 'pid=$EXP,' | awk '{ print \$4 }' | grep -qx '127.0.0.1:$PORT' &&
	test \$(ss -Htlnp | grep -c 'pid=$EXP,') = 1"
check "it says where it serves and as whom" \
	grep -q "serving /metrics on 127.0.0.1:$PORT as uid 65534" \
	"$TMP/exporter.log"

# --- Scrapes ----------------------------------------------------------------
http "$URL/metrics"
check "GET /metrics: 200 (got $CODE)" test "$CODE" = 200
check "the content type of the text format 0.0.4" \
	header 'content-type: text/plain; version=0.0.4; charset=utf-8'
check "Connection: close" header 'connection: close'
check "Content-Length is the body's" \
	test "$(header 'content-length: [0-9]*' | cut -d' ' -f2)" = \
	"$(wc -c <"$TMP/body" | tr -d ' ')"
check "the daemon is up" grep -qx 'ntpd_up 1' "$TMP/body"
check "every sample announced, every line HELP, TYPE or a sample" sh -c "
	LC_ALL=C grep -Ev '^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\{[a-z_]+=\"[^\"]*\"(,[a-z_]+=\"[^\"]*\")*\})? [-+0-9.eENaIf]+)$' '$TMP/body' |
	    grep -q . && exit 1
	for n in \$(grep -v '^#' '$TMP/body' | sed 's/[{ ].*//' | sort -u); do
		grep -q \"^# TYPE \$n \" '$TMP/body' || exit 1
	done"
"$NTPCTL" -S "$SOCK" metrics >"$TMP/cli"
check "the same families as ntpctl metrics" \
	test "$(grep '^# TYPE' "$TMP/body")" = "$(grep '^# TYPE' "$TMP/cli")"
check "the namespace's counters" \
	grep -q '^ntpd_server_requests_total{netns="default"} ' "$TMP/body"
up1=$(sed -n 's/^ntpd_uptime_seconds //p' "$TMP/body")
sleep 1.1
http "$URL/metrics?x=1"
up2=$(sed -n 's/^ntpd_uptime_seconds //p' "$TMP/body")
check "a query string is ignored; each scrape asks afresh ($up1, $up2)" \
	test "$CODE" = 200 -a "${up2:-0}" -gt "${up1:-0}"
raw 'HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n'
tr -d '\r' <"$TMP/raw" >"$TMP/head"
check "HEAD /metrics: 200" grep -q '^HTTP/1.1 200 ' "$TMP/head"
check "HEAD /metrics: the length of a GET, and no body" sh -c "
	grep -Eq '^Content-Length: [1-9][0-9]*$' '$TMP/head' &&
	test \"\$(sed '1,/^$/d' '$TMP/head' | wc -c)\" = 0"

http "$URL/"
check "GET /: 404 (got $CODE)" test "$CODE" = 404
http "$URL/metricsx"
check "GET /metricsx: 404 (got $CODE)" test "$CODE" = 404
http "$URL/../metrics" --path-as-is
check "GET /../metrics: 404 (got $CODE)" test "$CODE" = 404
http -X POST -d x=1 "$URL/metrics"
check "POST /metrics: 405 (got $CODE)" test "$CODE" = 405
check "405 says what is allowed" header 'allow: GET, HEAD'
http -X DELETE "$URL/metrics"
check "DELETE /metrics: 405 (got $CODE)" test "$CODE" = 405
big=$(head -c 8000 /dev/zero | tr '\0' a)
http -H "X-Big: $big" "$URL/metrics"
check "a request head of 8 KB: 431 (got $CODE)" test "$CODE" = 431
http -H "X-Fits: $(head -c 3000 /dev/zero | tr '\0' a)" "$URL/metrics"
check "a request head of 3 KB: served (got $CODE)" test "$CODE" = 200
raw 'GARBAGE\r\n\r\n'
check "garbage: 400" grep -q '^HTTP/1.1 400 ' "$TMP/raw"
raw 'GET /metrics HTTP/2.0\r\n\r\n'
check "another HTTP version: 400" grep -q '^HTTP/1.1 400 ' "$TMP/raw"
raw 'GET /metrics HTTP/1.0\n\n'
check "HTTP/1.0, bare newlines: 200" grep -q '^HTTP/1.1 200 ' "$TMP/raw"
raw 'GET /metrics\0 HTTP/1.1\r\n\r\n'
check "a NUL in the head: 400" grep -q '^HTTP/1.1 400 ' "$TMP/raw"

# A client that says nothing is dropped, and holds nobody else up.
# perl (perl-base, always there) reports when the answer came.
perl -MIO::Socket::INET -e '
	my $s = IO::Socket::INET->new("127.0.0.1:$ARGV[0]") or die "$!\n";
	my ($t, $d, $b) = (time, "", "");
	while (sysread($s, $b, 4096)) { $d .= $b }
	printf "%d %s\n", time - $t, (split(/\r\n/, $d))[0] // "nothing"' \
	$PORT >"$TMP/slow" 2>&1 &
slow=$!
sleep 0.5
http "$URL/metrics"
check "a scrape while a slow client is connected: 200 (got $CODE)" \
	test "$CODE" = 200
wait "$slow" || true
read -r took first <"$TMP/slow" || true
check "the slow client got 408 after about 5 s ($took s: $first)" \
	test "$first" = "HTTP/1.1 408 Request Timeout" -a "${took:-0}" -ge 4 \
	-a "${took:-0}" -le 7

# More clients at once than it serves: the rest wait, none is lost.
pids=""
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
	curl -s -m 10 -o /dev/null -w '%{http_code}\n' "$URL/metrics" \
	    >"$TMP/par.$i" &
	pids="$pids $!"
done
for p in $pids; do
	wait "$p" || true
done
check "12 scrapes at once: all 200" \
	test "$(cat "$TMP"/par.* | grep -c '^200$')" = 12

# --- The daemon stops; the exporter goes on -------------------------------
kill -TERM "$DAEMON_PID"
wait_exit "$DAEMON_PID" 5
http "$URL/metrics"
check "the daemon stopped: still 200 (got $CODE)" test "$CODE" = 200
check "the daemon stopped: ntpd_up 0, nothing else" \
	test "$(grep -v '^#' "$TMP/body")" = "ntpd_up 0"
check "the daemon stopped: logged once" sh -c "
	test \$(grep -c 'ntpd does not answer' '$TMP/exporter.log') = 1"
http "$URL/metrics"
check "logged once only, at the change" \
	test "$(grep -c 'ntpd does not answer' "$TMP/exporter.log")" = 1
check "the exporter is still running after all that" kill -0 "$EXP"
kill -TERM "$EXP"
wait_exit "$EXP" 5
check "SIGTERM stops it (got $EXIT_STATUS)" test "$EXIT_STATUS" != alive

# --- Started as nobody, as systemd's DynamicUser would --------------------
setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$NTPCTL" -S "$SOCK" exporter -l "[::1]:$PORT" >"$TMP/exporter2.log" 2>&1 &
EXP=$!
DAEMON_PIDS="$DAEMON_PIDS $EXP"
i=0
until curl -s -m 1 -o /dev/null "http://[::1]:$PORT/metrics"; do
	i=$((i + 1))
	[ $i -gt 50 ] && break
	sleep 0.1
done
CODE=$(curl -s -m 5 -o "$TMP/body" -w '%{http_code}' \
	"http://[::1]:$PORT/metrics") || CODE="curl failed"
check "as nobody on [::1]: 200, ntpd_up 0 (got $CODE)" \
	sh -c "test '$CODE' = 200 && grep -qx 'ntpd_up 0' '$TMP/body'"
check "as nobody: jailed too" test "$(status_field "$EXP" Seccomp)" = 2
kill -TERM "$EXP"
wait_exit "$EXP" 5

# --- The systemd unit -----------------------------------------------------
for line in 'ExecStart=/usr/local/sbin/ntpctl exporter -l 127.0.0.1:9975' \
    'DynamicUser=yes' 'NoNewPrivileges=yes' 'ProtectSystem=strict' \
    'CapabilityBoundingSet=' 'PrivateDevices=yes' \
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' \
    'SystemCallFilter=@system-service seccomp' \
    'SystemCallFilter=~@privileged @resources' \
    'MemoryDenyWriteExecute=yes' 'WantedBy=multi-user.target'; do
	check "the unit has $line" grep -qxF -- "$line" "$UNIT"
done
check "the unit's default address is the exporter's" \
	grep -q '"127.0.0.1:9975"' ntpctl/exporter.c
if command -v systemd-analyze >/dev/null; then
	sed "s|/usr/local/sbin/ntpctl|$NTPCTL|" "$UNIT" \
	    >"$TMP/ntpctl-exporter.service"
	systemd-analyze verify --man=no "$TMP/ntpctl-exporter.service" \
	    >"$TMP/verify" 2>&1 || echo "status $?" >>"$TMP/verify"
	check "systemd-analyze verify: no complaint" test ! -s "$TMP/verify"
	cat "$TMP/verify"
else
	echo "note: no systemd-analyze here, the unit's syntax is not verified"
fi
finish
