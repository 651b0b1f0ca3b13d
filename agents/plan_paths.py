"""Ground a plan's paths in the request: every path the planner writes becomes one the user wrote.

The planner is told to copy paths exactly, yet Qwen2.5-Coder-1.5B still changes a folder's parent
("models/art_captions" for the user's "images/art_captions") or uses one folder twice and
drops another ("images/cars" for both steps, "images/cars_2010" nowhere). Both are put right
here, by rule. A path is only ever replaced by one the request names, never invented, so the
flow's guardrails still judge exactly what the user asked for.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from difflib import SequenceMatcher

from pydantic import BaseModel

PATH_ARGUMENTS = frozenset({"set_a", "set_b", "dataset", "data", "output"})
_WORD = re.compile(r"[^\s\"'`,;()\[\]]+")
_FILE = re.compile(r"[\w~.-]*\w\.[A-Za-z][A-Za-z0-9]{1,4}")  # data.csv, not e.g.
log = logging.getLogger(__name__)


def normalise_path(path: str) -> str:
    """A path as written, minus what does not change it: quotes, leading './', trailing '/'."""
    path = path.strip().strip("'\"`").strip()
    while path.startswith("./"):
        path = path[2:]
    return path.rstrip("/") or path


def request_paths(request: str) -> list[str]:
    """The paths a request names, in order and normalised: words with a '/' or a file's suffix
    (a sentence's closing punctuation is not part of the path)."""
    paths = []
    for word in _WORD.findall(request):
        word = word.rstrip(".:!?")
        if "/" in word or _FILE.fullmatch(word):
            paths.append(normalise_path(word))
    return [p for p in paths if p]


def _closest(path: str, candidates: list[str], min_similarity: float) -> str | None:
    """The candidate most like ``path`` (difflib's ratio), if it is alike enough and not tied."""
    scored = sorted(((SequenceMatcher(None, path, c).ratio(), c) for c in candidates), reverse=True)
    if not scored or scored[0][0] < min_similarity:
        return None
    if len(scored) > 1 and scored[1][0] == scored[0][0]:
        return None  # two equally likely folders: leave the choice visible rather than guess
    return scored[0][1]


def ground_paths(
    steps: list[BaseModel], request: str, min_similarity: float = 0.6
) -> list[BaseModel]:
    """``steps`` with their path arguments mapped onto the paths ``request`` names.

    1. A path the request does not name becomes the most similar one it does (not one the same
       step already uses).
    2. A path used more often than the request names it, while a named path goes unused: its
       later uses take the unused path most similar to it.
    Paths that match already, and requests that name no path, are left as they are.
    """
    written = request_paths(request)
    if not written:
        return steps
    mentions = Counter(written)
    slots = [
        (index, name)
        for index, step in enumerate(steps)
        for name in sorted(PATH_ARGUMENTS & set(type(step).model_fields))
    ]
    values = {(i, name): normalise_path(str(getattr(steps[i], name))) for i, name in slots}
    for slot in slots:
        if values[slot] in mentions:
            continue
        siblings = {values[s] for s in slots if s[0] == slot[0] and s != slot}
        choices = [p for p in mentions if p not in siblings]
        values[slot] = _closest(values[slot], choices, min_similarity) or values[slot]
    used = Counter(values.values())
    unused = [p for p in mentions if not used[p]]
    for slot in reversed(slots):
        value = values[slot]
        if unused and value in mentions and used[value] > mentions[value]:
            replacement = _closest(value, unused, min_similarity)
            if replacement:
                values[slot] = replacement
                used[value] -= 1
                unused.remove(replacement)
    grounded = []
    for index, step in enumerate(steps):
        update = {
            name: values[(index, name)]
            for i, name in slots
            if i == index and values[(i, name)] != normalise_path(str(getattr(step, name)))
        }
        if update:
            log.info("Planned paths %s put back to the request's %s", step.model_dump(), update)
        grounded.append(step.model_copy(update=update) if update else step)
    return grounded
