"""The SimPy model of the MSK pathway: patients, clinics, theatre and the two designs."""

from sim.model.pathway import Pathway, simulate

__all__ = ["Pathway", "simulate"]
