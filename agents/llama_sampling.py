"""Schema-constrained greedy decoding for llama.cpp that costs about what plain decoding costs.

llama-cpp-python puts the JSON-schema grammar in front of greedy sampling, so every generated
token runs the grammar over the whole vocabulary (152k tokens for Qwen): 0.35-0.65x the speed of
plain generation here. Greedy decoding only needs the best token the grammar allows, so this
sampler first checks the model's own best token against the grammar (one candidate) and runs the
full grammar only when that token is refused, which is llama.cpp's own sampler order in its
server and CLI. The result is the same token sequence; a test checks it against llama-cpp's.
Written here because llama-cpp-python exposes no such option (0.3.x); it builds on its public
low-level sampler calls, but hooks ``Llama._init_sampler`` and reads ``LlamaGrammar._grammar``
and ``._root``, which are not public. So it is used only on the releases it was written for
(:data:`WRITTEN_FOR`) and when those hooks are there; elsewhere llama.cpp's own sampler runs,
with one warning, and ``tests/test_llama_sampling.py`` fails until this adapter is checked
against the new release.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import logging
from typing import Any

import numpy as np
from packaging.specifiers import SpecifierSet
from packaging.version import Version

# The llama-cpp-python releases this adapter was written for and tested with (deploy/install.sh
# pins 0.3.36).
WRITTEN_FOR = SpecifierSet(">=0.3.7,<0.4")
log = logging.getLogger(__name__)


class GreedyGrammarSampler:
    """Greedy sampling under a grammar: the argmax if the grammar allows it, else the best
    allowed token. Implements the ``sample(ctx, idx)`` / ``close()`` that ``Llama`` uses."""

    def __init__(self, model: Any, grammar: Any, n_vocab: int):
        import llama_cpp

        self._llama_cpp = llama_cpp
        self.n_vocab = n_vocab
        self.grammar = llama_cpp.llama_sampler_init_grammar(
            model.vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8")
        )
        self._one = (llama_cpp.llama_token_data * 1)()
        self._all = (llama_cpp.llama_token_data * n_vocab)()
        self._ids = np.arange(n_vocab, dtype=np.int32)
        self.steps = 0
        self.full_checks = 0  # steps where the model's best token was refused

    def _apply(self, data: Any, size: int) -> None:
        candidates = self._llama_cpp.llama_token_data_array(
            data=data, size=size, selected=-1, sorted=False
        )
        self._llama_cpp.llama_sampler_apply(self.grammar, ctypes.byref(candidates))

    def sample(self, ctx: Any, idx: int) -> int:
        pointer = self._llama_cpp.llama_get_logits_ith(ctx.ctx, idx)
        logits = np.ctypeslib.as_array(pointer, shape=(self.n_vocab,))
        token = int(np.argmax(logits))
        self._one[0].id, self._one[0].logit, self._one[0].p = token, float(logits[token]), 0.0
        self._apply(self._one, 1)
        self.steps += 1
        if not np.isfinite(self._one[0].logit):  # refused: the best token the grammar allows
            self.full_checks += 1
            view = np.ctypeslib.as_array(self._all)
            view["id"], view["logit"], view["p"] = self._ids, logits, 0.0
            self._apply(self._all, self.n_vocab)
            token = int(view["id"][np.argmax(view["logit"])])
        self._llama_cpp.llama_sampler_accept(self.grammar, token)
        return token

    def close(self) -> None:
        if self.grammar is not None:
            self._llama_cpp.llama_sampler_free(self.grammar)
            self.grammar = None

    def __del__(self) -> None:
        self.close()


def fast_sampler_unavailable() -> str | None:
    """Why the installed llama-cpp-python cannot take :class:`GreedyGrammarSampler`, or None."""
    import llama_cpp
    from llama_cpp.llama_grammar import LlamaGrammar

    version = importlib.metadata.version("llama_cpp_python")
    if Version(version) not in WRITTEN_FOR:
        return f"llama-cpp-python {version} is not a release it was written for ({WRITTEN_FOR})"
    grammar = LlamaGrammar.from_string('root ::= "a"', verbose=False)
    hooks = {
        "Llama._init_sampler": hasattr(llama_cpp.Llama, "_init_sampler"),
        "LlamaGrammar._grammar": hasattr(grammar, "_grammar"),
        "LlamaGrammar._root": hasattr(grammar, "_root"),
        **{
            name: hasattr(llama_cpp, name)
            for name in ("llama_sampler_init_grammar", "llama_sampler_apply", "llama_sampler_free")
        },
    }
    missing = [name for name, present in hooks.items() if not present]
    return f"llama-cpp-python {version} lacks {', '.join(missing)}" if missing else None


def fast_grammar_llama(**kwargs: Any) -> Any:
    """A ``llama_cpp.Llama`` whose greedy, grammar-constrained generation uses
    :class:`GreedyGrammarSampler`; everything else is llama.cpp's own. On a release the adapter
    was not written for, a plain ``Llama`` (the same answers, slower), with one warning."""
    from llama_cpp import Llama

    reason = fast_sampler_unavailable()
    if reason is not None:
        log.warning("Schema-constrained decoding falls back to llama.cpp's own sampler: %s", reason)
        return Llama(**kwargs)

    class FastGrammarLlama(Llama):
        def _init_sampler(self, *args: Any, **options: Any) -> Any:
            grammar = options.get("grammar")
            plain = options.get("repeat_penalty", 1.0) == 1.0 and not options.get(
                "logits_processor"
            )
            if grammar is not None and options.get("temp") == 0.0 and plain:
                return GreedyGrammarSampler(self._model, grammar, self._n_vocab)
            return super()._init_sampler(*args, **options)

    return FastGrammarLlama(**kwargs)
