#!/bin/sh
# ntpctl's views: every view as text and as JSON, the metrics, and the
# verdicts of check.  First from real daemons (one with no source, one
# with an upstream on loopback), then from a fake control socket that
# says exactly what a case needs: a synchronised clock, offsets beyond
# the thresholds, a leap second, odd bytes in names, a daemon that does
# not report its discipline, and answers that are malformed.
# shellcheck source=regress/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_root

FAKE="$PWD/$O/regress/fakentp"
PROBE="$PWD/$O/regress/ntpprobe"
SOCK="$TMP/ntpd.sock"
LPORT=12461	# the daemon's listener
UPORT=12462	# the fake upstream

for tool in jq perl; do
	command -v "$tool" >/dev/null || { fail "$tool is missing (make deps)"; finish; }
done

ctl() {
	"$NTPCTL" -S "$SOCK" "$@"
}

# jqt FILTER FILE...: the filter holds (jq -e), quietly.
jqt() {
	jq -e "$@" >/dev/null
}

# run_check ARGS...: ntpctl check; its line in CHECK_OUT, status CHECK_RC.
run_check() {
	CHECK_RC=0
	CHECK_OUT=$("$NTPCTL" -S "$SOCK" check "$@" 2>/dev/null) || CHECK_RC=$?
}

# expect_check DESC STATUS LINE-REGEX ARGS...
expect_check() {
	desc=$1
	want=$2
	re=$3
	shift 3
	run_check "$@"
	if [ "$CHECK_RC" = "$want" ] &&
	    printf '%s\n' "$CHECK_OUT" | grep -Eqx -- "$re" &&
	    [ "$(printf '%s\n' "$CHECK_OUT" | wc -l)" -eq 1 ]; then
		pass "$desc"
	else
		fail "$desc (status $CHECK_RC, want $want: \"$CHECK_OUT\")"
	fi
}

# status_of DESC STATUS CMD...: the command exits with STATUS.
status_of() {
	desc=$1
	want=$2
	shift 2
	got=0
	"$@" >"$TMP/out" 2>"$TMP/err" || got=$?
	check "$desc (status $got)" test "$got" = "$want"
}

# valid_metrics FILE: every line a HELP, a TYPE or a sample of the text
# format 0.0.4, every family announced (HELP, then TYPE) before its
# samples, which come together; counters end in _total.
valid_metrics() {
	LC_ALL=C awk '
	function bad(why) {
		printf "metrics line %d: %s: %s\n", NR, why, $0 >"/dev/stderr"
		err = 1
	}
	/^# HELP / {
		if ($3 !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*$/ || NF < 4)
			bad("malformed HELP")
		help[$3] = 1
		next
	}
	/^# TYPE / {
		if (NF != 4 || $4 !~ /^(counter|gauge|untyped)$/)
			bad("malformed TYPE")
		if ($3 in type)
			bad("a second TYPE")
		if (!($3 in help))
			bad("TYPE without HELP")
		type[$3] = $4
		cur = $3
		next
	}
	/^#/ { bad("stray comment"); next }
	{
		if ($0 !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\[\\"n])*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\[\\"n])*")*\})? (NaN|[+-]Inf|[-+]?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?)$/) {
			bad("not a sample")
			next
		}
		name = $0
		sub(/[{ ].*/, "", name)
		if (name != cur)
			bad("a sample outside its family")
		if (type[name] == "counter" && name !~ /_total$/)
			bad("a counter not named _total")
		n++
	}
	END {
		if (n == 0) {
			print "no samples" >"/dev/stderr"
			err = 1
		}
		exit err
	}' "$1"
}

# has_family FILE NAME...: each announced with HELP and TYPE.
has_family() {
	f=$1
	shift
	for name in "$@"; do
		grep -q "^# HELP $name " "$f" && grep -q "^# TYPE $name " "$f" ||
			{ echo "no family $name" >&2; return 1; }
	done
}

# The labels of status, their values in one column.
STATUS_LABELS="time:|local time:|clock:|clock control:|reference:|stratum:|leap:|offset:|last correction:|last update:|frequency:|skew:|root delay:|root dispersion:|tolerance:|user:"

aligned_status() {
	n=$(grep -Ec "^($STATUS_LABELS) " "$1")
	[ "$n" -eq 16 ] || { echo "$n of 16 status labels" >&2; return 1; }
	grep -E "^($STATUS_LABELS) " "$1" |
	    awk '{ if (substr($0, 17, 1) != " " || substr($0, 18, 1) == " ") exit 1 }'
}

# In the peers table the STATE column starts where its heading does.
aligned_peers() {
	col=$(grep -m 1 '^  SOURCE ' "$1" | awk '{ print index($0, " STATE ") + 1 }')
	[ "$col" -gt 1 ] || return 1
	sed -n '/^  SOURCE /,/^$/p' "$1" | sed '1d;$d' >"$TMP/rows"
	[ -s "$TMP/rows" ] || return 1
	awk -v c="$col" '{ s = substr($0, c); if (substr($0, c - 1, 1) != " " ||
	    s !~ /^(syspeer|combined|candidate|falseticker|refused|denied|unreachable|noselect|unsynchronised|distance|invalid|unusable) /) exit 1 }' \
	    "$TMP/rows"
}

