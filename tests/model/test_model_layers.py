"""The model's modules import one way: none imports, even under ``TYPE_CHECKING``, a module
that imports it back, directly or through others. The services reach the pathway through
:class:`sim.model.hub.Hub`, so the pathway is the top of the model and nothing below knows it."""

from __future__ import annotations

import ast
from pathlib import Path

from sim.model import hub, kinds
from sim.model.clocks import ADMITTED, INCOMPLETE, NONADMITTED, PARTS, REMOVALS, STARTS, TRANSFERS_IN, TRANSFERS_OUT
from sim.scenario.schema import NEEDS
from tests.conftest import ROOT

MODEL = ROOT / "sim" / "model"
PACKAGE = "sim.model"


def model_imports(source: str) -> set[str]:
    """The modules of ``sim.model`` a source imports anywhere in it (``TYPE_CHECKING`` blocks included)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        else:
            continue
        out |= {n.removeprefix(PACKAGE + ".").split(".")[0] for n in names if n.startswith(PACKAGE + ".")}
    return out


def graph(sources: dict[str, str]) -> dict[str, set[str]]:
    """Module -> the model's modules it imports (the package itself, which loads none of them, aside)."""
    return {name: model_imports(text) & set(sources) - {name} for name, text in sources.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Each import loop, as the path that closes it (depth-first, each module once)."""
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for n in sorted(edges[m]):
            if state.get(n) == 1:
                found.append([*path[path.index(n) :], n])
            elif n not in state:
                visit(n, [*path, n])
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m, [m])
    return found


def model_sources(folder: Path = MODEL) -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.py")) if p.stem != "__init__"}


def test_no_module_of_the_model_imports_one_that_imports_it_back() -> None:
    loops = cycles(graph(model_sources()))
    assert not loops, "import loops in sim/model: " + "; ".join(" -> ".join(c) for c in loops)


def test_the_check_finds_a_loop_through_type_checking_and_through_others() -> None:
    """The model as it was: the services imported the pathway for its type, the pathway them."""
    sources = {
        "pathway": "from sim.model.clinic import Clinic\nfrom sim.model.recorder import Recorder\n",
        "clinic": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from sim.model.pathway import Pathway\n",
        "recorder": "from sim.model import theatre\n",
        "theatre": "import sim.model.pathway\n",
        "patient": "from sim.model.draws import seed\n",
        "draws": "",
    }
    loops = cycles(graph(sources))
    assert ["clinic", "pathway", "clinic"] in loops
    assert ["pathway", "recorder", "theatre", "pathway"] in loops
    assert not any("patient" in c or "draws" in c for c in loops)


def test_services_know_the_hub_not_the_pathway() -> None:
    edges = graph(model_sources())
    below = {m for m in edges if m != "pathway"}
    assert not [m for m in below if "pathway" in edges[m]]
    assert {"clinic", "theatre", "design"} <= {m for m in edges if "hub" in edges[m]}
    assert hub.Hub.__name__ == "Hub"


def test_the_enums_match_the_scenario_and_the_returns() -> None:
    assert tuple(kinds.Need) == NEEDS
    assert tuple(kinds.Part) == PARTS
    order = (INCOMPLETE, ADMITTED, NONADMITTED, STARTS, REMOVALS, TRANSFERS_IN, TRANSFERS_OUT)
    assert [PARTS[i] for i in order] == [p.value for p in kinds.Part]
