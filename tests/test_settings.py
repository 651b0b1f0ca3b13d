from pathlib import Path

import pytest

from clipflows.components.errors import SettingsError
from clipflows.components.settings import Settings, load_settings


def test_defaults_use_the_user_cache_and_embedded_llm():
    settings = Settings()
    assert settings.llm.backend == "embedded"
    assert settings.clip == "world"
    assert "clipflows" in str(settings.cache_dir)


def test_environment_overrides_with_prefix_and_nesting(monkeypatch, tmp_path):
    monkeypatch.setenv("CLIPFLOWS_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("CLIPFLOWS_LLM__BACKEND", "openai-compatible")
    monkeypatch.setenv("CLIPFLOWS_LLM__BASE_URL", "http://127.0.0.1:9/v1")
    settings = load_settings()
    assert settings.cache_dir == tmp_path
    assert settings.llm.backend == "openai-compatible"
    assert settings.llm.base_url == "http://127.0.0.1:9/v1"


def test_toml_and_yaml_files_are_read_and_env_wins(monkeypatch, tmp_path):
    monkeypatch.delenv("CLIPFLOWS_CLIP")  # the tests' world: here the file must speak
    toml = tmp_path / "clipflows.toml"
    toml.write_text(
        'clip = "ViT-B-32:laion2b_s34b_b79k"\ndevice = "cpu"\n[llm]\ntemperature = 0.5\n'
    )
    yaml = tmp_path / "clipflows.yaml"
    yaml.write_text("clip: RN50:openai\nllm:\n  max_tokens: 64\n")
    from_toml = load_settings(toml)
    assert (from_toml.clip, from_toml.llm.temperature) == ("ViT-B-32:laion2b_s34b_b79k", 0.5)
    assert load_settings(yaml).llm.max_tokens == 64
    monkeypatch.setenv("CLIPFLOWS_CLIP", "world")
    monkeypatch.setenv("CLIPFLOWS_CONFIG", str(toml))
    assert load_settings().clip == "world"


def test_a_settings_file_is_parsed_never_executed(tmp_path):
    marker = tmp_path / "ran"
    evil = tmp_path / "evil.yaml"
    evil.write_text(f"clip: !!python/object/apply:os.system ['touch {marker}']\n")
    with pytest.raises(SettingsError, match="cannot be read as YAML"):  # the safe loader refuses
        load_settings(evil)
    assert not marker.exists()


def test_unknown_keys_and_missing_files_are_clear_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('clipp = "world"\n')
    with pytest.raises(SettingsError, match=f"setting clipp = 'world' from settings file {bad}"):
        load_settings(bad)
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(Path(tmp_path / "missing.toml"))


@pytest.mark.parametrize(
    "key, value",
    [
        ("TIMEOUT_S", "-5"),
        ("TIMEOUT_S", "0"),
        ("MAX_TOKENS", "0"),
        ("CONTEXT_LENGTH", "-1"),
        ("TEMPERATURE", "-0.1"),
        ("THREADS", "0"),
    ],
)
def test_out_of_range_numbers_are_refused_naming_the_setting_and_its_source(
    monkeypatch, key, value
):
    monkeypatch.setenv(f"CLIPFLOWS_LLM__{key}", value)
    with pytest.raises(SettingsError, match=f"llm.{key.lower()} .* CLIPFLOWS_LLM__{key}"):
        load_settings()


def test_a_bad_value_in_a_file_names_the_file_and_a_broken_file_is_one_error(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("llm:\n  timeout_s: -5\n")
    with pytest.raises(SettingsError, match=f"llm.timeout_s = -5 from settings file {bad}"):
        load_settings(bad)
    broken = tmp_path / "broken.toml"
    broken.write_text("clip = [\n")
    with pytest.raises(SettingsError, match=f"{broken} cannot be read as TOML"):
        load_settings(broken)


def test_world_render_workflows_get_the_world_clip_unless_one_is_named(monkeypatch, tmp_path):
    from clipflows.components.settings import world_unless_named

    monkeypatch.delenv("CLIPFLOWS_CLIP")
    assert world_unless_named(load_settings()).clip == "world"  # the default is a real CLIP
    assert world_unless_named(load_settings(clip="RN50:openai")).clip == "RN50:openai"
    monkeypatch.setenv("CLIPFLOWS_CLIP", "local-dir:/models/mine")
    assert world_unless_named(load_settings()).clip == "local-dir:/models/mine"
    toml = tmp_path / "clipflows.toml"
    toml.write_text('clip = "ViT-B-16:openai"\n')
    monkeypatch.delenv("CLIPFLOWS_CLIP")
    assert world_unless_named(load_settings(toml)).clip == "ViT-B-16:openai"
