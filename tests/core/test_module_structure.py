"""Modules cut by concern (issue 13, item 5): no import cycle in the core, no private reaches.

Imports are read from the source (inside functions and ``TYPE_CHECKING`` blocks too:
a cycle is a cycle), so a lazy import cannot hide one.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: Private reaches that predate this test, owned by the flows rework (issue 13, items 1-3).
#: The list may only shrink.
KNOWN_PRIVATE_REACHES = frozenset(
    {
        "oauth2_core/device.py: oauth2_core._device_values._STANDARD",
        "oauth2_core/device.py: oauth2_core.dpop._latest_nonce",
        "oauth2_transports/client.py: oauth2_transports._client_flows._Flows",
    }
)


def modules(package: str) -> Iterator[tuple[str, Path, ast.Module]]:
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path, ast.parse(path.read_text(encoding="utf-8"))


def imported(name: str, path: Path, tree: ast.Module) -> Iterator[tuple[str, list[str]]]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, module] if module else base)
            yield module, [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []


def test_the_core_has_no_import_cycle() -> None:
    graph: dict[str, set[str]] = {}
    found = list(modules("oauth2_core"))
    names = {name for name, _, _ in found}
    for name, path, tree in found:
        edges = graph.setdefault(name, set())
        for module, items in imported(name, path, tree):
            for candidate in [module, *(f"{module}.{item}" for item in items)]:
                # A package's __init__ re-exporting its modules is not a cycle of concerns.
                if candidate in names and candidate != name and candidate != "oauth2_core":
                    edges.add(candidate)
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                cycles.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    assert cycles == []


def test_no_module_imports_another_modules_private_names() -> None:
    reaches = set()
    for package in ("oauth2_core", "oauth2_transports"):
        for name, path, tree in modules(package):
            if "testing" in path.relative_to(ROOT).parts:
                continue
            for module, items in imported(name, path, tree):
                if not module.startswith(("oauth2_core", "oauth2_transports")) or module == name:
                    continue
                reaches.update(
                    f"{path.relative_to(ROOT).as_posix()}: {module}.{item}"
                    for item in items
                    if item.startswith("_") and not item.startswith("__")
                )
    assert reaches <= KNOWN_PRIVATE_REACHES, sorted(reaches - KNOWN_PRIVATE_REACHES)
