"""The ``benecomune`` command line for operators, auditors and developers."""

from __future__ import annotations

import typer

from benecomune_cli import audit, demo, stack, tokens

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


if __name__ == "__main__":
    app()
