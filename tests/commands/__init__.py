"""The command line end to end, and options it refuses."""
