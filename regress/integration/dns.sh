#!/bin/sh
# Names of sources, resolved by the dns process (jailed, under seccomp):
#   - "server NAME" resolves and the clock is synchronised from it;
#   - "pool NAME" of a name with 3 addresses gives 3 sources, each shown
#     (ntpctl -s peers and -j) with the name and its address; a name
#     with 5 gives 4 (the bound of a pool);
#   - a name nobody knows is shown unresolved and retried, logged, and
#     the daemon goes on;
#   - a pool member whose server stops answering is dropped after a
#     whole register of polls and replaced by the address left over.
# The daemon runs in a network namespace of the test's own and in a
# private mount namespace, where the test's hosts, host.conf,
# nsswitch.conf and resolv.conf are bind-mounted over /etc's: the real
# files are never touched, and no query leaves the namespace (the only
# name server is 127.0.0.1 of the namespace, where nobody answers).
# The upstreams are fakentp on 127.0.x.y of that namespace.
# shellcheck source=regress/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_root

FAKE="$PWD/$O/regress/fakentp"
SOCK="$TMP/ntpd.sock"

make_netns d
NS=$NETNS

cat >"$TMP/hosts" <<EOF
127.0.0.1 localhost
127.0.1.1 one.test
127.0.2.1 pool3.test
127.0.2.2 pool3.test
127.0.2.3 pool3.test
127.0.3.1 pool5.test
127.0.3.2 pool5.test
127.0.3.3 pool5.test
127.0.3.4 pool5.test
127.0.3.5 pool5.test
EOF
# Every address of a name from the hosts file (Debian's default too).
echo "multi on" >"$TMP/host.conf"
echo "hosts: files dns" >"$TMP/nsswitch.conf"
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' \
	>"$TMP/resolv.conf"
chmod 0644 "$TMP/hosts" "$TMP/host.conf" "$TMP/nsswitch.conf" \
	"$TMP/resolv.conf"

# The upstreams, each on its own address; FAKE_PID_<addr> to kill one.
for a in 127.0.1.1 127.0.2.1 127.0.2.2 127.0.2.3 127.0.3.1 127.0.3.2 \
    127.0.3.3 127.0.3.4 127.0.3.5; do
	ip netns exec "$NS" "$FAKE" -t 120 "$a" 123 &
	DAEMON_PIDS="$DAEMON_PIDS $!"
	eval "FAKE_PID_$(echo "$a" | tr . _)=$!"
done

conf="$TMP/ntpd.conf"
write_conf "$conf" \
	'server one.test iburst minpoll 3 maxpoll 3' \
	'pool pool3.test iburst minpoll 3 maxpoll 3' \
	'pool pool5.test iburst minpoll 3 maxpoll 3' \
	'server nowhere.test iburst minpoll 3 maxpoll 3'

# Not start_daemon: the daemon starts inside both namespaces.
ip netns exec "$NS" unshare -m --propagation private sh -c '
	for f in hosts host.conf nsswitch.conf resolv.conf; do
		mount --bind "$1/$f" "/etc/$f" || exit 1
	done
	exec setpriv --bounding-set=-sys_time "$2" -d -v -x -f "$3"' \
	dns-test "$TMP" "$NTPD" "$conf" >"$TMP/ntpd.log" 2>&1 &
DAEMON_PID=$!
DAEMON_PIDS="$DAEMON_PIDS $DAEMON_PID"

i=0
while ! "$NTPCTL" -S "$SOCK" -s status >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -gt 400 ] || ! kill -0 "$DAEMON_PID" 2>/dev/null; then
		echo "daemon did not come up; its log:" >&2
		cat "$TMP/ntpd.log" >&2
		exit 1
	fi
	sleep 0.05
done
check "the real /etc/hosts is not the test's" \
	sh -c "! grep -q pool5.test /etc/hosts"

peers() {
	"$NTPCTL" -S "$SOCK" -s peers >"$TMP/peers"
	"$NTPCTL" -S "$SOCK" -j -s peers >"$TMP/peers.json"
}
# Columns: mark, source, ST, POLL, REACH, AGE, OFFSET, DELAY, JITTER,
# SENT, LOST, BAD, KOD, STATE, NAME.
named() { awk -v n="$1" '$NF == n' "$TMP/peers"; }
count() { named "$1" | wc -l; }
jqt() { jq -e "$@" "$TMP/peers.json" >/dev/null; }

