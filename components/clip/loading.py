"""Turn a CLIP spec into an open_clip model, finding weights locally or failing clearly.

Weights are looked up in the Hugging Face hub cache first; a download is tried only when the
hub is not switched off (``HF_HUB_OFFLINE``), with short time-outs, so an offline machine gets a
:class:`MissingWeightsError` in seconds instead of a hang.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import torch

from clipflows.components.cache import sha256_file
from clipflows.components.clip.named import resolve_named
from clipflows.components.clip.spec import ClipSpec, parse_spec
from clipflows.components.clip.text_towers import is_hf_tower, resolved_text_cfg, save_tower_files
from clipflows.components.errors import DamagedFileError, MissingWeightsError, SpecError
from clipflows.components.files import write_text_whole, written_whole
from clipflows.components.settings import Settings, load_settings

HUB_ETAG_TIMEOUT_S = 5.0
HUB_CONNECT_TIMEOUT_S = 3.0


@dataclass
class LoadedClip:
    """An open_clip model with its preprocessing, tokenizer and a stable identity."""

    model: torch.nn.Module
    preprocess: Any
    tokenizer: Any
    identity: str
    model_cfg: dict
    preprocess_cfg: dict


def hub_offline() -> bool:
    """True when the Hugging Face convention says not to touch the network."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def missing_weights(spec: str, reason: str) -> MissingWeightsError:
    from huggingface_hub import constants

    hub_cache = constants.HF_HUB_CACHE
    return MissingWeightsError(
        f"CLIP weights for '{spec}' are not on this machine ({reason}). Ways out: run "
        f"`clipflows models --fetch '{spec}'` on a machine with network access and copy its "
        f"Hugging Face cache into {hub_cache} here (or point HF_HOME at the copy); or give "
        "local weights (--clip 'NAME:/path/to/weights.safetensors' or --clip "
        "'local-dir:/path/to/folder'); or run --clip world, the small CLIP trained here, which "
        "knows only coloured shapes."
    )


def _hub_file(repo: str, filename: str, spec: str) -> str:
    """Path of a hub file: from the cache, else downloaded with short time-outs."""
    from huggingface_hub import hf_hub_download, try_to_load_from_cache

    candidates = [filename]
    if not filename.endswith(".safetensors"):
        candidates.insert(0, str(Path(filename).with_suffix(".safetensors")))
    for candidate in candidates:
        cached = try_to_load_from_cache(repo, candidate)
        if isinstance(cached, str):
            return cached
    if hub_offline():
        raise missing_weights(
            spec, f"{repo}/{filename} is not in the hub cache and HF_HUB_OFFLINE is set"
        )
    unreachable = _hub_unreachable()
    if unreachable:
        raise missing_weights(spec, f"{repo}/{filename} is not in the hub cache and {unreachable}")
    last_error: Exception | None = None
    for candidate in candidates:
        try:
            return hf_hub_download(repo, candidate, etag_timeout=HUB_ETAG_TIMEOUT_S)
        except Exception as error:  # connection, 404, auth: all mean "not available"
            last_error = error
            if not _is_missing_file(error):
                break
    raise missing_weights(spec, f"download of {repo}/{filename} failed: {_short(last_error)}")


def _hub_unreachable() -> str | None:
    """Why the hub cannot be reached, found in seconds; None when a connection opens.

    huggingface_hub retries failed requests with back-off for half a minute or more, so an
    offline machine is detected here first with one short connection attempt.
    """
    from huggingface_hub import constants

    url = urlparse(constants.ENDPOINT)
    host, port = url.hostname or "", url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((host, port), timeout=HUB_CONNECT_TIMEOUT_S).close()
    except OSError as error:
        return f"the hub ({host}) is unreachable: {error}"
    return None


def _is_missing_file(error: Exception) -> bool:
    return type(error).__name__ in {"EntryNotFoundError", "RemoteEntryNotFoundError"}


def _short(error: Exception | None) -> str:
    text = str(error).strip().splitlines()[0] if error and str(error).strip() else repr(error)
    return f"{type(error).__name__}: {text[:200]}"


