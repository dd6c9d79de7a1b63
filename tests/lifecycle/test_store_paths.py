"""FileTokenStore and FileLock in a shared directory: planted links and files are refused.

An attacker who can write to the directory (``/tmp``) may pre-create the store path,
the lock path or a temporary file name as a symbolic link to one of the victim's files,
or as a file the attacker owns. Every such path is refused with a ``TokenStoreError``
naming the path (never the content), and nothing follows a symbolic link.
"""

from __future__ import annotations

import os
import secrets
import stat
import threading
from pathlib import Path

import pytest

import oauth2_core as oc
from oauth2_transports import FileLock, FileTokenStore, TokenStoreError

from .test_store import full_token

VICTIM = b'{"access_token": "victim-secret"}'


def victim_file(tmp_path: Path) -> Path:
    victim = tmp_path / "victim.json"
    victim.write_bytes(VICTIM)
    victim.chmod(0o600)
    return victim


def assert_refused(info: pytest.ExceptionInfo[TokenStoreError], path: Path, why: str) -> None:
    message = str(info.value)
    assert str(path) in message and why in message
    assert "victim-secret" not in message and "at-secret" not in message


def test_a_symlink_at_the_store_path_is_never_followed(tmp_path: Path) -> None:
    victim = victim_file(tmp_path)
    path = tmp_path / "token.json"
    path.symlink_to(victim)
    store = FileTokenStore(path)
    with pytest.raises(TokenStoreError) as info:
        store.load()
    assert_refused(info, path, "symbolic link")
    with pytest.raises(TokenStoreError) as info:
        store.save(full_token())
    assert_refused(info, path, "symbolic link")
    assert victim.read_bytes() == VICTIM and path.is_symlink()


def test_a_dangling_symlink_is_refused_not_created_through(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.json"
    path = tmp_path / "token.json"
    path.symlink_to(target)
    with pytest.raises(TokenStoreError, match="symbolic link"):
        FileTokenStore(path).load()
    lock = tmp_path / "token.lock"
    lock.symlink_to(tmp_path / "elsewhere.lock")
    with pytest.raises(TokenStoreError, match="symbolic link"):
        FileLock(lock).acquire()
    assert not target.exists() and not (tmp_path / "elsewhere.lock").exists()


def test_a_symlink_at_the_lock_path_is_refused(tmp_path: Path) -> None:
    victim = victim_file(tmp_path)
    path = tmp_path / "token.lock"
    path.symlink_to(victim)
    lock = FileLock(path, timeout=1)
    with pytest.raises(TokenStoreError) as info:
        lock.acquire()
    assert_refused(info, path, "symbolic link")
    with lock.__class__(tmp_path / "ok.lock"):
        pass  # the failed acquire left nothing held
    with pytest.raises(oc.UsageError):
        lock.release()


@pytest.mark.parametrize("mode", [0o620, 0o602, 0o666], ids=["0620", "0602", "0666"])
def test_a_file_others_can_write_is_refused(tmp_path: Path, mode: int) -> None:
    for path in (tmp_path / "token.json", tmp_path / "token.lock"):
        path.write_bytes(b"{}")
        path.chmod(mode)
    with pytest.raises(TokenStoreError) as info:
        FileTokenStore(tmp_path / "token.json").load()
    assert_refused(info, tmp_path / "token.json", "writable by other users")
    with pytest.raises(TokenStoreError) as info:
        FileTokenStore(tmp_path / "token.json").save(full_token())
    assert_refused(info, tmp_path / "token.json", "writable by other users")
    with pytest.raises(TokenStoreError) as info:
        FileLock(tmp_path / "token.lock").acquire()
    assert_refused(info, tmp_path / "token.lock", "writable by other users")


def test_a_file_of_another_user_is_refused(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        store_path, lock_path = tmp_path / "token.json", tmp_path / "token.lock"
        for path in (store_path, lock_path):
            path.write_bytes(b'{"access_token": "at-secret"}')
            path.chmod(0o644)
            os.chown(path, 65534, 65534)  # nobody
    else:  # a file root owns, readable by everyone
        store_path = lock_path = Path("/etc/hostname" if Path("/etc/hostname").exists() else "/")
    with pytest.raises(TokenStoreError) as info:
        FileTokenStore(store_path).load()
    assert_refused(info, store_path, "another user")
    with pytest.raises(TokenStoreError) as info:
        FileLock(lock_path).acquire()
    assert "another user" in str(info.value) or "not a regular file" in str(info.value)


def test_a_fifo_or_directory_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "token.json"
    os.mkfifo(fifo, 0o600)
    outcome: list[BaseException] = []

    def load() -> None:
        try:
            FileTokenStore(fifo).load()
        except BaseException as exc:
            outcome.append(exc)

    reader = threading.Thread(target=load, daemon=True)
    reader.start()
    reader.join(10)
    assert not reader.is_alive(), "opening a planted FIFO blocked"
    assert isinstance(outcome[0], TokenStoreError) and "not a regular file" in str(outcome[0])
    (tmp_path / "dir.lock").mkdir()
    with pytest.raises(TokenStoreError):
        FileLock(tmp_path / "dir.lock").acquire()


def test_a_planted_temporary_file_name_is_never_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Temporary names are random; even a guessed one, planted as a link, is refused
    # (O_CREAT | O_EXCL) and the victim's file is left alone.
    victim = victim_file(tmp_path)
    monkeypatch.setattr(secrets, "token_hex", lambda n=None: "0" * 16)
    planted = tmp_path / f".token.json.{'0' * 16}.tmp"
    planted.symlink_to(victim)
    with pytest.raises(TokenStoreError, match="cannot write"):
        FileTokenStore(tmp_path / "token.json").save(full_token())
    assert victim.read_bytes() == VICTIM
    assert planted.is_symlink()  # not ours to remove
    assert not (tmp_path / "token.json").exists()


def test_our_own_private_files_still_work(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "token.json")
    store.save(full_token())
    assert stat.S_IMODE((tmp_path / "token.json").stat().st_mode) == 0o600
    assert store.load() == full_token()
    with FileLock(tmp_path / "token.lock") as lock:
        assert lock.ensure_lease(3600) is True
    assert stat.S_IMODE((tmp_path / "token.lock").stat().st_mode) == 0o600
