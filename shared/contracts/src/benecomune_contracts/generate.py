"""Generate the published contract documents and manage the snapshots of published events.

Usage::

    python -m benecomune_contracts.generate docs/contracts          # write the documents
    python -m benecomune_contracts.generate --check docs/contracts  # fail if stale or breaking
    python -m benecomune_contracts.generate --publish               # snapshot new event types

``<outdir>/asyncapi.json`` is the AsyncAPI 3.0 document and ``<outdir>/schemas/<type>.json``
the JSON Schema of each event type. ``--publish`` records the current schemas in
``benecomune_contracts/published/`` (new types and versions, and compatible changes such as a
new optional field); it refuses, writing nothing, when a change would break consumers.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from benecomune_contracts.asyncapi import build_asyncapi
from benecomune_contracts.base import ContractEvent
from benecomune_contracts.compat import (
    IncompatibleChange,
    check_published,
    publish_snapshots,
    unpublished_contracts,
)
from benecomune_contracts.registry import all_contracts
from benecomune_contracts.schemas import dump_json, event_json_schema

__all__ = ["main", "render_outputs", "stale_outputs", "write_outputs"]

ASYNCAPI_FILE = "asyncapi.json"
SCHEMAS_DIR = "schemas"


def render_outputs(contracts: Iterable[type[ContractEvent]] | None = None) -> dict[str, str]:
    """The generated files, by path relative to the output folder, with their text."""
    models = tuple(all_contracts() if contracts is None else contracts)
    outputs = {ASYNCAPI_FILE: dump_json(build_asyncapi(models))}
    for model in models:
        outputs[f"{SCHEMAS_DIR}/{model.type_name}.json"] = dump_json(event_json_schema(model))
    return outputs


def _existing_schema_files(outdir: Path) -> set[str]:
    folder = outdir / SCHEMAS_DIR
    if not folder.is_dir():
        return set()
    return {f"{SCHEMAS_DIR}/{path.name}" for path in folder.glob("*.json")}


def stale_outputs(outdir: Path) -> list[str]:
    """Files under ``outdir`` that differ from what the code generates, are missing, or
    are schemas of event types that no longer exist."""
    outputs = render_outputs()
    stale = [
        name
        for name, text in outputs.items()
        if not (outdir / name).is_file() or (outdir / name).read_text(encoding="utf-8") != text
    ]
    stale.extend(_existing_schema_files(outdir) - outputs.keys())
    return sorted(stale)


def write_outputs(outdir: Path) -> list[str]:
    """Write the generated files to ``outdir`` (removing schemas of types no longer
    defined); returns the paths that changed."""
    changed = stale_outputs(outdir)
    outputs = render_outputs()
    (outdir / SCHEMAS_DIR).mkdir(parents=True, exist_ok=True)
    for name, text in outputs.items():
        (outdir / name).write_text(text, encoding="utf-8")
    for name in _existing_schema_files(outdir) - outputs.keys():
        (outdir / name).unlink()
    return changed


def _report_published(check_only: bool) -> int:
    status = 0
    changes = check_published()
    if changes:
        status = 1
        print("Breaking changes to published events (publish a new version instead):")
        for change in changes:
            print(f"  - {change}")
    missing = unpublished_contracts()
    if missing:
        if check_only:
            status = 1
        print(
            "Not yet published (run `python -m benecomune_contracts.generate --publish`): "
            + ", ".join(missing)
        )
    return status


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benecomune_contracts.generate",
        description="Generate the AsyncAPI document and JSON Schemas of Benecomune's events.",
    )
    parser.add_argument("outdir", nargs="?", type=Path, help="folder to write, e.g. docs/contracts")
    parser.add_argument(
        "--publish",
        action="store_true",
        help="record the current schemas as published snapshots (refused if breaking)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; fail if outdir is stale, a change is breaking, or a type is "
        "unpublished",
    )
    args = parser.parse_args(argv)
    if args.outdir is None and not (args.publish or args.check):
        parser.error("give an output folder, --publish or --check")
    if args.check and args.publish:
        parser.error("--check and --publish exclude each other")

    status = 0
    if args.publish:
        try:
            result = publish_snapshots()
        except IncompatibleChange as error:
            print(error, file=sys.stderr)
            return 1
        for type_name in result.added:
            print(f"published {type_name}")
        for type_name in result.updated:
            print(f"updated {type_name} (compatible change)")
        if not (result.added or result.updated):
            print("every event type is already published")
    else:
        status = _report_published(check_only=args.check)

    if args.outdir is not None:
        if args.check:
            stale = stale_outputs(args.outdir)
            if stale:
                status = 1
                print(
                    f"{args.outdir} is out of date ({', '.join(stale)}); run `make contracts`",
                )
        else:
            for name in write_outputs(args.outdir):
                print(f"wrote {args.outdir / name}")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
