"""Where a :class:`~oauth2_transports.TokenManager` keeps its token between runs.

A :class:`TokenStore` is two methods, ``load`` and ``save``. :class:`FileTokenStore`
keeps the token as JSON (``Token.to_dict``) in a file only its owner can read, replaced
atomically so a reader never sees half a token. :class:`FileLock` is a cross-process
lock (POSIX ``flock``) that lets several processes share one store and refresh once:
give it to the manager (``TokenManager(c, store=s, lock=FileLock(p))``) or to the store
(``FileTokenStore(p, lock=FileLock(q))``). Redis versions live in ``oauth2_transports.redis``.

The stored JSON holds the access and refresh tokens: keep the file as you would a password.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from contextlib import AbstractContextManager
from pathlib import Path
from types import TracebackType
from typing import Protocol, runtime_checkable

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
            TokenStoreError: the file exists but is not a saved token, or cannot be read.
        """
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise TokenStoreError(f"cannot read token file {str(self.path)!r}") from exc
        return token_from_json(raw, f"token file {str(self.path)!r}")

    def save(self, token: Token) -> None:
        """Atomically replace the file with ``token`` (mode 0600).

        Raises:
            TokenStoreError: the file cannot be written.
        """
        data = token_to_json(token).encode("utf-8")
        tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(8)}.tmp")
        try:
            # Created 0600 from the start: the token is never readable by others,
            # not even for the moment between creating and renaming.
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "wb") as file:
                    file.write(data)
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(tmp, self.path)
            finally:
                if tmp.exists():
                    tmp.unlink()
        except OSError as exc:
            raise TokenStoreError(f"cannot write token file {str(self.path)!r}") from exc

    def __repr__(self) -> str:
        return f"FileTokenStore({str(self.path)!r})"


class FileLock:
    """An exclusive lock between processes (and threads), on a lock file (POSIX ``flock``).

    The kernel releases the lock when its holder exits or dies, so a crashed
    process never leaves it held. Use it as a context manager.

    Args:
        path: The lock file (created 0600 if missing; its content is unused).
            Use a separate file from the token file: it is replaced on save.
        timeout: Seconds to wait for the lock; ``None`` waits as long as it takes.

    Raises:
        UsageError: the platform has no ``fcntl`` (Windows).
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float | None = None) -> None:
        try:
            import fcntl  # noqa: F401  (POSIX only)
        except ImportError as exc:  # pragma: no cover - Windows
            raise UsageError("FileLock needs POSIX fcntl.flock") from exc
        self.path = Path(path)
        self.timeout = timeout
        # One holder per instance at a time; flock itself also excludes other
        # open file descriptions, in this process and in others.
        self._in_process = threading.Lock()
        self._fd: int | None = None

    def acquire(self) -> None:
        """Wait for the lock.

        Raises:
            LockTimeoutError: ``timeout`` passed first.
        """
        import fcntl

        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        if not self._in_process.acquire(timeout=-1 if self.timeout is None else self.timeout):
            raise LockTimeoutError(f"lock file {str(self.path)!r} is held by another thread")
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
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

    def _poll(self, fd: int, deadline: float) -> None:
        import fcntl

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
