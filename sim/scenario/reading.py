"""Reading a scenario file: TOML read safely, a file merged over the one it ``extends``
(and so on up the chain), and a backlog file found beside the scenario that names it."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from sim.base.files import MAX_SCENARIO_BYTES, FileProblem, read_text
from sim.scenario.schema import ScenarioError
from sim.scenario.values import deep_merge, fix_uncertain, leaf_keys

MAX_EXTENDS = 20
"""The longest chain of files extending one another (the bundled ones use two)."""

MAX_DEPTH = 12
"""How deeply a scenario's tables and arrays may nest (the schema's deepest is 5)."""


def resolve_backlog_file(raw: dict[str, Any], base: Path) -> None:
    """A relative backlog file is relative to the scenario that names it (or, from --set, to here)."""
    b = raw.get("backlog")
    if isinstance(b, dict) and isinstance(b.get("file"), str) and not Path(b["file"]).is_absolute():
        b["file"] = str((base / b["file"]).resolve())


def read_with_extends(path: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    """A file's tables merged over those of the file it ``extends``, and so on up the chain."""
    resolved = path.resolve()
    if len(seen) >= MAX_EXTENDS:
        raise ScenarioError(str(path), "extends", f"a chain of more than {MAX_EXTENDS} files extending each other")
    if resolved in seen:
        chain = " -> ".join(str(p) for p in (*seen, resolved))
        raise ScenarioError(str(path), "extends", f"circular extends: {chain}")
    data = _read_toml(path)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ScenarioError(str(path), "extends", "must be a file name (string)")
    base = read_with_extends(path.parent / parent, (*seen, resolved))
    return deep_merge(_inherited_uncertainty(base, data), data)


def _inherited_uncertainty(base: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """``base`` without the distributions of the values that ``data`` sets.

    A value this file sets is this file's value: a range inherited for it (in the parent's
    units, e.g. the parent's referrals) no longer applies, unless this file gives the key a
    distribution of its own.
    """
    own = data.get("uncertainty", {})
    if not (isinstance(base.get("uncertainty"), dict) and isinstance(own, dict)):
        return base
    inherited = {k: v for k, v in base["uncertainty"].items() if k not in own}
    kept = fix_uncertain(inherited, set(leaf_keys({k: v for k, v in data.items() if k != "uncertainty"})))
    return {**base, "uncertainty": {**{k: v for k, v in base["uncertainty"].items() if k in own}, **kept}}


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = read_text(path, MAX_SCENARIO_BYTES)
    except FileProblem as e:
        raise ScenarioError(str(path), "", e.problem) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(str(path), "", f"not valid TOML: {e}") from None
    except RecursionError:
        data = None
    if data is None or depth(data) > MAX_DEPTH:
        raise ScenarioError(str(path), "", f"not a scenario: tables or arrays nested more than {MAX_DEPTH} deep") from None
    return data


def depth(value: Any) -> int:
    """How deeply tables and arrays nest (counted without recursion: the value may be deep)."""
    deepest, todo = 0, [(value, 0)]
    while todo:
        v, d = todo.pop()
        if isinstance(v, dict):
            todo.extend((x, d + 1) for x in v.values())
        elif isinstance(v, list):
            todo.extend((x, d + 1) for x in v)
        else:
            deepest = max(deepest, d)
            continue
        deepest = max(deepest, d + 1)
        if deepest > MAX_DEPTH:
            break
    return deepest
