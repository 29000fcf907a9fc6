"""The command line's parts below ``cli.py``: the options and error handling every command shares
(:mod:`~sim.commands.shared`), the searching commands' declarations (:mod:`~sim.commands.searches`),
and what each command does, by group, loaded when a command runs."""
