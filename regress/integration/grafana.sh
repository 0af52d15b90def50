#!/bin/sh
# The Grafana dashboard, etc/grafana-ntpd.json: JSON that Grafana can
# import (a Prometheus data source as the input DS_PROMETHEUS, no id of
# its own, panels with unique ids that fit the grid), and every metric,
# label and label value its queries name is one that ntpctl metrics
# emits.  What is emitted comes from a running daemon with a source and
# a listener, so that the per-source and per-namespace families carry
# samples and labels too; the families are also announced in
# ntpctl/metrics.c, which is checked the same way.
# shellcheck source=regress/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_root

DASH="${DASH:-$PWD/etc/grafana-ntpd.json}"
SOCK="$TMP/ntpd.sock"
LPORT=12491	# the daemon's listener
UPORT=12492	# a source that never answers: its families are there anyway

command -v jq >/dev/null || { fail "jq is missing (make deps)"; finish; }

jqt() {
	jq -e "$@" "$DASH" >/dev/null
}

# --- Importable -------------------------------------------------------------
if ! jq empty "$DASH" 2>"$TMP/jq.err"; then
	fail "valid JSON: $(cat "$TMP/jq.err")"
	finish
fi
pass "valid JSON"
check "a Prometheus input named DS_PROMETHEUS" jqt \
	'.__inputs | any(.name == "DS_PROMETHEUS" and .type == "datasource"
	    and .pluginId == "prometheus")'
check "every query and annotation uses that input" jqt \
	'[.. | objects | select(has("expr")) | .datasource.uid] |
	    length > 0 and all(. == "${DS_PROMETHEUS}")'
check "every panel's data source is that input" jqt \
	'[.panels[] | select(.type != "row") | .datasource.uid] |
	    all(. == "${DS_PROMETHEUS}")'
check "no id of its own, a uid and a title" jqt \
	'.id == null and (.uid | length > 0) and (.title | length > 0)'
check "panel ids are unique" jqt '[.panels[].id] | length == (unique | length)'
check "every panel fits the grid" jqt \
	'all(.panels[]; .gridPos.w > 0 and .gridPos.h > 0 and .gridPos.x >= 0
	    and .gridPos.x + .gridPos.w <= 24)'
check "every query has a refId, unique in its panel" jqt \
	'all(.panels[] | select(has("targets")); [.targets[].refId] |
	    length == (unique | length) and all(length > 0))'

# --- What the queries name --------------------------------------------------
jq -r '.. | objects | (.expr?, .definition?, .query?) | strings' "$DASH" \
	>"$TMP/queries"
grep -o 'ntpd_[a-z0-9_]*' "$TMP/queries" | sort -u >"$TMP/used"
check "the dashboard queries ntpd metrics ($(wc -l <"$TMP/used") of them)" \
	test -s "$TMP/used"
# Labels: by (...), on (...), group_left (...), matchers, legends.
{
	grep -o '\(by\|on\|group_left\|without\) ([a-z_, ]*)' "$TMP/queries" |
	    sed 's/^[a-z_]* (//; s/)$//' | tr ',' '\n'
	grep -o '[a-z_]*=~\?"' "$TMP/queries" | sed 's/=.*//'
	jq -r '.. | objects | .legendFormat? | strings' "$DASH" |
	    grep -o '{{ *[a-z_]* *}}' | tr -d '{} '
} | tr -d ' ' | grep . | sort -u >"$TMP/labels_used"
# Label values matched exactly: state="...", status="...".
grep -o '[a-z_]*="[^"$]*"' "$TMP/queries" | sort -u >"$TMP/values_used"

# --- What ntpctl metrics emits ------------------------------------------------
conf="$TMP/ntpd.conf"
write_conf "$conf" "listen on 127.0.0.1 port $LPORT" "allow 127.0.0.1" \
	"server 127.0.0.1 port $UPORT"
start_daemon "$conf" "$TMP/log"
"$NTPCTL" -S "$SOCK" metrics >"$TMP/metrics"
sed -n 's/^# TYPE \([a-z0-9_]*\) .*/\1/p' "$TMP/metrics" | sort -u \
	>"$TMP/emitted"
check "the daemon is up and its families are there" \
	sh -c "grep -qx 'ntpd_up 1' '$TMP/metrics' && test -s '$TMP/emitted'"
missing=$(comm -23 "$TMP/used" "$TMP/emitted" | tr '\n' ' ')
check "every metric it queries is emitted${missing:+ (not: $missing)}" \
	test -z "$missing"
grep -o '"ntpd_[a-z0-9_]*"' ntpctl/metrics.c | tr -d '"' | sort -u \
	>"$TMP/in_source"
missing=$(comm -23 "$TMP/used" "$TMP/in_source" | tr '\n' ' ')
check "every metric it queries is in metrics.c${missing:+ (not: $missing)}" \
	test -z "$missing"

# Labels of the samples, and those Prometheus adds to every series.
{
	sed -n 's/^[a-z0-9_]*{\(.*\)} .*/\1/p' "$TMP/metrics" |
	    grep -o '[a-z_]*="' | tr -d '="'
	printf 'instance\njob\n'
} | sort -u >"$TMP/labels"
check "the sources' and namespaces' labels are there" \
	sh -c "grep -qx source '$TMP/labels' && grep -qx netns '$TMP/labels'"
missing=$(comm -23 "$TMP/labels_used" "$TMP/labels" | tr '\n' ' ')
check "every label it uses is emitted${missing:+ (not: $missing)}" \
	test -z "$missing"
grep -o '[a-z_]*="[^"]*"' "$TMP/metrics" | sort -u >"$TMP/values"
missing=$(comm -23 "$TMP/values_used" "$TMP/values" | tr '\n' ' ')
check "every label value it matches is emitted${missing:+ (not: $missing)}" \
	test -z "$missing"

# Not a failure: a family the dashboard does not show yet.
unshown=$(comm -13 "$TMP/used" "$TMP/emitted" | tr '\n' ' ')
[ -z "$unshown" ] || echo "note: not on the dashboard: $unshown"
finish
