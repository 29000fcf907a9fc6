"""RTT returns: reading published ones, writing and comparing simulated ones."""
