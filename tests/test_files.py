"""Files written whole: the old file or the new one, never half of one, never a stray partial."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from clipflows.components.files import temporary_name, write_text_whole, written_whole


def test_a_failed_write_keeps_the_old_file_and_leaves_nothing_behind(tmp_path):
    target = tmp_path / "result.json"
    write_text_whole("old", target)
    with pytest.raises(OSError), written_whole(target) as partial:
        partial.write_text("half")
        raise OSError("disk full")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.json"]


def test_temporary_names_are_unique_and_keep_the_suffix(tmp_path):
    names = {temporary_name(tmp_path / "features.npz") for _ in range(200)}
    assert len(names) == 200
    assert all(n.suffix == ".npz" and n.parent == tmp_path for n in names)
    with written_whole(tmp_path / "features.npz") as partial:
        np.savez(partial, x=np.arange(3))  # numpy adds no second suffix
    assert np.load(tmp_path / "features.npz")["x"].tolist() == [0, 1, 2]


def test_concurrent_writers_of_one_path_never_collide(tmp_path):
    target = tmp_path / "report.md"
    texts = [f"run {i}\n" * 1000 for i in range(50)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda text: write_text_whole(text, target), texts))
    assert target.read_text() in texts
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_a_file_created_private_is_given_the_umask_mode(tmp_path):
    """safetensors and mkstemp create files 0600; a finished output gets 0o666 less the umask,
    like any file the user writes (and a replaced file keeps its mode)."""
    import os
    import stat

    previous = os.umask(0o022)
    try:
        with written_whole(tmp_path / "weights.bin") as partial:
            os.close(os.open(partial, os.O_CREAT | os.O_WRONLY, 0o600))
        assert stat.S_IMODE((tmp_path / "weights.bin").stat().st_mode) == 0o644
        os.chmod(tmp_path / "weights.bin", 0o640)
        with written_whole(tmp_path / "weights.bin") as partial:
            os.close(os.open(partial, os.O_CREAT | os.O_WRONLY, 0o600))
        assert stat.S_IMODE((tmp_path / "weights.bin").stat().st_mode) == 0o640
    finally:
        os.umask(previous)
