#!/bin/sh
# Serving benchmark: our server process against chronyd under the same
# open-loop load, in the same run.  Figures are printed, not asserted.
#
#	sh regress/bench/serve-bench.sh		(as root, after make)
#
# Two network namespaces joined by a veth pair:
#
#   server ns  10.252.0.1/24 (the VIP) --veth-- 10.252.0.2/24  client ns
#                                               10.253.0.1 ... on lo,
#                                               one per load socket
#
# Each server in turn serves the VIP (ours: a namespace block with
# "allow all", "ratelimit off", "local stratum 2"; chronyd -x with "allow
# all", "local stratum 2" and no ratelimit) with its serving process
# pinned to CPU 1, and build/bench/ntpload, pinned to CPU 0, sweeps the
# rates in RATES (STEP_MS each) until more than 1% of the requests go
# unanswered.  A step that fails, or that other work on the machine
# disturbed, is tried again (three times at most), so that one hiccup
# does not end the sweep; the rate between the best pass and the failure
# is then tried too.  Finally a saturating run
# (SAT_MS, at the lowest failing rate the generator kept up with, times
# SAT_FACTOR; else at the highest it reached) gives replies per
# CPU-second of the server process: replies over its CPU time during
# that run (see cpu_ns below).  Replies per CPU-second at the highest
# rate both servers passed are shown too: their cost at equal load.
#
# On veth, the receive path of each request runs in the softirq of the
# sender's sendmmsg (CPU 0), and that of each reply in the server's
# sendmmsg (CPU 1, charged to the server: about a third of its CPU time):
# the same for both servers, so the ratio between them is compressed.
#
# Environment: O (build dir), NTPD (the binary to measure), SOURCES,
# STEP_MS, SAT_MS, SAT_FACTOR, RATES, MODERATE (the rate whose latency is
# shown beside the best), CHRONYD (path; no chronyd run when missing).
# The server process and the load run at nice -19 (and in autogroups at
# nice -19), to keep other work on the machine from taking their CPUs.
# Every daemon runs under setpriv --bounding-set=-sys_time (chronyd also
# with -x): neither can change this machine's clock.  Only processes
# started here are signalled, by PID; the namespaces are removed on exit.
set -eu

: "${O:=build}"
: "${SOURCES:=256}"
: "${STEP_MS:=2500}"
: "${SAT_MS:=4000}"
: "${SAT_FACTOR:=1}"
: "${RATES:=25000 50000 100000 150000 200000 250000 300000 350000 400000 500000 600000 700000 800000 1000000}"
: "${MODERATE:=50000}"
: "${CHRONYD:=$PWD/build/ext/chrony/usr/sbin/chronyd}"

NTPD=${NTPD:-$PWD/$O/ntpd}
LOAD="$PWD/$O/bench/ntpload"
VIP=10.252.0.1
SRC=10.253.0.1
SERVER_CPU=1
LOAD_CPU=0
NICE=-19	# the server and the load ahead of anything else on the machine

if [ "$(id -u)" -ne 0 ]; then
	echo "serve-bench: needs root (network namespaces)" >&2
	exit 1
fi
if [ ! -x "$NTPD" ]; then
	echo "serve-bench: no $NTPD: run make first" >&2
	exit 1
fi
# The Makefile's rule for $(O)/bench/% builds it with the project's flags.
make -s O="$O" "$O/bench/ntpload"

TMP=$(mktemp -d /tmp/ntpd-bench.XXXXXX)
chmod 0755 "$TMP"
: >"$TMP/steps"
NS_S="ntpb$$s"
NS_C="ntpb$$c"
NETNS_MADE=""
PIDS=""

