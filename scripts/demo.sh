#!/usr/bin/env bash
# The main job on loopback, no server: two peer-to-peer accounts. bob
# listens and auto-answers; alice calls him with a session carrying every
# stream type the plugin directory has: an SRTP audio call carrying a tone
# file each way (alice 440 Hz, bob 1000 Hz), DTMF, hold/unhold and
# recording; chat messages both ways; a file sent and verified by its
# SHA-1; the echo test stream and its Python twin (pyecho). Both sides print
# every notification as it happens; at the end the demo prints the
# negotiated codec, SRTP and ICE state, RTCP figures and the tone found in
# each recording. Then desktop sharing: bob shares a virtual desktop (Xvnc,
# installed by make deps) and alice views it through the MSRP tunnel with
# vncsnapshot, which prints what it received.
set -euo pipefail
bin=${1:-bin}
plugins=$bin/plugins
types=$("$bin/sipstreams" plugins --json --plugin-dir "$plugins" |
  grep '"state":"ready"' | grep -o '"type":"[^"]*"' | sed 's/"type":"\(.*\)"/\1/' | awk '!seen[$0]++' | tr '\n' ' ')
[ -n "$types" ] || { echo "no stream plugin in $plugins: run make" >&2; exit 1; }
# A file transfer is made with --file (it needs a file), not --stream;
# desktop sharing needs to know whose screen is shared: it has a part of
# its own below, not a stream in the main call.
streams=(); for t in $types; do [ "$t" = file-transfer ] || [ "$t" = desktop-sharing ] || streams+=(--stream "$t"); done
echo "== stream types: $types"
has() { [[ " $types " == *" $1 "* ]]; }