# --- No daemon ------------------------------------------------------------
expect_check "check, no daemon: UNKNOWN" 3 \
	"NTPD UNKNOWN: .*$TMP/ntpd.sock.*\(is ntpd running\?\)"
status_of "-s status, no daemon: status 1" 1 ctl -s status
check "and it says why" grep -q "is ntpd running" "$TMP/err"
status_of "metrics, no daemon: status 0" 0 ctl metrics
check "metrics, no daemon: ntpd_up 0 is the only sample" \
	test "$(grep -v '^#' "$TMP/out")" = "ntpd_up 0"
check "metrics, no daemon: well-formed" valid_metrics "$TMP/out"

# --- Usage errors -----------------------------------------------------------
for args in "-w abc" "-c -5" "-m x" "-M 99999" "-u maybe" "-l sometimes" \
    "-t 0" "-x" "extra" "-w"; do
	# shellcheck disable=SC2086
	expect_check "check $args: UNKNOWN" 3 "NTPD UNKNOWN: .*" $args
done
status_of "-j without -s: status 1" 1 ctl -j
status_of "an unknown view: status 1" 1 ctl -s bogus
status_of "an unknown command: status 1" 1 ctl bogus
status_of "-j with a command: status 1" 1 ctl -j metrics
status_of "metrics with an argument: status 1" 1 ctl metrics extra
status_of "-s and a command: status 1" 1 ctl -s status metrics

# --- A daemon with no source ----------------------------------------------
conf="$TMP/ntpd.conf"
write_conf "$conf" "listen on 127.0.0.1 port $LPORT" "allow 127.0.0.1"
start_daemon "$conf" "$TMP/log"
A_PID=$DAEMON_PID

# A request to count, and the statistics a second to arrive.
"$PROBE" -t 500 127.0.0.1 $LPORT >"$TMP/probe" || true
check "the daemon answers a client" grep -q '^reply ' "$TMP/probe"
sleep 1.2

utc_before=$(date -u +%s)
TZ=XYZ-5:30 "$NTPCTL" -S "$SOCK" -s status >"$TMP/status"
utc_after=$(date -u +%s)
cat "$TMP/status"
check "status: every label, values in one column" aligned_status "$TMP/status"
check "status: unsynchronised" grep -qx 'clock: *unsynchronised' "$TMP/status"
check "status: the parent is listed" \
	grep -Eq "^  parent +$A_PID +0  -$" "$TMP/status"
check "status: the listener is listed" \
	grep -Eq "^  default +127\.0\.0\.1 +$LPORT$" "$TMP/status"
check "status: no source" grep -qx '  none configured' "$TMP/status"
t=$(sed -n 's/^time: *\(.*\) UTC$/\1/p' "$TMP/status")
secs=$(date -u -d "$t" +%s 2>/dev/null || echo 0)
check "status: the time in UTC ($t)" \
	test "$secs" -ge $((utc_before - 1)) -a "$secs" -le $((utc_after + 1))
check "status: the local time with its zone and offset" \
	grep -Eq '^local time: +[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} XYZ \+0530$' \
	"$TMP/status"
lt=$(sed -n 's/^local time: *\(.*\) XYZ +0530$/\1/p' "$TMP/status")
lsecs=$(date -u -d "$lt" +%s 2>/dev/null || echo 0)
check "status: local time is UTC + 5:30" \
	test $((lsecs - secs)) -ge 19799 -a $((lsecs - secs)) -le 19801
check "status: units on the times that are known" \
	sh -c "grep -E '^(offset|last correction|root delay|root dispersion):' '$TMP/status' |
	    grep -Ev ': +(-|[-+]?[0-9.]+(us|ms|s)(,.*)?)$' | grep -q . && exit 1; exit 0"

TZ=XYZ-5:30 "$NTPCTL" -S "$SOCK" -j -s status >"$TMP/status.json"
check "status JSON: valid" jqt . "$TMP/status.json"
check "status JSON: the fields" jqt --argjson port $LPORT '
	.protocol == 1 and (.version | type == "string") and
	(.uptime | type == "number") and .synchronised == false and
	.user == "_ntp" and
	([.processes[].role] | sort) == ["dns", "engine", "parent", "server"] and
	(.processes[] | select(.role == "server") | .namespace) == "default" and
	(.processes[] | select(.role == "parent") | .uid) == 0 and
	.sources == [] and
	.listeners == [{"namespace": "default", "address": "127.0.0.1",
	    "port": $port}]' "$TMP/status.json"
