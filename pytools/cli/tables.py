"""Printing the subcommands' ``rich`` tables at their natural width.

``rich`` lays a table out in the console's width, which is 80 columns whenever the output is not a terminal
(a pipe, a file, CI logs): long cells such as file names and model specs were then folded over several lines.
A table is printed here at the wider of the console's width and the width its content needs.
"""

from __future__ import annotations

__all__ = ["print_table"]


def print_table(renderable, *, stderr: bool = False) -> None:
    """Print a ``rich`` renderable (usually a ``Table``) without folding cells that fit on one line.

    Args:
        renderable: what to print.
        stderr: print to standard error instead of standard output.
    """
    from rich.console import Console
    from rich.measure import Measurement

    probe = Console(stderr=stderr)
    natural = Measurement.get(probe, probe.options.update_width(10_000), renderable).maximum
    # rich clamps print(width=...) to the console's own width, so the wider console is made here.
    Console(stderr=stderr, width=max(probe.width, natural)).print(renderable)
