"""The SimPy model of the MSK pathway: patients, clinics, theatre and the two designs.

Importing the package only settles which form of the model runs (``sim/model/compiled.py``
says how); import its modules by name, e.g. ``from sim.model.pathway import Pathway, simulate``.
"""

from sim.model.compiled import choose

ENGINE = choose()
"""``"compiled"`` or ``"interpreted"``: how this process runs the model (same results either way)."""

__all__ = ["ENGINE"]
