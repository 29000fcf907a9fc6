"""Services below everything: safe file reading, random streams, Ctrl-C, lazy imports, grouped warnings, summary statistics."""
