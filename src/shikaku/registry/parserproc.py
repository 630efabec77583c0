"""The import's parser process: a child that reads and parses the file while the importer
writes the batch before, and that never outlives the importer.

It is a plain child process (`python -c`, talking through pipes), not a multiprocessing
one: there is no forkserver and no resource tracker that could be left behind. The child
ends with the importer however the importer ends, `kill -9` included, even while the
importer's own parent has not reaped it yet:

- on Linux the kernel sends it SIGKILL when the importer dies (PR_SET_PDEATHSIG);
- its stdin is a pipe the importer holds open and never writes to after the request: the
  pipe reads end-of-file once the importer is gone, and a thread waiting on it ends the
  process (any POSIX system);
- a batch written to a dead importer fails (EPIPE), which ends it too.

The My Number key travels through the stdin pipe, never on the command line or in the
environment (both are readable in /proc).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import pickle
import signal
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shikaku.registry.records import ParseContext
    from shikaku.registry.rows import HeaderMap

_LENGTH = struct.Struct("<Q")
_PR_SET_PDEATHSIG = 1
# The child finds the same shikaku as the importer: it is given the importer's sys.path.
_BOOT = (
    "import pickle, sys; sys.path[:] = pickle.load(sys.stdin.buffer); "
    "from shikaku.registry.parserproc import serve; serve()"
)


class ParserDied(RuntimeError):
    """The parser process ended without finishing the file."""

    def __init__(self) -> None:
        super().__init__("解析プロセスが異常終了しました (parser process died)")


@dataclass(frozen=True)
class ParseRequest:
    """What the child parses: the arguments of importer.parse_stream, the key as bytes."""

    path: Path
    encoding: str | None
    header: HeaderMap
    ctx: ParseContext
    key: bytes
    batch_size: int
    results_fd: int  # the pipe the child writes its batches to


def parse_in_child(
    path: Path,
    encoding: str | None,
    header: HeaderMap,
    ctx: ParseContext,
    key: bytes,
    batch_size: int,
) -> Iterator[Any]:
    """The file's parsed batches (importer.Parsed), in file order, from a child process."""
    results_r, results_w = os.pipe()
    with os.fdopen(results_r, "rb") as results:
        try:
            proc = subprocess.Popen(
                [sys.executable, "-c", _BOOT],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,  # the importer's stdout; batches have their pipe
                pass_fds=(results_w,),
            )
        finally:
            os.close(results_w)  # only the child writes: the pipe reads EOF when it dies
        assert proc.stdin is not None
        request = ParseRequest(path, encoding, header, ctx, key, batch_size, results_w)
        try:
            with contextlib.suppress(BrokenPipeError):  # a child that died is seen below
                pickle.dump(sys.path, proc.stdin)
                pickle.dump(request, proc.stdin)
                proc.stdin.flush()
            while True:
                kind, payload = _receive(results)
                if kind == "done":
                    return
                if kind == "error":
                    raise payload
                yield payload
        finally:
            proc.stdin.close()  # the child's lifeline: a child still parsing ends now
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _receive(results: IO[bytes]) -> tuple[str, Any]:
    head = results.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        raise ParserDied()
    (size,) = _LENGTH.unpack(head)
    body = results.read(size)
    if len(body) < size:
        raise ParserDied()
    item: tuple[str, Any] = pickle.loads(body)
    return item


# ------------------------------------------------------------------ the child's side


def _die_with_parent() -> None:
    """Linux: the kernel kills this process when the importer dies."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _watch_lifeline() -> None:
    """End the process when stdin reads end-of-file: the importer is gone (or done).

    Reads the file descriptor itself, not sys.stdin, whose buffer lock a daemon thread
    would hold at interpreter shutdown."""
    while os.read(0, 4096):
        pass
    os._exit(1)


def serve() -> None:
    """The child's body: read the request from stdin, stream batches to the results pipe."""
    _die_with_parent()
    # Ctrl-C reaches the whole process group: the importer handles it, and its end ends us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    request: ParseRequest = pickle.load(sys.stdin.buffer)
    threading.Thread(target=_watch_lifeline, name="lifeline", daemon=True).start()
    # Reading the file also makes millions of short-lived lists; collect rarely.
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    from shikaku.registry.importer import parse_stream
    from shikaku.security.mynumber import MyNumberVault

    with open(request.results_fd, "wb") as out:

        def send(item: tuple[str, Any]) -> None:
            try:
                data = pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # an error that cannot be pickled: its type still tells
                data = pickle.dumps(("error", RuntimeError(type(item[1]).__name__)))
            try:
                out.write(_LENGTH.pack(len(data)))
                out.write(data)
                out.flush()
            except BrokenPipeError:  # the importer is gone: nobody to parse for
                os._exit(1)

        try:
            vault = MyNumberVault(request.key)
            for parsed in parse_stream(
                request.path,
                request.encoding,
                request.header,
                request.ctx,
                vault,
                request.batch_size,
            ):
                send(("batch", parsed))
        except Exception as exc:
            send(("error", exc.with_traceback(None)))
        else:
            send(("done", None))
