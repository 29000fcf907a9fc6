"""What ``scale`` prints: what scaling a scenario to another population changed, and that every
service's load is as before, to the rounding."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from sim.planning import scale
from sim.report.terminal import plain
from sim.scenario.schema import Scenario


def print_scaled(s: Scenario, scaling: scale.Scaling, scaled: Scenario, target: Path, console: Console,
                 warn: Callable[[str], None]) -> None:  # fmt: skip
    """What scaling ``s`` changed, and that every service's load is as before, to the rounding."""
    table = Table(title=f"Scaled x{scaling.factor:.6g}: population {s.population:,} to {scaling.population:,}",
                  header_style="bold")  # fmt: skip
    table.add_column("Key", overflow="fold")
    for col in ("Was", "Now"):
        table.add_column(col, justify="right", overflow="fold")
    for v in scaling.values:
        table.add_row(v.key, plain(v.was, 15), plain(v.now, 12))
    console.print(table)
    console.print(f"{scale.ROUNDING[0].upper()}{scale.ROUNDING[1:]}.", highlight=False)
    if scaling.uncertainty:
        how = [
            f"{k} ({'relative, unchanged' if e.get('relative') else f'x{scaling.factor:.6g}'})"
            for k, e in scaling.uncertainty.items()
        ]
        console.print(f"Distributions of scaled values: {'; '.join(how)}.", highlight=False)
    for note in scaling.notes:
        warn(note)
    before, after = scale.loads(s), scale.loads(scaled)
    moved = {k: abs(after[k] - before[k]) for k in before if math.isfinite(before[k])}
    change = max(moved.values(), default=0.0)
    console.print(
        f"Every service's load (appointments asked for / slots offered) is as before, to within {change:.3f} "
        f"(the rounding; {scale.LOAD_TOLERANCE} at most). Not scaled: prices per unit, shares, rates and days. "
        f"Written {target}; check it with: msksim validate {target}",
        highlight=False,
    )
    if change > scale.LOAD_TOLERANCE:
        (design, stage), _ = max(moved.items(), key=lambda kv: kv[1])
        warn(
            f"{design}: rounding moved {stage}'s load from {before[design, stage]:.3f} to {after[design, stage]:.3f}; "
            f"set its capacity in {target} to give the load you mean"
        )
