"""Scenario values as plain data: key paths, ``--set`` overrides and merging.

Everything here works on dictionaries (a TOML file as read, or a validated scenario
dumped back to data); nothing validates. Validation is :mod:`sim.scenario.loading`'s job.
"""

from __future__ import annotations

import copy
import json
import math
import tomllib
from datetime import date
from typing import Any

from sim.scenario.schema import Scenario, ScenarioError

MISSING: Any = object()
"""What :func:`value_at` returns for a key path with no value."""


def key_parts(key: str) -> list[str] | None:
    """A dotted TOML key as its parts (quoted parts may contain dots), or None if malformed."""
    try:
        node: Any = tomllib.loads(f"{key} = 0")
    except tomllib.TOMLDecodeError:
        return None
    parts = []
    while isinstance(node, dict) and len(node) == 1:
        ((k, node),) = node.items()
        parts.append(k)
    return parts if node == 0 else None


def parse_override(item: str) -> tuple[str, Any]:
    """Split ``KEY=VALUE``; the value is parsed as TOML when it can be."""
    key, sep, text = _split_assignment(item)
    key = key.strip()
    if not sep or not key or key_parts(key) is None:
        raise ScenarioError("--set", item, "expected KEY=VALUE with a dotted key, e.g. stages.physio.slots_per_week=1200")
    text = text.strip()
    if not text:
        raise ScenarioError("--set", key, "no value after '='")
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        value = text
    if isinstance(value, float) and not math.isfinite(value):
        raise ScenarioError("--set", key, f"value must be finite, got {text}")
    return key, value


def _split_assignment(item: str) -> tuple[str, str, str]:
    """Split at the first '=' outside quotes (a quoted key may hold dots or '=')."""
    quote = ""
    for i, ch in enumerate(item):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "=":
            return item[:i], "=", item[i + 1 :]
    return item, "", ""


def _item(node: Any, part: str) -> int | None:
    """The list position a key part names (``staff.0.wte``: the first staff group), or None."""
    return int(part) if isinstance(node, list) and part.isdigit() and int(part) < len(node) else None


def assign(raw: dict[str, Any], key: str, value: Any) -> None:
    """Set ``value`` at a key path in ``raw``, making the tables on the way; a number names an
    item of a list that is there (``stages.triage.staff.0.wte``)."""
    node: Any = raw
    parts = key_parts(key) or key.split(".")
    for i, part in enumerate(parts[:-1]):  # a copy is not needed: callers own ``raw``
        at = _item(node, part)
        if at is not None:
            node = node[at]
            continue
        if isinstance(node, list):
            raise ScenarioError("--set", key, f"'{'.'.join(parts[: i + 1])}': the list has {len(node)} items, numbered from 0")
        nxt = node.get(part)
        if nxt is None:
            nxt = node[part] = {}
        elif not isinstance(nxt, dict | list):
            raise ScenarioError("--set", key, f"'{'.'.join(parts[: i + 1])}' is a value, not a table")
        node = nxt
    at = _item(node, parts[-1])
    if at is not None:
        node[at] = value
    elif isinstance(node, list):
        raise ScenarioError("--set", key, f"'{key}': the list has {len(node)} items, numbered from 0")
    else:
        node[parts[-1]] = value


def value_at(data: dict[str, Any], key: str) -> Any:
    """The value at a plain dotted key path (a number names a list's item), or :data:`MISSING`."""
    node: Any = data
    for part in key.split("."):
        at = _item(node, part)
        if at is not None:
            node = node[at]
        elif not isinstance(node, dict) or part not in node:
            return MISSING
        else:
            node = node[part]
    return node


def deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; anything else in ``top`` replaces what ``base`` had."""
    out = copy.deepcopy(base)
    for k, v in top.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def leaf_keys(data: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted key paths of every value in nested tables (parts quoted where needed)."""
    out = []
    for k, v in data.items():
        part = k if k.replace("_", "").replace("-", "").isalnum() else json.dumps(k)
        key = f"{prefix}.{part}" if prefix else part
        out += leaf_keys(v, key) if isinstance(v, dict) and v else [key]
    return out


def fix_uncertain(table: dict[str, Any], set_keys: set[str]) -> dict[str, Any]:
    """The ``[uncertainty]`` table without the values fixed by hand.

    A key set with ``--set`` or swept in a grid means "at this value": its distribution
    (or a row's, when one share of it is set, or every one below a whole table that is set)
    is dropped, and so is its place in another entry's ``also``.
    """
    fixed = [tuple(key_parts(k) or k.split(".")) for k in set_keys]

    def hit(key: str) -> bool:
        parts = tuple(key.split("."))
        return any(parts[: len(f)] == f or f[: len(parts)] == parts for f in fixed)

    out: dict[str, Any] = {}
    for key, entry in table.items():
        if hit(key):
            continue
        if isinstance(entry, dict) and isinstance(entry.get("also"), list):
            entry = {**entry, "also": [a for a in entry["also"] if not (isinstance(a, str) and hit(a))]}
        out[key] = entry
    return out


def scenario_to_dict(s: Scenario) -> dict[str, Any]:
    """The resolved scenario as plain data (dates kept as dates, for TOML)."""
    return s.model_dump(mode="python")


def assigned(scenario: Scenario, values: dict[str, Any]) -> dict[str, Any]:
    """The scenario as plain data with values set by key path, not yet validated again.

    A value set in a service's ``staff`` changes the slots they give: unless the same values
    set its ``slots_per_week`` too, the slots are left out, to be derived again."""
    data = scenario_to_dict(scenario)
    for key, value in values.items():
        assign(data, key, value)
    for key in values:
        parts = key_parts(key) or key.split(".")
        if "staff" in parts:
            where = parts[: parts.index("staff")]
            slots = ".".join([*where, "slots_per_week"])
            service = value_at(data, ".".join(where))
            if isinstance(service, dict) and slots not in values:
                service.pop("slots_per_week", None)
    return data


def toml_key(part: str) -> str:
    """One part of a TOML key, quoted when it is not a bare key."""
    return part if part and part.replace("_", "").replace("-", "").isalnum() and part.isascii() else json.dumps(part)


def toml_value(value: Any) -> str:
    """A value as TOML, exactly as simulated (floats in full, never in E-notation)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        return text if "e" not in text else f"{value:.12f}".rstrip("0")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(str(value), ensure_ascii=False)
