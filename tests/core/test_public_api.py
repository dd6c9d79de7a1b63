"""``oauth2_core.__all__`` is complete, sorted and documented (STYLE habit 14).

A public module (no leading underscore) documents its public names in its own
``__all__``; each of them must be re-exported by the package, except the
internal helpers listed in :data:`NOT_REEXPORTED` (shared between core modules,
documented in their module, deliberately kept off the top-level namespace).
Runs over whatever modules exist, so new modules are covered automatically.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import types
from pathlib import Path

import pytest

import oauth2_core as oc

#: module -> names in its __all__ that are helpers for other core modules, not API.
NOT_REEXPORTED: dict[str, frozenset[str]] = {
    "oauth2_core.client": frozenset(
        {
            "AUTH_METHODS",
            "JWT_AUTH_METHODS",
            "MTLS_AUTH_METHODS",
            "basic_credentials",
            "check_endpoint",
            "is_loopback_host",
        }
    ),
    # The one place client authentication is applied (RFC 6749 §2.3), for the builders.
    "oauth2_core.client_auth": frozenset({"CLIENT_ASSERTION_TYPE", "authenticate"}),
    "oauth2_core.grants": frozenset({"endpoint_request"}),
    # The one authority check (issue 12): used by the core's builders and the auth hooks.
    "oauth2_core.endpoints": frozenset(
        {
            "Origin",
            "check_endpoint",
            "check_redirect_uri",
            "check_resource_url",
            "insecure_http_error",
            "is_loopback_host",
            "url_origin",
        }
    ),
    "oauth2_core.id_token_refresh": frozenset({"previous_id_token_claims"}),
    # The request's parameters, for the URL, request objects and PAR (one credential rule).
    "oauth2_core.authorize": frozenset({"CREDENTIAL_PARAMS", "authorization_params"}),
    # The callback's reading steps, shared by parse_callback and the JARM flow.
    "oauth2_core.callback": frozenset(
        {"callback_params", "code_from_params", "is_signed_callback"}
    ),
    # The one reader of DPoP nonces (issue 13): used by the core's flows and the auth hooks.
    "oauth2_core.dpop_nonce": frozenset(
        {
            "DPOP_NONCE_FIELD",
            "dpop_nonce_challenge_fields",
            "is_dpop_nonce",
            "latest_dpop_nonce",
        }
    ),
    "oauth2_core.userinfo": frozenset({"check_userinfo_subject"}),
    # The one poll loop of the device grant and CIBA (issue 17): for those two modules.
    "oauth2_core.polling": frozenset({"SLOW_DOWN_INCREMENT", "poll_flow", "process_poll_response"}),
}
#: Namespaces used as such, never re-exported: the strategies need hypothesis, and the
#: optional JOSE module (PyJWT extra) is reached through ``Client(auth_method=...)`` or
#: imported as ``oauth2_core.jose``; the one JWT verifier under every ID token and signed
#: answer is imported as ``oauth2_core.jws_verify``.
NOT_SCANNED = frozenset({"oauth2_core.testing", "oauth2_core.jose", "oauth2_core.jws_verify"})


def _public_modules() -> list[types.ModuleType]:
    names = [
        info.name
        for info in pkgutil.iter_modules(oc.__path__, "oauth2_core.")
        if not info.name.rpartition(".")[2].startswith("_") and info.name not in NOT_SCANNED
    ]
    return [importlib.import_module(name) for name in sorted(names)]


def _all_modules() -> list[types.ModuleType]:
    names = [
        info.name
        for info in pkgutil.iter_modules(oc.__path__, "oauth2_core.")
        if info.name != "oauth2_core.testing"
    ]
    return [importlib.import_module(name) for name in sorted(names)]


def test_all_is_sorted_and_unique() -> None:
    assert list(oc.__all__) == sorted(oc.__all__)
    assert len(set(oc.__all__)) == len(oc.__all__)


def test_every_name_in_all_exists() -> None:
    missing = [name for name in oc.__all__ if not hasattr(oc, name)]
    assert not missing


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from oauth2_core import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(oc.__all__)


def test_every_public_module_declares_all() -> None:
    without = [m.__name__ for m in _public_modules() if not hasattr(m, "__all__")]
    assert not without


@pytest.mark.parametrize("module", _public_modules(), ids=lambda m: m.__name__)
def test_public_names_of_each_module_are_reexported(module: types.ModuleType) -> None:
    allowed = NOT_REEXPORTED.get(module.__name__, frozenset())
    missing = [
        name
        for name in getattr(module, "__all__", ())
        if name not in allowed
        and (name not in oc.__all__ or getattr(oc, name, None) is not getattr(module, name))
    ]
    assert not missing, f"{module.__name__} exports {missing} but oauth2_core does not"


def test_allowlist_names_still_exist() -> None:
    for module_name, names in NOT_REEXPORTED.items():
        module = importlib.import_module(module_name)
        assert names <= set(module.__all__), module_name


def test_no_public_name_outside_all() -> None:
    stray = [
        name
        for name, value in vars(oc).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name not in oc.__all__
    ]
    assert not stray


def _defining_module(name: str) -> types.ModuleType:
    for module in _all_modules():
        if name in getattr(module, "__all__", ()) and getattr(module, name) is getattr(oc, name):
            return module
    raise AssertionError(f"no oauth2_core module lists {name!r} in its __all__")


def _has_attribute_docstring(module: types.ModuleType, name: str) -> bool:
    """A string literal right after ``name = ...`` or a ``#:`` comment right above it."""
    source = Path(inspect.getfile(module)).read_text(encoding="utf-8")
    lines = source.splitlines()
    body = ast.parse(source).body
    for index, node in enumerate(body):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        if not any(isinstance(t, ast.Name) and t.id == name for t in targets):
            continue
        following = body[index + 1] if index + 1 < len(body) else None
        if (
            isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
            and following.value.value.strip()
        ):
            return True
        above = lines[node.lineno - 2].strip() if node.lineno >= 2 else ""
        if above.startswith("#:") and above[2:].strip():
            return True
    return False