work=$(mktemp -d)
pid=
xvnc=
cleanup() {
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true
  [ -n "$xvnc" ] && kill -TERM "$xvnc" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Both accounts: SRTP mandatory, MSRP over TLS (a self-signed certificate
# made by the chat plugin), the default codec list (opus first).
mkdir -p "$work/alice" "$work/bob"
for who in alice bob; do
  printf 'rtp:\n    srtp_encryption = sdes_mandatory\nmsrp:\n    transport = tls\n' >"$work/$who/config"
done
media=()
if has audio; then
  command -v sox >/dev/null || { echo "sox is needed for the demo's tone files: run make deps" >&2; exit 1; }
  sox -q -n -r 8000 -c 1 -b 16 "$work/alice.wav" synth 30 sine 440 vol 0.5
  sox -q -n -r 8000 -c 1 -b 16 "$work/bob.wav" synth 30 sine 1000 vol 0.5
fi

bobmedia=(); alicemedia=()
if has audio; then
  bobmedia+=(--play "$work/bob.wav" --record "$work/bob-recording.wav")
  alicemedia+=(--play "$work/alice.wav" --record "$work/alice-recording.wav" --dtmf 1234#)
fi
if has chat; then
  alicemedia+=(--message "Hello Bob, this is Alice.")
  bobmedia+=(--message "Hi Alice! Bob here.")
fi
if has file-transfer; then
  # 16 MiB of random bytes: bob accepts files into his directory.
  head -c 16777216 /dev/urandom >"$work/demo-file.bin"
  mkdir -p "$work/bob-files"
  alicemedia+=(--file "$work/demo-file.bin")
  bobmedia+=(--accept-files "$work/bob-files")
fi

log=$work/bob.log
"$bin/sipstreams" listen --auto-answer --listen udp:127.0.0.1:0 --user bob --config-dir "$work/bob" \
  --plugin-dir "$plugins" "${bobmedia[@]}" >"$log" 2>&1 </dev/null &
pid=$!
port=; i=0
while [ -z "$port" ] && [ $i -lt 100 ]; do
  sleep 0.1; i=$((i+1))
  port=$(awk '/^listening udp/{print $4; exit}' "$log")
done
[ -n "$port" ] || { echo "bob did not start:" >&2; cat "$log" >&2; exit 1; }
echo "== bob listens on udp:127.0.0.1:$port; alice calls him"

if [ ${#streams[@]} -gt 0 ] || has file-transfer; then
script() {
  sleep 2
  if has echo; then echo '/invoke echo.send {"payload":"hello bob"}'; fi
  if has pyecho; then echo '/invoke pyecho.send {"payload":"hello bob, from Python"}'; fi
  if has chat; then echo "How are you?"; sleep 0.5; echo /composing; fi
  sleep 1; echo /hold; sleep 1; echo /unhold
  # RTCP reports go every 5 s (randomised): give them time for an RTT.
  sleep 7
  if has audio; then echo /stats; fi
  sleep 0.5; echo /end
}
script | "$bin/sipstreams" call "sip:bob@127.0.0.1:$port" "${streams[@]}" --user alice --config-dir "$work/alice" \
  --plugin-dir "$plugins" "${alicemedia[@]}"
sleep 1
kill -TERM "$pid" 2>/dev/null || true; wait "$pid" || true; pid=
echo "== what bob saw"
cat "$log"
fi

if has file-transfer; then
  echo "== the file: sent by alice, saved by bob, SHA-1 verified by the receiver and here"
  grep -E '^file demo-file.bin (received|sent)' "$log" || { echo "bob did not receive the file" >&2; exit 1; }
  saved=$(find "$work/bob-files" -maxdepth 1 -type f -name 'demo-file*' | head -1)
  [ -n "$saved" ] || { echo "bob saved no file" >&2; exit 1; }
  want=$(sha1sum "$work/demo-file.bin" | cut -d' ' -f1); got=$(sha1sum "$saved" | cut -d' ' -f1)
  echo "sent $work/demo-file.bin sha1 $want; bob saved $saved sha1 $got"
  [ "$want" = "$got" ] || { echo "the hashes differ" >&2; exit 1; }
fi

if has audio; then
  echo "== the recordings (both directions, mixed): strongest tones"
  for who in alice bob; do
    f="$work/$who-recording.wav"
    [ -s "$f" ] || { echo "$who recorded nothing" >&2; exit 1; }
    # sox's spectrum: the strongest bin near each tone, and the strongest overall.
    sox "$f" -n channels 1 stat -freq 2>&1 | awk -v who="$who" -v secs="$(soxi -D "$f")" '
      NF == 2 && $1 ~ /^[0-9.]+$/ {
        if ($2 > max) { max = $2; top = $1 }
        if ($1 > 400 && $1 < 480 && $2 > a) a = $2
        if ($1 > 950 && $1 < 1050 && $2 > b) b = $2
      }
      END { ok = (a > max/20 && b > max/20)
            printf "%s: %.1f s recorded, dominant %.0f Hz; level at 440 Hz %.0f, at 1000 Hz %.0f (both directions heard: %s)\n",
            who, secs, top, a, b, ok ? "yes" : "NO"
            if (!ok) exit 1 }'
  done
fi

if has desktop-sharing; then
  # A virtual desktop (TigerVNC's Xvnc on a private display, loopback
  # only, showing a pattern) that bob shares with whoever calls to view it;
  # alice views it through the MSRP tunnel with Debian's vncsnapshot as her
  # VNC viewer, which saves what it received.
  for p in Xvnc xsetroot vncsnapshot; do
    command -v "$p" >/dev/null || { echo "$p is needed for the desktop sharing demo: run make deps" >&2; exit 1; }
  done
  Xvnc -displayfd 3 3>"$work/display" -geometry 640x400 -depth 24 -rfbport 0 -interface 127.0.0.1 -localhost \
    -SecurityTypes None -AlwaysShared -desktop "sipstreams demo desktop" >"$work/xvnc.log" 2>&1 &
  xvnc=$!
  i=0; while [ ! -s "$work/display" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
  display=$(cat "$work/display" 2>/dev/null || true)
  [ -n "$display" ] || { echo "Xvnc did not start:" >&2; cat "$work/xvnc.log" >&2; exit 1; }
  vncport=$((5900 + display))
  printf '#define p_width 16\n#define p_height 16\nstatic unsigned char p_bits[] = {\n 0xff,0x00,0x81,0x7e,0xbd,0x42,0xa5,0x5a,0xa5,0x5a,0xbd,0x42,0x81,0x7e,0xff,0x00,\n 0x00,0xff,0x7e,0x81,0x42,0xbd,0x5a,0xa5,0x5a,0xa5,0x42,0xbd,0x7e,0x81,0x00,0xff};\n' >"$work/pattern.xbm"
  xsetroot -display ":$display" -bitmap "$work/pattern.xbm" -fg '#f0a020' -bg '#203060'
  echo "== desktop sharing: bob shares the virtual desktop :$display (VNC 127.0.0.1:$vncport); alice views it"
  log=$work/bob-screen.log
  "$bin/sipstreams" listen --auto-answer --accept-desktop-sharing --vnc "127.0.0.1:$vncport" --listen udp:127.0.0.1:0 \
    --user bob --config-dir "$work/bob" --plugin-dir "$plugins" >"$log" 2>&1 </dev/null &
  pid=$!
  port=; i=0
  while [ -z "$port" ] && [ $i -lt 100 ]; do
    sleep 0.1; i=$((i+1))
    port=$(awk '/^listening udp/{print $4; exit}' "$log")
  done
  [ -n "$port" ] || { echo "bob did not start:" >&2; cat "$log" >&2; exit 1; }
  "$bin/sipstreams" view-screen "sip:bob@127.0.0.1:$port" --user alice --config-dir "$work/alice" --plugin-dir "$plugins" \
    --viewer "vncsnapshot -allowblank -encodings 'raw' {host}::{port} $work/screen.jpg" </dev/null
  sleep 0.5
  kill -TERM "$pid" 2>/dev/null || true; wait "$pid" || true; pid=
  echo "== what bob (the shared screen) saw"
  cat "$log"
  [ -s "$work/screen.jpg" ] || { echo "the viewer received no picture" >&2; exit 1; }
  echo "== what the viewer received: $(stat -c %s "$work/screen.jpg") bytes of JPEG in $work/screen.jpg (removed at exit), a picture of the 640x400 desktop"
fi
