"""The LLM registry: pinned sources, files checked by sha256, clear errors for what is missing."""

from __future__ import annotations

import hashlib
import io

import pytest

from clipflows.agents.llm_registry import (
    DEFAULT_LLM,
    TEST_LLM,
    LLMEntry,
    LLMFileError,
    _assemble,
    fetch_llm,
    llm_entry,
    llm_registry,
    locate_llm,
)


def test_every_entry_is_pinned_and_its_parts_add_up():
    registry = llm_registry()
    assert {TEST_LLM, DEFAULT_LLM, "qwen2.5-coder-0.5b"} <= set(registry)
    for entry in registry.values():
        assert len(entry.sha256) == 64 and entry.licence and entry.chat_format
        assert all("==" in requirement for requirement in entry.requirements())
        if entry.parts:
            assert sum(part.size for part in entry.parts) == entry.size
            assert len({part.package for part in entry.parts}) == len(entry.parts)
        speed = entry.measured["tokens_per_s"]  # what `clipflows models` shows, and how
        assert (
            speed["plain"] > 0 and speed["schema"] > 0 and "eval_llm_steps" in entry.measured["how"]
        )


def test_the_packaged_model_is_found_and_checked_once(tmp_path):
    entry = llm_entry(TEST_LLM)
    path = locate_llm(entry, tmp_path)
    assert path.name == entry.file and path.stat().st_size == entry.size
    assert (tmp_path / TEST_LLM).is_dir()  # the checked hash is remembered there
    assert locate_llm(entry, tmp_path) == path


def fake_entry(pieces: list[bytes], modules: list[str]) -> LLMEntry:
    parts = [
        {
            "package": f"fake-part{i}",
            "version": "1.0",
            "module": module,
            "member": "__init__.py",
            "size": len(piece),
            "sha256": hashlib.sha256(piece).hexdigest(),
        }
        for i, (piece, module) in enumerate(zip(pieces, modules, strict=True))
    ]
    whole = b"".join(pieces)
    return LLMEntry(
        name="fake",
        title="Fake",
        file="fake.gguf",
        size=len(whole),
        sha256=hashlib.sha256(whole).hexdigest(),
        licence="none",
        chat_format="none",
        parameters="0",
        parts=parts,
    )


def test_a_damaged_part_is_named_and_nothing_is_stored(tmp_path):
    entry = fake_entry([b"first part", b"second part"], ["json", "email"])
    target = tmp_path / "fake" / "fake.gguf"
    with pytest.raises(LLMFileError, match="Part fake-part1==1.0 .* not the pinned one"):
        _assemble(entry, [io.BytesIO(b"first part"), io.BytesIO(b"second PART")], target)
    assert not target.exists() and not list(target.parent.iterdir())
    assembled = _assemble(entry, [io.BytesIO(b"first part"), io.BytesIO(b"second part")], target)
    assert assembled.read_bytes() == b"first partsecond part"


def test_missing_part_packages_are_named_with_the_way_to_fetch(tmp_path):
    entry = fake_entry([b"a", b"b", b"c"], ["json", "no_such_module_xyz", "no_such_module_q"])
    with pytest.raises(LLMFileError, match="2 are not installed: fake-part1==1.0, fake-part2==1.0"):
        locate_llm(entry, tmp_path)
    nothing = fake_entry([b"a"], ["no_such_module_xyz"])
    with pytest.raises(LLMFileError, match="clipflows fetch-llm fake"):
        locate_llm(nothing, tmp_path)


def test_a_file_that_is_not_the_pinned_one_is_refused(tmp_path):
    entry = llm_entry("qwen2.5-coder-0.5b")
    stored = tmp_path / entry.name / entry.file
    stored.parent.mkdir()
    stored.write_bytes(b"GGUF but not that one")
    with pytest.raises(LLMFileError, match="not the pinned file .* Delete it and run"):
        locate_llm(entry, tmp_path)
    with pytest.raises(LLMFileError, match="No registered LLM 'gpt-9'"):
        llm_entry("gpt-9")


def test_fetching_downloads_the_pinned_package_and_checks_it(tmp_path):
    entry = llm_entry(TEST_LLM)
    path = fetch_llm(entry, tmp_path)
    assert path == tmp_path / entry.name / entry.file and path.stat().st_size == entry.size
    assert locate_llm(entry, tmp_path) == path  # now found in models_dir first
