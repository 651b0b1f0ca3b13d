"""The offline sentence encoder: loaded from its package by path, changing nothing process-wide."""

import os
import subprocess
import sys

import numpy as np


def test_sentence_encoder_leaves_the_hub_setting_alone():
    code = (
        "import os\n"
        "from clipflows.components.sentence import SentenceEncoder\n"
        "vectors = SentenceEncoder().encode_texts(['a dog barking', 'a violin playing'])\n"
        "print(vectors.shape, os.environ.get('HF_HUB_OFFLINE', 'unset'))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_OFFLINE"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-3:] == ["(2,", "384)", "unset"]


def test_sentence_vectors_are_unit_rows_and_know_related_words():
    from clipflows.components.sentence import SentenceEncoder

    vectors = SentenceEncoder().encode_texts(["a dog barking", "a puppy yapping", "a piano"])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
