"""The model: conservation, Little's law, the traffic equations, clocks, booking, capacity."""
