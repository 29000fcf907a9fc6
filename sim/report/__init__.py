"""Presenting results: the terminal tables (and, later, files for people to read)."""
