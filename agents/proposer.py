"""The proposer: an LLM reads captions of two image sets and names how they differ.

Each call asks for both directions at once (what is more true of A, and of B), over several
rounds of sampled captions; phrases are normalised and deduplicated, exactly and by
text-embedding similarity, and the ranker chooses among them.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, Field, StringConstraints

from clipflows.components.set_difference import defaults
from clipflows.components.set_difference.ranking import Hypothesis

from .function_words import FUNCTION_WORDS, GENERIC_KINDS
from .llm import LLM, LLMOutputError

Direction = Literal["A", "B"]
MAX_PER_ROUND = 10  # phrases of the refiner's list schema
MAX_PER_SET = 4  # phrases per set and call
Phrase = Annotated[str, StringConstraints(min_length=2, max_length=40)]

# Tuned on the world pairs with the strict judge (Qwen2.5-Coder-1.5B, 11 pairs): the earlier
# per-direction prompt scored Acc@1 0.55 (it copied captions); a worked example from another
# domain and "never copy a caption" 0.77; both sets in one call 0.73 at half the time; two
# rounds of other captions 0.82. A reasoning field first (the words common to each set) fell
# to 0.36, and a list of attribute kinds made it answer "colours" and "sizes". Counting the
# most uneven words for it (uneven_words) made it 1.00 / 1.00; on these template captions the
# counted words alone, with no LLM, score the same (tests/bench/eval_llm_steps.py prints both).
SYSTEM = (
    "You compare two sets of images through their captions and say how they differ. A difference "
    "is a short phrase (1 to 3 words) that is true of nearly every image of one set and of few "
    "images of the other: an object, a colour, a size, a number of things, a place, a style. "
    "Answer in JSON."
)
EXAMPLE_A = ("a dog playing on the grass", "a brown dog on a sofa", "a dog sleeping in the snow")
EXAMPLE_B = ("a cat playing on the grass", "a brown cat on a sofa", "a cat sleeping in the snow")
EXAMPLE_ANSWER = (
    'Answer: {"set_a": ["dogs"], "set_b": ["cats"]}\n'
    'Not "a brown dog on a sofa" (a whole caption) and not "brown" or "grass" (both sets have '
    "them).\n"
)
INSTRUCTIONS = (
    "Which words appear in nearly every Set A caption but rarely in Set B, and the other way "
    "round? List up to {n} short phrases for each set, most distinctive first. Never copy a whole "
    "caption."
)
# Asked in a call of its own: on real descriptions the lists name instances ("horse",
# "squirrel") where the kind names what they share ("animals"); asked in the same call, the
# kind made the 1.5B list the same words for both world sets.
KIND_SYSTEM = "You read the captions of two sets of images. Answer in JSON."
KIND_INSTRUCTIONS = (
    "kind_a: the kind of thing nearly every Set A caption shows, in one or two general words. "
    "kind_b: the same for Set B."
)
# And of each caption, then counted (issue 25.3): asked of a whole set, the 1.5B often
# answered "objects" for both PartiPrompts sets; one caption is a question it answers well, and
# the counts say which kinds one set has and the other lacks (dev Acc@1 0.20 -> 0.40). The
# fixed part comes first so llama.cpp reuses it from one caption to the next.
CAPTION_KIND_SYSTEM = "You say what kind of thing an image caption shows. Answer in JSON."
KIND_EXAMPLE = ("a hammer and three nails on a wooden workbench", "tools")
CAPTION_KIND_PROMPT = (
    "kind: the general kind of the main thing the caption shows, in one or two words: the "
    "category it belongs to, not its own name, colour or details. For example, "
    f'"{KIND_EXAMPLE[0]}" gives kind "{KIND_EXAMPLE[1]}".\n\n'
    'Caption: "{caption}"'
)
KIND_MIN_GAP = 0.25  # a kind listed for a set: its share of captions exceeds the other's by this
KINDS_PER_SET = 2
_PREFIXES = re.compile(
    r"^(group (1|2|a|b|one|two) (has|have|shows?|contains?|is|are)\s+|more\s+|images? of\s+"
    r"|photos? of\s+|a photo of\s+|pictures? of\s+|set (a|b) (has|have|shows?|is|are)\s+)",
)


class ProposedDifferences(BaseModel):
    """The refiner's schema: a bounded list of short phrases for one set."""

    differences: list[Annotated[str, StringConstraints(min_length=2, max_length=60)]] = Field(
        min_length=1, max_length=MAX_PER_ROUND
    )


