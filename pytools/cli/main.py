"""The ``tryon`` command: one Typer app, one module per subcommand.

Each subcommand module exposes ``register(app)``; heavy imports (torch, onnxruntime) happen inside the
handlers so that ``tryon --help`` is instant. Every ``TryonError`` becomes ``error: <message>`` on stderr and
its own exit code (see ``tryon.errors``); no traceback reaches the user unless ``TRYON_DEBUG=1``.
"""

from __future__ import annotations

import importlib
import os
import sys

import typer

from tryon.errors import TryonError

__all__ = ["app", "main"]

app = typer.Typer(
    name="tryon",
    help="Virtual try-on toolkit: dress a person photo in a garment, build distillation records, evaluate.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

# Order is the order of `tryon --help`.
_SUBCOMMAND_MODULES = ("run", "eval", "eval_category", "teacher", "train", "mask_sharpness", "setup", "export", "quantize", "bench", "serve", "bench_api", "web_build", "bench_browser", "env")
for _name in _SUBCOMMAND_MODULES:
    importlib.import_module(f"tryon.cli.{_name}").register(app)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the app, turning ``TryonError`` into a message and an exit code."""
    try:
        app(args=argv, standalone_mode=True)
    except TryonError as exc:
        if os.environ.get("TRYON_DEBUG"):
            raise
        typer.echo(f"error: {exc.message}" + (f"; {exc.cli_hint}" if exc.cli_hint else ""), err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
