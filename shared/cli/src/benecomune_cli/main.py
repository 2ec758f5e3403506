"""The ``benecomune`` command line for operators, auditors and developers."""

from __future__ import annotations

import os
import sys

import typer

from benecomune_cli import audit, demo, stack, tokens
from benecomune_cli import audit_bookings as _audit_bookings  # noqa: F401  (audit bookings)

app = typer.Typer(
    name="benecomune",
    no_args_is_help=True,
    help="Benecomune: run the local stack, mint development tokens, load demo data, audit ledgers.",
)

# --- Sub-apps -------------------------------------------------------------------------------------
# Each command group lives in its own module exposing a `typer.Typer` named `app`, registered here
# with `app.add_typer(<module>.app, name="<group>")`. Groups: token (below); stack (local Kafka and
# services), demo (demo data) and audit (ledger replay and reports) are registered here as well.
app.add_typer(tokens.app, name="token")
app.add_typer(stack.app, name="stack")
app.add_typer(demo.app, name="demo")
app.add_typer(audit.app, name="audit")


def main() -> None:
    """The console script: the app, except that once an audit has written everything it exits
    without tearing the interpreter down. The report is out by then; the teardown would free
    the tally object by object, seconds after a big audit printed its last line
    (docs/performance.md)."""
    try:
        app()
    except SystemExit as done:
        if not audit.finished or not isinstance(done.code, int):
            raise
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(done.code)


if __name__ == "__main__":
    main()
