"""Every code block of README.md and docs/ runs, as a reader would run it (issue 14, item 6).

One test per page. Its ``python`` blocks run in order in one namespace (a block may continue
the one before) against a real mock authorization server on loopback; names the page leaves to
the reader are filled in by :mod:`doc_reader`. Its ``console`` / ``sh`` blocks run every
``oauth2`` command line with bash (the ``oauth2`` on PATH is this checkout), environment set-up
lines (``pip install``, ...) are counted, not run. A block that cannot run carries a
``<!-- snippet: skip reason="..." -->`` marker; the skips are listed in the summary.
``<!-- snippet: typed -->`` blocks must pass ``mypy --strict``. Another library's blocks
(``<!-- snippet: peer="requests-oauthlib" -->``) run in a worker process per library
(:mod:`doc_peer`), against the same servers.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from doc_peer import Peer
from doc_reader import Namespace, Reader, WebRequest
from doc_shell import BACKGROUND_MOCK, SETUP_COMMAND
from doc_snippets import ROOT, Block, blocks, pages, shell_commands

PAGES = [path.relative_to(ROOT).as_posix() for path in pages()]
PYTHON = ("python", "py", "pycon")
SHELL = ("console", "sh", "bash", "shell")
NOT_CODE = ("text", "")  # transcripts and output samples

# What the reader does once a page has been read: call the views the page defined, the way
# the web framework would.
AFTER_PAGE: dict[str, str] = {
    "docs/howto/authorization-code.md": (
        "_browser = WebRequest()\n"
        "login(_browser)\n"
        "callback(WebRequest(reader.follow(reader.redirected[-1]), _browser.session))\n"
        "assert oc.Token.from_dict(_browser.session['token']).access_token\n"
    ),
}

# The environment of another library's worker process (never of the test process): oauthlib
# refuses an http:// token endpoint, even on loopback, unless this variable is set.
PEER_ENV: dict[str, dict[str, str]] = {
    "requests-oauthlib": {"OAUTHLIB_INSECURE_TRANSPORT": "1"},
    "authlib": {},
}

SUMMARY: dict[str, dict[str, int | list[str]]] = {}


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reader]:
    reader = Reader(tmp_path_factory.mktemp("reader"))
    try:
        yield reader
    finally:
        reader.close()


def _run_python(block: Block, ns: Namespace, reader: Reader) -> None:
    for name, value in block.seeds.items():
        ns[name] = value
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    code = compile(reader.rewrite(block.source()), block.page, "exec", flags=flags)
    if code.co_flags & inspect.CO_COROUTINE:
        asyncio.run(eval(code, ns))  # a page showing the async client awaits at top level
    else:
        exec(code, ns)


def _run_shell(block: Block, reader: Reader, cwd: Path, env: dict[str, str]) -> list[str]:
    setup: list[str] = []
    for command in shell_commands(block):
        if SETUP_COMMAND.match(command):
            setup.append(command)
            continue
        if command.startswith("export "):
            name, _, value = command.removeprefix("export ").partition("=")
            env[name] = env.get(name, "") if value == "..." else value
            continue
        background = BACKGROUND_MOCK.match(command)
        if background is not None:
            reader.start_background(background["command"], env, cwd)
            continue
        shell = reader.run_shell(command, env, cwd)
        assert shell.returncode == 0, (
            f"{block.page}:{block.line}: `{command}` exited {shell.returncode}\n"
            f"stdout:\n{shell.stdout[-2000:]}\nstderr:\n{shell.stderr[-2000:]}"
        )
    return setup


def _run_peer(block: Block, peers: dict[str, Peer], reader: Reader) -> None:
    name = block.peer
    assert name in PEER_ENV, f"{block.page}:{block.line}: unknown peer {name!r}"
    if name not in peers:
        env = {**reader.environment(), **PEER_ENV[name]}
        peers[name] = Peer(name, reader.peer_settings(), env)
    peers[name].run(block.page, reader.rewrite(block.source()), block.seeds)


def _stop_page_servers(ns: Namespace) -> None:
    from oauth2_transports.testing import MockAuthorizationServer

    for value in list(dict.values(ns)):
        if isinstance(value, MockAuthorizationServer):
            value.stop()


@pytest.mark.parametrize("page", PAGES)
def test_page_code_blocks_run(page: str, reader: Reader, tmp_path: Path) -> None:
    """Every block of the page runs against loopback servers, or says why it cannot."""
    found = blocks(ROOT / page)
    ns = Namespace(reader, page)
    ns.update(reader=reader, WebRequest=WebRequest)
    (tmp_path / "password.txt").write_text("wonderland\n")
    env = reader.environment()
    ran, skipped, setup = 0, [], []
    peers: dict[str, Peer] = {}
    stopped: list[tuple[str, int]] = []
    try:
        for block in found:
            reason = block.skip_reason
            if reason is not None:
                skipped.append(f"{page}:{block.line}: {reason}")
                continue
            try:
                if block.peer is not None:
                    _run_peer(block, peers, reader)
                elif block.lang in PYTHON:
                    _run_python(block, ns, reader)
                elif block.lang in SHELL:
                    setup += _run_shell(block, reader, tmp_path, env)
                elif block.lang in NOT_CODE:
                    continue
                else:
                    pytest.fail(f"{page}:{block.line}: unknown code block language {block.lang!r}")
            except Exception as exc:
                raise AssertionError(
                    f"{page}:{block.line}: the {block.lang} block failed: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            ran += 1
        if page in AFTER_PAGE:
            exec(compile(AFTER_PAGE[page], f"{page} (after)", "exec"), ns)
    finally:
        for peer in peers.values():
            peer.close()
        stopped = reader.stop_background()
        _stop_page_servers(ns)
        SUMMARY[page] = {
            "blocks": len(found),
            "ran": ran,
            "skipped": skipped,
            "setup lines": setup,
            "asked": sorted(set(ns.asked)),
        }
    for command, code in stopped:  # docs/cli.md: "until Ctrl-C (SIGINT) ..., then exits 0"
        assert code == 0, f"{page}: `{command}` exited {code} on Ctrl-C"


def test_typed_blocks_pass_mypy_strict(tmp_path: Path) -> None:
    """The reusable code the docs give (a custom transport, ...) passes ``mypy --strict``."""
    modules: list[Path] = []
    for path in pages():
        typed = [block for block in blocks(path) if block.typed]
        if not typed:
            continue
        name = path.relative_to(ROOT).with_suffix("").as_posix().replace("/", "_").replace("-", "_")
        module = tmp_path / f"{name}.py"
        module.write_text("".join(block.code for block in typed), encoding="utf-8")
        modules.append(module)
    assert modules, "docs/custom-transport.md's transport is marked `typed`"
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", *map(str, modules)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_summary_of_doc_blocks(capsys: pytest.CaptureFixture[str]) -> None:
    """Prints what ran and every skip with its reason (``pytest -s`` or ``-rA`` shows it)."""
    lines = []
    for page, facts in SUMMARY.items():
        lines.append(
            f"{page}: {facts['blocks']} blocks, {facts['ran']} run, "
            f"{len(facts['skipped'])} skipped, {len(facts['setup lines'])} set-up lines"
        )
        lines += [f"    skip {s}" for s in facts["skipped"]]  # type: ignore[union-attr]
    with capsys.disabled():
        print("\n".join(["", "docs code blocks:", *lines]))
