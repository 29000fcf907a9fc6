"""Planning commands: target and scale."""
