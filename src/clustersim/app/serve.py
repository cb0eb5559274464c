"""The ``clustersim-app`` command: serve the classroom page with Solara.

``clustersim-app [--host H] [--port P] [--open]`` runs ``solara run
clustersim.app.page`` in production mode; it listens on 127.0.0.1:8765 by default
and needs no internet.
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Sequence

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "main"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the classroom app (``clustersim-app [--host H] [--port P] [--open]``)."""
    parser = argparse.ArgumentParser(
        prog="clustersim-app",
        description="Serve the clustersim classroom app (a live creative city) in the browser.",
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on (default {DEFAULT_HOST}: this computer only; "
        "0.0.0.0 lets the classroom network reach it)",
    )
    parser.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})"
    )
    parser.add_argument("--open", action="store_true", help="open a browser tab when ready")
    args = parser.parse_args(argv)
    from solara.__main__ import cli

    from clustersim.model.blas import limit_process

    # the sessions' models step in the server's threads, where OpenBLAS keeps a count the
    # main thread set: one thread from the start, so they give the commands' bits (blas.py)
    limit_process()

    # solara warns on every page load over plain http from another host (a classroom
    # network); the session cookie then falls back to SameSite=Lax, which is what we want
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")

    cli.main(
        args=[
            "run",
            "clustersim.app.page",
            "--host",
            args.host,
            "--port",
            str(args.port),
            "--production",
            "--open" if args.open else "--no-open",
        ],
        prog_name="clustersim-app",
    )


def _port(text: str) -> int:
    """A TCP port number, 1 to 65535 (argparse says so in one line otherwise)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a port is a whole number, got {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is between 1 and 65535, got {port}")
    return port


if __name__ == "__main__":
    main()
