"""The scenario: its schema, values and overrides, uncertain inputs, backlog, the results schema, checks and loading."""
