"""The SimPy model of the MSK pathway: patients, clinics, theatre and the two designs."""

from sim.model.compiled import choose

ENGINE = choose()
"""``"compiled"`` or ``"interpreted"``: how this process runs the model (same results either way)."""

from sim.model.pathway import Pathway, simulate  # noqa: E402

__all__ = ["ENGINE", "Pathway", "simulate"]
