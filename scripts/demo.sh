#!/usr/bin/env bash
# The main job on loopback, no server: bob listens and auto-answers, alice
# calls him with a session carrying every stream type the plugin directory
# has, exercises it (echo ping, hold, unhold) and hangs up. Both sides print
# every notification as it happens.
set -euo pipefail
bin=${1:-bin}
plugins=$bin/plugins
types=$("$bin/sipstreams" plugins --json --plugin-dir "$plugins" |
  grep '"state":"ready"' | grep -o '"type":"[^"]*"' | sed 's/"type":"\(.*\)"/\1/' | awk '!seen[$0]++' | tr '\n' ' ')
[ -n "$types" ] || { echo "no stream plugin in $plugins: run make" >&2; exit 1; }
streams=(); for t in $types; do streams+=(--stream "$t"); done
echo "== stream types: $types"

log=$(mktemp)
"$bin/sipstreams" listen --auto-answer --listen udp:127.0.0.1:0 --user bob --plugin-dir "$plugins" >"$log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true; rm -f "$log"' EXIT
port=; i=0
while [ -z "$port" ] && [ $i -lt 100 ]; do
  sleep 0.1; i=$((i+1))
  port=$(awk '/^listening udp/{print $4; exit}' "$log")
done
[ -n "$port" ] || { echo "bob did not start:" >&2; cat "$log" >&2; exit 1; }
echo "== bob listens on udp:127.0.0.1:$port; alice calls him"
(sleep 1; echo '/invoke send {"payload":"hello bob"}'; sleep 1; echo /hold; sleep 0.5; echo /unhold; sleep 0.5; echo /end) |
  "$bin/sipstreams" call "sip:bob@127.0.0.1:$port" "${streams[@]}" --user alice --plugin-dir "$plugins"
kill -TERM $pid; wait $pid || true
trap - EXIT
echo "== what bob saw"
cat "$log"
rm -f "$log"
