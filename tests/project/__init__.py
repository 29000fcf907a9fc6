"""The project as installed and laid out: builds, imports, docs."""
