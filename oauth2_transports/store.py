"""Where a :class:`~oauth2_transports.TokenManager` keeps its token between runs.

A :class:`TokenStore` is two methods, ``load`` and ``save``. :class:`FileTokenStore`
keeps the token as JSON (``Token.to_dict``) in a file only its owner can read, replaced
atomically so a reader never sees half a token. :class:`FileLock` is a cross-process
lock (POSIX ``flock``) that lets several processes share one store and refresh once:
give it to the manager (``TokenManager(c, store=s, lock=FileLock(p))``) or to the store
(``FileTokenStore(p, lock=FileLock(q))``). Redis versions live in ``oauth2_transports.redis``.

The stored JSON holds the access and refresh tokens: keep the file as you would a password.
Both files may sit in a shared directory (``/tmp``), so neither trusts what it finds
there: a path that is a symbolic link, not a regular file, owned by another user, or
writable by group or others is refused with a :class:`TokenStoreError` naming the path
(never its content), and no open follows a symbolic link (``O_NOFOLLOW``).
"""

from __future__ import annotations

import json
import os
import secrets
import stat
import sys
import threading
import time
from contextlib import AbstractContextManager
from pathlib import Path
from types import TracebackType
from typing import Protocol, runtime_checkable

if sys.platform == "win32":  # pragma: no cover - no fcntl: FileLock refuses to start
    fcntl = None
else:
    import fcntl

from oauth2_core import OAuth2Error, Token, UsageError

__all__ = ["FileLock", "FileTokenStore", "LockTimeoutError", "TokenStore", "TokenStoreError"]


class TokenStoreError(OAuth2Error):
    """A token store cannot be read or written (corrupt file, unreachable Redis, ...).

    Attributes:
        retryable: Whether the same call may succeed later (a network problem) or
            not (a corrupt or unreadable file needs a person).
    """

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class LockTimeoutError(OAuth2Error):
    """A cross-process lock was not acquired in the time allowed.

    Another process holds it (and is probably refreshing): retry later.
    """


@runtime_checkable
class TokenStore(Protocol):
    """Keeps one token between runs and between processes.

    ``load`` returns the saved token or ``None`` when there is none yet;
    ``save`` replaces it. A store that several processes share should make
    ``save`` atomic, so that ``load`` sees the old token or the new one, never a mix.
    """

    def load(self) -> Token | None:
        """The saved token, or ``None``."""
        ...

    def save(self, token: Token) -> None:
        """Replace the saved token with ``token``."""
        ...


# Flags for every open of a store or lock file: never follow a symbolic link planted
# at the path, never block on a FIFO planted there, never leak into a child process.
_SAFE_OPEN = (
    getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
)


def _refuse_untrusted(info: os.stat_result, what: str) -> None:
    """Refuse a file someone else could have planted or can change.

    Raises:
        TokenStoreError: not a regular file, owned by another user, or writable
            by group or others (the message names the place, never the content).
    """
    if not stat.S_ISREG(info.st_mode):
        raise TokenStoreError(f"{what} is not a regular file: refusing to use it")
    geteuid = getattr(os, "geteuid", None)  # POSIX only
    if geteuid is not None and info.st_uid != geteuid():
        raise TokenStoreError(f"{what} belongs to another user: refusing to use it")
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise TokenStoreError(f"{what} is writable by other users: refusing to use it")


