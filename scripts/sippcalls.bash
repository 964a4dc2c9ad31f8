# sippcalls.bash — what scripts/sipload.sh and scripts/sipab.sh share:
# the calls of the SIP load benchmark (issue 15) and a process's CPU.
# Sourced, not run.

# SCENARIO is the call: cmd/host/testdata/uac_audio_load.xml (INVITE
# offering PCMU, answered by the audio plugin, ACK, BYE at once; a 503 is
# ACKed and counted as refused).
SCENARIO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/cmd/host/testdata/uac_audio_load.xml

# sipp_calls DIR HOST:PORT SIPP_PORT RATE SECONDS CALLS [SIPP OPTION ...]:
# sipp places CALLS calls at RATE a second to HOST:PORT from
# 127.0.0.1:SIPP_PORT, bounded to SECONDS + 60 s, with every call's
# response times (*_rtt.csv), its screen (screen.log) and its own CPU
# (times.txt: the shell's `times`) in DIR. A failing sipp is not an error:
# the caller reads what it left.
sipp_calls() {
	local dir=$1 target=$2 port=$3 rate=$4 secs=$5 calls=$6
	shift 6
	(cd "$dir" && sipp -sf "$SCENARIO" "$target" -t u1 -i 127.0.0.1 -p "$port" \
		-m "$calls" -r "$rate" -rp 1000 -l 20000 -max_socket 100 -buff_size 4194304 -nostdin \
		-trace_rtt -rtt_freq 1 -timeout "$((secs + 60))s" -timeout_error "$@" >screen.log 2>&1
		times >times.txt) || true
}

# cpu PID: the process's user and system CPU so far, in clock ticks.
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }

# faults PID: the process's minor page faults so far (memory it touched
# afresh: a heap that grew, or grew again after giving pages back).
faults() { awk '{print $10}' "/proc/$1/stat"; }