check "status JSON: UTC and local time, RFC 3339" jqt '
	(.time.utc | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$")) and
	(.time.local | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\+05:30$")) and
	.time.zone == "XYZ" and (.time.unix | type == "number") and
	((.time.unix | floor) - (.time.utc | fromdateiso8601) | fabs) <= 1' \
	"$TMP/status.json"
check "status JSON: the clock, unsynchronised or not reported" jqt '
	.clock as $c | ($c | keys) == (["reported", "control", "reference",
	    "stratum", "leap", "leap_armed", "offset", "jitter",
	    "last_correction", "since_update", "updates", "steps",
	    "frequency_ppm", "skew_ppm", "root_delay", "root_dispersion",
	    "tolerance", "refused", "last_refused"] | sort) and
	(($c.reported == false and $c.stratum == null and $c.leap == null) or
	 ($c.reported == true and $c.stratum == 16 and
	  $c.leap == "unsynchronised" and $c.reference == null))' \
	"$TMP/status.json"

ctl -s peers >"$TMP/peers"
check "peers: the selection line" grep -q '^selection: ' "$TMP/peers"
check "peers: the table heading" \
	grep -Eq '^  SOURCE +ST POLL REACH +AGE +OFFSET +DELAY +JITTER +SENT +LOST +BAD +KOD STATE +NAME$' \
	"$TMP/peers"
check "peers: no source" grep -qx '  no sources configured' "$TMP/peers"
ctl -j -s peers >"$TMP/peers.json"
check "peers JSON: no source, a selection" jqt '
	.sources == [] and .selection.sources == 0 and
	(.selection.status | IN("none", "no_sources")) and
	.selection.offset == null and .selection.system_peer == null' \
	"$TMP/peers.json"

ctl -s clients >"$TMP/clients"
check "clients: the namespace and its request" \
	grep -q '^  [1-9][0-9]* received, [1-9][0-9]* answered, 0 denied' \
	"$TMP/clients"
check "clients: the client" \
	grep -Eq '^  127\.0\.0\.1/32 +[1-9][0-9]* +0$' "$TMP/clients"
ctl -j -s clients >"$TMP/clients.json"
check "clients JSON: the namespace, its counts and client" jqt '
	(.namespaces | length) == 1 and .namespaces[0].name == "default" and
	.namespaces[0].reporting == true and .namespaces[0].received >= 1 and
	.namespaces[0].replies >= 1 and .namespaces[0].denied == 0 and
	.namespaces[0].ratelimit == true and
	.namespaces[0].clients[0].address == "127.0.0.1" and
	.namespaces[0].clients[0].prefixlen == 32' "$TMP/clients.json"

ctl -s all >"$TMP/all"
check "all: status, peers and clients" sh -c "
	grep -q '^clock: ' '$TMP/all' && grep -q '^selection: ' '$TMP/all' &&
	grep -q '^namespace default:' '$TMP/all'"
ctl -j -s all >"$TMP/all.json"
check "all JSON: the three views" jqt '
	(keys == ["clients", "peers", "status"]) and .status.synchronised == false and
	.peers.sources == [] and .clients.namespaces[0].name == "default"' \
	"$TMP/all.json"

ctl metrics >"$TMP/metrics"
check "metrics: well-formed" valid_metrics "$TMP/metrics"
check "metrics: the families" has_family "$TMP/metrics" ntpd_up ntpd_info \
	ntpd_uptime_seconds ntpd_synchronised ntpd_clock_control ntpd_stratum \
	ntpd_leap ntpd_offset_seconds ntpd_jitter_seconds ntpd_frequency_ratio \
	ntpd_skew_ratio ntpd_root_delay_seconds ntpd_root_dispersion_seconds \
	ntpd_since_update_seconds ntpd_clock_updates_total \
	ntpd_clock_steps_total ntpd_corrections_refused_total \
	ntpd_tolerance_seconds ntpd_sources ntpd_sources_usable \
	ntpd_selection ntpd_source_state ntpd_source_reach \
	ntpd_source_offset_seconds ntpd_source_delay_seconds \
	ntpd_source_jitter_seconds ntpd_server_requests_total \
	ntpd_server_replies_total ntpd_server_denied_total \
	ntpd_server_ratelimited_total
check "metrics: up, unsynchronised" sh -c "
	grep -qx 'ntpd_up 1' '$TMP/metrics' &&
	grep -qx 'ntpd_synchronised 0' '$TMP/metrics'"
check "metrics: the namespace's requests" \
	grep -Eq '^ntpd_server_requests_total\{netns="default"\} [1-9][0-9]*$' \
	"$TMP/metrics"
check "metrics: one selection outcome is 1" \
	test "$(grep -c '^ntpd_selection{status="[a-z_]*"} 1$' "$TMP/metrics")" = 1

# Never synchronised with no source: CRITICAL, with what it saw.
expect_check "check, unsynchronised: CRITICAL" 2 \
	'NTPD CRITICAL: unsynchronised; 0 usable sources, fewer than 2; offset unknown, 0 sources usable, stratum (16|unknown) \| offset=U;0\.050;0\.200 sources=0;2:; stratum=(16|U)'
expect_check "check -u warning -l warning: WARNING" 1 \
	'NTPD WARNING: unsynchronised; 0 usable sources, fewer than 2; .*' \
	-u warning -l warning
expect_check "check -u ok -l ok -m 0: OK" 0 \
	'NTPD OK: offset unknown, 0 sources usable, stratum (16|unknown) \| offset=U;0\.050;0\.200 sources=0;; stratum=(16|U)' \
	-u ok -l ok -m 0
expect_check "check -M 1: CRITICAL for want of sources alone" 2 \
	'NTPD CRITICAL: 0 usable sources, fewer than 1; .* sources=0;;1: .*' \
	-u ok -l ok -m 0 -M 1
expect_check "check -w 12.5 -c 100: thresholds in seconds" 2 \
	'NTPD CRITICAL: .* \| offset=U;0\.0125;0\.100 .*' -w 12.5 -c 100
check "check, as nobody: the same verdict" sh -c "
	setpriv --reuid=65534 --regid=65534 --clear-groups \
	'$NTPCTL' -S '$SOCK' check >/dev/null; test \$? = 2"

kill -TERM "$A_PID"
wait_exit "$A_PID" 5
expect_check "check, the daemon stopped: UNKNOWN" 3 'NTPD UNKNOWN: .*'
ctl metrics >"$TMP/metrics" 2>/dev/null
check "metrics, the daemon stopped: ntpd_up 0" grep -qx 'ntpd_up 0' "$TMP/metrics"

# --- A daemon with an upstream --------------------------------------------
"$FAKE" -t 60 127.0.0.1 $UPORT &
DAEMON_PIDS="$DAEMON_PIDS $!"
write_conf "$conf" "server 127.0.0.1 port $UPORT iburst minpoll 3 maxpoll 3"
start_daemon "$conf" "$TMP/log2"
# iburst: four exchanges 2 s apart before the source may be selected.
i=0
until ctl -j -s peers 2>/dev/null |
    jq -e '.sources[0].state == "syspeer"' >/dev/null; do
	i=$((i + 1))
	[ $i -gt 150 ] && break
	sleep 0.2
done

ctl -s peers >"$TMP/peers"
cat "$TMP/peers"
row=$(grep " 127\.0\.0\.1:$UPORT " "$TMP/peers" || true)
check "peers: the upstream's row" test -n "$row"
check "peers: stratum 1, poll 8 s, reached, an age, times with units" sh -c "
	echo '$row' | awk '{ exit !(\$3 == 1 && \$4 == 8 && \$5 != 0 &&
	    \$6 ~ /^[0-9]+s\$/ && \$7 ~ /^[-+][0-9.]+(us|ms|s)\$/ &&
	    \$8 ~ /^[0-9.]+(us|ms|s)\$/ && \$9 ~ /^[0-9.]+(us|ms|s)\$/ &&
	    \$NF == \"127.0.0.1\") }'"
check "peers: columns aligned, STATE under its heading" aligned_peers "$TMP/peers"
ctl -j -s peers >"$TMP/peers.json"
check "peers JSON: the source" jqt --arg a "127.0.0.1:$UPORT" '
	(.sources | length) == 1 and .sources[0].address == $a and
	.sources[0].name == "127.0.0.1" and .sources[0].stratum == 1 and
	.sources[0].poll == 8 and .sources[0].reach > 0 and
	.sources[0].sample == true and (.sources[0].offset | type == "number") and
	(.sources[0].delay >= 0) and (.sources[0].jitter >= 0) and
	.sources[0].sent >= 1 and .sources[0].prefer == false and
	(.sources[0].state | IN("syspeer", "combined", "candidate",
	    "falseticker", "refused", "unusable", "denied"))' "$TMP/peers.json"
state=$(jq -r '.sources[0].state' "$TMP/peers.json")
check "peers: the mark says the same as the JSON ($state)" sh -c "
	case '$state' in
	syspeer) m='*' ;; combined) m='+' ;; candidate) m='-' ;;
	falseticker) m=x ;; refused) m='~' ;; denied) m='!' ;; *) m='?' ;;
	esac
	test \"\$(echo '$row' | cut -c1)\" = \"\$m\""
