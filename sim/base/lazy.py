"""Heavy libraries imported at their first use, so a command that never uses them starts quickly.

pandas, SciPy's statistics and matplotlib take most of a second to import together, more than
``msksim --help`` or ``msksim validate`` take to run. A module that needs one writes, at the
top, ``pd = later("pandas")`` in place of ``import pandas as pd``: ``pd`` is a stand-in module
whose first attribute looked up (``pd.DataFrame``) imports pandas and from then on reads its
names. Only names used inside functions leave the import for later; one used as the module is
imported (a default argument, a type alias) imports it there, which a test of start-up catches.
Annotations are strings (``from __future__ import annotations``), so they import nothing.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

HEAVY = ("pandas", "scipy", "matplotlib")
"""Libraries loaded through :func:`later` only: a test checks that importing ``cli`` leaves them out."""


class Later(ModuleType):
    """A module imported at the first use of one of its names (:func:`later`)."""

    def __getattr__(self, name: str) -> Any:
        # Called only for names not yet copied here: the first use, and names a module makes
        # on demand (SciPy's submodules, through the module's own __getattr__).
        module = importlib.import_module(self.__name__)
        vars(self).update(vars(module))
        return getattr(module, name)


def later(name: str) -> ModuleType:
    """The module ``name`` (``"pandas"``, ``"scipy.stats"``), imported when first used."""
    return Later(name)
