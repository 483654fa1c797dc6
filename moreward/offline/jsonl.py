"""JSONL plumbing for the offline commands: gzip-aware streams, line parsing with precise
error reasons, and output lines that keep the input line byte for byte.

An output line is the input line unchanged plus one key ``"moreward"``. The key is
spliced in before the closing brace instead of re-serialising the object, so field
order, number formatting and escapes of the user's data survive untouched.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from ..core import Result

__all__ = [
    "ParsedLine",
    "error_record",
    "is_gzip_path",
    "iter_raw_lines",
    "open_input",
    "output_line",
    "parse_line",
]

GZIP_MAGIC = b"\x1f\x8b"
ERROR_TEXT_LIMIT = 10_000  # characters of a bad line kept in the errors file; the line number locates the rest


def is_gzip_path(path: str) -> bool:
    return path.endswith(".gz")


class _OwningGzipFile(gzip.GzipFile):
    """A GzipFile that closes the file it reads from (GzipFile leaves a passed fileobj open)."""

    def __init__(self, fileobj: IO[bytes], owns: bool) -> None:
        super().__init__(fileobj=fileobj, mode="rb")
        self._source = fileobj if owns else None

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self._source is not None:
                self._source.close()


def open_input(path: str) -> IO[bytes]:
    """Open ``path`` (``-`` for stdin) for binary reading, decompressing gzip by its magic bytes."""
    raw: IO[bytes] = sys.stdin.buffer if path == "-" else open(path, "rb")
    buffered = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(raw)  # type: ignore[arg-type,type-var]
    if buffered.peek(2)[:2] == GZIP_MAGIC:
        return _OwningGzipFile(buffered, owns=path != "-")  # type: ignore[return-value]
    return buffered


def iter_raw_lines(fh: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """``(line_number, bytes)`` for every line, 1-based, without the line ending.

    A last line without a trailing newline is still a line.
    """
    for number, line in enumerate(fh, start=1):
        if line.endswith(b"\n"):
            line = line[:-1]
            if line.endswith(b"\r"):
                line = line[:-1]
        yield number, line


@dataclass(frozen=True)
class ParsedLine:
    """One input line: its number, its text, and the object or the reason it was rejected."""

    number: int
    text: str
    obj: dict[str, Any] | None
    error: str | None = None


def parse_line(number: int, raw: bytes) -> ParsedLine | None:
    """Decode and parse one line; ``None`` for a blank line (skipped, and counted by the caller)."""
    if not raw.strip():
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return ParsedLine(number, raw.decode("utf-8", errors="replace"), None, f"not valid UTF-8 at byte {exc.start}")
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        return ParsedLine(number, text, None, f"invalid JSON: {exc.msg} at column {exc.colno}")
    except RecursionError:
        return ParsedLine(number, text, None, "invalid JSON: nested too deeply")
    if not isinstance(obj, dict):
        return ParsedLine(number, text, None, f"a line must be a JSON object, got {type(obj).__name__}")
    return ParsedLine(number, text, obj)


def _finite(value: float | None) -> float | None:
    return value if value is None or math.isfinite(value) else None


def result_payload(result: Result) -> dict[str, Any]:
    """The ``"moreward"`` value of an output line (non-finite numbers become null: JSON has no NaN)."""
    payload = result.to_dict()
    payload["reward"] = _finite(payload["reward"])
    for comp in payload["components"].values():
        comp["value"] = _finite(comp["value"])
    return payload


def output_line(line: ParsedLine, result: Result) -> str:
    """The input line with ``"moreward"`` added (replaced if the input already had one), plus ``\\n``."""
    payload = json.dumps(result_payload(result), ensure_ascii=False)
    assert line.obj is not None
    if "moreward" in line.obj:
        obj = dict(line.obj)
        obj["moreward"] = json.loads(payload)
        return json.dumps(obj, ensure_ascii=False) + "\n"
    text = line.text.rstrip()
    body = text[:-1].rstrip()  # drop the closing brace
    sep = "" if body.endswith("{") else ", "
    return f'{body}{sep}"moreward": {payload}}}\n'


def error_record(line: ParsedLine, reason: str | None = None) -> str:
    """One line of the errors file: the input line number, the reason, and the line's text."""
    text = line.text
    rec: dict[str, Any] = {"line": line.number, "reason": reason or line.error or "unknown error"}
    if len(text) > ERROR_TEXT_LIMIT:
        rec["input"] = text[:ERROR_TEXT_LIMIT]
        rec["input_truncated"] = True
    else:
        rec["input"] = text
    return json.dumps(rec, ensure_ascii=False) + "\n"