check "peers JSON: a lone honest source is the system peer" \
	test "$state" = syspeer

ctl metrics >"$TMP/metrics"
check "metrics with a source: well-formed" valid_metrics "$TMP/metrics"
check "metrics: the source's state" grep -qx \
	"ntpd_source_state{source=\"127.0.0.1:$UPORT\",name=\"127.0.0.1\",state=\"syspeer\"} 1" \
	"$TMP/metrics"
check "metrics: the source's figures" sh -c "
	for m in reach stratum poll_seconds offset_seconds delay_seconds \
	    jitter_seconds requests_total; do
		grep -q \"^ntpd_source_\$m{source=\\\"127.0.0.1:$UPORT\\\",name=\\\"127.0.0.1\\\"} \" \
		    '$TMP/metrics' || exit 1
	done"
check "metrics: the combined offset" \
	grep -Eq '^ntpd_offset_seconds [-+]?[0-9]' "$TMP/metrics"

ctl -j -s status >"$TMP/status.json"
synced=$(jq -r .synchronised "$TMP/status.json")
# The verdict follows the state, whatever the engine has made of it yet.
if [ "$synced" = true ]; then
	expect_check "check, synchronised: one source is too few" 1 \
		'NTPD WARNING: 1 usable source, fewer than 2; offset [-+]0\.[0-9]{6} s, 1 source usable, stratum [0-9]+ \| offset=-?0\.[0-9]{6}s;0\.050;0\.200 sources=1;2:; stratum=[0-9]+'
