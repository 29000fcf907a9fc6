"""Scenario files: validation, overrides, bounds, uncertainty, backlogs, the bundled scenarios."""
