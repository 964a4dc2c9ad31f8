#!/bin/bash
# audioload.sh — the audio benchmark of issue 14: two host processes on
# loopback, each with its own audio plugin. `sipstreams load` places CALLS
# calls at RATE per second to `sipstreams listen --auto-answer`; every
# call sends a 440 Hz tone each way (PCMU; SRTP with SDES keys unless
# SRTP=0) for DURATION once it started.
#
#   scripts/audioload.sh CALLS RATE DURATION
#
# It prints the load's progress and summary (calls, packets, loss, jitter
# p99, calls without media both ways) and then the CPU of both audio
# plugins per packet moved (each packet counted once: the caller's sent
# plus received) and the peak RSS of each plugin per call.
#
# With FLOOD=K, once every call is placed, scripts/rtpflood.py floods the
# caller's first K calls (their RTP ports) at ten times a call's packet
# rate with garbage, bad-SRTP packets and RTP from a wrong address, for
# the rest of the calls' media: the figures then say what the other calls
# suffered (issue 14, done-when 4).
#
# With SHARED=N both hosts carry their calls on N shared RTP/RTCP socket
# pairs (rtp.shared_sockets, the media engine for many calls: batched
# reads and writes); SHARED=0 gives every call a pair of its own. The
# flood then hits the caller's shared ports with the packets of K calls.
#
# Needs bin/ built (make build), sox, jq and python3. Environment: PORT
# (the listener's SIP port, 5090), SRTP (1), SHARED (2; "" leaves the
# setting out, for binaries older than it), FLOOD (0), BIN (the binaries'
# directory, bin: another build, for a side-by-side run), OUT (a directory
# for the logs, default a temporary one).
set -euo pipefail

cd "$(dirname "$0")/.."
PORT=${PORT:-5090}
SRTP=${SRTP:-1}
FLOOD=${FLOOD:-0}
SHARED=${SHARED-2}
BIN=${BIN:-bin}
OUT=${OUT:-$(mktemp -d /tmp/audioload.XXXXXX)}