else
	expect_check "check, unsynchronised: CRITICAL" 2 \
		'NTPD CRITICAL: unsynchronised; 1 usable source, fewer than 2; offset [-+]0\.[0-9]{6} s, .*'
fi
expect_check "check -m 1 -u ok -l ok: OK" 0 \
	'NTPD OK: offset [-+]0\.[0-9]{6} s, 1 source usable, stratum ([0-9]+|unknown) \| offset=-?0\.[0-9]{6}s;0\.050;0\.200 sources=1;1:; stratum=([0-9]+|U)' \
	-m 1 -u ok -l ok
expect_check "check -w 0.000001: beyond a threshold of a nanosecond" 1 \
	'NTPD WARNING: offset [-+]0\.[0-9]{6} s beyond 0\.000000001 s; .*' \
	-m 1 -u ok -l ok -w 0.000001 -c 1000

# --- A fake control socket ------------------------------------------------
# The control protocol as common/ctl.h lays it out on x86-64 and other
# LP64 little-endian hosts; a message of the wrong size would be refused.
cat >"$TMP/fakectl.pl" <<'PERL'
use strict;
use warnings;
use IO::Socket::UNIX;
use Socket qw(SOCK_STREAM);

my ($path, $scenario_file) = @ARGV;
unlink $path;
my $srv = IO::Socket::UNIX->new(Type => SOCK_STREAM, Local => $path,
    Listen => 16) or die "fakectl: $path: $!";
$SIG{PIPE} = 'IGNORE';
my @held;

my $WEIRD = "we\"ird\\name\n\x01\xc3\xa9\xff";

sub msg { my ($type, $data) = @_;
	return pack("LLLL", $type, 16 + length($data), 0, 0) . $data; }
sub end { return msg(104, ""); }

