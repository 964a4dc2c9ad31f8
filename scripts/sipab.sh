#!/bin/bash
# sipab.sh — compare two builds' CPU per call under the same SIP load,
# measured turn about on two warm hosts (issue 15).
#
#   scripts/sipab.sh DIR_A DIR_B [RATE [SECONDS [ROUNDS]]]
#
# DIR_A and DIR_B are checkouts with bin/ built (make build). Each runs
# `sipstreams listen --auto-answer --json` with its own audio plugin (A on
# 127.0.0.1:5070, B on :5072), both started before the first load and
# warmed by a second of it. Then ROUNDS times (default 8), A then B: sipp
# (cmd/host/testdata/uac_audio_load.xml, as scripts/sipload.sh) places
# RATE calls/s (default 2500) for SECONDS (default 15) on the one, the
# other idle. Each turn prints the calls answered and refused, the CPU
# of the host and of its audio plugin per answered call and their minor
# page faults per answered call (/proc/PID/stat); the end prints each
# build's median CPU and page faults per call and its refusals. On a
# machine whose speed drifts over minutes, short turns about compare the
# two at the same speed, where one run after the other does not. ENV_A and ENV_B (VAR=value ..., default none) are added to
# the environment of the one host or the other (and so of its plugin): the
# same build twice compares settings such as GOGC. CONFIG_A and CONFIG_B
# (a directory with a `config` file, default none) are the one host's or
# the other's --config-dir: the same build twice compares its settings.
set -euo pipefail

[ $# -ge 2 ] || { echo "usage: $0 DIR_A DIR_B [RATE [SECONDS [ROUNDS]]]" >&2; exit 2; }
A=$(cd "$1" && pwd) B=$(cd "$2" && pwd)
RATE=${3:-2500} SECS=${4:-15} ROUNDS=${5:-8}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/sippcalls.bash
. "$ROOT/scripts/sippcalls.bash"
command -v sipp >/dev/null || { echo "sipp is missing: apt-get install sip-tester" >&2; exit 1; }
OUT=$(mktemp -d /tmp/sipab.XXXXXX)
declare -A HOST PLUGIN PORT
PORT[A]=5070 PORT[B]=5072
cleanup() { for v in A B; do [ -n "${HOST[$v]:-}" ] && kill "${HOST[$v]}" 2>/dev/null; done; wait 2>/dev/null || true; }
trap cleanup EXIT

start() { # start V DIR
	local v=$1 dir=$2
	[ -x "$dir/bin/sipstreams" ] && [ -x "$dir/bin/plugins/sipstreams-plugin-audio" ] || { echo "$dir: build first (make build)" >&2; exit 1; }
	mkdir -p "$OUT/$v/plugins"
	cp "$dir/bin/plugins/sipstreams-plugin-audio" "$OUT/$v/plugins/"
	local envvar="ENV_$v" cfgvar="CONFIG_$v" cfg=()
	[ -n "${!cfgvar:-}" ] && cfg=(--config-dir "${!cfgvar}")
	# shellcheck disable=SC2086 # VAR=value words
	env ${!envvar:-} "$dir/bin/sipstreams" listen --auto-answer --json --plugin-dir "$OUT/$v/plugins" \
		--listen "udp:127.0.0.1:${PORT[$v]}" "${cfg[@]}" >"$OUT/$v/host.out" 2>"$OUT/$v/host.err" &
	HOST[$v]=$!
	for _ in $(seq 100); do
		PLUGIN[$v]=$(pgrep -P "${HOST[$v]}" -f sipstreams-plugin-audio || true)
		[ -n "${PLUGIN[$v]}" ] && grep -q '"name":"listening"' "$OUT/$v/host.out" 2>/dev/null && return
		sleep 0.1
	done
	echo "$v did not start:" >&2; cat "$OUT/$v/host.err" >&2; exit 1
}
ticks=$(getconf CLK_TCK)

load() { # load V RATE SECONDS: one sipp run; prints "answered refused"
	local v=$1 rate=$2 secs=$3
	rm -rf "$OUT/sipp" && mkdir -p "$OUT/sipp"
	sipp_calls "$OUT/sipp" "127.0.0.1:${PORT[$v]}" 5090 "$rate" "$secs" "$((rate * secs))"
	awk -F';' 'FNR>1 && $3=="answer"{a++} FNR>1 && $3=="refused"{r++} END{print a+0, r+0}' "$OUT"/sipp/*_rtt.csv
}

start A "$A"
start B "$B"
for v in A B; do load "$v" "$RATE" 1 >/dev/null; done # warm both
echo "A: $A ${ENV_A:-}${CONFIG_A:+--config-dir $CONFIG_A }(host pid ${HOST[A]}), B: $B ${ENV_B:-}${CONFIG_B:+--config-dir $CONFIG_B }(host pid ${HOST[B]}); $RATE calls/s for $SECS s a turn, $ROUNDS rounds; logs in $OUT"
: >"$OUT/turns"
for r in $(seq "$ROUNDS"); do
	for v in A B; do
		h0=$(cpu "${HOST[$v]}") p0=$(cpu "${PLUGIN[$v]}") hf0=$(faults "${HOST[$v]}") pf0=$(faults "${PLUGIN[$v]}")
		read -r ans ref < <(load "$v" "$RATE" "$SECS")
		h1=$(cpu "${HOST[$v]}") p1=$(cpu "${PLUGIN[$v]}") hf1=$(faults "${HOST[$v]}") pf1=$(faults "${PLUGIN[$v]}")
		awk -v v="$v" -v r="$r" -v a="$ans" -v f="$ref" -v h=$((h1 - h0)) -v p=$((p1 - p0)) -v hz="$ticks" \
			-v hf=$((hf1 - hf0)) -v pf=$((pf1 - pf0)) 'BEGIN{
			hc = a ? h / hz * 1000 / a : 0; pc = a ? p / hz * 1000 / a : 0
			hfc = a ? hf / a : 0; pfc = a ? pf / a : 0
			printf "%s round %d: %d answered, %d refused; CPU per call host %.3f + plugin %.3f = %.3f ms; page faults per call host %.3f + plugin %.3f\n", v, r, a, f, hc, pc, hc + pc, hfc, pfc
			printf "%s %.4f %.4f %d %.4f\n", v, hc, pc, f, hfc + pfc >> "'"$OUT/turns"'"
		}'
	done
done
awk '{t[$1] = t[$1] " " ($2 + $3); h[$1] = h[$1] " " $2; p[$1] = p[$1] " " $3; f[$1] += $4; pf[$1] = pf[$1] " " $5}
function median(s,  n, a, i, j, x) { n = split(s, a, " "); for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }; return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
END { for (v in t) printf "%s: median CPU per call %.3f ms (host %.3f, plugin %.3f), page faults per call %.3f; %d refused in all\n", v, median(t[v]), median(h[v]), median(p[v]), median(pf[v]), f[v] }' "$OUT/turns" | sort