cleanup() {
	for pid in $PIDS; do
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null || true
			i=0
			while kill -0 "$pid" 2>/dev/null && [ $i -lt 20 ]; do
				sleep 0.1
				i=$((i + 1))
			done
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done
	for ns in $NETNS_MADE; do
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# stop PID: end a daemon started here and wait for it.
stop() {
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	PIDS=$(echo "$PIDS" | sed "s/ $1\$//; s/ $1 / /")
}

# --- Is the machine quiet? -------------------------------------------------
# Other work on these two CPUs takes time from the server and makes its
# socket overflow: say so, as the figures will be noisy.
s0=$(grep '^cpu[01] ' /proc/stat)
sleep 1
bg=$({ echo "$s0"; grep '^cpu[01] ' /proc/stat; } | awk '{
	busy = $2 + $3 + $4 + $7 + $8; all = busy + $5 + $6
	if ($1 in b) printf "%s%.0f%%", n++ ? " " : "",
	    100 * (busy - b[$1]) / (all - a[$1])
	b[$1] = busy; a[$1] = all }')
echo "busy before the run: $bg (CPU 0, CPU 1)"
if echo "$bg" | awk '{ for (i = 1; i <= NF; i++) if ($i + 0 > 5) exit 0
    exit 1 }'; then
	echo "serve-bench: warning: the machine is not idle; figures will be" \
	    "noisy" >&2
fi

# --- Topology -------------------------------------------------------------
for ns in "$NS_S" "$NS_C"; do
	ip netns add "$ns"
	NETNS_MADE="$NETNS_MADE $ns"
	ip -n "$ns" link set lo up
done
ip link add "nb$$s" netns "$NS_S" type veth peer name "nb$$c" netns "$NS_C"
ip -n "$NS_S" addr add "$VIP/24" dev "nb$$s"
ip -n "$NS_C" addr add 10.252.0.2/24 dev "nb$$c"
ip -n "$NS_S" link set "nb$$s" up
ip -n "$NS_C" link set "nb$$c" up
ip -n "$NS_S" route add 10.253.0.0/16 via 10.252.0.2
# The sources 10.253.0.1 and up, as host addresses in the client ns.
awk -v n="$SOURCES" 'BEGIN { for (i = 1; i <= n; i++)
	printf "address add 10.253.%d.%d/32 dev lo\n", int(i / 256), i % 256 }' |
	ip -n "$NS_C" -batch -

# --- Measuring ------------------------------------------------------------
# cpu_ns PID: CPU time of all the process's threads, in nanoseconds, from
# the scheduler's own accounting (/proc/PID/task/*/schedstat).  utime +
# stime in /proc/PID/stat are sampled at the tick, which misses or
# overcounts a process that runs for microseconds at a time; they are
# kept (srv_tick_s) to compare.
cpu_ns() {
	cat "/proc/$1"/task/*/schedstat |
	    awk '{ s += $1 } END { printf "%.0f\n", s }'
}

cpu_ticks() {
	sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# cpu_jiffies N: "busy all" jiffies of CPU N, from /proc/stat.
cpu_jiffies() {
	awk -v c="cpu$1" '$1 == c { b = $2 + $3 + $4 + $7 + $8 + $9
	    print b, b + $5 + $6 }' /proc/stat
}

# udp_drops NS: datagrams the namespace dropped at full UDP sockets.
udp_drops() {
	ip netns exec "$1" cat /proc/net/snmp | awk '$1 == "Udp:" {
		if (!n) { for (i = 2; i <= NF; i++) if ($i == "RcvbufErrors")
		    c = i; n = 1 } else print $c }'
}

# field LINE KEY: a value from an ntpload line.
field() {
	echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# load PID RATE MS: one ntpload run against the server process PID; its
# line, with appended: the server's CPU seconds, utilisation and replies
# per CPU-second, the requests dropped at its full socket, and the share
# of the server's CPU that went to anything else (cpu_other).
load() {
	c0=$(cpu_ns "$1")
	t0=$(cpu_ticks "$1")
	d0=$(udp_drops "$NS_S")
	j0=$(cpu_jiffies "$SERVER_CPU")
	w0=$(date +%s%N)
	# shellcheck disable=SC2016 # expanded by the inner sh
	line=$(ip netns exec "$NS_C" setsid -w sh -c \
	    'echo "$1" >/proc/self/autogroup; shift; exec "$@"' sh "$NICE" \
	    taskset -c "$LOAD_CPU" "$LOAD" -n "$SOURCES" -r "$2" -d "$3" \
	    "$SRC" "$VIP")
	w1=$(date +%s%N)
	c1=$(cpu_ns "$1")
	t1=$(cpu_ticks "$1")
	d1=$(udp_drops "$NS_S")
	j1=$(cpu_jiffies "$SERVER_CPU")
	echo "$line" | awk -v c="$((c1 - c0))" -v t="$((t1 - t0))" \
	    -v hz="$(getconf CLK_TCK)" -v w="$((w1 - w0))" \
	    -v d="$((d1 - d0))" -v j="$j0 $j1" '{ s = c / 1e9; r = $0
	    sub(/.*received=/, "", r); sub(/ .*/, "", r)
	    split(j, a, " "); u = s / (w / 1e9)
	    o = a[4] > a[2] ? (a[3] - a[1]) / (a[4] - a[2]) - u : 0
	    printf "%s srv_cpu_s=%.3f srv_tick_s=%.2f srv_util=%.2f " \
	    "per_cpu_s=%.0f srv_drops=%d cpu_other=%.2f\n", $0, s, t / hz,
	    u, (s > 0 ? r / s : 0), d, (o > 0 ? o : 0) }'
}