# A member of pool5.test stops answering from the start: after a whole
# register of polls (8, the burst's included, some 40 s) it is dropped,
# and the fifth address, unused so far, takes its place.
i=0
until peers && [ "$(count pool5.test)" = 4 ] || [ $i -ge 100 ]; do
	i=$((i + 1))
	sleep 0.1
done
victim=$(named pool5.test | awk 'NR == 1 {print $2}' | sed 's/:123$//')
spare=$(for a in 127.0.3.1 127.0.3.2 127.0.3.3 127.0.3.4 127.0.3.5; do
	named pool5.test | grep -q " $a:123 " || echo "$a"; done)
check "one address of pool5.test is left over" test -n "$spare" -a \
	"$(echo "$spare" | wc -l)" = 1
victim_pid=""
eval "victim_pid=\$FAKE_PID_$(echo "$victim" | tr . _)"
kill -TERM "$victim_pid"
wait "$victim_pid" 2>/dev/null || true
echo "stopped the server of pool5.test at $victim; $spare is left over"

# iburst: four exchanges 2 s apart from every source, then the first
# clock update (measuring only, -x: the clock is not touched).
i=0
until "$NTPCTL" -S "$SOCK" -s status | grep -q 'clock: *synchronised' ||
    [ $i -ge 30 ]; do
	i=$((i + 1))
	sleep 1
done
peers
cat "$TMP/peers"

check "server NAME: resolved to its address" \
	sh -c "awk '\$NF == \"one.test\" {print \$2}' '$TMP/peers' |
	    grep -qx '127.0.1.1:123'"
check "server NAME: reached (reach > 0)" \
	sh -c "awk '\$NF == \"one.test\" {print \$5}' '$TMP/peers' |
	    grep -qv '^0\$'"
check "pool of 3 addresses: 3 sources, each with the name" \
	test "$(count pool3.test)" = 3
check "pool of 3 addresses: each of its addresses once" \
	sh -c "awk '\$NF == \"pool3.test\" {print \$2}' '$TMP/peers' |
	    sort | tr '\n' ' ' |
	    grep -qx '127.0.2.1:123 127.0.2.2:123 127.0.2.3:123 '"
check "pool of 5 addresses: 4 sources (the bound)" \
	test "$(count pool5.test)" = 4
check "JSON: 3 sources named pool3.test, with their addresses" \
	jqt '[.sources[] | select(.name == "pool3.test") | .address] |
	    sort == ["127.0.2.1:123", "127.0.2.2:123", "127.0.2.3:123"]'
check "JSON: one.test with its address" \
	jqt '[.sources[] | select(.name == "one.test") | .address] ==
	    ["127.0.1.1:123"]'
check "unresolved: shown by name, no address, unusable, never asked" \
	jqt '[.sources[] | select(.name == "nowhere.test")] |
	    length == 1 and .[0].address == null and
	    .[0].state == "unusable" and .[0].sent == 0'
check "unresolved: in the table by its name, unusable" \
	sh -c "awk '\$NF == \"nowhere.test\" {print \$1, \$2}' '$TMP/peers' |
	    grep -qx '? nowhere.test'"
retry='source nowhere.test: cannot resolve it \(.*\); trying again in [0-9]+ s'
check "unresolved: the failure is logged with the next try" \
	log_has "$TMP/ntpd.log" "$retry"
check "9 sources in all" \
	jqt '.selection.sources == 9 and (.sources | length) == 9'
check "synchronised from them, a majority agreeing" \
	sh -c "'$NTPCTL' -S '$SOCK' -s status |
	    grep -q 'clock: *synchronised' &&
	    grep -q '^selection: a majority agrees' '$TMP/peers'"

check "the silent member is dropped (within 60 s)" \
	log_has "$TMP/ntpd.log" \
	"source pool5.test \($victim\) is unreachable: dropped from the pool" 60
check "the address left over replaces it" \
	log_has "$TMP/ntpd.log" "source pool5.test \($spare\): added" 10
peers
cat "$TMP/peers"
check "pool5.test still has 4 sources" test "$(count pool5.test)" = 4
check "... without the silent one" \
	sh -c "! awk '\$NF == \"pool5.test\" {print \$2}' '$TMP/peers' |
	    grep -qx '$victim:123'"
check "... with the one left over" \
	sh -c "awk '\$NF == \"pool5.test\" {print \$2}' '$TMP/peers' |
	    grep -qx '$spare:123'"
check "the unresolved name was tried again" \
	test "$(grep -c 'source nowhere.test: cannot resolve it' \
	    "$TMP/ntpd.log")" -ge 3
check "the daemon is still running" kill -0 "$DAEMON_PID"
finish