if [ $# -ne 3 ]; then
	echo "usage: $0 CALLS RATE DURATION" >&2
	exit 2
fi
CALLS=$1 RATE=$2 DURATION=$3
command -v sox >/dev/null || { echo "sox is missing: apt-get install sox" >&2; exit 1; }
[ -x "$BIN/sipstreams" ] && [ -x "$BIN/plugins/sipstreams-plugin-audio" ] || { echo "build first: make build" >&2; exit 1; }

sox -n -r 8000 -c 1 -b 16 "$OUT/tone.wav" synth 10 sine 440 vol 0.5
mkdir -p "$OUT/listen"
cat >"$OUT/listen/config" <<CONF
rtp:
  port_range = 30000-$((30000 + 2 * CALLS + 100))
${SHARED:+  shared_sockets = $SHARED}
audio:
  input_device = none
  output_device = none
  alert_device = none
  max_streams = $((CALLS + 16))
sip:
  max_sessions = $((CALLS + 16))
CONF

"$BIN/sipstreams" listen --auto-answer --play "$OUT/tone.wav" --config-dir "$OUT/listen" \
	--listen "udp:127.0.0.1:$PORT" >"$OUT/listen.out" 2>"$OUT/listen.err" &
LISTEN=$!
trap 'kill $LISTEN 2>/dev/null || true; wait $LISTEN 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM
for _ in $(seq 100); do
	grep -q "listening" "$OUT/listen.out" 2>/dev/null && break
	sleep 0.1
done
plugin_of() { pgrep -P "$1" -f sipstreams-plugin-audio | head -1; }
cpu_of() { awk '{ print ($14 + $15) / 100 }' "/proc/$1/stat"; }
rss_of() { awk '/VmRSS/ { print $2 }' "/proc/$1/status"; }
LP=$(plugin_of $LISTEN)
[ -n "$LP" ] || { echo "the listener has no audio plugin: see $OUT/listen.err" >&2; exit 1; }
L0=$(cpu_of "$LP")
L_IDLE=$(rss_of "$LP")

flags=()
[ -n "$SHARED" ] && flags+=(--shared-sockets "$SHARED")
[ "$SRTP" = 1 ] && flags+=(--srtp)
set +e
CALLER_PORTS=50000
"$BIN/sipstreams" load "sip:bench@127.0.0.1:$PORT" --audio "$OUT/tone.wav" --calls "$CALLS" --rate "$RATE" \
	--duration "$DURATION" --interval 5s --json --port-range "$CALLER_PORTS-$((CALLER_PORTS + 2 * CALLS + 100))" \
	"${flags[@]}" >"$OUT/load.json" 2>"$OUT/load.err" &
LOAD=$!
FLOODER=""
if [ "$FLOOD" -gt 0 ]; then
	secs=${DURATION%s}
	(sleep "$(awk -v c="$CALLS" -v r="$RATE" 'BEGIN { print c / r + 1 }')" &&
		if [ "${SHARED:-0}" -gt 0 ]; then
			# K calls' worth of flood spread over the shared ports.
			scripts/rtpflood.py "$CALLER_PORTS" "$SHARED" $((500 * FLOOD / SHARED)) "$((secs > 6 ? secs - 5 : 1))"
		else
			scripts/rtpflood.py "$CALLER_PORTS" "$FLOOD" 500 "$((secs > 6 ? secs - 5 : 1))"
		fi >"$OUT/flood.out" 2>&1) &
	FLOODER=$!
fi
CP=""
PEAK_L=0 PEAK_C=0
# The steady window: from the first progress record with every call up
# to the last one before any ended, both plugins' CPU and RSS sampled at
# each new record (W0 at its start, W1 at its end).
SEEN="" W0="" W1=""
while kill -0 $LOAD 2>/dev/null; do
	[ -z "$CP" ] && CP=$(plugin_of $LOAD || true)
	r=$(rss_of "$LP"); [ "$r" -gt "$PEAK_L" ] && PEAK_L=$r
	if [ -n "$CP" ] && [ -e "/proc/$CP/status" ]; then
		r=$(rss_of "$CP"); [ "$r" -gt "$PEAK_C" ] && PEAK_C=$r
		C1=$(cpu_of "$CP")
		last=$(grep '"progress"' "$OUT/load.json" | tail -1)
		if [ -n "$last" ]; then
			read -r t up ended moved <<<"$(jq -r '"\(.t_s) \(.up) \(.ended) \(.rx_packets + .tx_packets)"' <<<"$last")"
			if [ "$up" = "$CALLS" ] && [ "$ended" = 0 ] && [ "$t" != "$SEEN" ]; then
				SEEN=$t
				W1="$t $(cpu_of "$CP") $(cpu_of "$LP") $moved $(rss_of "$LP") $(rss_of "$CP")"
				[ -z "$W0" ] && W0=$W1
			fi
		fi
	fi
	L1=$(cpu_of "$LP")
	sleep 0.5
done
wait $LOAD
CODE=$?
set -e
jq -r 'select(.event == "progress") | "t=\(.t_s)s up \(.up) ended \(.ended) failed \(.failed) rx \(.rx_packets) loss \(.loss_pct)% jitter p99 \(.jitter_p99_ms) ms"' "$OUT/load.json"
S=$(jq -c 'select(.event == "summary")' "$OUT/load.json")
echo "summary: $S"
RX=$(jq -r .rx_packets <<<"$S") TX=$(jq -r .tx_packets <<<"$S")
awk -v c1="$C1" -v l0="$L0" -v l1="$L1" -v rx="$RX" -v tx="$TX" -v calls="$CALLS" -v pl="$PEAK_L" -v pc="$PEAK_C" 'BEGIN {
	printf "plugins CPU: caller %.1f s (from its start), listener %.1f s; %.2f µs per packet moved (%d packets)\n", c1, l1 - l0, (c1 + l1 - l0) * 1e6 / (rx + tx), rx + tx
	printf "plugins peak RSS: caller %.0f MB, listener %.0f MB (%.0f KB per call, whole process)\n", pc / 1024, pl / 1024, pl / calls
}'
if [ -n "$W0" ] && [ "$W0" != "$W1" ]; then
	read -r t0 c0 l0 m0 _ _ <<<"$W0"
	read -r t1 c1 l1 m1 rl rc <<<"$W1"
	awk -v t0="$t0" -v t1="$t1" -v c0="$c0" -v c1="$c1" -v l0="$l0" -v l1="$l1" -v m0="$m0" -v m1="$m1" -v rl="$rl" -v rc="$rc" -v idle="$L_IDLE" -v calls="$CALLS" 'BEGIN {
		printf "steady media (all %d calls up, %.0f s): %.2f µs per packet moved (both plugins, %d packets)\n", calls, t1 - t0, (c1 - c0 + l1 - l0) * 1e6 / (m1 - m0), m1 - m0
		printf "plugin RSS with every call up: listener %.0f MB (%.0f MB idle: %.0f KB per call), caller %.0f MB\n", rl / 1024, idle / 1024, (rl - idle) / calls, rc / 1024
	}'
else
	echo "no steady window (the calls never were all up at once): no steady figures"
fi
if [ -n "$FLOODER" ]; then
	wait "$FLOODER" || true
	cat "$OUT/flood.out"
fi
echo "logs in $OUT"
exit $CODE
