"""Run musicnn in its own process: ``python -m clipflows.components.music.tagger_worker MODEL FILE...``.

A process of its own because importing TensorFlow 1-style code switches eager mode off for the
whole process, and TensorFlow's threads would sit beside torch's. Prints one JSON object: per
file either {"tags": {...}, "embedding": [...], "patch_embeddings": [[...], ...]} or
{"error": "..."}; a patch is musicnn's 3-second input window, taken back to back.
"""

from __future__ import annotations

import json
import os
import sys


def _spectrogram_patches(path: str, n_frames: int):
    """musicnn's input, computed in float32: its own float16 version overflows to inf on
    normal-level audio, which gives every track the same tags."""
    import librosa
    import numpy as np
    from musicnn import configuration as config

    from clipflows.components.audio import load_audio

    # clipflows' one reader: clear errors for bad files, absurd sample rates refused unread.
    audio = load_audio(path, config.SR)
    mel = librosa.feature.melspectrogram(
        y=audio,
        sr=config.SR,
        hop_length=config.FFT_HOP,
        n_fft=config.FFT_SIZE,
        n_mels=config.N_MELS,
    ).T.astype(np.float32)
    mel = np.log10(10000 * mel + 1)
    if len(mel) < n_frames:
        mel = np.pad(mel, ((0, n_frames - len(mel)), (0, 0)))
    starts = range(0, len(mel) - n_frames + 1, n_frames)
    return np.stack([mel[s : s + n_frames] for s in starts])


def main(model: str, paths: list[str]) -> dict:
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import librosa
    import numpy as np
    import tensorflow as tf
    from musicnn import configuration as config
    from musicnn import models

    tf.compat.v1.disable_eager_execution()
    labels = config.MTT_LABELS if "MTT" in model else config.MSD_LABELS
    n_frames = (
        librosa.time_to_frames(3, sr=config.SR, n_fft=config.FFT_SIZE, hop_length=config.FFT_HOP)
        + 1
    )
    with tf.name_scope("model"):
        x = tf.compat.v1.placeholder(tf.float32, [None, n_frames, config.N_MELS])
        training = tf.compat.v1.placeholder(tf.bool)
        outputs = models.define_model(x, training, model, len(labels))
        probabilities, penultimate = tf.nn.sigmoid(outputs[0]), outputs[-1]
    session = tf.compat.v1.Session()
    weights = os.path.join(os.path.dirname(models.__file__), model) + "/"
    # musicnn's own extractor swallows restore errors; here a failed restore is fatal.
    tf.compat.v1.train.Saver().restore(session, weights)
    results = {}
    for path in paths:
        try:
            patches = _spectrogram_patches(path, n_frames)
        except Exception as error:  # noqa: BLE001 - any decoding failure is reported per file
            results[path] = {"error": f"{type(error).__name__}: {error}"}
            continue
        tags, features = session.run([probabilities, penultimate], {x: patches, training: False})
        per_patch = np.asarray(features).reshape(len(patches), -1)
        results[path] = {
            "tags": {label: float(v) for label, v in zip(labels, tags.mean(axis=0), strict=True)},
            "embedding": [float(v) for v in per_patch.mean(axis=0)],
            "patch_embeddings": np.round(per_patch, 5).tolist(),
        }
    return results


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2:])))
