"""The ``pynomaly`` command line (Typer)."""
