"""The fast schema-constrained sampler writes exactly what llama.cpp's own grammar sampler writes."""

from __future__ import annotations

import json

import pytest
from llama_cpp import Llama
from llm_files import smollm2_gguf

from clipflows.agents.llama_sampling import (
    GreedyGrammarSampler,
    fast_grammar_llama,
    fast_sampler_unavailable,
)

SCHEMA = {
    "type": "object",
    "properties": {
        "differences": {
            "type": "array",
            "minItems": 1,
            "maxItems": 3,
            "items": {"type": "string", "maxLength": 40},
        },
        "score": {"enum": [0, 0.5, 1]},
    },
    "required": ["differences", "score"],
}
PROMPTS = [
    "List how cats differ from dogs, then score your confidence.",
    "Name three colours of the rainbow and score 1.",
    "Write JSON about a red circle versus a blue square.",
]


@pytest.fixture(scope="module")
def models():
    options = {"model_path": str(smollm2_gguf()), "n_ctx": 1024, "n_threads": 2, "verbose": False}
    return Llama(seed=0, **options), fast_grammar_llama(seed=0, **options)


@pytest.mark.parametrize("prompt", PROMPTS)
def test_the_fast_sampler_gives_the_same_answer_as_llama_cpp(models, prompt):
    answers = []
    for llama in models:
        llama.reset()
        out = llama.create_chat_completion(
            messages=[{"role": "user", "content": prompt}],
            temperature=0.0,
            max_tokens=120,
            response_format={"type": "json_object", "schema": SCHEMA},
        )
        answers.append(out["choices"][0]["message"]["content"])
    assert answers[0] == answers[1]
    assert set(json.loads(answers[1])) == {"differences", "score"}


def test_a_refused_best_token_falls_back_to_the_full_grammar(models):
    from llama_cpp.llama_grammar import LlamaGrammar

    llama = models[1]
    grammar = LlamaGrammar.from_string('root ::= "yes" | "no"', verbose=False)
    sampler = GreedyGrammarSampler(llama._model, grammar, llama._n_vocab)
    llama.reset()
    llama.eval(llama.tokenize(b"The sky is", add_bos=True))
    token = sampler.sample(llama._ctx, -1)
    sampler.close()
    assert llama.detokenize([token]).decode().strip() in {"yes", "no", "y", "n", "ye"}
    assert sampler.full_checks == 1  # the model's own next word was neither


def test_the_installed_llama_cpp_python_is_one_the_fast_sampler_was_written_for():
    """Fails the day llama-cpp-python moves past the release range or drops a hook the adapter
    uses: check the adapter against the new release, then widen WRITTEN_FOR."""
    assert fast_sampler_unavailable() is None


def test_another_release_gets_llama_cpp_s_own_sampler_and_one_warning(monkeypatch, caplog):
    monkeypatch.setattr("importlib.metadata.version", lambda name: "0.4.0")
    assert "0.4.0 is not a release it was written for" in fast_sampler_unavailable()
    options = {"model_path": str(smollm2_gguf()), "n_ctx": 256, "n_threads": 1, "verbose": False}
    with caplog.at_level("WARNING", logger="clipflows.agents.llama_sampling"):
        llama = fast_grammar_llama(**options)
    assert type(llama) is Llama
    assert [r.message for r in caplog.records if "falls back" in r.message]
