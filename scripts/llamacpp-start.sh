#!/usr/bin/env bash
# Start the llama.cpp server that scripts/llamacpp-install.sh installed, on 127.0.0.1, and wait
# until its model is loaded (/health answers 200).
#
#   scripts/llamacpp-start.sh [PORT]        # default 8089; prints the base URL on stdout
#   kill "$(cat "$RUNNER_LLAMACPP_HOME/server-PORT.pid")"   # stop it (SIGTERM, 1-3 s)
#
# One thread (-t 1): on a 2-core machine shared with builds, more threads stall in OpenMP
# barriers. 4 slots (-np 4) with 2048 tokens of context each; the model is served as
# `smollm2-135m`. The log goes to $RUNNER_LLAMACPP_HOME/server-PORT.log.
set -euo pipefail

HOME_DIR="${RUNNER_LLAMACPP_HOME:-$HOME/.cache/runner/llamacpp}"
PORT="${1:-8089}"
READY_TIMEOUT_S="${RUNNER_LLAMACPP_READY_TIMEOUT_S:-120}"
VENV="$HOME_DIR/venv"
status=$(cat "$HOME_DIR/status" 2>/dev/null || echo "not installed")
if [[ "$status" != ok* ]]; then
    echo "llama.cpp is not installed ($status); run scripts/llamacpp-install.sh" >&2
    exit 3
fi
variant=${status#ok }
MODEL=$(cat "$HOME_DIR/model.path")
LOG="$HOME_DIR/server-$PORT.log"
PIDFILE="$HOME_DIR/server-$PORT.pid"

if [[ "$variant" == llama-server ]]; then
    "$VENV/bin/llama-server-vulkan" -m "$MODEL" --host 127.0.0.1 --port "$PORT" \
        -t 1 -tb 1 -c 8192 -np 4 --metrics --no-webui --alias smollm2-135m >"$LOG" 2>&1 &
else
    PORT="$PORT" MODEL="$MODEL" "$VENV/bin/python" - >"$LOG" 2>&1 <<'PY' &
import os, signal, time
import xllamacpp as xlc
p = xlc.CommonParams()
p.model.path = os.environ["MODEL"]
p.model_alias = {"smollm2-135m"}
p.hostnames = ["127.0.0.1"]
p.port = int(os.environ["PORT"])
p.n_ctx = 8192
p.n_parallel = 4
p.cpuparams.n_threads = 1
p.cpuparams_batch.n_threads = 1
p.endpoint_metrics = True
s = xlc.Server(p)
print("LISTENING", s.listening_address, flush=True)
signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
while True:
    time.sleep(3600)
PY
fi
pid=$!
echo "$pid" > "$PIDFILE"
deadline=$(( $(date +%s) + READY_TIMEOUT_S ))
while true; do
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "llama.cpp server ($variant) exited during startup; log $LOG:" >&2
        tail -20 "$LOG" >&2
        exit 1
    fi
    code=$("$VENV/bin/python" - "$PORT" <<'PY' 2>/dev/null || true
import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/health", timeout=2).status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception:
    print("none")
PY
)
    [[ "$code" == 200 ]] && break
    if (( $(date +%s) > deadline )); then
        echo "llama.cpp server not ready after ${READY_TIMEOUT_S} s (last /health: $code); log $LOG" >&2
        kill "$pid" 2>/dev/null || true
        exit 1
    fi
    sleep 0.25
done
echo "http://127.0.0.1:$PORT"