sub status { my (%a) = @_;
	return msg(100, pack("L a16 x4 q L L L a64 x4", $a{proto} // 1,
	    "0.1", 93784, $a{sync} // 1, 3, 2, $a{user} // "_ntp")); }
sub proc { return msg(101, pack("L l L a64", @_)); }
sub source { return msg(102, pack("L a256", @_)); }
sub listener { return msg(103, pack("a64 a64 L", @_)); }
sub sysmsg { my (%a) = @_;
	return msg(108, pack("L L L L L l d d L L L L a64 d d d d d d d d Q Q Q",
	    1, 7, 5, 3, 2, 0, $a{offset} // 0.000012, 0.000004,
	    1, $a{stratum} // 3, $a{leap} // 0, $a{armed} // 0,
	    "192.0.2.1:123", -12.408, 0.084, 0.02431, 0.00182, 14,
	    0.0000204, 0.5, 1.5, 19, 1, 2)); }
sub unreported {
	return msg(108, pack("L L L L L l d d L L L L a64 d d d d d d d d Q Q Q",
	    1, 7, 5, 3, 2, 0, 0.000012, 0.000004, (0) x 4, "", (0) x 8,
	    (0) x 3)); }
sub peer { my (%a) = @_;
	return msg(109, pack("a256 a64 L L L l L L d d d d d Q Q Q Q Q L L",
	    $a{host}, $a{addr}, $a{state}, $a{why} // 0, $a{stratum} // 2,
	    $a{poll} // 6, $a{reach} // 255, $a{sample} // 1, 14,
	    $a{offset} // 0.000012, 0.0243, 0.000004, 0.013,
	    100, 98, 2, 0, $a{kod} // 0, $a{stopped} // 0, 0)); }
sub netns { return msg(106, pack("a64 L x4 Q Q Q Q Q Q Q Q L L", @_)); }
sub client { return msg(107, pack("a64 L x4 Q Q", @_)); }

sub status_answer { my ($s) = @_;
	my %a;
	$a{sync} = 0 if $s eq "unreported";
	$a{proto} = 2 if $s eq "version";
	$a{user} = "u" x 64 if $s eq "unterminated";
	return msg(105, pack("L a128", 1, "boom")) if $s eq "error";
	return msg(100, "x" x 111) . end() if $s eq "badsize";
	my $out = status(%a);
	$out .= status(%a) if $s eq "twice";
	$out .= proc(0, 100, 0, "") . proc(1, 101, 999, "") .
	    proc(2, 102, 999, "") . proc(3, 103, 999, "tenant-a");
	$out .= source(1, "pool.example.org") . source(0, "192.0.2.1");
	$out .= listener("", "127.0.0.1", 123) .
	    listener("tenant-a", "2001:db8::1", 123);
	return $out . end();
}

sub peers_answer { my ($s) = @_;
	my %a;
	$a{offset} = 0.1 if $s eq "offset-warn";
	$a{offset} = -0.3 if $s eq "offset-crit";
	if ($s eq "leap") { $a{leap} = 1; $a{armed} = 1; }
	my $out = $s eq "unreported" ? unreported() : sysmsg(%a);
	$out .= peer(host => $WEIRD, addr => "192.0.2.1:123", state => 4,
	    offset => $a{offset});
	$out .= peer(host => "b.example", addr => "192.0.2.2:123", state => 3);
	$out .= peer(host => "2001:db8:1234:5678:9abc:def0:1234:5678",
	    addr => "[2001:db8:1234:5678:9abc:def0:1234:5678]:123", state => 2);
	$out .= peer(host => "192.0.2.4", addr => "192.0.2.4:123", state => 1,
	    offset => 2.0);
	$out .= peer(host => "192.0.2.5", addr => "192.0.2.5:123", state => 5,
	    offset => 1.5);
	$out .= peer(host => "192.0.2.6", addr => "192.0.2.6:123", state => 0,
	    why => 1, reach => 0, sample => 0, stratum => 0);
	$out .= peer(host => "deny.example.org", addr => "", state => 0,
	    stopped => 1, kod => 1, sample => 0, stratum => 0, poll => 0,
	    reach => 0);
	return $out . end();
}

sub clients_answer {
	return netns("", 1, 10, 8, 1, 1, 1, 0, 0, 0, 2, 0) .
	    client("127.0.0.1", 32, 7, 1) . client("127.0.0.2", 32, 3, 0) .
	    netns("tenant-a", 0, (0) x 8, 0, 1) . end();
}

while (1) {
	my $c = $srv->accept or next;
	my $hdr = "";
	while (length($hdr) < 16) {
		my $n = sysread($c, $hdr, 16 - length($hdr), length($hdr));
		last unless $n;
	}
	next unless length($hdr) == 16;
	open(my $fh, "<", $scenario_file) or die "fakectl: $!";
	my $s = <$fh>;
	close($fh);
	chomp($s);
	if ($s eq "silent") {
		push(@held, $c);
		next;
	}
	my ($type) = unpack("L", $hdr);
	my $out = $type == 1 ? status_answer($s) : $type == 3 ?
	    peers_answer($s) : $type == 2 ? clients_answer() :
	    msg(105, pack("L a128", 95, "unknown request"));
	syswrite($c, $out);
	close($c);
}
PERL
SOCK="$TMP/fake.sock"
echo sync >"$TMP/scenario"
perl "$TMP/fakectl.pl" "$SOCK" "$TMP/scenario" &
DAEMON_PIDS="$DAEMON_PIDS $!"
i=0
while [ ! -S "$SOCK" ] && [ $i -lt 100 ]; do
	i=$((i + 1))
	sleep 0.05
done
scenario() {
	echo "$1" >"$TMP/scenario"
}

# A synchronised clock, a source of every state.
scenario sync
ctl -s status >"$TMP/status"
cat "$TMP/status"
for line in 'ntpd 0.1, up 1d 02:03:04' \
    'clock:           synchronised' \
    'clock control:   yes' \
    'reference:       192.0.2.1:123' \
    'stratum:         3' \
    'leap:            none' \
    'offset:          +12.0us, jitter 4.0us' \
    'last correction: +20.4us' \
    'last update:     14s ago, 19 updates, 1 step' \
    'frequency:       -12.408 ppm' \
    'skew:            0.084 ppm' \
    'root delay:      24.310ms' \
    'root dispersion: 1.820ms' \
    'tolerance:       500.000ms, 2 corrections refused (last +1.500s)' \
    'user:            _ntp' \
    '  server        103    999  tenant-a' \
    '  servers  pool.example.org' \
    '  tenant-a             2001:db8::1                                123'; do
	check "status shows \"$line\"" grep -qxF -- "$line" "$TMP/status"
done
check "status: aligned" aligned_status "$TMP/status"

ctl -s peers >"$TMP/peers"
cat "$TMP/peers"
check "peers: the selection and the combined offset" sh -c "
	grep -qx 'selection: a majority agrees; 7 sources, 5 usable, 3 agreeing, 2 combined' '$TMP/peers' &&
	grep -qx 'combined offset +12.0us, jitter 4.0us' '$TMP/peers'"
check "peers: one line only names the system peer's address" \
	test "$(grep -c '192\.0\.2\.1:123' "$TMP/peers")" = 1
for m in '\* 192\.0\.2\.1:123 .* syspeer +we"ird\\\\name\\012\\001\\303\\251\\377' \
    '\+ 192\.0\.2\.2:123 .* combined +b\.example' \
    '- \[2001:db8:1234:5678:9abc:def0:1234:5678\]:123 .* candidate .*' \
    'x 192\.0\.2\.4:123 .* \+2\.000s .* falseticker +192\.0\.2\.4' \
    '~ 192\.0\.2\.5:123 .* \+1\.500s .* refused +192\.0\.2\.5' \
    '\? 192\.0\.2\.6:123 +- +64 +0 +- +- +- +- .* unreachable +192\.0\.2\.6' \
    '! deny\.example\.org +- +- +0 +- .* +1 denied +deny\.example\.org'; do
	check "peers: a row like /$m/" grep -Eqx -- "$m" "$TMP/peers"
done
check "peers: aligned, the long address widening its column" \
	aligned_peers "$TMP/peers"
check "peers: no control character reaches the terminal" \
	sh -c "! LC_ALL=C grep -q '[[:cntrl:]]' '$TMP/peers'"

ctl -j -s all >"$TMP/all.json"
check "JSON of the fake: valid" jqt . "$TMP/all.json"
check "JSON: the odd name, escaped and decoded back" jqt '
	.peers.sources[0].name == "we\"ird\\name\n\u0001\u00e9\ufffd"' \
	"$TMP/all.json"
printf '"name": "we\\"ird\\\\name\\n\\u0001\303\251\\ufffd",\n' >"$TMP/want"
check "JSON: escaped as it should be, byte for byte" \
	grep -qF -f "$TMP/want" "$TMP/all.json"
check "JSON: the clock" jqt '.status.clock == {
	"reported": true, "control": true, "reference": "192.0.2.1:123",
	"stratum": 3, "leap": "none", "leap_armed": "none",
	"offset": 0.000012, "jitter": 0.000004, "last_correction": 0.0000204,
	"since_update": 14, "updates": 19, "steps": 1,
	"frequency_ppm": -12.408, "skew_ppm": 0.084, "root_delay": 0.02431,
	"root_dispersion": 0.00182, "tolerance": 0.5, "refused": 2,
	"last_refused": 1.5}' "$TMP/all.json"
check "JSON: every state, and why the unusable are" jqt '
	[.peers.sources[].state] == ["syspeer", "combined", "candidate",
	    "falseticker", "refused", "unusable", "denied"] and
	.peers.sources[5].why == ["unreachable"] and
	.peers.sources[6].address == null and .peers.sources[6].poll == null and
	.peers.sources[6].offset == null and .peers.sources[6].stratum == null and
	.peers.selection.system_peer == "192.0.2.1:123"' "$TMP/all.json"
check "JSON: namespaces and clients" jqt '
	.clients.namespaces[0].clients == [
	    {"address": "127.0.0.1", "prefixlen": 32, "requests": 7, "limited": 1},
	    {"address": "127.0.0.2", "prefixlen": 32, "requests": 3, "limited": 0}]
	and .clients.namespaces[1].name == "tenant-a" and
	.clients.namespaces[1].clients == [] and
	.clients.namespaces[1].ratelimit == false and
	.status.processes[3].namespace == "tenant-a" and
	.status.processes[0].namespace == null' "$TMP/all.json"

ctl metrics >"$TMP/metrics"
check "metrics of the fake: well-formed" valid_metrics "$TMP/metrics"
printf 'ntpd_source_reach{source="192.0.2.1:123",name="we\\"ird\\\\name\\n\001\303\251\357\277\275"} 255\n' \
	>"$TMP/want"
check "metrics: the odd name, escaped as the format wants" \
	grep -qxF -f "$TMP/want" "$TMP/metrics"
for line in 'ntpd_synchronised 1' 'ntpd_stratum 3' 'ntpd_leap 0' \
    'ntpd_offset_seconds 1.2e-05' 'ntpd_frequency_ratio -1.2408e-05' \
    'ntpd_clock_steps_total 1' 'ntpd_corrections_refused_total 2' \
    'ntpd_tolerance_seconds 0.5' 'ntpd_selection{status="ok"} 1' \
    'ntpd_source_state{source="192.0.2.5:123",name="192.0.2.5",state="refused"} 1' \
    'ntpd_source_state{source="deny.example.org",name="deny.example.org",state="denied"} 1' \
    'ntpd_source_kod_total{source="deny.example.org",name="deny.example.org"} 1' \
    'ntpd_server_ratelimited_total{netns="default"} 1' \
    'ntpd_server_clients{netns="default"} 2' \
    'ntpd_server_reporting{netns="tenant-a"} 0'; do
	check "metrics: $line" grep -qxF -- "$line" "$TMP/metrics"
done
check "metrics: no offset for a source without a sample" sh -c "
	! grep -q '^ntpd_source_offset_seconds{source=\"192.0.2.6:123\"' '$TMP/metrics'"

expect_check "check, synchronised, 3 usable: OK, the line as documented" 0 \
	'NTPD OK: offset \+0\.000012 s, 3 sources usable, stratum 3 \| offset=0\.000012s;0\.050;0\.200 sources=3;2:; stratum=3'
expect_check "check -m 4: WARNING" 1 \
	'NTPD WARNING: 3 usable sources, fewer than 4; offset \+0\.000012 s, 3 sources usable, stratum 3 \| offset=0\.000012s;0\.050;0\.200 sources=3;4:; stratum=3' \
	-m 4
expect_check "check -M 4: CRITICAL" 2 \
	'NTPD CRITICAL: 3 usable sources, fewer than 4; .* sources=3;2:;4: stratum=3' \
	-M 4
expect_check "check -w 0.01: WARNING" 1 \
	'NTPD WARNING: offset \+0\.000012 s beyond 0\.00001 s; .* \| offset=0\.000012s;0\.00001;0\.200 .*' \
	-w 0.01
expect_check "check -c 0.01: CRITICAL" 2 \
	'NTPD CRITICAL: offset \+0\.000012 s beyond 0\.00001 s; .*' -c 0.01

scenario offset-warn
expect_check "check, offset 100 ms: WARNING" 1 \
	'NTPD WARNING: offset \+0\.100000 s beyond 0\.050 s; offset \+0\.100000 s, 3 sources usable, stratum 3 \| offset=0\.100000s;0\.050;0\.200 sources=3;2:; stratum=3'
expect_check "check, offset 100 ms, -w 150: OK" 0 'NTPD OK: .*' -w 150
scenario offset-crit
expect_check "check, offset -300 ms: CRITICAL" 2 \
	'NTPD CRITICAL: offset -0\.300000 s beyond 0\.200 s; offset -0\.300000 s, .* \| offset=-0\.300000s;0\.050;0\.200 .*'

scenario leap
ctl -s status >"$TMP/status"
check "status: a leap second, armed" grep -qxF \
	'leap:            a second inserted at the end of the day, insertion armed in the kernel' \
	"$TMP/status"
expect_check "check, leap second announced: CRITICAL" 2 \
	'NTPD CRITICAL: leap insert; offset \+0\.000012 s, .*'
expect_check "check -l warning: WARNING" 1 'NTPD WARNING: leap insert; .*' \
	-l warning
expect_check "check -l ok: OK" 0 'NTPD OK: .*' -l ok

scenario unreported
ctl -s status >"$TMP/status"
for label in 'clock control' reference stratum leap 'last correction' \
    'last update' frequency skew 'root delay' 'root dispersion' tolerance; do
	check "status, discipline not reported: $label -" \
		grep -Eqx "$label: +-" "$TMP/status"
done
check "status, discipline not reported: the offset still shown" \
	grep -qx 'offset: *+12.0us, jitter 4.0us' "$TMP/status"
ctl -j -s status >"$TMP/status.json"
check "JSON, discipline not reported: nulls" jqt '.clock |
	.reported == false and .control == null and .stratum == null and
	.leap == null and .frequency_ppm == null and .updates == null and
	.offset == 0.000012' "$TMP/status.json"
ctl metrics >"$TMP/metrics"
check "metrics, discipline not reported: announced, no sample" sh -c "
	grep -q '^# TYPE ntpd_stratum gauge' '$TMP/metrics' &&
	! grep -q '^ntpd_stratum ' '$TMP/metrics' &&
	! grep -q '^ntpd_frequency_ratio ' '$TMP/metrics' &&
	grep -qx 'ntpd_offset_seconds 1.2e-05' '$TMP/metrics'"
check "metrics, discipline not reported: well-formed" valid_metrics "$TMP/metrics"
expect_check "check, discipline not reported: stratum unknown" 2 \
	'NTPD CRITICAL: unsynchronised; offset \+0\.000012 s, 3 sources usable, stratum unknown \| offset=0\.000012s;0\.050;0\.200 sources=3;2:; stratum=U'

# Answers that must be refused, each for its own reason.
for c in "badsize:malformed status message from ntpd (111 bytes, not 112)" \
    "unterminated:unterminated user in an answer from ntpd" \
    "version:ntpd speaks control protocol 2, ntpctl 1" \
    "error:ntpd: boom" \
    "twice:two status messages in the answer"; do
	scenario "${c%%:*}"
	status_of "-s status, ${c%%:*}: status 1" 1 ctl -s status
	check "-s status, ${c%%:*}: \"${c#*:}\"" grep -qF -- "${c#*:}" "$TMP/err"
	check "-s status, ${c%%:*}: nothing on stdout" test ! -s "$TMP/out"
	expect_check "check, ${c%%:*}: UNKNOWN" 3 "NTPD UNKNOWN: .*"
	ctl metrics >"$TMP/metrics" 2>/dev/null
	check "metrics, ${c%%:*}: ntpd_up 0" grep -qx 'ntpd_up 0' "$TMP/metrics"
done
scenario silent
start=$(date +%s)
expect_check "check -t 1, a daemon that never answers: UNKNOWN" 3 \
	'NTPD UNKNOWN: no answer from ntpd within 1 s' -t 1
check "and it gave up in time" test $(($(date +%s) - start)) -le 3
finish