class SetDifferences(BaseModel):
    """The proposer's schema: what is more true of set A, and of set B, a few phrases each."""

    set_a: list[Phrase] = Field(min_length=1, max_length=MAX_PER_SET)
    set_b: list[Phrase] = Field(min_length=1, max_length=MAX_PER_SET)


class SetKinds(BaseModel):
    """The kind of thing each set's captions show, in general words."""

    kind_a: Phrase
    kind_b: Phrase


# The LLM's answer for one caption. (No docstring: it would enter the JSON schema, and with it
# every cached answer's key.)
class CaptionKind(BaseModel):
    kind: Phrase


class ProposerConfig(BaseModel):
    rounds: int = Field(default=defaults.PROPOSAL_ROUNDS, ge=1, le=20)
    sample_size: int = Field(default=defaults.SAMPLE_SIZE, ge=1, le=200)
    per_set: int = Field(default=MAX_PER_SET, ge=1, le=MAX_PER_SET)
    word_counts: int = Field(default=8, ge=0, le=40)  # most uneven caption words shown; 0: none
    near_duplicate: float = Field(default=0.92, gt=0, le=1)
    # also ask the kind of thing each set shows, and each caption (the kinds counted)
    kinds: bool = True
    # A round whose captions' counted kinds already tell the sets apart proposes those kinds
    # alone; with this on, it also asks the lists' and the sets' kind calls. Off by default: the
    # lists name instances ("latte", "red 1997 porsche") that the ranker puts above the kinds
    # (PartiPrompts dev, 3 seeds, Acc@1 0.33 -> 0.67; docs/llm-backends.md).
    lists_with_kinds: bool = False
    # Drop the phrases an answer gives for both sets. Off by default: CLIP ranks such a phrase in
    # both directions and only the one it supports can be significant, and on the world the 1.5B
    # sometimes lists the same colours for both sets in every round, which would leave nothing.
    one_sided: bool = False
    seed: int = 0


def normalise_phrase(text: str) -> str:
    """Lower case, no quotes, no 'more'/'group 1 has' prefixes, no trailing punctuation."""
    phrase = " ".join(text.lower().split()).strip(" .,;:!\"'`-*•")
    previous = None
    while previous != phrase:
        previous, phrase = phrase, _PREFIXES.sub("", phrase).strip()
    return phrase.strip(" .,;:!\"'`-*•")


def one_sided(answer: Sequence[Hypothesis]) -> list[Hypothesis]:
    """One answer's hypotheses whose phrase it did not also give for the other set: a phrase
    said of both sets at once says the model could not tell them apart, so it is not shown as a
    difference. (Per answer: another round, on other captions, may rightly say it of one set.)"""
    directions: dict[str, set[str]] = {}
    for hypothesis in answer:
        directions.setdefault(hypothesis.text, set()).add(hypothesis.direction)
    return [h for h in answer if len(directions[h.text]) == 1]


def deduplicate(
    hypotheses: Sequence[Hypothesis],
    embed: Callable[[list[str]], np.ndarray] | None,
    threshold: float,
) -> list[Hypothesis]:
    """Drop exact repeats, then phrases whose embedding is within ``threshold`` cosine of a
    kept phrase of the same direction; the first phrase seen wins."""
    unique = list({(h.text, h.direction): h for h in reversed(hypotheses)}.values())[::-1]
    if embed is None or len(unique) < 2:
        return unique
    vectors = embed([h.text for h in unique])
    kept: list[int] = []
    for i, hypothesis in enumerate(unique):
        same = [k for k in kept if unique[k].direction == hypothesis.direction]
        if not same or float((vectors[same] @ vectors[i]).max()) < threshold:
            kept.append(i)
    return [unique[i] for i in kept]


