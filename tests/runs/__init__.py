"""Batches and result folders: executors, resume, faults, reproducibility, the data dictionary."""
