"""Commands that search over runs: the least capacity for a target, scaling a scenario to another area."""