def resolve_pretrained(model: str, tag: str) -> tuple[str, dict]:
    """Local path of an open_clip pretrained tag's weights and its preprocessing overrides."""
    import open_clip

    spec = f"{model}:{tag}"
    if model not in open_clip.list_models():
        raise SpecError(
            f"Unknown open_clip architecture {model!r} in '{spec}'; see `clipflows models`."
        )
    cfg = open_clip.get_pretrained_cfg(model, tag)
    if not cfg:
        tags = open_clip.list_pretrained_tags_by_model(model)
        raise SpecError(
            f"Unknown pretrained tag {tag!r} for {model}; known tags: {', '.join(tags)}."
        )
    preprocess = {k: cfg[k] for k in ("mean", "std", "interpolation", "resize_mode") if cfg.get(k)}
    if cfg.get("file"):
        return cfg["file"], preprocess
    if cfg.get("hf_hub"):
        # open_clip writes 'org/repo/file.bin', or 'org/repo/' for the default file name.
        repo, filename = os.path.split(cfg["hf_hub"])
        return _hub_file(repo, filename or "open_clip_pytorch_model.bin", spec), preprocess
    raise missing_weights(spec, f"tag has only a URL ({cfg.get('url')}); download it by hand")


def _checkpoint_identity(path: str) -> str:
    return f"sha256={sha256_file(path)[:16]}"


def _local_dir_files(folder: str, spec: str) -> tuple[str, str]:
    root = Path(folder)
    config = root / "open_clip_config.json"
    if not config.is_file():
        raise MissingWeightsError(f"CLIP spec '{spec}': {config} does not exist.")
    weights = sorted(
        p
        for p in root.iterdir()
        if p.suffix in {".safetensors", ".bin", ".pth", ".pt"} and p.is_file()
    )
    if not weights:
        raise MissingWeightsError(f"CLIP spec '{spec}': no weights file beside {config}.")
    return str(config), str(weights[0])


def _damaged_weights(path: str | Path, reason: str, named: str | None) -> DamagedFileError:
    """The error for a weights file that cannot be read, with the fix for where it came from."""
    if named:  # a model clipflows trained and cached: deleting it is enough
        fix = (
            f"Delete the folder {Path(path).parent}; clipflows will train the '{named}' model "
            "again on the next run."
        )
    else:
        fix = "Replace it with a complete copy (a download or copy was probably cut short)."
    return DamagedFileError(f"The CLIP weights file {path} cannot be read ({reason}). {fix}")


def _is_unreadable_file(error: Exception) -> bool:
    """torch.load's words for a truncated or garbled checkpoint."""
    text = str(error)
    return any(
        words in text
        for words in ("failed finding central directory", "failed reading zip archive", "EOF")
    )


def _check_weights(paths: list[Path], named: str | None) -> None:
    """Read the header of each safetensors file (cheap), so a truncated file is named here
    instead of failing deep inside open_clip."""
    from safetensors import SafetensorError, safe_open

    for path in paths:
        if path.suffix != ".safetensors":
            continue
        try:
            with safe_open(str(path), "pt") as handle:
                handle.keys()
        except (SafetensorError, OSError) as error:
            raise _damaged_weights(path, str(error), named) from error


def require_weights(spec: str | ClipSpec) -> None:
    """Stop with the actionable MissingWeightsError when a spec's weights are not on this
    machine, in seconds and without building the model, so commands can check before they start
    servers or read images. Named specs (``world``) are trained on first use and always pass."""
    parsed = parse_spec(spec) if isinstance(spec, str) else spec
    text = str(parsed)
    if parsed.kind == "pretrained":
        resolve_pretrained(parsed.model, parsed.source)
    elif parsed.kind == "hf-hub":
        _hub_file(parsed.source, "open_clip_config.json", text)
        _hub_file(parsed.source, "open_clip_pytorch_model.bin", text)
    elif parsed.kind == "local-dir":
        _local_dir_files(parsed.source, text)
    elif parsed.kind == "checkpoint" and not Path(parsed.source).is_file():
        raise MissingWeightsError(f"CLIP spec '{text}': checkpoint {parsed.source} does not exist.")


