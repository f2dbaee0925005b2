"""Imports run one way: no module imports a layer above its own, nor a peer beside it, and no selector imports
a service. ``docs/layers.md`` is this table in words; change both together.

Every module of the project's packages (not ``tests``, ``bench`` or migrations) is read with ``ast``; every
``import`` counts, at the top of a module or inside a function (a lazy import that avoids a cycle is a cycle).
A string that names a module (the URLconf's ``include``, ``MIDDLEWARE``, Celery's task names) is not an import
and is not read here.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_THE_PROJECT = {"tests", "bench"}


@dataclass(frozen=True)
class Layer:
    name: str
    rank: int
    packages: tuple[str, ...]


# Bottom to top. A module may import its own layer and any layer of a lower rank; layers of the same rank
# are peers, and peers do not import each other. The most specific package names a module's layer.
LAYERS = (
    Layer("infrastructure", 0, ("leadops",)),
    Layer("domain core", 1, ("campaigns",)),
    Layer("suppressions", 2, ("suppressions",)),
    Layer("CRM", 3, ("suppressions.crm",)),
    Layer("dialer", 4, ("campaigns.dialer",)),
    Layer("portal", 4, ("campaigns.portal",)),
    Layer("lead import", 4, ("campaigns.imports",)),
    Layer("back office", 5, ("campaigns.admin", "campaigns.resources")),
    Layer("demo", 5, ("campaigns.demo", "campaigns.management.commands.seed_demo")),
)
# Where the project is put together: they may import anything, and nothing imports them.
COMPOSITION_ROOTS = frozenset({"leadops.settings", "leadops.urls", "leadops.wsgi"})

# Within any layer: a module's role is the first part of its name that names one (``campaigns.selectors.x``,
# ``suppressions.crm.services.rules``: a service), or the module's own below. A role never imports a later one:
# rules read models only, and a selector never imports a service.
ROLES = ("models", "rules", "selectors", "services")
MODULE_ROLES = {"campaigns.dialer.dialable": "selectors", "campaigns.dialer.pool": "services"}


def layer_of(module: str) -> Layer | None:
    found = [
        (len(package), layer)
        for layer in LAYERS
        for package in layer.packages
        if module == package or module.startswith(package + ".")
    ]
    return max(found, key=lambda pair: pair[0])[1] if found else None


def role_of(module: str) -> str | None:
    if module in MODULE_ROLES:
        return MODULE_ROLES[module]
    return next((part for part in module.split(".") if part in ROLES), None)


def project_modules(root: Path = ROOT) -> dict[str, Path]:
    """Return every module of the project's packages by dotted name (``__init__`` as its package)."""
    modules = {}
    for package in sorted(p.parent for p in root.glob("*/__init__.py")):
        if package.name in NOT_THE_PROJECT:
            continue
        for path in package.rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            if "migrations" in parts:
                continue
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _imports(module: str, source: str, known: set[str]):
    """Yield ``(line, imported module)`` for every import in ``source``, top-level or not."""
    package = module if f"{module}.__init__" in known else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            # ``from campaigns.dialer.api import admin`` imports the module ``campaigns.dialer.api.admin``.
            imported = {f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names}
            for name in sorted(imported):
                yield node.lineno, name


def violations(sources: dict[str, str], *, packages: dict[str, bool] | None = None) -> list[str]:
    """Return one line per import of ``sources`` (dotted name → source) that runs the wrong way.

    ``packages`` says which names are packages (their ``__init__``), for relative imports; the names of
    ``sources`` are the modules that exist.
    """
    known = set(sources) | {f"{name}.__init__" for name, is_package in (packages or {}).items() if is_package}
    ours = {name.split(".")[0] for name in sources}
    found = []
    for module, source in sorted(sources.items()):
        if module in COMPOSITION_ROOTS:
            continue
        here = layer_of(module)
        if here is None:
            found.append(f"{module}: no layer of LAYERS holds it (add its package to the table and docs/layers.md)")
            continue
        for line, imported in _imports(module, source, known):
            if imported.split(".")[0] not in ours:
                continue
            where = f"{module} line {line} imports {imported}"
            if imported in COMPOSITION_ROOTS:
                found.append(f"{where}: nothing imports a composition root")
                continue
            there = layer_of(imported)
            if there is None:
                found.append(f"{where}: no layer of LAYERS holds {imported}")
            elif there.name != here.name and there.rank >= here.rank:
                relation = "a peer" if there.rank == here.rank else "a layer above it"
                found.append(f"{where}: {here.name} may not import {there.name}, {relation}")
            mine, theirs = role_of(module), role_of(imported)
            if mine and theirs and ROLES.index(theirs) > ROLES.index(mine):
                found.append(f"{where}: {mine} may not import {theirs}")
    return found


