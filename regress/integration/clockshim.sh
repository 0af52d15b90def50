#!/bin/sh
# The clock shim and its model: clockshim.so gives a process a virtual
# kernel clock and logs each change; fakentp -c serves the time that a
# clock so driven would be off by.  Nothing here can move the clock:
# every process that calls a clock function runs without CAP_SYS_TIME.
# shellcheck source=regress/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_root

SHIM="$PWD/$O/regress/clockshim.so"
SHIMTEST="$PWD/$O/regress/shimtest"
FAKENTP="$PWD/$O/regress/fakentp"
PROBE="$PWD/$O/regress/ntpprobe"
LOG="$TMP/clock.log"
RTC="$TMP/rtc"
OUT="$TMP/out"
# Ports of this run's own, on loopback.
PORT=$((20000 + $$ % 10000))

for f in "$SHIM" "$SHIMTEST" "$FAKENTP" "$PROBE"; do
	if [ ! -x "$f" ]; then
		echo "FAIL: $TEST_NAME: no $f (make integration-check)" >&2
		exit 1
	fi
done

# shim ARGS...: shimtest under the shim, with the log and the fake RTC.
shim() {
	setpriv --bounding-set=-sys_time env LD_PRELOAD="$SHIM" \
	    NTPD_CLOCKSHIM="$LOG" NTPD_CLOCKSHIM_FREQ=12.5 \
	    NTPD_CLOCKSHIM_RTC="$RTC" "$SHIMTEST" "$@"
}

# out N: line N of the last session's output.
out() {
	sed -n "${1}p" "$OUT"
}

# expect N REGEX DESC: line N of the output matches (grep -E).
expect() {
	got=$(out "$1")
	check "$3 (got \"$got\")" sh -c 'printf "%s\n" "$1" | grep -Eq "$2"' \
	    sh "$got" "$2"
}

