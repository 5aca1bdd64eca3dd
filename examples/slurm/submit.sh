#!/bin/sh
# Submit the shards (an array job) and the merge (a job depending on the array).
#   TARGET_URL  the server's base URL, as the compute nodes reach it (required)
#   RESULTS     results directory on a shared file system (default: $PWD/results/sharded)
#   SHARDS      number of shards (default 4)
#   START_AT    when every shard starts the first run, Unix seconds (default: now + 300 s;
#               every array task must be running by then, or it starts late)
#   SCENARIO    the scenario file (default: scenario.yaml beside this script)
# Extra arguments go to both sbatch calls (e.g. --partition=cpu).
set -eu
: "${TARGET_URL:?set TARGET_URL to the server's base URL}"
dir=$(cd "$(dirname "$0")" && pwd)
: "${RESULTS:=$PWD/results/sharded}" "${START_AT:=$(($(date +%s) + 300))}"
: "${SHARDS:=4}" "${SCENARIO:=$dir/scenario.yaml}"
export TARGET_URL RESULTS START_AT SCENARIO
shards=$(sbatch --parsable --export=ALL --array="0-$((SHARDS - 1))" "$@" "$dir/shards.sbatch")
sbatch --parsable --export=ALL --dependency="afterok:${shards%%;*}" "$@" "$dir/merge.sbatch"
echo "shards: job $shards, starting at $START_AT; merged results: $RESULTS/merged"