def test_no_import_runs_back_down_the_layers():
    # given
    modules = project_modules()

    # when
    found = violations(
        {name: path.read_text() for name, path in modules.items()},
        packages={name: path.name == "__init__.py" for name, path in modules.items()},
    )

    # then
    assert found == []


def test_every_package_of_the_project_is_read():
    # when
    modules = project_modules()

    # then: the layers' packages, and nothing of the tests, the benchmarks or the migrations
    assert {"leadops.db", "campaigns.rules", "suppressions.selectors", "campaigns.dialer.pool"} <= set(modules)
    assert "campaigns.dialer.api.views" in modules and "suppressions.crm.services.rules" in modules
    assert not [name for name in modules if name.split(".")[0] in NOT_THE_PROJECT or ".migrations" in name]


# --- The checker itself, on made-up modules -------------------------------------------------------------


def test_a_lazy_import_of_a_layer_above_is_named_with_its_line():
    # given: the core asking suppressions from inside a function
    sources = {
        "campaigns.selectors.explaining": "import functools\n\n\ndef f():\n    from suppressions.selectors import x\n",
        "suppressions.selectors": "",
    }

    # when / then
    assert violations(sources) == [
        "campaigns.selectors.explaining line 5 imports suppressions.selectors: "
        "domain core may not import suppressions, a layer above it"
    ]


def test_a_selector_importing_a_service_is_named_even_within_its_layer():
    # given
    sources = {"suppressions.selectors": "from suppressions.services.pipeline import read_values\n"}
    sources["suppressions.services.pipeline"] = ""

    # when / then
    assert violations(sources) == [
        "suppressions.selectors line 1 imports suppressions.services.pipeline: selectors may not import services"
    ]


def test_peers_do_not_import_each_other_and_a_submodule_counts_as_imported():
    # given: the portal importing the dialer's module ``pool`` by ``from … import``, and two names of one module
    sources = {
        "campaigns.portal.views": "from campaigns.dialer import pool\nfrom campaigns.imports.models import A, B\n",
        "campaigns.dialer.pool": "",
        "campaigns.imports.models": "",
    }

    # when / then: one line per imported module
    assert violations(sources) == [
        "campaigns.portal.views line 1 imports campaigns.dialer.pool: portal may not import dialer, a peer",
        "campaigns.portal.views line 2 imports campaigns.imports.models: portal may not import lead import, a peer",
    ]


def test_a_relative_import_is_read_from_its_package():
    # given: ``from ..rules import x`` in ``suppressions/crm/services/__init__.py`` is ``suppressions.crm.rules``
    sources = {
        "suppressions.crm.services": "from ..rules import x\nfrom campaigns.dialer.api import views\n",
        "suppressions.crm.rules": "",
        "campaigns.dialer.api.views": "",
    }

    # when
    found = violations(sources, packages={"suppressions.crm.services": True})

    # then: the relative import stays within CRM; the dialer is above it
    assert found == [
        "suppressions.crm.services line 2 imports campaigns.dialer.api.views: CRM may not import dialer, "
        "a layer above it"
    ]


def test_imports_down_and_within_a_layer_pass_and_a_composition_root_imports_anything():
    # given
    sources = {
        "campaigns.dialer.pool": "from campaigns.rules import x\nfrom suppressions.rules import y\n",
        "campaigns.rules": "from campaigns.models import Lead\nimport leadops.db\n",
        "campaigns.models": "",
        "suppressions.rules": "from campaigns.models import Block\n",
        "leadops.db": "",
        "leadops.urls": "from campaigns.dialer import pool\nfrom campaigns.demo import x\n",
        "campaigns.demo": "import leadops.urls\n",
    }

    # when / then: only the import of a composition root is refused
    assert violations(sources) == ["campaigns.demo line 1 imports leadops.urls: nothing imports a composition root"]


def test_a_module_outside_every_layer_is_named():
    # when / then
    assert violations({"billing.invoices": "import campaigns.models\n", "campaigns.models": ""}) == [
        "billing.invoices: no layer of LAYERS holds it (add its package to the table and docs/layers.md)"
    ]
