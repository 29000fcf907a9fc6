"""The column names are declared once (``sim.scenario.names``): each is a declared column, each
declared column has one, and the rows a run writes use no other."""

from __future__ import annotations

from sim.model.pathway import Pathway
from sim.scenario import names
from sim.scenario.columns import DECLARED, find
from tests.conftest import bundled


def test_every_name_is_a_declared_column_and_every_column_has_a_name() -> None:
    assert tuple(c.name for c in DECLARED) == names.ALL
    assert len(set(names.ALL)) == len(names.ALL)


def test_a_pattern_gives_its_concrete_name() -> None:
    assert names.per(names.STAGE_FIRST, stage="physio") == "physio_first"
    assert find(names.per(names.PAY_PROVIDER_PROVIDER_GBP, provider="trust")) is not None
    assert names.PHYSIO_CONTACTS == "physio_contacts"


def test_the_rows_a_replication_returns_use_declared_names_only() -> None:
    rows = Pathway(bundled("run.years=1", "run.warmup_days=60"), "prime", 0).run()
    assert rows and all(find(k) is not None for row in rows for k in row)
