"""The report and the terminal's tables."""
