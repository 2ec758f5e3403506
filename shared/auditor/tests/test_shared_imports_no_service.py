"""No module shipped under ``shared/`` imports a service: the kit, the contracts, the auditor and
the command line are written once for every service, and the auditor must stay independent of
what it audits (a service's figures reach it over HTTP or through the hook the service names in
the ``benecomune.audit_ledgers`` entry-point group). Every import is looked at, at any depth
(inside functions and ``TYPE_CHECKING`` blocks too), and so is ``importlib.import_module`` of a
literal name. The packages' tests are not shipped and may run a service to exercise the code
against it (the demo loader's tests do)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2]
SERVICES = frozenset({"catalog", "wallet", "vouchers", "notifications", "booking"})


def shipped_modules() -> list[Path]:
    return sorted(p for p in SHARED.glob("*/src/**/*.py") if "egg-info" not in str(p))


def imported_names(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value


def service_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        f"{path.relative_to(SHARED.parent)}:{line} imports {name}"
        for line, name in imported_names(tree)
        if name.partition(".")[0] in SERVICES
    ]


def test_no_module_under_shared_imports_a_service() -> None:
    modules = shipped_modules()
    assert len(modules) > 50  # the walk finds the packages' sources
    found = [finding for path in modules for finding in service_imports(path)]
    assert found == []


def test_the_walk_finds_every_form_of_import(tmp_path: Path) -> None:
    module = tmp_path / "spoiled.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "import wallet.domain\n"
        "if TYPE_CHECKING:\n"
        "    from vouchers.application.app import VouchersApplication\n"
        "def later():\n"
        "    from catalog import service\n"
        "    import importlib\n"
        "    return importlib.import_module('booking.settings')\n"
        "from .notifications import x\n"  # relative: a module of the package itself
        "import catalogue_tools\n",  # another name that only starts like a service
        encoding="utf-8",
    )
    names = [name for _, name in imported_names(ast.parse(module.read_text()))]
    assert [n for n in names if n.partition(".")[0] in SERVICES] == [
        "wallet.domain",
        "vouchers.application.app",
        "catalog",
        "booking.settings",
    ]
