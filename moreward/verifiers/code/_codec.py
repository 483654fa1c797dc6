"""A data-only codec for values that cross the sandbox boundary.

The program under test runs in its own process; what it returns reaches the trusted
side (the parent, or the checker process for assert-style tests) only as JSON text
with tags for the types JSON lacks. Decoding can only ever build built-in values
(``None``, ``bool``, ``int``, ``float``, ``complex``, ``str``, ``bytes``, ``list``,
``tuple``, ``dict``, ``set``, ``frozenset``), so an object whose ``__eq__`` always
answers True, or a subclass that lies about its value, cannot reach the comparison:
anything else arrives as an :class:`Opaque` that equals nothing.

Standard library only: this module is loaded into the sandbox's zygote.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["MAX_DEPTH", "CodecError", "Opaque", "decode", "dumps", "encode", "loads"]

MAX_DEPTH = 200
_SMALL_INT = 1 << 53


class CodecError(ValueError):
    """The value could not be encoded or the text is not a valid encoding."""


class Opaque:
    """Stands in for a value that is not plain data (a custom object, a generator...).

    It equals nothing, not even another ``Opaque``, and supports no arithmetic, so a
    check against it fails instead of passing by accident.
    """

    __slots__ = ("type_name",)

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name

    def __eq__(self, other: object) -> bool:
        return False

    def __ne__(self, other: object) -> bool:
        return True

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"<unserialisable {self.type_name}>"


def _float(x: float) -> Any:
    if math.isfinite(x):
        return x
    return {"$f": "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")}


def encode(value: Any, _depth: int = 0) -> Any:
    """Turn ``value`` into JSON-ready data; non-data values become ``{"$x": type name}``.

    Subclasses of built-ins are read through the base type's own methods, so a
    subclass cannot present a value other than the one it holds.
    """
    t = type(value)
    # Exact built-in types first (the common case): they cannot override anything.
    if t is str or t is bool or value is None:
        return value
    if t is int:
        return value if -_SMALL_INT < value < _SMALL_INT else {"$i": format(value, "x")}
    if _depth > MAX_DEPTH:
        raise CodecError("value nested too deeply")
    d = _depth + 1
    if t is list:
        return [encode(v, d) for v in value]
    if t is float:
        return _float(value)
    if isinstance(value, bool):  # pragma: no cover - bool cannot be subclassed
        return bool(value)
    if isinstance(value, int):
        v = int.__index__(value)
        return v if -_SMALL_INT < v < _SMALL_INT else {"$i": format(v, "x")}
    if isinstance(value, float):
        return _float(float.__float__(value))
    if isinstance(value, complex):
        return {"$c": [_float(complex.real.__get__(value)), _float(complex.imag.__get__(value))]}
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, (bytes, bytearray)):
        return {"$b": bytes(memoryview(value)).hex()}
    if isinstance(value, list):
        return [encode(v, d) for v in list.__iter__(value)]
    if isinstance(value, tuple):
        return {"$t": [encode(v, d) for v in tuple.__iter__(value)]}
    if isinstance(value, dict):
        return {"$d": [[encode(k, d), encode(v, d)] for k, v in dict.items(value)]}
    if isinstance(value, frozenset):
        return {"$fs": [encode(v, d) for v in frozenset.__iter__(value)]}
    if isinstance(value, set):
        return {"$s": [encode(v, d) for v in set.__iter__(value)]}
    return {"$x": f"{t.__module__}.{t.__qualname__}"[:200]}


def dumps(value: Any) -> bytes:
    """``encode`` then JSON, as UTF-8 bytes."""
    return json.dumps(encode(value), separators=(",", ":"), allow_nan=False).encode()


_SPECIAL = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def decode(obj: Any, _depth: int = 0) -> Any:
    """The inverse of :func:`encode`; builds only built-in values."""
    if _depth > MAX_DEPTH:
        raise CodecError("value nested too deeply")
    d = _depth + 1
    t = type(obj)
    if obj is None or t in (bool, int, float, str):
        return obj
    if t is list:
        return [decode(v, d) for v in obj]
    if t is not dict or len(obj) != 1:
        raise CodecError(f"not a valid encoding: {type(obj).__name__}")
    ((tag, v),) = obj.items()
    try:
        if tag == "$i":
            return int(v, 16)
        if tag == "$f":
            return _SPECIAL[v]
        if tag == "$c":
            return complex(decode(v[0], d), decode(v[1], d))
        if tag == "$b":
            return bytes.fromhex(v)
        if tag == "$t":
            return tuple(decode(x, d) for x in v)
        if tag == "$d":
            return {decode(k, d): decode(x, d) for k, x in v}
        if tag == "$s":
            return {decode(x, d) for x in v}
        if tag == "$fs":
            return frozenset(decode(x, d) for x in v)
        if tag == "$x":
            return Opaque(str(v))
    except CodecError:
        raise
    except (TypeError, ValueError, KeyError, IndexError) as exc:
        raise CodecError(f"bad {tag} value: {exc}") from exc
    raise CodecError(f"unknown tag {tag!r}")


def loads(data: bytes | str) -> Any:
    """Parse and :func:`decode`; raises :class:`CodecError` on anything malformed."""
    try:
        return decode(json.loads(data))
    except CodecError:
        raise
    except (ValueError, RecursionError, TypeError) as exc:
        raise CodecError(f"malformed value: {exc}") from exc