class WordCount(BaseModel):
    """A caption word and how many captions of each set use it."""

    text: str
    in_a: int
    in_b: int


def uneven_words(
    captions_a: Sequence[str], captions_b: Sequence[str], top: int, min_gap: float = 0.5
) -> list[WordCount]:
    """The ``top`` words whose share of captions differs most between the sets (by ``min_gap``
    or more), most uneven first; a word both sets use alike is never listed. Single words: two-word
    phrases mostly repeat them ("on black", "black background"); phrasing is the model's job.

    Small models read a list of captions poorly: Qwen2.5-Coder-1.5B never named "black
    background" or "two objects" though every caption of one set said it. Counted for them,
    the evidence is plain; the model still chooses and phrases the differences."""
    from sklearn.feature_extraction.text import CountVectorizer

    if not captions_a or not captions_b:
        return []
    # Function words only: sklearn's stop words drop "one", "two", "empty" and "top". On real
    # descriptions "of" and "the" are uneven too ("a painting of ..."), and the model listed them.
    vectorizer = CountVectorizer(binary=True, lowercase=True, stop_words=sorted(FUNCTION_WORDS))
    try:
        present = vectorizer.fit_transform([*captions_a, *captions_b]).toarray()
    except ValueError:  # no word of two letters or more in any caption
        return []
    in_a, in_b = present[: len(captions_a)].sum(0), present[len(captions_a) :].sum(0)
    gap = np.abs(in_a / len(captions_a) - in_b / len(captions_b))
    words = vectorizer.get_feature_names_out()
    # Most uneven first; among equals, in alphabetical order.
    order = sorted(range(len(words)), key=lambda i: (-round(gap[i], 6), words[i]))
    return [
        WordCount(text=str(words[i]), in_a=int(in_a[i]), in_b=int(in_b[i]))
        for i in order[:top]
        if gap[i] >= min_gap and gap[i] > 0
    ]


def _bullets(captions: Sequence[str]) -> str:
    return "\n".join(f"- {c}" for c in captions)


def _sets(captions_a: Sequence[str], captions_b: Sequence[str], words: int) -> str:
    """Both sets' captions, then (``words`` > 0) how many captions of each use the most uneven
    words. (Listed under the set that uses each more, the words made dev worse: PartiPrompts
    Acc@1 0.40 -> 0.33, more captions copied.)"""
    text = f"Set A captions:\n{_bullets(captions_a)}\n\nSet B captions:\n{_bullets(captions_b)}\n"
    counts = uneven_words(captions_a, captions_b, words) if words else []
    if counts:
        na, nb = len(captions_a), len(captions_b)
        listed = "\n".join(f"- {w.text}: A {w.in_a} of {na}, B {w.in_b} of {nb}" for w in counts)
        text += f"\nCaptions using each word, most uneven first:\n{listed}\n"
    return text


def proposal_messages(
    captions_a: Sequence[str], captions_b: Sequence[str], n: int, words: int = 0
) -> list[tuple[str, str]]:
    """The proposer's prompt: a worked example from another domain, then both sets."""
    user = (
        f"Example.\n{_sets(EXAMPLE_A, EXAMPLE_B, words)}\n{EXAMPLE_ANSWER}\n"
        f"Now these sets.\n{_sets(captions_a, captions_b, words)}\n{INSTRUCTIONS.format(n=n)}"
    )
    return [("system", SYSTEM), ("human", user)]


def kind_messages(captions_a: Sequence[str], captions_b: Sequence[str]) -> list[tuple[str, str]]:
    """The second question of a round: what kind of thing each set shows."""
    return [
        ("system", KIND_SYSTEM),
        ("human", f"{_sets(captions_a, captions_b, 0)}\n{KIND_INSTRUCTIONS}"),
    ]


