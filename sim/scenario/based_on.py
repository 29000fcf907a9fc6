"""Designs a scenario file writes as changes to another (``based_on``), merged over it
before validation, with the draws of the design each is based on shared with it."""

from __future__ import annotations

from typing import Any

from sim.scenario.problems import unknown
from sim.scenario.schema import ScenarioError
from sim.scenario.values import deep_merge, leaf_keys


def resolve_based_on(raw: dict[str, Any], source: str) -> dict[str, Any]:
    """Designs written as changes to another (``based_on``), merged over it.

    What the design sets wins; every ``[uncertainty]`` draw on a key of the design it is based
    on also sets that key of this one (``also``), unless this one sets the key itself, so in a
    replication the two run on the same drawn values.
    """
    designs = raw.get("designs")
    if not isinstance(designs, dict) or not any(isinstance(d, dict) and "based_on" in d for d in designs.values()):
        return raw
    own = {name: leaf_keys(d) for name, d in designs.items() if isinstance(d, dict)}
    merged: dict[str, Any] = {}

    def resolve(name: str, chain: tuple[str, ...]) -> dict[str, Any]:
        if name in merged:
            return merged[name]
        d = designs[name]
        base = d.get("based_on") if isinstance(d, dict) else None
        if base is None:
            merged[name] = d
            return d
        key = f"designs.{name}.based_on"
        if not isinstance(base, str) or base not in designs:
            raise ScenarioError(source, key, unknown(str(base), set(designs) - {name}, "design"))
        if base in chain or base == name:
            raise ScenarioError(source, key, f"designs based on each other: {' -> '.join((*chain, name, base))}")
        inherited = {k: v for k, v in resolve(base, (*chain, name)).items() if k != "fitted_to"}  # its changes were not fitted
        merged[name] = {**deep_merge(inherited, d), "based_on": base}
        return merged[name]

    out = {**raw, "designs": {name: resolve(name, ()) for name in designs}}
    if isinstance(raw.get("uncertainty"), dict):
        out["uncertainty"] = _shared_draws(raw["uncertainty"], merged, own)
    return out


def _sets(leaves: list[str], key: str) -> bool:
    """Whether a design's own leaf keys set ``key`` (or a part of the table it names)."""
    return any(k == key or k.startswith(f"{key}.") for k in leaves)


def _shared_draws(table: dict[str, Any], merged: dict[str, Any], own: dict[str, list[str]]) -> dict[str, Any]:
    """Uncertainty entries on a design's keys extended (``also``) to the designs based on it."""
    out = {}
    for key, entry in table.items():
        if not isinstance(entry, dict):
            out[key] = entry
            continue
        targets = [key, *entry.get("also", [])]
        copies = []
        for name, d in merged.items():
            base = d.get("based_on") if isinstance(d, dict) else None
            while base is not None:  # every design up the chain lends its draws
                prefix = f"designs.{base}."
                copies += [
                    f"designs.{name}.{t[len(prefix):]}" for t in targets
                    if t.startswith(prefix) and not _sets(own.get(name, []), t[len(prefix):])
                ]  # fmt: skip
                base = merged[base].get("based_on") if isinstance(merged[base], dict) else None
        out[key] = {**entry, "also": [*entry.get("also", []), *dict.fromkeys(copies)]} if copies else entry
    return out
