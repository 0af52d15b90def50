#!/bin/sh
# ntpd -S and chronyd under clknetsim (github.com/mlichvar/clknetsim), in
# the scenarios of make bench-sim, each daemon with the same seeds: a
# simulated day per scenario and seed, figures from 1000 s on, means over
# the seeds, and the issue's figures for chrony 4.3 below.  It prints,
# it asserts nothing.
#
#   CLKNETSIM_PATH=DIR regress/sim/clknetsim.sh [-v] [-n seeds]
#       [-s first_seed] [-S scenario]
#
# DIR holds a built clknetsim (clknetsim and clknetsim.so); nothing is
# built here.  ntpd is $NTPD, or $O/ntpd (O=build) of this tree; chronyd
# is $CHRONYD, or the first found of chronyd on PATH, /usr/sbin/chronyd
# and build/ext/chrony (make peers); without one, only ntpd's rows.
# -v adds a row per seed.
#
# A seed is clknetsim's CLKNETSIM_RANDOM_SEED, for its server (clock
# wander, network delays) and its clients (their random()).  The wander
# and the delays come from one stream, so two daemons that send at
# different times see the same seed differently: the same conditions,
# not the same numbers.
#
# Every node runs as nobody, without CAP_SYS_TIME, when this runs as
# root: ntpd -S refuses root, and no daemon here may reach the real
# clock.  The servers are chronyd with "local stratum 1", as in
# clknetsim's examples; nodes 1..k are the servers, k+1 the client.
#
# Figures, of the client's true offset (clknetsim -o) and frequency
# error (-f: the kernel's frequency and slews included) at each second:
#   rms, max |offset|, mean, spread (RMS about the mean), rms freq err:
#       from 1000 s on;
#   <1ms from, <100us from: the second from which |offset| stays below,
#       "never" when it does not by the end (",N!": N seeds never);
#   steps: the offset moving by over 90 ms in one second, which no slew
#       does (chronyd slews at 83 ms/s at most, ntpd at 0.5 ms/s);
#   first step: the whole second it first shows at (the log's line n is
#       second n - 1), so it came in the second before; after step:
#       |offset| then;
#   liar sel.: seeds in which the falseticker was ever the system peer
#       (ntpd -v's "system peer", chronyd's "Selected source").
set -eu

usage() {
	echo "usage: CLKNETSIM_PATH=DIR $0 [-v] [-n seeds] [-s first_seed]" \
	    "[-S scenario]" >&2
	exit 1
}

SEEDS=20
SEED0=1
ONLY=""
VERBOSE=0
while getopts n:s:S:v opt; do
	case $opt in
	n) SEEDS=$OPTARG ;;
	s) SEED0=$OPTARG ;;
	S) ONLY=$OPTARG ;;
	v) VERBOSE=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage
case "$SEEDS$SEED0" in
*[!0-9]*) usage ;;
esac
[ "$SEEDS" -gt 0 ] || usage

if [ -z "${CLKNETSIM_PATH:-}" ]; then
	echo "$0: set CLKNETSIM_PATH to a built clknetsim's directory" >&2
	exit 1
fi
SIM=$CLKNETSIM_PATH/clknetsim
PRELOAD=$CLKNETSIM_PATH/clknetsim.so
if [ ! -x "$SIM" ] || [ ! -f "$PRELOAD" ]; then
	echo "$0: no clknetsim and clknetsim.so in $CLKNETSIM_PATH" >&2
	exit 1
