"""The built-in connectors: standard input/output (``-``) and JSON Lines files, one line per message.

A JSON Lines **source** reads a file line by line; with ``checkpoint=PATH`` it records, atomically, the byte offset
up to which every line has been acknowledged, and a restarted stream resumes there (at least once: lines after the
checkpoint may be scored again). ``follow=true`` keeps reading as the file grows (``tail -f``). A **sink** appends
each payload to the file and flushes (``fsync=true`` also forces it to disk) before :meth:`publish` returns.
Standard input cannot redeliver: a stream killed while reading it loses the lines it had read but not finished.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from pynomaly_core.stream.contract import ConnectorError, Message

#: Longest line accepted (longer ones are read in full but delivered as an oversized message for the dead letters).
MAX_LINE = 16 << 20


class JsonLinesSource:
    """Lines of a file (or of standard input) as messages; the token of a message is the offset after its line."""

    def __init__(self, handle: IO[bytes], *, credit: int, checkpoint: Path | None = None, follow: bool = False,
                 poll_s: float = 0.05, name: str = "-"):
        self.credit = max(1, int(credit))
        self.name = name
        self._handle = handle
        self._checkpoint = checkpoint
        self._follow = follow
        self._poll_s = poll_s
        self._pending: dict[int, int] = {}  # end offset -> start offset of every unacknowledged line
        self._committed = 0
        self._offset = 0
        self._closed = False
        self._eof = False
        if checkpoint is not None and checkpoint.is_file():
            self._committed = self._offset = int(checkpoint.read_text().strip() or 0)
            handle.seek(self._offset)

    def receive(self, max_messages: int, timeout_s: float) -> list[Message]:
        deadline = time.monotonic() + max(0.0, timeout_s)
        room = min(max_messages, self.credit - len(self._pending))
        messages: list[Message] = []
        while len(messages) < room and not self._closed:
            line = self._handle.readline(MAX_LINE + 1)
            if not line and not self._follow:
                self._eof = True
                break
            if not line or (not line.endswith(b"\n") and self._follow):
                if line:  # a line still being written: read it again when it is complete
                    self._handle.seek(self._offset)
                if messages or not self._follow or time.monotonic() >= deadline:
                    break
                time.sleep(min(self._poll_s, max(0.0, deadline - time.monotonic())))
                continue
            if len(line) > MAX_LINE and not line.endswith(b"\n"):
                line += self._skip_rest()
            start, self._offset = self._offset, self._offset + len(line)
            body = line.rstrip(b"\r\n")
            if not body.strip():
                self._pending[self._offset] = start
                self._ack_offsets([self._offset])
                continue
            self._pending[self._offset] = start
            messages.append(Message(body=body, token=self._offset))
        return messages

    @property
    def exhausted(self) -> bool:
        """Read to the end of a file that is not followed (the engine then finishes)."""
        return self._eof

    def _skip_rest(self) -> bytes:
        rest = b""
        while True:
            chunk = self._handle.readline(MAX_LINE)
            rest += chunk[:1] if chunk else b""  # keep the message oversized without holding all of it
            self._offset += max(0, len(chunk) - 1)
            if not chunk or chunk.endswith(b"\n"):
                return rest

    def ack(self, messages: Sequence[Message]) -> None:
        self._ack_offsets([m.token for m in messages])

    def _ack_offsets(self, offsets: list[int]) -> None:
        for offset in offsets:
            self._pending.pop(offset, None)
        # every line below the first unacknowledged one is done
        committed = min(self._pending.values(), default=self._offset)
        if committed != self._committed:
            self._committed = committed
            if self._checkpoint is not None:
                _write_atomic(self._checkpoint, f"{committed}\n")

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._handle is not sys.stdin.buffer:
                self._handle.close()


class StdinSource(JsonLinesSource):
    """Standard input, read by a thread into a queue bounded by the credit (so a slow stream stops reading)."""

    def __init__(self, *, credit: int):
        super().__init__(sys.stdin.buffer, credit=credit, name="-")
        self._lines: queue.Queue[bytes | None] = queue.Queue(maxsize=self.credit)
        self._reader = threading.Thread(target=self._read, name="pynomaly-stdin", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in iter(sys.stdin.buffer.readline, b""):
            self._lines.put(line)
        self._lines.put(None)

    def receive(self, max_messages: int, timeout_s: float) -> list[Message]:
        messages: list[Message] = []
        room = min(max_messages, self.credit - len(self._pending))
        deadline = time.monotonic() + max(0.0, timeout_s)
        while len(messages) < room and not self._closed:
            try:
                wait = 0.0 if messages else max(0.0, deadline - time.monotonic())
                line = self._lines.get(timeout=wait) if wait > 0 else self._lines.get_nowait()
            except queue.Empty:
                break
            if line is None:
                self._closed = True
                break
            start, self._offset = self._offset, self._offset + len(line)
            body = line.rstrip(b"\r\n")
            self._pending[self._offset] = start
            if not body.strip():
                self._ack_offsets([self._offset])
                continue
            messages.append(Message(body=body, token=self._offset))
        return messages

    @property
    def exhausted(self) -> bool:
        return self._closed and self._lines.empty()


class FileSink:
    """Appends payloads to a file (or writes them to standard output) and flushes before returning."""

    def __init__(self, handle: IO[bytes], *, fsync: bool = False, name: str = "-"):
        self.name = name
        self._handle = handle
        self._fsync = fsync
        self._closed = False

    def publish(self, payloads: Sequence[bytes]) -> None:
        if self._closed:
            raise ConnectorError(f"{self.name}: the sink is closed")
        self._handle.write(b"".join(payloads))
        self._handle.flush()
        if self._fsync:
            os.fsync(self._handle.fileno())

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._handle.flush()
            if self._handle is not sys.stdout.buffer:
                self._handle.close()


class StdioConnector:
    """``-``: standard input as a source, standard output as a sink."""

    @classmethod
    def source(cls, url: str, *, credit: int, **options: Any) -> StdinSource:
        _no_options(url, options)
        return StdinSource(credit=credit)

    @classmethod
    def sink(cls, url: str, **options: Any) -> FileSink:
        _no_options(url, options)
        return FileSink(sys.stdout.buffer, name="-")


class JsonLinesConnector:
    """A JSON Lines file: ``path.jsonl`` or ``file:///path.jsonl``."""

    @classmethod
    def source(cls, url: str, *, credit: int, checkpoint: str | None = None, follow: bool = False,
               **options: Any) -> JsonLinesSource:
        _no_options(url, options)
        path = _path(url)
        if not path.is_file():
            raise ConnectorError(f"{path}: no such file")
        return JsonLinesSource(open(path, "rb"), credit=credit, name=str(path),
                               checkpoint=None if checkpoint is None else Path(checkpoint), follow=bool(follow))

    @classmethod
    def sink(cls, url: str, *, fsync: bool = False, **options: Any) -> FileSink:
        _no_options(url, options)
        path = _path(url)
        if not path.parent.is_dir():
            raise ConnectorError(f"{path}: folder {path.parent} does not exist")
        return FileSink(open(path, "ab"), fsync=bool(fsync), name=str(path))


def _path(url: str) -> Path:
    return Path(url.removeprefix("file://"))


def _no_options(url: str, options: dict[str, Any]) -> None:
    if options:
        raise ConnectorError(f"{url}: unknown connector option(s) {', '.join(sorted(options))}")


def _write_atomic(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)