def _open_trusted(path: Path, flags: int, what: str) -> int:
    """``os.open`` that follows no symbolic link and accepts only a file of ours.

    Raises:
        FileNotFoundError: the file does not exist (and ``flags`` do not create it).
        TokenStoreError: a symbolic link, or a file :func:`_refuse_untrusted` refuses.
    """
    try:
        fd = os.open(path, flags | _SAFE_OPEN, 0o600)
    except FileNotFoundError:
        raise
    except OSError as exc:
        if os.path.islink(path):  # O_NOFOLLOW answered ELOOP (or EMLINK on BSD)
            raise TokenStoreError(f"{what} is a symbolic link: refusing to follow it") from None
        raise TokenStoreError(f"cannot open {what}") from exc
    try:
        _refuse_untrusted(os.fstat(fd), what)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _refuse_planted(path: Path, what: str) -> None:
    """Before replacing ``path``: refuse a symbolic link or someone else's file there."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise TokenStoreError(f"cannot inspect {what}") from exc
    if stat.S_ISLNK(info.st_mode):
        raise TokenStoreError(f"{what} is a symbolic link: refusing to replace it")
    _refuse_untrusted(info, what)


def token_from_json(raw: bytes | str, where: str) -> Token:
    """Decode a token saved as ``Token.to_dict`` JSON.

    Raises:
        TokenStoreError: the data is not a saved token (``where`` names the place).
    """
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise TokenStoreError(f"{where} does not hold a saved token (not a JSON object)")
        return Token.from_dict(data)
    except (ValueError, UsageError, RecursionError) as exc:
        # UnicodeDecodeError and JSONDecodeError are ValueErrors; the message names
        # the place only, never the content (it may hold a token).
        raise TokenStoreError(f"{where} does not hold a saved token: it is corrupt") from exc


def token_to_json(token: Token) -> str:
    """The JSON text a store saves: ``Token.to_dict``, keys sorted."""
    if not isinstance(token, Token):
        raise UsageError("a token store saves oauth2_core.Token values")
    return json.dumps(token.to_dict(), sort_keys=True, separators=(",", ":"))


class FileTokenStore:
    """A token in a JSON file, readable by its owner only (mode 0600).

    ``save`` writes a temporary file in the same directory and renames it over
    the old one (``os.replace`` is atomic), so a crash or a concurrent ``load``
    never sees a partial file.

    Args:
        path: The file. Its directory must exist; the file need not.
        lock: A cross-process lock (any context manager, e.g. :class:`FileLock`)
            that a :class:`~oauth2_transports.TokenManager` given this store and no
            lock of its own holds while it reloads and refreshes.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, lock: AbstractContextManager[object] | None = None
    ) -> None:
        self.path = Path(path)
        self.lock = lock

    def load(self) -> Token | None:
        """The saved token, or ``None`` when the file does not exist.

        Raises:
            TokenStoreError: the file exists but is not a saved token, cannot be
                read, or is not to be trusted (a symbolic link, not a regular
                file, another user's, writable by others).
        """
        what = f"token file {str(self.path)!r}"
        try:
            fd = _open_trusted(self.path, os.O_RDONLY, what)
        except FileNotFoundError:
            return None
        try:
            with os.fdopen(fd, "rb") as file:
                raw = file.read()
        except OSError as exc:
            raise TokenStoreError(f"cannot read {what}") from exc
        return token_from_json(raw, what)

    def save(self, token: Token) -> None:
        """Atomically replace the file with ``token`` (mode 0600).

        The new content goes to a fresh temporary file (``O_EXCL``, 0600, never a
        link) in the same directory, renamed over the old file.

        Raises:
            TokenStoreError: the file cannot be written, or the path holds a file
                not to be trusted (as for :meth:`load`).
        """
        data = token_to_json(token).encode("utf-8")
        what = f"token file {str(self.path)!r}"
        _refuse_planted(self.path, what)
        tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(8)}.tmp")
        try:
            # Created 0600 from the start: the token is never readable by others,
            # not even for the moment between creating and renaming. O_EXCL: a
            # name planted meanwhile (even a link) makes this fail, never followed.
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _SAFE_OPEN
            fd = os.open(tmp, flags, 0o600)
            renamed = False
            try:
                with os.fdopen(fd, "wb") as file:
                    file.write(data)
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(tmp, self.path)
                renamed = True
            finally:
                if not renamed:
                    tmp.unlink(missing_ok=True)
        except OSError as exc:
            raise TokenStoreError(f"cannot write {what}") from exc

    def __repr__(self) -> str:
        return f"FileTokenStore({str(self.path)!r})"


