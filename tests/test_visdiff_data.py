import json
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from clipflows.components.errors import EmptyInputError
from clipflows.components.set_difference.visdiffbench import (
    ImageRootError,
    MissingGroupError,
    PairedSet,
    difficulty_from_path,
    find_image_root,
    folder_images,
    images_for_pair,
    load_image_groups,
    load_paired_sets,
)

# The shared folder beside the repository root: /work/shared next to /work/main.
SHARED_BENCH = Path(__file__).resolve().parents[2] / "shared" / "data" / "visdiffbench"
needs_shared_bench = pytest.mark.skipif(
    not SHARED_BENCH.is_dir(), reason=f"VisDiffBench text files not present at {SHARED_BENCH}"
)


def _write_jsonl(path: Path, pairs: list[tuple[str, str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"set1": a, "set2": b, "difference": d}) for a, b, d in pairs]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _write_csv(path: Path, rows: list[str], header: str = "group_name,path") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def _touch(folder: Path, *names: str) -> None:
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).touch()


def _released_layout(tmp_path: Path, images: bool = True) -> Path:
    """VisDiff's layout: a repository with images under data/ and a CSV under
    data/VisDiffBench/ whose paths start from the repository (./data/...), columns as released."""
    repo = tmp_path / "repo"
    rows = [
        f"./data/VisDiffBench/{group}/{i}.jpg,{group},{group[:-1]}"
        for group in ("dogs", "cats")
        for i in range(2)
    ]
    if images:
        _touch(repo, *(row.split(",")[0] for row in rows))
    return _write_csv(repo / "data/VisDiffBench/pets.csv", rows, header="path,group_name,target")


@needs_shared_bench
def test_shared_benchmark_has_50_pairs_per_difficulty_named_by_its_files():
    pairs = load_paired_sets(SHARED_BENCH)
    assert Counter(p.difficulty for p in pairs) == {"easy": 50, "medium": 50, "hard": 50}
    assert [p.difficulty for p in pairs] == ["easy"] * 50 + ["medium"] * 50 + ["hard"] * 50
    assert pairs[0] == PairedSet(
        set_a="Dogs playing in a park",
        set_b="Cats playing in a park",
        difference="Animal species (Dogs vs Cats)",
        difficulty="easy",
    )


@needs_shared_bench
@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_each_shared_file_takes_its_difficulty_from_its_name(difficulty: str):
    pairs = load_paired_sets(SHARED_BENCH / f"pis_{difficulty}.jsonl")
    assert len(pairs) == 50 and {p.difficulty for p in pairs} == {difficulty}
    assert all(p.set_a and p.set_b and p.difference for p in pairs)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("pis_easy.jsonl", "easy"),
        ("data/Medium/pairs.jsonl", "medium"),
        ("hard/easy_ones.jsonl", "easy"),
        ("hard/pairs.jsonl", "hard"),
        ("data/pairs.jsonl", None),
        ("data/hardware.jsonl", None),
    ],
)
def test_difficulty_comes_from_the_file_name_then_the_nearest_folder(path: str, expected):
    assert difficulty_from_path(path) == expected


def test_a_folder_is_read_recursively_easy_medium_hard(tmp_path: Path):
    _write_jsonl(tmp_path / "hard" / "pairs.jsonl", [("h1", "h2", "hard one")])
    _write_jsonl(tmp_path / "easy" / "pairs.jsonl", [("e1", "e2", "easy one")])
    _write_jsonl(tmp_path / "medium" / "deeper" / "pairs.jsonl", [("m1", "m2", "medium one")])
    pairs = load_paired_sets(tmp_path)
    assert [(p.set_a, p.difficulty) for p in pairs] == [
        ("e1", "easy"),
        ("m1", "medium"),
        ("h1", "hard"),
    ]


def test_a_folder_with_pis_files_ignores_other_jsonl(tmp_path: Path):
    _write_jsonl(tmp_path / "pis_easy.jsonl", [("a", "b", "d")])
    (tmp_path / "notes.jsonl").write_text("not json\n", encoding="utf-8")
    assert len(load_paired_sets(tmp_path)) == 1


def test_a_folder_without_jsonl_is_an_error(tmp_path: Path):
    with pytest.raises(EmptyInputError, match="No .jsonl files"):
        load_paired_sets(tmp_path)


