#!/bin/bash
# sipload.sh — the SIP load benchmark of issue 15: sipp calling
# `sipstreams listen --auto-answer` with the audio plugin, on loopback.
#
#   scripts/sipload.sh RATE SECONDS [RATE SECONDS ...]
#
# For each RATE/SECONDS pair, one after the other against the same host:
# sipp (Debian's sip-tester) places RATE calls/s for SECONDS with
# cmd/host/testdata/uac_audio_load.xml (INVITE offering PCMU, answered by
# the audio plugin, ACK, BYE at once; a 503 is ACKed and counted as
# refused) and the script prints: calls answered and refused (503) and
# failed, INVITE→200 and INVITE→503 times (p50, p99, max; sipp's clock has
# millisecond steps), CPU and minor page faults (memory touched afresh:
# 15 µs each on the VM of BENCHMARKS.md) of the host and of the audio
# plugin per answered call (/proc/PID/stat), the host's heap and RSS
# (with its anonymous part: the rest is the binary's pages) at 30 s into
# the run and in its last second, under the load (for runs longer than
# 30 s; the live heap of the host's last collection, from
# the debug listener's /debug/memory: forcing one in the middle of the
# load stalls the host)
# and right after it (after a collection), and SIP retransmissions
# seen by sipp, and sipp's own CPU per call placed (it shares the
# machine's cores with the host and the plugin), and, when the host
# refused calls, why (from the debug listener's /debug/sip: over the
# overload control's setup limit, or the audio plugin at
# audio.max_streams). Before the first pair
# it places one call, which must be answered, and prints the host's
# heap and RSS WARM seconds (default 5) after it: the idle figures the
# others compare with (those of the host just started come first; it has
# not run a call's code yet). After the last pair it waits IDLE seconds
# (default 60), prints the host's heap and RSS again, and places one more
# call, which must be answered. Each pair's sipp files (every call's
# response times) stay in OUT as sipp-RATE-SECONDS.
#
# Needs bin/ built (make build) and sipp. Environment: PORT (the host's
# SIP port, 5070), SIPP_PORT (5080), DEBUG_PORT (6070), IDLE (60), WARM (5),
# HOST_CONFIG (a --config-dir for the host, default none: default
# settings), OUT (a directory for the logs, default a temporary one).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
PORT=${PORT:-5070}
SIPP_PORT=${SIPP_PORT:-5080}
DEBUG_PORT=${DEBUG_PORT:-6070}
IDLE=${IDLE:-60}
WARM=${WARM:-5}
OUT=${OUT:-$(mktemp -d /tmp/sipload.XXXXXX)}
# shellcheck source=scripts/sippcalls.bash
. "$ROOT/scripts/sippcalls.bash"