# field N NAME: a NAME=value of output line N.
field() {
	out "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# within VALUE LOW HIGH: LOW <= VALUE <= HIGH, as numbers.
within() {
	awk -v v="$1" -v lo="$2" -v hi="$3" \
	    'BEGIN { exit !(v != "" && v + 0 >= lo + 0 && v + 0 <= hi + 0) }'
}

# expect_in N NAME LOW HIGH DESC
expect_in() {
	v=$(field "$1" "$2")
	check "$5 ($2=$v, want $3..$4)" within "$v" "$3" "$4"
}

now_ns() {
	date +%s%N
}

# --- The shim's virtual kernel ---------------------------------------------
rtc_written=$(($(date +%s) - 10))
echo "1700000000 $rtc_written" >"$RTC"
: >"$TMP/notrtc"
t_start=$(now_ns)
shim adj \
	adj,modes=0x2,freq=-3.25 \
	adj,modes=0x2,freq=900 \
	adj,modes=0x2,freq=3000000 \
	adj,modes=0x2,freq=-3.25 \
	adj,modes=0x8001,offset=1500 \
	adj,modes=0x8001,offset=-2000 \
	adj,modes=0xa001 \
	adj,modes=0x1,offset=5 \
	adj,modes=0x8000,offset=5 \
	adj,modes=0x100,sec=2,usec=500000 \
	adj,modes=0x2100,sec=-1,usec=250000000 \
	adj,modes=0x100,usec=1000000 \
	adj,modes=0x100,sec=-1,usec=-1 \
	adj,modes=0x1000 \
	adj,modes=0x10,status=0x11 \
	adj,modes=0xc,maxerror=1000,esterror=20 \
	sleep,ms=1100 \
	adj \
	adj,modes=0x10,status=0x1 \
	adj,modes=0x8003,offset=10,freq=99 \
	adj,modes=0x4000 \
	adj,clock=1 \
	settime \
	settimeofday \
	adjtimex,modes=0x2,freq=7 \
	ntp_adjtime,modes=0x8,esterror=-5 \
	adjtime,delta=-2500000 \
	adjtime \
	adjtime,delta=3000000000 \
	"rtcread,path=$RTC" \
	"rtcset,path=$RTC,time=1600000000" \
	"rtcread,path=$RTC" \
	"rtcread,path=$TMP/notrtc" \
	>"$OUT" 2>"$TMP/err" || true
t_end=$(now_ns)
check "shimtest ran every command ($(wc -l <"$OUT") lines, $(cat "$TMP/err"))" \
	test "$(wc -l <"$OUT")" -eq 33

fresh='^adj ret=5 errno=0 offset=0 freq=12\.500000 status=0x0040 '
fresh="${fresh}maxerror=16000000 esterror=16000000 "
expect 1 "$fresh" \
	"a fresh kernel: NTPD_CLOCKSHIM_FREQ, unsynchronised, TIME_ERROR"
expect 2 '^adj ret=5 errno=0 .* freq=-3\.250000 ' \
	"ADJ_FREQUENCY sets the frequency"
expect 3 ' freq=500\.000000 ' "a frequency over 500 ppm is clamped"
expect 4 '^adj ret=-1 errno=EINVAL ' "a frequency that overflows: EINVAL"
expect 6 '^adj ret=5 errno=0 offset=0 ' \
	"a first singleshot: nothing left of a previous one"
expect_in 7 offset 1490 1500 "a new singleshot returns what is left of the last"
expect_in 8 offset -2000 -1990 "ADJ_OFFSET_SS_READ reads what is left"
expect 9 '^adj ret=-1 errno=EPERM ' "ADJ_OFFSET (the PLL) is denied"
expect 10 '^adj ret=-1 errno=EINVAL ' "ADJ_ADJTIME without ADJ_OFFSET: EINVAL"
expect 11 '^adj ret=5 errno=0 ' "ADJ_SETOFFSET in microseconds"
expect 12 '^adj ret=5 errno=0 .* status=0x2040 ' \
	"ADJ_SETOFFSET|ADJ_NANO, which sets STA_NANO"
expect 13 '^adj ret=-1 errno=EINVAL ' "a step of 1e6 us in tv_usec: EINVAL"
expect 14 '^adj ret=-1 errno=EINVAL ' "a step with a negative tv_usec: EINVAL"
expect 15 ' status=0x0040 ' "ADJ_MICRO clears STA_NANO"
expect 16 '^adj ret=0 errno=0 .* status=0x0011 ' \
	"STA_PLL|STA_INS: synchronised, TIME_OK until the next second"
expect 17 '^adj ret=0 .* maxerror=1000 esterror=20 ' "ADJ_MAXERROR|ADJ_ESTERROR"
expect 18 '^adj ret=1 errno=0 ' "a second later the leap is armed: TIME_INS"
expect_in 18 maxerror 1500 2500 "maxerror grows by 500 us a second"
expect 19 '^adj ret=1 .* status=0x0001 ' \
	"STA_INS cleared: TIME_INS until the next second"
expect 20 '^adj ret=1 errno=0 .* freq=-3\.250000 ' \
	"singleshot with ADJ_FREQUENCY: the frequency is ignored"
# -2000 us asked at line 7's time, 500 us a second since.
left=$(awk -v a="$(field 7 time)" -v b="$(field 20 time)" \
    'BEGIN { printf "%d", -2000 + (b - a) * 500 }')
expect_in 20 offset $((left - 2)) $((left + 2)) \
	"the slew went on at 500 us/s while sleeping"
expect 21 '^adj ret=-1 errno=EPERM ' "ADJ_TICK is denied"
expect 22 '^adj ret=-1 errno=EPERM ' "another clock id is denied"
expect 23 '^settime ret=-1 errno=EPERM$' "clock_settime is denied"
expect 24 '^settimeofday ret=-1 errno=EPERM$' "settimeofday is denied"
expect 25 '^adjtimex ret=1 errno=0 .* freq=7\.000000 ' \
	"adjtimex() reaches the same state"
expect 26 '^ntp_adjtime ret=1 errno=0 .* esterror=0 ' \
	"ntp_adjtime(); a negative esterror is clamped"
expect 27 '^adjtime ret=0 errno=0 old_sec=0 ' "adjtime() slews"
expect_in 27 old_usec 0 10 "adjtime() returns what the last slew had left"
expect 28 '^adjtime ret=0 errno=0 old_sec=-2 ' "adjtime(NULL, &old) reads"
expect_in 28 old_usec -500000 -499990 \
	"both fields of a negative old delta are negative"
expect 29 '^adjtime ret=-1 errno=EINVAL ' \
	"adjtime() beyond glibc's range: EINVAL"
# Written 10 s ago (in whole seconds), read over a second later.
expect_in 30 time 1700000011 1700000013 \
	"RTC_RD_TIME: the RTC file plus the time since it was written"
expect 31 '^rtcset ret=0 errno=0$' "RTC_SET_TIME"
expect_in 32 time 1600000000 1600000001 "RTC_RD_TIME reads what was set"
expect 32 ' chr=1$' "fstat() shows the fake RTC as a character device"
expect 33 '^rtcread ret=-1 errno=ENOTTY time=0 chr=0$' \
	"an RTC ioctl or fstat on another file goes to the kernel"
check "the RTC file was rewritten ($(cat "$RTC"))" \
	grep -Eq '^1600000000 [0-9]+$' "$RTC"

cat >"$TMP/want" <<'EOF'
freq -3.250000000
freq 500.000000000
freq -3.250000000
slew 0.001500000
slew -0.002000000
denied clock_adjtime
step 2.500000000
step -0.750000000
status 0x0011
maxerror 1000
esterror 20
status 0x0001
slew 0.000010000
denied clock_adjtime
denied clock_adjtime
denied clock_settime
denied settimeofday
freq 7.000000000
esterror 0
slew -2.500000000
rtcset 1600000000
EOF
cut -d' ' -f2- "$LOG" >"$TMP/got" 2>/dev/null || true
d=$(diff "$TMP/want" "$TMP/got" | tr '\n' ' ')
check "the log has every change and denial, in order: $d" \
	cmp -s "$TMP/want" "$TMP/got"
check "every log line is <ns> <kind> <value>" \
	sh -c '! grep -Evq "^[0-9]{19} [a-z]+ [^ ]+$" "$1"' sh "$LOG"
check "the log's times are the real times of the calls" \
	awk -v a="$t_start" -v b="$t_end" \
	'{ if ($1 < a || $1 > b || $1 < last) bad = 1; last = $1 }
	END { exit bad }' "$LOG"
t=$(grep ' maxerror 1000$' "$LOG" | cut -d' ' -f1)
check "the two changes of one call have one time" \
	test "$(grep -c "^$t " "$LOG")" -eq 2

shimtest_model() {
	"$SHIMTEST" "model,log=$LOG,t=$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}
# The model of that log: two steps, 2.5 - 0.75 s, and every slew done.
v=$(shimtest_model $((t_end + 10000 * 1000000000)) steps)
check "the model counts two steps (got $v)" test "$v" = 2
v=$(shimtest_model $((t_end + 10000 * 1000000000)) stepped)
check "the model's steps add up to 1.75 s (got $v)" \
	within "$v" 1.749999 1.750001
v=$(shimtest_model $((t_end + 10000 * 1000000000)) slew_left)
check "the model's slews are done (got $v)" within "$v" 0 0

# --- Without NTPD_CLOCKSHIM the calls reach the real kernel, which
# refuses them here --------------------------------------------------------
rm -f "$LOG"
setpriv --bounding-set=-sys_time env LD_PRELOAD="$SHIM" "$SHIMTEST" \
	adj adj,modes=0x2,freq=1 settime >"$OUT" 2>&1 || true
expect 1 '^adj ret=[0-5] errno=0 ' \
	"no NTPD_CLOCKSHIM: a read reaches the kernel"
expect 2 '^adj ret=-1 errno=EPERM ' \
	"no NTPD_CLOCKSHIM: a change reaches the kernel, which refuses it"
expect 3 '^settime ret=-1 errno=EPERM$' \
	"no NTPD_CLOCKSHIM: clock_settime reaches the kernel"
check "no NTPD_CLOCKSHIM: no log" test ! -e "$LOG"

# A log that cannot be written: changes are refused, reads still work.
setpriv --bounding-set=-sys_time env LD_PRELOAD="$SHIM" \
	NTPD_CLOCKSHIM="$TMP/nodir/log" "$SHIMTEST" adj adj,modes=0x2,freq=1 \
	>"$OUT" 2>"$TMP/err" || true
expect 1 '^adj ret=5 errno=0 ' "no log: a read still works"
expect 2 '^adj ret=-1 errno=EPERM ' "no log: a change is refused"
check "no log: the shim says why" \
	grep -q 'clockshim: cannot open the log' "$TMP/err"

st=0
setpriv --bounding-set=-sys_time env LD_PRELOAD="$SHIM" \
	NTPD_CLOCKSHIM="$LOG" NTPD_CLOCKSHIM_FREQ=501 "$SHIMTEST" adj \
	>/dev/null 2>&1 || st=$?
check "NTPD_CLOCKSHIM_FREQ out of range stops the process (status $st)" \
	test "$st" -eq 125
st=0
"$SHIMTEST" adj >/dev/null 2>&1 || st=$?
check "shimtest refuses clock calls with CAP_SYS_TIME (status $st)" \
	test "$st" -eq 2

# --- fakentp -c, -d, -f ----------------------------------------------------
# ask PORT: the offset fakentp on PORT serves, once it answers.
ask() {
	i=0
	while :; do
		a=$("$SHIMTEST" "ntp,addr=127.0.0.1,port=$1")
		case $a in
		"ntp offset="*)
			echo "$a" | sed 's/^ntp offset=\([^ ]*\) .*/\1/'
			return 0
			;;
		esac
		i=$((i + 1))
		[ $i -gt 40 ] && return 1
		sleep 0.05
	done
}

# rate PORT: how fast (ppm) the offset served on PORT moves, over 1 s.
rate() {
	t1=$(now_ns)
	o1=$(ask "$1") || o1=""
	sleep 1
	t2=$(now_ns)
	o2=$(ask "$1") || o2=""
	awk -v a="$o1" -v b="$o2" -v t1="$t1" -v t2="$t2" 'BEGIN {
		if (a != "" && b != "")
			printf "%.0f", (b - a) / (t2 - t1) * 1e15
	}'
}