@pytest.mark.parametrize(
    ("bad_line", "reason"),
    [
        ("{not json", "not a paired set"),
        ('{"set1": "a", "difference": "d"}', "missing set2"),
        ('["a", "b"]', "expected a JSON object"),
    ],
)
def test_a_malformed_line_names_the_file_and_the_line(tmp_path: Path, bad_line: str, reason):
    good = json.dumps({"set1": "a", "set2": "b", "difference": "d"})
    file = tmp_path / "pis_easy.jsonl"
    file.write_text(f"{good}\n\n{bad_line}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=rf"pis_easy\.jsonl, line 3: .*{reason}"):
        load_paired_sets(file)


def test_csv_paths_are_relative_to_the_csv_folder_or_absolute(tmp_path: Path):
    elsewhere = tmp_path / "elsewhere" / "x.jpg"
    csv_path = _write_csv(
        tmp_path / "bench" / "images.csv",
        ["dogs,img/d1.jpg", "cats,img/c1.jpg", f"dogs,{elsewhere}", "dogs,img/d0.jpg"],
    )
    folder = tmp_path / "bench"
    _touch(folder, "img/d1.jpg", "img/c1.jpg", "img/d0.jpg")
    _touch(tmp_path, "img/d1.jpg", "img/c1.jpg")  # the CSV's own folder comes first
    groups = load_image_groups(csv_path)
    assert groups == {
        "dogs": [folder / "img/d1.jpg", elsewhere, folder / "img/d0.jpg"],
        "cats": [folder / "img/c1.jpg"],
    }


def test_visdiff_s_own_csv_finds_its_images_from_the_repository_above_it(tmp_path: Path):
    csv_path = _released_layout(tmp_path)
    repo = tmp_path / "repo"
    assert find_image_root(csv_path) == repo
    groups = load_image_groups(csv_path)
    assert groups["dogs"] == [
        repo / "data/VisDiffBench/dogs/0.jpg",
        repo / "data/VisDiffBench/dogs/1.jpg",
    ]
    assert all(path.is_file() for paths in groups.values() for path in paths)


def test_a_given_root_is_used_and_checked(tmp_path: Path):
    csv_path = _released_layout(tmp_path)
    assert load_image_groups(csv_path, root=tmp_path / "repo")["cats"][0].is_file()
    with pytest.raises(
        ImageRootError, match=r"line 2: './data/VisDiffBench/dogs/0.jpg' is not under the root"
    ):
        load_image_groups(csv_path, root=tmp_path)


def test_a_csv_whose_images_are_nowhere_is_one_error_naming_path_and_folders(tmp_path: Path):
    csv_path = _released_layout(tmp_path, images=False)
    with pytest.raises(ImageRootError) as raised:
        load_image_groups(csv_path)
    message = str(raised.value)
    assert str(csv_path) in message and "'./data/VisDiffBench/dogs/0.jpg' (line 2)" in message
    for folder in (csv_path.parent, tmp_path / "repo", tmp_path):
        assert f"{folder}," in message
    assert "--root" in message


def test_a_csv_without_the_needed_columns_is_an_error(tmp_path: Path):
    csv_path = _write_csv(tmp_path / "images.csv", ["dogs,d.jpg"], header="group,file")
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['group_name', 'path'\]"):
        load_image_groups(csv_path)


def test_a_missing_group_is_an_error_naming_it(tmp_path: Path):
    _touch(tmp_path, "d.jpg")
    groups = load_image_groups(_write_csv(tmp_path / "images.csv", ["dogs,d.jpg"]))
    pair = PairedSet(set_a="dogs", set_b="cats", difference="species")
    with pytest.raises(MissingGroupError, match="Set B .* names group 'cats'"):
        images_for_pair(pair, groups)


def test_the_folder_difficulty_wins_over_the_csv_difficulty_column(tmp_path: Path):
    jsonl = _write_jsonl(tmp_path / "hard" / "pairs.jsonl", [("dogs", "cats", "species")])
    csv_path = _write_csv(
        tmp_path / "images.csv",
        ["dogs,d.jpg,species,easy", "cats,c.jpg,species,easy"],
        header="group_name,path,difference,difficulty",
    )
    _touch(tmp_path, "d.jpg", "c.jpg")
    (pair,) = load_paired_sets(jsonl)
    assert pair.difficulty == "hard"
    a, b = images_for_pair(pair, load_image_groups(csv_path))
    assert (a, b) == ([tmp_path / "d.jpg"], [tmp_path / "c.jpg"])


def test_folder_images_lists_images_and_refuses_an_empty_folder(tmp_path: Path):
    Image.new("RGB", (4, 4)).save(tmp_path / "b.png")
    Image.new("RGB", (4, 4)).save(tmp_path / "a.jpg")
    (tmp_path / "notes.txt").write_text("not an image", encoding="utf-8")
    assert folder_images(tmp_path) == [tmp_path / "a.jpg", tmp_path / "b.png"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(EmptyInputError, match="No images under"):
        folder_images(tmp_path / "empty")