@pytest.mark.parametrize("name", sorted(oc.__all__))
def test_every_exported_name_is_documented(name: str) -> None:
    value = getattr(oc, name)
    if isinstance(value, (type, types.FunctionType)):
        # __doc__ of the object itself: a class without one does not inherit its base's here.
        doc = value.__doc__
        assert doc and doc.strip(), f"{name} has no docstring"
    else:
        module = _defining_module(name)
        assert _has_attribute_docstring(module, name), (
            f"{name} in {module.__name__} has no docstring (a string after it or a #: comment)"
        )


@pytest.mark.parametrize("module", _all_modules(), ids=lambda m: m.__name__)
def test_every_module_has_a_docstring(module: types.ModuleType) -> None:
    assert module.__doc__ and module.__doc__.strip()


def type_checking_exports(package: types.ModuleType) -> dict[str, tuple[str, ...]]:
    """``{module: names}`` of the ``X as X`` imports in the package's TYPE_CHECKING block."""
    tree = ast.parse(Path(inspect.getfile(package)).read_text(encoding="utf-8"))
    found: dict[str, list[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom), ast.unparse(statement)
                for alias in statement.names:
                    assert alias.asname == alias.name, f"{alias.name}: write `X as X`"
                    found.setdefault(statement.module or "", []).append(alias.name)
    return {module: tuple(sorted(names)) for module, names in found.items()}


def test_public_names_are_written_once() -> None:
    """``_EXPORTS`` is the one list: ``__all__`` comes from it, the typing block mirrors it."""
    table = {module: tuple(sorted(names)) for module, names in oc._EXPORTS.items()}
    assert type_checking_exports(oc) == table
    assert oc.__all__ == sorted(name for names in table.values() for name in names)
    for module, names in table.items():
        defining = importlib.import_module(module)
        assert all(getattr(oc, name) is getattr(defining, name) for name in names)


def test_lazy_table_refuses_a_name_listed_twice() -> None:
    from oauth2_core._lazy import lazy_exports

    with pytest.raises(ValueError, match="listed twice"):
        lazy_exports("oauth2_core", {"oauth2_core.errors": ("UsageError",), "x": ("UsageError",)})