# disturbed LINE: did other work take a tenth of the server's CPU?
disturbed() {
	awk -v o="$(field "$1" cpu_other)" 'BEGIN { exit !(o > 0.1) }'
}

# try PID RATE MS: load; a failure is tried once more, or up to three
# times in all while other work on the machine disturbs it.  In LINE.
try() {
	n=0
	while :; do
		line=$(load "$@")
		n=$((n + 1))
		show "$name" "$line"
		if [ $n -ge 3 ] || passes "$line"; then
			break
		fi
		if [ $n -ge 2 ] && ! disturbed "$line"; then
			break
		fi
	done
	LINE=$line
}

# boost PID: the process and its threads at nice NICE, and its session's
# autogroup too: with autogroups, a nice value only counts within the
# session, and other sessions share the CPU equally whatever their nice.
# Each daemon and each load run has a session of its own (setsid).
boost() {
	echo "$NICE" >"/proc/$1/autogroup"
	for t in /proc/"$1"/task/*; do
		renice -n "$NICE" -p "${t##*/}" >/dev/null
	done
}

# ready: wait until the VIP answers.
ready() {
	i=0
	while :; do
		line=$(ip netns exec "$NS_C" "$LOAD" -n 1 -r 100 -d 50 -w 100 \
		    "$SRC" "$VIP" 2>/dev/null) || true
		[ "$(field "$line" received)" -gt 0 ] 2>/dev/null && return 0
		i=$((i + 1))
		[ $i -gt 50 ] && return 1
		sleep 0.1
	done
}

passes() {
	awk -v l="$(field "$1" loss_pct)" 'BEGIN { exit !(l <= 1.0) }'
}

show() {
	printf '  %-7s %7s/s: %7s replies/s loss %6s%% (%s at server) ' \
	    "$1" "$(field "$2" rate)" "$(field "$2" reply_rate)" \
	    "$(field "$2" loss_pct)" "$(field "$2" srv_drops)"
	printf 'p50 %6s p99 %7s us, cpu %s: %s/cpu-s%s%s\n' \
	    "$(field "$2" p50_us)" "$(field "$2" p99_us)" \
	    "$(field "$2" srv_util)" "$(field "$2" per_cpu_s)" \
	    "$([ "$(field "$2" keepup)" = 1 ] || echo ' (generator behind)')" \
	    "$(! disturbed "$2" || echo " (disturbed: $(field "$2" \
	    cpu_other) of CPU $SERVER_CPU went elsewhere)")"
	echo "$1 $2" >>"$TMP/raw"
}

