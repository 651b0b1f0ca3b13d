"""Text-to-music retrieval on the 28 packaged tracks: tags-only vs description text, side by side.

Each mood folder (calm, energetic, happy, nostalgic, tender) gets two queries; precision@5 is the
share of the top 5 tracks from that mood. Run after ``clipflows music-describe``:
``python tests/bench/eval_music_text_retrieval.py INDEX_DIR``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from clipflows.components.music.evaluation import mood_precision
from clipflows.components.music.library import MusicLibrary
from clipflows.components.sentence import SentenceEncoder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index_dir", type=Path)
    parser.add_argument("-k", type=int, default=5)
    args = parser.parse_args()
    library = MusicLibrary.load(args.index_dir, SentenceEncoder())
    rows = [mood_precision(library, field, args.k) for field in ("tags", "description")]
    moods = list(rows[0].per_mood)
    print(f"{'field':12} {'P@' + str(args.k):>6} " + " ".join(f"{m:>9}" for m in moods))
    for row in rows:
        cells = " ".join(f"{row.per_mood[m]:9.2f}" for m in moods)
        print(f"{row.field:12} {row.precision:6.2f} {cells}")
    print(f"chance: {rows[0].chance:.2f}")


if __name__ == "__main__":
    main()