def caption_kind_messages(caption: str) -> list[tuple[str, str]]:
    """The question asked of each caption: the general kind of thing it shows."""
    return [("system", CAPTION_KIND_SYSTEM), ("human", CAPTION_KIND_PROMPT.format(caption=caption))]


def caption_kinds(llm: LLM, captions: Sequence[str]) -> dict[str, str]:
    """Caption -> the kind of thing it shows, normalised, asked in the order given; a caption
    whose answer never validates is left out (an unreachable LLM still raises)."""
    kinds = {}
    for caption in captions:
        if caption in kinds:
            continue
        try:
            answer = llm.ask_structured(caption_kind_messages(caption), CaptionKind)
        except LLMOutputError:
            continue
        if kind := normalise_phrase(answer.kind):
            kinds[caption] = kind
    return kinds


def uneven_kinds(
    kinds_a: Sequence[str],
    kinds_b: Sequence[str],
    size_a: int,
    size_b: int,
    top: int = KINDS_PER_SET,
    min_gap: float = KIND_MIN_GAP,
) -> list[Hypothesis]:
    """The ``top`` kinds whose share of each set's ``size`` captions exceeds the other set's by
    ``min_gap`` or more, said of that set, most uneven first; a kind is one whatever its plural
    ("vehicles", "vehicle") and is shown as most often written; a kind that names no kind in
    particular ("shapes", "objects") is never one."""

    def key(kind: str) -> str:
        return " ".join(
            w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w
            for w in kind.split()
        )

    written: dict[str, Counter[str]] = {}
    for kind in [*kinds_a, *kinds_b]:
        written.setdefault(key(kind), Counter())[kind] += 1
    count_a, count_b = Counter(map(key, kinds_a)), Counter(map(key, kinds_b))
    found = []
    for direction, mine, other, n_mine, n_other in (
        ("A", count_a, count_b, size_a, size_b),
        ("B", count_b, count_a, size_b, size_a),
    ):
        gaps = {
            k: mine[k] / max(n_mine, 1) - other[k] / max(n_other, 1)
            for k in mine
            if k not in GENERIC_KINDS
        }
        best = sorted((k for k in gaps if gaps[k] >= min_gap), key=lambda k: (-gaps[k], k))
        found += [
            Hypothesis(text=written[k].most_common(1)[0][0], direction=direction)
            for k in best[:top]
        ]
    return found


class ProposalRequest(BaseModel):
    """One proposer round: the captions of each set it shows the LLM (the lists' call, then,
    with ``kinds``, the kinds' call and one call a caption for the kind of thing it shows,
    unless ``caption_kinds`` already holds them: a flow asks every round's captions once, in
    one order, so that rounds run side by side get the same answers each run)."""

    round: int
    captions_a: list[str]
    captions_b: list[str]
    per_set: int = Field(default=MAX_PER_SET, ge=1, le=MAX_PER_SET)
    word_counts: int = Field(default=0, ge=0, le=40)
    kinds: bool = False
    lists_with_kinds: bool = False  # ProposerConfig.lists_with_kinds
    caption_kinds: dict[str, str] | None = None


def proposal_requests(
    captions_a: Sequence[str], captions_b: Sequence[str], config: ProposerConfig
) -> list[ProposalRequest]:
    """Every call of a proposal run, in a fixed order: one per round, each on its own sample of
    captions (several samples, and the ranker chooses among all their answers)."""
    if not captions_a or not captions_b:
        raise ValueError("The proposer needs at least one caption from each set.")
    requests = []
    for round_index in range(config.rounds):
        rng = random.Random(config.seed * 1009 + round_index)
        requests.append(
            ProposalRequest(
                round=round_index,
                captions_a=rng.sample(list(captions_a), min(config.sample_size, len(captions_a))),
                captions_b=rng.sample(list(captions_b), min(config.sample_size, len(captions_b))),
                per_set=config.per_set,
                word_counts=config.word_counts,
                kinds=config.kinds,
                lists_with_kinds=config.lists_with_kinds,
            )
        )
    return requests


