"""Diagnostics, warm-up, expected load, measures, the switch-over and takeovers."""
