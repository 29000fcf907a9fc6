"""Calibrating an area to its published RTT returns: the stock-and-flow arithmetic, a
simulation-based fit with common random numbers, and a back-test on held-out months."""