def load_clip(
    spec: str | ClipSpec, device: torch.device, *, settings: Settings | None = None
) -> LoadedClip:
    """Build the model a spec names; a named spec (``world``) is first resolved with
    ``settings`` (read when not given), which may train it on first use."""
    import open_clip

    parsed = parse_spec(spec) if isinstance(spec, str) else spec
    text = str(parsed)
    kwargs: dict[str, Any] = {"device": device}
    named = text if parsed.kind == "named" else None
    if named:
        parsed = parse_spec(resolve_named(text, settings or load_settings(), device))
    local_cfg: dict | None = None
    local_weights: list[Path] = []  # files on this machine that create_model will read
    if parsed.kind == "local-dir":
        config_path, weights = _local_dir_files(parsed.source, text)
        local_weights = sorted(Path(parsed.source).glob("*.safetensors"))
        name, identity = f"local-dir:{parsed.source}", _checkpoint_identity(weights)
        create_args: dict[str, Any] = {}
        local_cfg = json.loads(Path(config_path).read_text())["model_cfg"]
        if is_hf_tower(local_cfg["text_cfg"]):  # the tower's files are in the folder itself
            folder = Path(parsed.source)
            text_cfg = resolved_text_cfg(local_cfg["text_cfg"], folder)
            create_args["text_cfg"] = {**text_cfg, "hf_model_pretrained": False}
    elif parsed.kind == "hf-hub":
        config_path = _hub_file(parsed.source, "open_clip_config.json", text)
        weights = _hub_file(parsed.source, "open_clip_pytorch_model.bin", text)
        name, identity, create_args = f"local-dir:{Path(config_path).parent}", text, {}
        if Path(weights).parent != Path(config_path).parent:
            raise MissingWeightsError(f"Hub files of '{text}' are in different snapshots; refetch.")
    elif parsed.kind == "pretrained":
        weights, preprocess = resolve_pretrained(parsed.model, parsed.source)
        name, identity = parsed.model, text
        create_args = {"pretrained": weights, "force_preprocess_cfg": preprocess or None}
    elif parsed.kind == "checkpoint":
        if not Path(parsed.source).is_file():
            raise MissingWeightsError(
                f"CLIP spec '{text}': checkpoint {parsed.source} does not exist."
            )
        name, identity = parsed.model, f"{parsed.model}:{_checkpoint_identity(parsed.source)}"
        create_args = {"pretrained": parsed.source}
        local_weights = [Path(parsed.source)]
    else:  # random: seeded so the identity names the same weights every time
        name, identity, create_args = parsed.model, f"{parsed.model}:random-seed0", {}
    _check_weights(local_weights, named)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        try:
            model, _, preprocess = open_clip.create_model_and_transforms(
                name, **create_args, **kwargs
            )
        except RuntimeError as error:
            if "not found in built-ins" in str(error):
                raise SpecError(f"Unknown open_clip architecture in '{text}'.") from None
            if local_weights and _is_unreadable_file(error):
                raise _damaged_weights(local_weights[0], str(error), named) from error
            raise
    model.eval()
    tokenizer = open_clip.get_tokenizer(name)
    model_cfg = local_cfg or open_clip.get_model_config(name) or {}
    preprocess_cfg = dict(getattr(model.visual, "preprocess_cfg", {}) or {})
    return LoadedClip(model, preprocess, tokenizer, identity, model_cfg, preprocess_cfg)


def write_local_dir(
    folder: Path,
    model: torch.nn.Module,
    model_cfg: dict,
    preprocess_cfg: dict,
    tokenizer: Any = None,
) -> None:
    """Save a model as an open_clip local-dir: a Hugging Face text tower's config and tokenizer
    files, the weights, then the config, each written whole (a folder with a config is
    complete); the config names the folder itself as the tower, so open_clip loads it as is."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    if is_hf_tower(model_cfg["text_cfg"]):
        save_tower_files(model, tokenizer, folder)
        model_cfg = {**model_cfg, "text_cfg": resolved_text_cfg(model_cfg["text_cfg"], folder)}
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    with written_whole(folder / "open_clip_model.safetensors") as partial:
        save_file(state, str(partial))
    config = {"model_cfg": model_cfg, "preprocess_cfg": preprocess_cfg}
    write_text_whole(json.dumps(config, indent=2), folder / "open_clip_config.json")