# fake NAME ARGS...: start fakentp on the next port, left in FPORT.
fake() {
	name=$1
	shift
	PORT=$((PORT + 1))
	FPORT=$PORT
	"$FAKENTP" -t 30 "$@" 127.0.0.1 "$FPORT" >"$TMP/$name.out" 2>&1 &
	FPID=$!
	DAEMON_PIDS="$DAEMON_PIDS $FPID"
}

rm -f "$LOG"
fake step -o 5 -c "$LOG"
o=$(ask "$FPORT") || o=""
check "-c with no log yet serves -o alone (offset $o)" within "$o" 4.99 5.01
got=$("$PROBE" -t 1000 127.0.0.1 "$FPORT")
want="reply 48 li 0 vn 4 mode 4 stratum 1 refid FAKE origin-ok 1"
check "ntpprobe gets a server reply (got \"$got\")" test "$got" = "$want"
echo "$(($(now_ns) - 1000000000)) step 2.000000000" >>"$LOG"
o=$(ask "$FPORT") || o=""
check "-o 5 and a +2 s step in the log serve +3 s (offset $o)" \
	within "$o" 2.99 3.01
# The frequency, huge to stand out of loopback's jitter: 2% is -20 ms/s.
echo "$(now_ns) freq 20000.000000000" >>"$LOG"
r=$(rate "$FPORT")
check "a +20000 ppm frequency: the offset falls 20000 ppm (got $r)" \
	within "$r" -21000 -19000
echo "garbage" >>"$LOG"
"$SHIMTEST" "ntp,addr=127.0.0.1,port=$FPORT" >/dev/null 2>&1 || true
wait_exit "$FPID" 5
check "a broken log stops fakentp (status $EXIT_STATUS)" \
	test "$EXIT_STATUS" = 2
check "fakentp names the broken line" grep -q "clock.log:3: " "$TMP/step.out"

fake drift -d 20000
r=$(rate "$FPORT")
check "-d 20000: an oscillator 2% fast, the offset falls 20000 ppm (got $r)" \
	within "$r" -21000 -19000

fake compensated -d 20000 -f -20000 -c "$TMP/nolog"
r=$(rate "$FPORT")
check "-d 20000 -f -20000: the kernel frequency cancels it (got $r ppm)" \
	within "$r" -1000 1000

finish
