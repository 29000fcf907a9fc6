"""What a scenario implies and what a run shows: traffic equations, diagnostics, warm-up, measures, the switch-over."""
