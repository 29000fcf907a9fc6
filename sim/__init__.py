"""msksim: a discrete-event simulation of the NHS musculoskeletal care pathway."""

__version__ = "0.1.0"