# bench NAME PID: the sweep, then the saturating run; one line of
# results in $TMP/results, and every passing step in $TMP/steps.
bench() {
	name=$1
	pid=$2
	best="" fail="" moderate="" satrate=""
	for r in $RATES; do
		try "$pid" "$r" "$STEP_MS"
		line=$LINE
		if passes "$line"; then
			best=$line
			[ "$r" = "$MODERATE" ] && moderate=$line
			echo "$name $r $(field "$line" per_cpu_s)" >>"$TMP/steps"
		else
			fail=$line
			[ "$(field "$line" keepup)" = 1 ] && satrate=$r
			break
		fi
	done
	if [ -n "$best" ] && [ -n "$fail" ]; then
		lo=$(field "$best" rate)
		hi=$(field "$fail" rate)
		mid=$(((lo + hi) / 2))
		if [ $((hi - lo)) -gt $((lo / 10)) ]; then
			try "$pid" "$mid" "$STEP_MS"
			line=$LINE
			if passes "$line"; then
				best=$line
			elif [ "$(field "$line" keepup)" = 1 ]; then
				satrate=$mid
			fi
		fi
	fi
	# Over the server's limit, if the generator could get there; else
	# as far as the generator goes (the server's CPU use then shows).
	[ -n "$satrate" ] || satrate=$(field "$best" rate)
	satrate=$(awk -v r="$satrate" -v f="$SAT_FACTOR" \
	    'BEGIN { printf "%d", r * f }')
	n=0
	while :; do
		satline=$(load "$pid" "$satrate" "$SAT_MS")
		show "$name" "$satline"
		n=$((n + 1))
		if [ $n -ge 3 ] || ! disturbed "$satline"; then
			break
		fi
	done
	gen=""
	[ -z "$fail" ] || [ "$(field "$fail" keepup)" = 1 ] || gen=gen
	echo "$name|${best:-none}|${moderate:-none}|$satline|${fail:+x}$gen" \
	    >>"$TMP/results"
}

# --- Our server -----------------------------------------------------------
cat >"$TMP/ntpd.conf" <<EOF
socket "$TMP/ntpd.sock"
audit none
rtc none
lastknown none
namespace $NS_S {
	listen on $VIP
	allow all
	ratelimit off
	local stratum 2
}
EOF
setsid setpriv --bounding-set=-sys_time "$NTPD" -d -f "$TMP/ntpd.conf" \
    >"$TMP/ntpd.log" 2>&1 &
ntpd=$!
PIDS="$PIDS $ntpd"
srv=""
i=0
while [ -z "$srv" ]; do
	# "ntpd: server [NAME]", after the binary's name.
	for p in $(ps -o pid= --ppid "$ntpd"); do
		case $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null |
		    sed 's/ *$//') in
		*": server [$NS_S]")
			srv=$p
			;;
		esac
	done
	i=$((i + 1))
	if [ -z "$srv" ] && { [ $i -gt 100 ] || ! kill -0 "$ntpd"; }; then
		echo "serve-bench: ntpd did not start; its log:" >&2
		cat "$TMP/ntpd.log" >&2
		exit 1
	fi
	[ -n "$srv" ] || sleep 0.05
done
taskset -pc "$SERVER_CPU" "$srv" >/dev/null
boost "$srv"
if ! ready; then
	echo "serve-bench: ntpd does not answer on $VIP" >&2
	cat "$TMP/ntpd.log" >&2
	exit 1
fi
echo "ntpd: server process $srv on CPU $SERVER_CPU, load on CPU $LOAD_CPU," \
    "$SOURCES sources, $STEP_MS ms steps"
bench ntpd "$srv"
stop "$ntpd"

