#!/usr/bin/env bash
# Runs the README's test command while a CPU burner occupies every core, and says whether it
# passed and how long it took. The suite must pass on a machine that is fully busy with other
# work: its tests assert properties of runner, not the speed of the machine.
#
#   scripts/busy-test.sh [EXTRA CARGO TEST ARGS...]
#
# The burners are plain busy loops at nice 0, one per core (nproc), killed when the script
# ends however it ends. The test binaries are built first, without the burners, so the figure
# is the suite's own time under load.
set -uo pipefail
cd "$(dirname "$0")/.."

cargo test --locked --no-run -q 2>&1 | grep -v '^ *Executable' || true

cores=$(nproc)
pids=()
stop_burners() { ((${#pids[@]})) && kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; }
trap stop_burners EXIT
for _ in $(seq "$cores"); do
    bash -c 'while :; do :; done' &
    pids+=($!)
done
sleep 2
echo "busy-test: $cores burners at nice 0; load average $(cut -d' ' -f1-3 /proc/loadavg)"

start=$(date +%s)
log=$(mktemp --suffix=.log /tmp/busy-test.XXXXXX)
cargo test --locked --no-fail-fast "$@" >"$log" 2>&1 &
cargo_pid=$!
tail -n +1 -f --pid="$cargo_pid" "$log" | grep --line-buffered -E '^test result:|FAILED|panicked|^failures:'
wait "$cargo_pid"
rc=$?
took=$(( $(date +%s) - start ))
load=$(cut -d' ' -f1-3 /proc/loadavg)
stop_burners
trap - EXIT

passed=$(grep -Eo '[0-9]+ passed' "$log" | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s+=$1} END {print s+0}')
if [[ $rc -eq 0 ]]; then verdict=PASS; else verdict=FAIL; fi
echo "busy-test: $verdict in ${took} s ($passed passed, $failed failed; load average at the end $load; log $log)"
exit "$rc"