class FileLock:
    """An exclusive lock between processes (and threads), on a lock file (POSIX ``flock``).

    The kernel releases the lock when its holder exits or dies, so a crashed
    process never leaves it held. Use it as a context manager.

    ``flock`` has no expiry, so a holder never loses the lock while it refreshes
    (:meth:`ensure_lease` is always true). A :class:`~oauth2_transports.TokenManager`
    holds it only around one reload-refresh-save, and every request of that refresh
    is bounded by the transport's ``deadline``: waiting with ``timeout=None`` ends
    when the holder's refresh ends (or the holder dies), never later.

    Args:
        path: The lock file (created 0600 if missing; its content is unused).
            Use a separate file from the token file: it is replaced on save.
            A symbolic link, or a file that is another user's or writable by
            others, is refused (:class:`TokenStoreError`).
        timeout: Seconds to wait for the lock; ``None`` waits as long as the
            holder holds it.

    Raises:
        UsageError: the platform has no ``fcntl`` (Windows).
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float | None = None) -> None:
        if fcntl is None:  # pragma: no cover - Windows
            raise UsageError("FileLock needs POSIX fcntl.flock")
        self.path = Path(path)
        self.timeout = timeout
        self._what = f"lock file {str(self.path)!r}"
        # One holder per instance at a time; flock itself also excludes other
        # open file descriptions, in this process and in others.
        self._in_process = threading.Lock()
        self._fd: int | None = None

    def acquire(self) -> None:
        """Wait for the lock.

        Raises:
            LockTimeoutError: ``timeout`` passed first.
            TokenStoreError: the lock file is not to be trusted (see the class).
        """
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        if not self._in_process.acquire(timeout=-1 if self.timeout is None else self.timeout):
            raise LockTimeoutError(f"lock file {str(self.path)!r} is held by another thread")
        try:
            fd = _open_trusted(self.path, os.O_RDWR | os.O_CREAT, self._what)
            try:
                if deadline is None:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                else:
                    self._poll(fd, deadline)
            except BaseException:
                os.close(fd)
                raise
        except BaseException:
            self._in_process.release()
            raise
        self._fd = fd

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; never wait.

        A token manager in the refresh window uses it: when another process
        holds the lock (it is refreshing), the still-valid token is used rather
        than waiting. Release with :meth:`release`.

        Returns:
            Whether the lock is now held.

        Raises:
            TokenStoreError: the lock file is not to be trusted (see the class).
        """
        import fcntl

        if not self._in_process.acquire(blocking=False):
            return False
        try:
            fd = _open_trusted(self.path, os.O_RDWR | os.O_CREAT, self._what)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                self._in_process.release()
                return False
            except BaseException:
                os.close(fd)
                raise
        except BaseException:
            self._in_process.release()
            raise
        self._fd = fd
        return True

    def _poll(self, fd: int, deadline: float) -> None:
        delay = 0.005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockTimeoutError(
                        f"lock file {str(self.path)!r} is held by another process"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.1)

    def ensure_lease(self, seconds: float) -> bool:
        """Whether the lock is still held for ``seconds`` more: always, while held.

        The kernel keeps an ``flock`` until it is released or its holder exits;
        there is no lease to extend. The token manager asks before each request.

        Raises:
            UsageError: the lock is not held.
        """
        if self._fd is None:
            raise UsageError("FileLock.ensure_lease() without acquire()")
        return True

    def release(self) -> None:
        """Release the lock (closing the descriptor drops the ``flock``)."""
        fd, self._fd = self._fd, None
        if fd is None:
            raise UsageError("FileLock.release() without acquire()")
        try:
            os.close(fd)
        finally:
            self._in_process.release()

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"FileLock({str(self.path)!r})"
