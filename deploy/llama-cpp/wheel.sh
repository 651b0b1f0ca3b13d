#!/usr/bin/env bash
# Build llama-cpp-python once for this CPU's vector units, without AMX, and print the wheel's path.
#
# Why: pip compiles llama.cpp with -march=native, and on CPUs with AMX (Sapphire Rapids and
# later) its AMX weight-repacking path dies with a general protection fault on the first prompt
# of more than one token inside these VMs. Naming the vector units instead of "native" keeps
# AVX2/AVX-512 and leaves AMX out. The wheel is cached by version and flags in the user cache
# dir, apart from pip's cache (whose wheel for the same version may be the native one).
#   usage: deploy/llama-cpp/wheel.sh PYTHON VERSION
set -euo pipefail
python=$1 version=$2

flags="-DGGML_NATIVE=OFF"
if [ "$(uname -m)" = x86_64 ]; then
  cpu=$(grep -m1 '^flags' /proc/cpuinfo || true)
  has() { [[ " $cpu " == *" $1 "* ]]; }
  for pair in avx:AVX avx2:AVX2 fma:FMA f16c:F16C bmi2:BMI2 avx_vnni:AVX_VNNI avx512f:AVX512 \
              avx512_vnni:AVX512_VNNI avx512vbmi:AVX512_VBMI avx512_bf16:AVX512_BF16; do
    has "${pair%%:*}" && flags="$flags -DGGML_${pair#*:}=ON"
  done
  flags="$flags -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
else
  flags=""  # other architectures: llama.cpp's own defaults
fi
tag=$(printf '%s' "$flags" | sha256sum | cut -c1-12)
dir="${XDG_CACHE_HOME:-$HOME/.cache}/clipflows/wheels/llama-cpp-python-$version-$tag"
wheel=$(ls "$dir"/llama_cpp_python-"$version"-*.whl 2>/dev/null | head -1 || true)
if [ -z "$wheel" ]; then
  echo "Compiling llama-cpp-python $version ($flags): about 4 minutes on 2 cores, once." >&2
  tmp=$(mktemp -d "$dir.partial.XXXXXX" 2>/dev/null || { mkdir -p "$(dirname "$dir")"; mktemp -d "$dir.partial.XXXXXX"; })
  trap 'rm -rf "$tmp"' EXIT
  CMAKE_ARGS="$flags" "$python" -m pip wheel --quiet --no-deps --no-cache-dir \
    --no-binary llama-cpp-python -w "$tmp" "llama-cpp-python==$version" >&2
  mkdir -p "$dir" && mv "$tmp"/llama_cpp_python-*.whl "$dir"/
  wheel=$(ls "$dir"/llama_cpp_python-"$version"-*.whl | head -1)
fi
echo "$wheel"