if [ $# -lt 2 ] || [ $(($# % 2)) -ne 0 ]; then
	echo "usage: $0 RATE SECONDS [RATE SECONDS ...]" >&2
	exit 2
fi
command -v sipp >/dev/null || { echo "sipp is missing: apt-get install sip-tester" >&2; exit 1; }
[ -x bin/sipstreams ] && [ -x bin/plugins/sipstreams-plugin-audio ] || { echo "build first: make build" >&2; exit 1; }

mkdir -p "$OUT/plugins" "$OUT/codecs"
cp bin/plugins/sipstreams-plugin-audio "$OUT/plugins/"
chmod 755 "$OUT/plugins"
args=(listen --auto-answer --json --plugin-dir "$OUT/plugins" --listen "udp:127.0.0.1:$PORT" --debug-addr "127.0.0.1:$DEBUG_PORT")
[ -n "${HOST_CONFIG:-}" ] && args+=(--config-dir "$HOST_CONFIG")
bin/sipstreams "${args[@]}" >"$OUT/host.out" 2>"$OUT/host.err" &
HOST=$!
trap 'kill $HOST 2>/dev/null; wait $HOST 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q '"name":"debug"' "$OUT/host.out" 2>/dev/null && break; sleep 0.1; done
grep -q '"name":"debug"' "$OUT/host.out" || { echo "the host did not start:"; cat "$OUT/host.err"; exit 1; }
PLUGIN=""
for _ in $(seq 100); do
	PLUGIN=$(pgrep -P $HOST -f sipstreams-plugin-audio || true)
	[ -n "$PLUGIN" ] && break
	sleep 0.1
done
[ -n "$PLUGIN" ] || { echo "no audio plugin process under the host"; exit 1; }

sipfig() { curl -s "http://127.0.0.1:$DEBUG_PORT/debug/sip" | awk -v n="$1" '$1==n{print $2}'; } # a /debug/sip counter
ticks=$(getconf CLK_TCK)
mem() { # mem [live]: with live, the live heap of the host's last collection (no collection forced: one stalls a loaded host)
	local heap
	if [ "${1:-}" = live ]; then
		heap=$(curl -s "http://127.0.0.1:$DEBUG_PORT/debug/memory" | awk '$1=="/gc/heap/live:bytes"{printf "%.1f", $2/1048576}')
	else
		heap=$(curl -s "http://127.0.0.1:$DEBUG_PORT/debug/pprof/heap?gc=1&debug=1" | awk '/^# HeapAlloc =/{printf "%.1f", $4/1048576}')
	fi
	awk -v heap="$heap" '/^VmRSS/{rss=$2} /^RssAnon/{anon=$2} END{printf "heap %s MB, RSS %.1f MB (anonymous %.1f MB)\n", heap, rss/1024, anon/1024}' /proc/$HOST/status
}
echo "host pid $HOST, audio plugin pid $PLUGIN; logs in $OUT"
echo "at start: $(mem)"

run() { # run RATE SECONDS CALLS: one sipp run, its results in $OUT/sipp
	local rate=$1 secs=$2 calls=$3
	rm -rf "$OUT/sipp"
	mkdir -p "$OUT/sipp"
	sipp_calls "$OUT/sipp" "127.0.0.1:$PORT" "$SIPP_PORT" "$rate" "$secs" "$calls" \
		-trace_stat -stf stat.csv -trace_err -error_file err.log
}

answered() { grep -q ";answer" "$OUT"/sipp/*_rtt.csv 2>/dev/null; }

# One call first, then WARM seconds: the idle figure is the host's once
# it has run a call's code (a host just started has not yet touched its
# pages), as the figures after the load are.
run 1 1 1
answered || { echo "the first call was NOT answered"; exit 1; }
sleep "$WARM"
echo "idle, ${WARM} s after one call: $(mem)"

while [ $# -gt 0 ]; do
	rate=$1 secs=$2
	shift 2
	h0=$(cpu $HOST) p0=$(cpu $PLUGIN) r0=$(sipfig sessions.refused) b0=$(sipfig sessions.refused_busy)
	hf0=$(faults $HOST) pf0=$(faults $PLUGIN)
	run "$rate" "$secs" "$((rate * secs))" &
	SIPP=$!
	at=""
	start=$SECONDS
	for t in $(printf '%s\n' 30 $((secs - 1)) | sort -un); do
		[ "$secs" -gt "$t" ] && [ "$t" -ge 30 ] || continue
		while [ $((SECONDS - start)) -lt "$t" ] && kill -0 $SIPP 2>/dev/null; do sleep 0.2; done
		at="$at; at ${t} s: $(mem live)"
	done
	wait $SIPP
	h1=$(cpu $HOST) p1=$(cpu $PLUGIN) r1=$(sipfig sessions.refused) b1=$(sipfig sessions.refused_busy)
	hf1=$(faults $HOST) pf1=$(faults $PLUGIN)
	python3 - "$OUT/sipp" "$rate" "$secs" "$((h1 - h0))" "$((p1 - p0))" "$ticks" "$((hf1 - hf0))" "$((pf1 - pf0))" <<'PY'
import csv, glob, sys
d, rate, secs, hticks, pticks, hz = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
hfaults, pfaults = int(sys.argv[7]), int(sys.argv[8])
times = {"answer": [], "refused": []}
for f in glob.glob(d + "/*_rtt.csv"):
    for row in list(csv.reader(open(f), delimiter=";"))[1:]:
        if len(row) >= 3 and row[2] in times:
            times[row[2]].append(float(row[1]))
rows = list(csv.reader(open(d + "/stat.csv"), delimiter=";"))
last = dict(zip(rows[0], rows[-1]))
failed = int(last.get("FailedCall(C)", "0"))
retrans = int(last.get("Retransmissions(C)", "0"))
ans, ref = len(times["answer"]), len(times["refused"])
def q(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p))] if v else float("nan")
print(f"{rate} calls/s × {secs} s: {ans} answered ({ans / secs:.0f}/s), {ref} refused 503, {failed} failed; sipp retransmissions {retrans}")
for k, v in times.items():
    if v:
        print(f"  INVITE→{'200' if k == 'answer' else '503'}: p50 {q(v, .5):.0f} ms, p99 {q(v, .99):.0f} ms, max {max(v):.0f} ms")
if ans:
    h, p = hticks / hz * 1000 / ans, pticks / hz * 1000 / ans
    print(f"  CPU per answered call: host {h:.3f} ms + audio plugin {p:.3f} ms = {h + p:.3f} ms")
    print(f"  page faults per answered call: host {hfaults / ans:.3f} + audio plugin {pfaults / ans:.3f}")
    # sipp's own CPU (its shell's `times`: user and system of its children),
    # per call placed: what the load generator takes of the same two cores.
    try:
        line = open(d + "/times.txt").read().splitlines()[1]
        secs_of = lambda t: float(t[:t.index("m")]) * 60 + float(t[t.index("m") + 1:-1])
        cpu = sum(secs_of(t) for t in line.split())
        print(f"  sipp (the load generator, same cores): {cpu * 1000 / (ans + ref):.3f} ms per call placed")
    except (OSError, IndexError, ValueError):
        pass
PY
	[ "$r1" -gt "$r0" ] && echo "  refused by the host: $((r1 - r0 - b1 + b0)) over its setup limit, $((b1 - b0)) because the audio plugin was busy (audio.max_streams)"
	echo "  memory${at}; after: $(mem)"
	rm -rf "$OUT/sipp-$rate-$secs"
	cp -a "$OUT/sipp" "$OUT/sipp-$rate-$secs"
done

echo "idle ${IDLE} s..."
sleep "$IDLE"
echo "after ${IDLE} s idle: $(mem)"
run 1 1 1
if answered; then
	echo "a call after the load: answered"
else
	echo "a call after the load: NOT answered"
	exit 1
fi