class RoundAnswer(BaseModel):
    """One round's hypotheses, a list for each answer: the counted kinds of its captions alone,
    or the lists' call, then (with ``kinds``) each set's kind and the counted kinds."""

    answers: list[list[Hypothesis]]

    def hypotheses(self) -> list[Hypothesis]:
        """Everything the model said, in order: what its own answers score."""
        return [h for answer in self.answers for h in answer]

    def one_sided(self) -> list[Hypothesis]:
        """What is shown: each answer without the phrases it gave for both sets."""
        return [h for answer in self.answers for h in one_sided(answer)]

    def kept(self, config: ProposerConfig) -> list[Hypothesis]:
        """What goes to the ranker: everything, or with ``config.one_sided`` the one-sided."""
        return self.one_sided() if config.one_sided else self.hypotheses()


def _normalised(found: list[tuple[str, str]]) -> list[Hypothesis]:
    return [
        Hypothesis(text=phrase, direction=direction)
        for direction, text in found
        if (phrase := normalise_phrase(text))
    ]


def ask_proposal(llm: LLM, request: ProposalRequest) -> RoundAnswer:
    """One round's hypotheses for both sets, normalised (empty phrases dropped). With ``kinds``,
    the kinds of thing one set's captions show and the other's do not come first; when there
    are any, they are the round's answer (unless ``lists_with_kinds``). Otherwise the lists
    (A's first), then each set's kind, then those counted kinds (none)."""
    counted = counted_kinds(llm, request) if request.kinds else []
    if counted and not request.lists_with_kinds:
        return RoundAnswer(answers=[counted])
    answer = llm.ask_structured(
        proposal_messages(
            request.captions_a, request.captions_b, request.per_set, request.word_counts
        ),
        SetDifferences,
    )
    lists = [("A", text) for text in answer.set_a[: request.per_set]]
    lists += [("B", text) for text in answer.set_b[: request.per_set]]
    answers = [_normalised(lists)]
    if request.kinds:
        try:
            kinds = llm.ask_structured(
                kind_messages(request.captions_a, request.captions_b), SetKinds
            )
            answers.append(_normalised([("A", kinds.kind_a), ("B", kinds.kind_b)]))
        except LLMOutputError:  # the lists stand without it; an unreachable LLM still raises
            pass
        answers.append(counted)
    return RoundAnswer(answers=answers)


def counted_kinds(llm: LLM, request: ProposalRequest) -> list[Hypothesis]:
    """The kinds of thing one set's captions show more than the other's (``uneven_kinds``), each
    caption's kind asked unless the request holds it."""
    known = request.caption_kinds
    if known is None:
        known = caption_kinds(llm, request.captions_a + request.captions_b)
    kinds_a = [known[c] for c in request.captions_a if c in known]
    kinds_b = [known[c] for c in request.captions_b if c in known]
    sizes = len(request.captions_a), len(request.captions_b)
    return uneven_kinds(kinds_a, kinds_b, *sizes)


def propose(
    llm: LLM,
    captions_a: Sequence[str],
    captions_b: Sequence[str],
    config: ProposerConfig | None = None,
    embed: Callable[[list[str]], np.ndarray] | None = None,
) -> list[Hypothesis]:
    """Hypotheses in both directions from ``config.rounds`` rounds of sampled captions (with
    ``config.one_sided``, each answer's phrases for both sets dropped).

    The calls run one after another here; the set-difference flow spreads the same
    :func:`proposal_requests` over its task runner and filters the same way."""
    config = config or ProposerConfig()
    requests = proposal_requests(captions_a, captions_b, config)
    found = [h for r in requests for h in ask_proposal(llm, r).kept(config)]
    return deduplicate(found, embed, config.near_duplicate)
