"""JSON-schema helpers for structured LLM output.

Small models fill an unbounded string or list until ``max_tokens`` runs out, so every schema we
send must bound them; :func:`assert_bounded` says which fields do not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from clipflows.components.errors import ClipflowsError


class UnboundedSchemaError(ClipflowsError, ValueError):
    """A structured-output schema has a string, list or dict without a maximum size."""


def unbounded_fields(schema: type[BaseModel] | Mapping[str, Any]) -> list[str]:
    """Paths of the fields a model could grow without limit, e.g. ``['tags', 'tags[]']``."""
    json_schema = _json_schema(schema)
    found: list[str] = []
    _walk(json_schema, "", json_schema.get("$defs", {}), frozenset(), found)
    return found


def assert_bounded(schema: type[BaseModel] | Mapping[str, Any]) -> None:
    """Raise UnboundedSchemaError listing every unbounded field, so it fails before any call."""
    found = unbounded_fields(schema)
    if found:
        name = schema.__name__ if isinstance(schema, type) else schema.get("title", "schema")
        raise UnboundedSchemaError(
            f"Schema {name} has unbounded fields, which small models fill until max_tokens: "
            f"{'; '.join(found)}. Give lists and dicts Field(max_length=...) and strings "
            "StringConstraints(max_length=...) (or Field(max_length=...))."
        )


def json_schema_of(response_format: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The JSON schema inside an OpenAI-style response_format (json_schema or json_object)."""
    if response_format is None or response_format.get("type") == "text":
        return None
    if response_format.get("type") == "json_schema":
        return dict(response_format["json_schema"]["schema"])
    if response_format.get("type") == "json_object":
        return dict(response_format.get("schema") or {})
    raise ValueError(f"Unknown response_format type {response_format.get('type')!r}.")


def _json_schema(schema: type[BaseModel] | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return schema.model_json_schema()
    return dict(schema)


def _walk(
    node: Mapping[str, Any], path: str, defs: Mapping[str, Any], seen: frozenset, found: list
) -> None:
    """Collect unbounded fields under one schema node; ``seen`` stops recursive models."""
    here = path or "<root>"
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        if name not in seen and name in defs:
            _walk(defs[name], path, defs, seen | {name}, found)
        return
    if "enum" in node or "const" in node:
        return
    branches = [sub for key in ("anyOf", "oneOf", "allOf") for sub in node.get(key, [])]
    for sub in branches:
        _walk(sub, path, defs, seen, found)
    types = node.get("type", [])
    types = [types] if isinstance(types, str) else list(types)
    if not types and not branches and "properties" not in node:
        found.append(f"{here} (any value)")
    if "string" in types and "maxLength" not in node:
        found.append(f"{here} (str without max_length)")
    if "array" in types:
        if "maxItems" not in node:
            found.append(f"{here} (list without max_length)")
        if isinstance(node.get("items"), Mapping):
            _walk(node["items"], f"{path}[]", defs, seen, found)
        for index, sub in enumerate(node.get("prefixItems", [])):
            _walk(sub, f"{path}[{index}]", defs, seen, found)
    if "object" in types or "properties" in node:
        for name, sub in node.get("properties", {}).items():
            _walk(sub, f"{path}.{name}" if path else name, defs, seen, found)
        extra = node.get("additionalProperties", "properties" not in node)
        if extra is not False and "maxProperties" not in node:
            found.append(f"{here} (dict without max_length)")
        if isinstance(extra, Mapping):
            _walk(extra, f"{path}{{}}", defs, seen, found)
