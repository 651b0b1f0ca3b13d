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

from .cache import sha256_file
from .clip_spec import ClipSpec, parse_spec
from .errors import MissingWeightsError, SpecError

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
        f"CLIP weights for '{spec}' are not on this machine ({reason}).\n"
        "Ways out:\n"
        f"  1. On a machine with network access run `clipflows models --fetch '{spec}'`, then copy "
        f"its Hugging Face cache into {hub_cache} here (or point HF_HOME at the copy).\n"
        "  2. Use a local checkpoint: --clip 'NAME:/path/to/weights.safetensors' or "
        "--clip 'local-dir:/path/to/folder'.\n"
        "  3. Use --clip world, the small CLIP that clipflows trains offline."
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


def load_clip(
    spec: str | ClipSpec, device: torch.device, *, world_dir: str | None = None
) -> LoadedClip:
    """Build the model a spec names. ``world`` must already be resolved to ``world_dir``."""
    import open_clip

    parsed = parse_spec(spec) if isinstance(spec, str) else spec
    text = str(parsed)
    kwargs: dict[str, Any] = {"device": device}
    if parsed.kind == "world":
        if world_dir is None:
            raise ValueError("The world spec needs the trained model folder (see world_clip).")
        parsed = ClipSpec(kind="local-dir", source=world_dir)
    if parsed.kind == "local-dir":
        config_path, weights = _local_dir_files(parsed.source, text)
        name, identity = f"local-dir:{parsed.source}", _checkpoint_identity(weights)
        create_args: dict[str, Any] = {}
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
    else:  # random: seeded so the identity names the same weights every time
        name, identity, create_args = parsed.model, f"{parsed.model}:random-seed0", {}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        try:
            model, _, preprocess = open_clip.create_model_and_transforms(
                name, **create_args, **kwargs
            )
        except RuntimeError as error:
            if "not found in built-ins" in str(error):
                raise SpecError(f"Unknown open_clip architecture in '{text}'.") from None
            raise
    model.eval()
    tokenizer = open_clip.get_tokenizer(name)
    model_cfg = open_clip.get_model_config(name) or {}
    preprocess_cfg = dict(getattr(model.visual, "preprocess_cfg", {}) or {})
    return LoadedClip(model, preprocess, tokenizer, identity, model_cfg, preprocess_cfg)


def write_local_dir(
    folder: Path, model: torch.nn.Module, model_cfg: dict, preprocess_cfg: dict
) -> None:
    """Save a model as an open_clip local-dir (config + safetensors), atomically per file."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    weights_tmp = folder / "open_clip_model.safetensors.partial"
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    save_file(state, str(weights_tmp))
    config_tmp = folder / "open_clip_config.json.partial"
    config_tmp.write_text(
        json.dumps({"model_cfg": model_cfg, "preprocess_cfg": preprocess_cfg}, indent=2)
    )
    weights_tmp.replace(folder / "open_clip_model.safetensors")
    config_tmp.replace(folder / "open_clip_config.json")