# --- chronyd --------------------------------------------------------------
if [ -x "$CHRONYD" ]; then
	cat >"$TMP/chrony.conf" <<EOF
allow all
local stratum 2
bindaddress $VIP
port 123
cmdport 0
bindcmdaddress /
pidfile $TMP/chronyd.pid
EOF
	# ip netns exec, setsid (not a group leader) and setpriv all exec:
	# $! is chronyd itself.
	ip netns exec "$NS_S" setsid setpriv --bounding-set=-sys_time \
	    "$CHRONYD" -u root -x -d -f "$TMP/chrony.conf" \
	    >"$TMP/chronyd.log" 2>&1 &
	chronyd=$!
	PIDS="$PIDS $chronyd"
	if ! ready || [ "$(cat "/proc/$chronyd/comm")" != chronyd ]; then
		echo "serve-bench: chronyd does not answer on $VIP" >&2
		cat "$TMP/chronyd.log" >&2
		exit 1
	fi
	taskset -apc "$SERVER_CPU" "$chronyd" >/dev/null
	boost "$chronyd"
	echo "chronyd $("$CHRONYD" -v | sed -n 's/.*version \([^ ]*\).*/\1/p'):" \
	    "pid $chronyd on CPU $SERVER_CPU"
	bench chronyd "$chronyd"
	stop "$chronyd"
else
	echo "chronyd: not found at $CHRONYD (make deps unpacks it); skipped"
fi

# --- Table ----------------------------------------------------------------
# The highest step rate both servers passed: their CPU at equal load.
common=$(awk '{ n[$2]++ } END { for (r in n) if (n[r] > 1 && r + 0 > m)
	m = r + 0; print m + 0 }' "$TMP/steps")
percpu_at() {
	awk -v n="$1" -v r="$common" '$1 == n && $2 == r { print $3 }' \
	    "$TMP/steps"
}
echo
printf '%-8s %11s %15s %13s %17s %17s\n' server "max rate" \
    "replies/CPU-s" "replies/CPU-s" "p50 / p99 us" "p50 / p99 us"
if [ "$common" -gt 0 ]; then
	atcommon="at $common/s"
else
	atcommon="-"
fi
printf '%-8s %11s %15s %13s %17s %17s\n' "" "<1% loss" "saturated" \
    "$atcommon" "at $MODERATE/s" "at max rate"
while IFS='|' read -r name best moderate sat failed; do
	if [ "$best" = none ]; then
		max="none"
		atmax="-"
	else
		max=$(field "$best" reply_rate)
		[ -n "$failed" ] || max=">=$max"
		[ "$failed" != xgen ] || max="$max*"
		atmax="$(field "$best" p50_us) / $(field "$best" p99_us)"
	fi
	atmod="-"
	[ "$moderate" = none ] ||
	    atmod="$(field "$moderate" p50_us) / $(field "$moderate" p99_us)"
	percpu=$(percpu_at "$name")
	printf '%-8s %11s %15s %13s %17s %17s\n' "$name" "$max" \
	    "$(field "$sat" per_cpu_s) ($(field "$sat" srv_util))" \
	    "${percpu:--}" "$atmod" "$atmax"
	echo "$name $(field "$sat" per_cpu_s) $(percpu_at "$name")" \
	    >>"$TMP/percpu"
done <"$TMP/results"
echo "(saturated: the saturating run, the server's CPU use in brackets;" \
    "* the generator, not the server, fell behind at the next step)"
if grep -q '^chronyd ' "$TMP/percpu"; then
	awk '{ s[$1] = $2; c[$1] = $3 } END {
		if (s["chronyd"] > 0)
			printf "ntpd/chronyd per CPU-second: %.2f saturated", \
			    s["ntpd"] / s["chronyd"]
		if (c["chronyd"] > 0)
			printf ", %.2f at equal load", c["ntpd"] / c["chronyd"]
		printf "\n" }' "$TMP/percpu"
fi