fi
case $SIM in
/*) ;;
*) SIM=$PWD/$SIM PRELOAD=$PWD/$PRELOAD ;;
esac

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NTPD=${NTPD:-$ROOT/${O:-build}/ntpd}
if [ ! -x "$NTPD" ]; then
	echo "$0: no $NTPD: make first" >&2
	exit 1
fi
if [ -z "${CHRONYD:-}" ]; then
	for c in "$(command -v chronyd || true)" /usr/sbin/chronyd \
	    "$ROOT/build/ext/chrony/usr/sbin/chronyd"; do
		if [ -n "$c" ] && [ -x "$c" ]; then
			CHRONYD=$c
			break
		fi
	done
fi
CHRONYD=${CHRONYD:-}

DAY=86400
WORK=$(mktemp -d /tmp/ntpd-clknetsim.XXXXXX)
PIDS=""
cleanup() {
	for p in $PIDS; do
		kill -KILL "$p" 2>/dev/null || true
	done
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
chmod 0755 "$WORK"
RUNAS=""
if [ "$(id -u)" -eq 0 ]; then
	chown nobody:nogroup "$WORK"
	RUNAS="setpriv --reuid=nobody --regid=nogroup --clear-groups
	    --inh-caps=-all --bounding-set=-sys_time"
fi

# scenario NAME: its parameters, as regress/sim/scenario.c has them, and
# the issue's figures for chrony 4.3 (REF_*, "-": none given).
scenario() {
	NSERVERS=1 OFFSET0=0.1 UP=100e-6 DOWN=100e-6 JITTER=10e-6 OPTS=""
	LIAR=0
	REF_RMS=- REF_MAX=- REF_SPREAD=- REF_STEPS=- REF_FIRST=- REF_LIAR=-
	REF_NOTE=""
	case $1 in
	lan)
		TITLE="LAN, 1 server, poll 6-10"
		REF_RMS=21e-6 REF_MAX=110e-6 ;;
	lan-poll4)
		TITLE="LAN, 1 server, poll 4"
		OPTS="minpoll 4 maxpoll 4"
		REF_RMS=2.6e-6 REF_MAX=12.5e-6 ;;
	wan)
		TITLE="WAN, 3 servers, 10/15 ms"
		NSERVERS=3 UP=10e-3 DOWN=15e-3 JITTER=1e-3
		REF_RMS=2.5e-3 REF_SPREAD=0.46e-3 REF_NOTE="bias -2.5 ms" ;;
	startup+5)
		TITLE="startup +5 s, iburst"
		OFFSET0=5 OPTS=iburst
		REF_STEPS=1 REF_FIRST=4.3 REF_NOTE="<100 us after the step" ;;
	startup-5)
		TITLE="startup -5 s, iburst"
		OFFSET0=-5 OPTS=iburst
		REF_STEPS=1 REF_FIRST=4.3 REF_NOTE="<100 us after the step" ;;
	falseticker)
		TITLE="LAN, 3 servers, one 2 s off"
		NSERVERS=3 LIAR=3
		REF_LIAR=never REF_NOTE="never selected" ;;
	*)
		return 1 ;;
	esac
}
SCENARIOS="lan lan-poll4 wan startup+5 startup-5 falseticker"
if [ -n "$ONLY" ]; then
	scenario "$ONLY" || { echo "$0: no scenario $ONLY" >&2; exit 1; }
	SCENARIOS=$ONLY
fi

# The network and the clocks: servers perfect but the liar, the client
# 10 ppm off with a random walk of 1e-9 s/s each second.
write_sim_conf() {
	c=$((NSERVERS + 1))
	{
		echo "node${c}_offset = $OFFSET0"
		echo "node${c}_freq = (+ 1e-5 (sum (* 1e-9 (normal))))"
		i=1
		while [ $i -le "$NSERVERS" ]; do
			[ $i -eq "$LIAR" ] && echo "node${i}_offset = 2"
			echo "node${c}_delay$i = (+ $UP (* $JITTER (exponential)))"
			echo "node${i}_delay$c = (+ $DOWN (* $JITTER (exponential)))"
			i=$((i + 1))
		done
	} >"$RUN/sim.conf"
}

# The client's policy, the same for both: makestep 0.1 3, no tolerance,
# one source enough, no drift file.
write_client_conf() {
	i=1
	{
		while [ $i -le "$NSERVERS" ]; do
			echo "server 192.168.123.$i $OPTS"
			i=$((i + 1))
		done
		echo "makestep 0.1 3"
		if [ "$1" = ntpd ]; then
			printf '%s\n' "tolerance none" "minsources 1" \
			    "driftfile none"
		else
			printf '%s\n' "pidfile $RUN/pid.client" "cmdport 0"
		fi
	} >"$RUN/client.conf"
}

# start NODE COMMAND...: one node of the simulation.
start() {
	node=$1
	shift
	# shellcheck disable=SC2086
	$RUNAS env LD_PRELOAD="$PRELOAD" CLKNETSIM_NODE="$node" \
	    CLKNETSIM_SOCKET="$RUN/sock" CLKNETSIM_RANDOM_SEED="$SEED" \
	    "$@" >"$RUN/log.$node" 2>&1 &
	PIDS="$PIDS $!"
}

# alive PID: running, not ended (a zombie has ended).
alive() {
	case $(ps -o stat= -p "$1" 2>/dev/null) in
	"" | Z*) return 1 ;;
	esac
}

# wait_sim PID: 0 once the simulation has ended; 1 when a node ended
# and the simulation did not within 5 s (a node that refused to start
# holds it forever), or it ran for ten minutes.
wait_sim() {
	i=0
	while alive "$1"; do
		i=$((i + 1))
		[ $i -gt 12000 ] && return 1
		if [ $((i % 20)) -eq 0 ]; then
			for p in $PIDS; do
				# At the day's end the nodes may go first.
				alive "$p" || { wait_gone "$1" 5; return; }
			done
		fi
		sleep 0.05
	done
}

# wait_gone PID SECONDS: 0 once it has ended, 1 on time-out.
wait_gone() {
	i=0
	while alive "$1"; do
		i=$((i + 1))
		[ $i -gt $(($2 * 20)) ] && return 1
		sleep 0.05
	done
}

# run WHO SEED: one simulated day; a line of figures to $WORK/results.
run() {
	who=$1
	SEED=$2
	RUN=$WORK/run
	rm -rf "$RUN"
	mkdir "$RUN"
	[ -z "$RUNAS" ] || chown nobody:nogroup "$RUN"
	write_sim_conf
	write_client_conf "$who"
	PIDS=""
	i=1
	while [ $i -le "$NSERVERS" ]; do
		printf '%s\n' "pidfile $RUN/pid.$i" "cmdport 0" \
		    "local stratum 1" "allow" >"$RUN/server.$i.conf"
		start $i "$CHRONYD_SERVER" -d -f "$RUN/server.$i.conf"
		i=$((i + 1))
	done
	c=$((NSERVERS + 1))
	if [ "$who" = ntpd ]; then
		start $c "$NTPD" -S -v -f "$RUN/client.conf"
	else
		start $c "$CHRONYD" -d -f "$RUN/client.conf"
	fi
	# shellcheck disable=SC2086
	$RUNAS env CLKNETSIM_RANDOM_SEED="$SEED" "$SIM" -s "$RUN/sock" \
	    -o "$RUN/offset" -f "$RUN/freq" -l $DAY "$RUN/sim.conf" $c \
	    >"$RUN/stats" 2>"$RUN/log" &
	simpid=$!
	if ! wait_sim $simpid; then
		kill -KILL $simpid 2>/dev/null || true
		echo "$0: $SCENARIO $who seed $SEED: no end; the logs:" >&2
		tail -n 5 "$RUN"/log* >&2
		exit 1
	fi
	if ! wait $simpid || [ "$(wc -l <"$RUN/offset")" -lt $DAY ]; then
		echo "$0: $SCENARIO $who seed $SEED: clknetsim failed:" >&2
		tail -n 5 "$RUN"/log* >&2
		exit 1
	fi
	for p in $PIDS; do
		wait_gone "$p" 5 || kill -KILL "$p" 2>/dev/null || true
	done
	PIDS=""
	liar=0
	if [ "$LIAR" -ne 0 ] && grep -Eq "(system peer|Selected source) \
192\.168\.123\.$LIAR([^0-9]|\$)" "$RUN/log.$c"; then
		liar=1
	fi
	paste "$RUN/offset" "$RUN/freq" | awk -v c=$c -v n=$c -v liar=$liar \
	    -v who="$who" -v seed="$SEED" -v sc="$SCENARIO" '
	BEGIN { bad1 = bad100 = first = after = -1 }
	{
		t = NR - 1
		off = $c
		f = $(n + c) * 1e6
		a = off < 0 ? -off : off
		if (NR > 1 && (off - prev > 0.09 || prev - off > 0.09)) {
			steps++
			if (first < 0) {
				first = t
				after = a
			}
		}
		prev = off
		if (a >= 1e-3)
			bad1 = t
		if (a >= 1e-4)
			bad100 = t
		if (t < 1000)
			next
		k++
		sum += off
		sumsq += off * off
		fsumsq += f * f
		if (a > max)
			max = a
	}
	function settled(bad) {
		return bad < 0 ? 0 : bad >= NR - 1 ? -1 : bad + 1
	}
	END {
		mean = sum / k
		spread = sumsq / k - mean * mean
		printf "%s %s %s %.9g %.9g %.9g %.9g %.9g %d %d %d %d %.9g %d\n",
		    sc, who, seed, sqrt(sumsq / k), max, mean,
		    sqrt(spread > 0 ? spread : 0), sqrt(fsumsq / k),
		    settled(bad1), settled(bad100), steps, first, after, liar
	}' >>"$WORK/results"
}

# The table: rows of means in make bench-sim's layout (regress/sim/main.c).
report() {
	awk -v verbose="$VERBOSE" '
	function fmt_s(s,   a) {
		if (s == "-" || s == "")
			return "-"
		a = s < 0 ? -s : s
		if (a < 1e-3)
			return sprintf("%.1f us", s * 1e6)
		if (a < 1)
			return sprintf("%.3f ms", s * 1e3)
		return sprintf("%.1f s", s)
	}
	function settle(sum, n, never) {
		if (never == n)
			return "never"
		if (never > 0)
			return fmt_s(sum / (n - never)) "," never "!"
		return fmt_s(sum / n)
	}
	function row(name, who, c, note,   i) {
		printf "%-11s %-10s", name, who
		for (i = 1; i <= 11; i++)
			printf " %*s", width[i], c[i]
		printf "%s\n", note != "" ? "  " note : ""
	}
	function flush(name, who,   c) {
		c[1] = fmt_s(rms / n); c[2] = fmt_s(max / n)
		c[3] = fmt_s(mean / n); c[4] = fmt_s(spread / n)
		c[5] = sprintf("%.4f ppm", freq / n)
		c[6] = settle(s1, n, never1); c[7] = settle(s100, n, never100)
		c[8] = sprintf("%.2f", steps / n)
		c[9] = stepped ? fmt_s(first / stepped) : "-"
		c[10] = stepped ? fmt_s(after / stepped) : "-"
		c[11] = liar "/" n
		row(name, who, c, "")
		n = rms = max = mean = spread = freq = s1 = s100 = 0
		never1 = never100 = steps = first = after = stepped = liar = 0
	}
	BEGIN {
		split("10 12 11 10 12 11 11 5 10 10 9", width, " ")
		split("rms offset;max |offset|;mean offset;spread;" \
		    "rms freq err;<1ms from;<100us from;steps;first step;" \
		    "after step;liar sel.", head, ";")
		row("scenario", "who", head, "")
	}
	$1 == "ref" {
		for (i = 1; i <= 11; i++)
			c[i] = "-"
		c[1] = fmt_s($3); c[2] = fmt_s($4); c[4] = fmt_s($5)
		c[8] = $6; c[9] = fmt_s($7); c[11] = $8
		note = ""
		for (i = 10; i <= NF; i++)
			note = note (i > 10 ? " " : "") $i
		row("", "issue", c, note)
		next
	}
	$1 == "title" {
		sub(/^title /, "")
		printf "%-22s %s\n\n", "", $0
		next
	}
	$1 == "end" {
		flush($2, $3)
		next
	}
	{
		if (verbose) {
			split("", c)
			c[1] = fmt_s($4); c[2] = fmt_s($5); c[3] = fmt_s($6)
			c[4] = fmt_s($7); c[5] = sprintf("%.4f ppm", $8)
			c[6] = $9 < 0 ? "never" : fmt_s($9)
			c[7] = $10 < 0 ? "never" : fmt_s($10)
			c[8] = $11; c[9] = $12 < 0 ? "-" : fmt_s($12)
			c[10] = $12 < 0 ? "-" : fmt_s($13); c[11] = $14 "/1"
			row($1, $2 " #" $3, c, "")
		}
		n++; rms += $4; max += $5; mean += $6; spread += $7; freq += $8
		if ($9 < 0) never1++; else s1 += $9
		if ($10 < 0) never100++; else s100 += $10
		steps += $11
		if ($12 >= 0) { first += $12; after += $13; stepped++ }
		liar += $14
	}'
}

CHRONYD_SERVER=$CHRONYD
if [ -z "$CHRONYD_SERVER" ]; then
	echo "$0: the servers are chronyd, and there is none:" \
	    "apt-get install chrony, or set CHRONYD" >&2
	exit 1
fi
WHO="ntpd chronyd"
chrony_version=$("$CHRONYD" -v 2>/dev/null | awk '{ print $4; exit }')
start_s=$(date +%s)
echo "ntpd -S and chronyd $chrony_version ($CHRONYD) under clknetsim," \
    "$SEEDS seeds from $SEED0; figures from 1000 s on, means over seeds" \
    "(\",N!\": N seeds never got there)"
echo
: >"$WORK/results"
for SCENARIO in $SCENARIOS; do
	scenario "$SCENARIO"
	for who in $WHO; do
		seed=$SEED0
		while [ "$seed" -lt $((SEED0 + SEEDS)) ]; do
			run "$who" "$seed"
			seed=$((seed + 1))
		done
		echo "end $SCENARIO $who" >>"$WORK/results"
	done
	echo "ref $SCENARIO $REF_RMS $REF_MAX $REF_SPREAD $REF_STEPS" \
	    "$REF_FIRST $REF_LIAR x $REF_NOTE" >>"$WORK/results"
	echo "title $TITLE" >>"$WORK/results"
done
report <"$WORK/results"
echo "rms freq err is clknetsim's: the kernel's frequency with the slews" \
    "under way (ntpd's at 500 ppm); first step: the whole second it shows at"
echo "$(($(date +%s) - start_s)) s of simulating"
