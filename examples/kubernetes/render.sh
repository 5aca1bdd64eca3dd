#!/bin/sh
# Render the manifests to stdout: `render.sh shards` (the scenario's ConfigMap, the results
# volume, the Indexed Job) or `render.sh merge` (the merge Job).
#   SHARDS      number of shard pods (default 4)
#   TARGET_URL  the server's base URL, as the pods reach it (required for `shards`)
#   IMAGE       an image with `runner` on its PATH (default runner:latest)
#   START_AT    when every shard starts the first run, Unix seconds (default: now + 120 s,
#               time for the pods to be scheduled and pull the image)
set -eu
dir=$(dirname "$0")
part=${1:-shards}
: "${SHARDS:=4}" "${IMAGE:=runner:latest}"
: "${START_AT:=$(($(date +%s) + 120))}"
subst() {
    sed -e "s|@SHARDS@|$SHARDS|g" -e "s|@START_AT@|$START_AT|g" \
        -e "s|@IMAGE@|$IMAGE|g" -e "s|@TARGET_URL@|${TARGET_URL:-}|g" "$1"
}
case "$part" in
shards)
    : "${TARGET_URL:?set TARGET_URL to the server's base URL}"
    printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: runner-scenario\ndata:\n  scenario.yaml: |\n'
    sed 's/^/    /' "$dir/scenario.yaml"
    echo "---"
    subst "$dir/shards.yaml"
    ;;
merge) subst "$dir/merge.yaml" ;;
*)
    echo "usage: render.sh shards|merge" >&2
    exit 2
    ;;
esac
