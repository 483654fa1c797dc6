"""A result cache for judges, keyed by a content hash.

GRPO samples several completions per prompt and training revisits prompts, so the same
(judge, prompt, completion, reference) comes back; a judge call costs a GPU forward or
a server round trip. :class:`ResultCache` keeps decided scores in an in-memory LRU and,
optionally, in an SQLite file shared by processes and runs. Only decided scores (PASS,
FAIL, PARTIAL, INVALID) are stored: an ERROR or TIMEOUT is retried next time.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from ...core import Score, Verdict, _jsonable

__all__ = ["ResultCache", "content_key", "make_cache"]

_CACHEABLE = frozenset({Verdict.PASS, Verdict.FAIL, Verdict.PARTIAL, Verdict.INVALID})


def content_key(*parts: Any) -> str:
    """The SHA-256 hex digest of ``parts`` (JSON-encoded, so types and order matter)."""
    payload = json.dumps([_jsonable(p) for p in parts], ensure_ascii=False, sort_keys=True, default=repr)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class ResultCache:
    """An LRU of :class:`~moreward.core.Score` by key, optionally backed by SQLite.

    Thread-safe; picklable (the SQLite file is reopened where it is unpickled, the
    in-memory entries are not carried).

    Args:
        maxsize: entries kept in memory (the least recently used go first).
        path: an SQLite file for a persistent cache (created when missing); ``None``
            keeps the cache in memory only.
    """

    def __init__(self, maxsize: int = 65_536, path: str | Path | None = None) -> None:
        if not isinstance(maxsize, int) or isinstance(maxsize, bool) or maxsize < 1:
            raise ValueError(f"maxsize must be a positive int, got {maxsize!r}")
        self.maxsize = maxsize
        self.path = None if path is None else str(path)
        self.hits = 0
        self.misses = 0
        self._mem: OrderedDict[str, Score] = OrderedDict()
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"maxsize": self.maxsize, "path": self.path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["maxsize"], state["path"])  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"ResultCache(maxsize={self.maxsize}, path={self.path!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ResultCache) and (self.maxsize, self.path) == (other.maxsize, other.path)

    def __hash__(self) -> int:
        return hash((self.maxsize, self.path))

    def __len__(self) -> int:
        return len(self._mem)

    def _conn(self) -> sqlite3.Connection | None:
        if self.path is None:
            return None
        if self._db is None:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=30.0, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS judge_cache (key TEXT PRIMARY KEY, score TEXT NOT NULL)")
            self._db = db
        return self._db

    def get(self, key: str) -> Score | None:
        """The cached score for ``key``, or ``None``."""
        with self._lock:
            score = self._mem.get(key)
            if score is not None:
                self._mem.move_to_end(key)
                self.hits += 1
                return score
            db = self._conn()
            row = db.execute("SELECT score FROM judge_cache WHERE key = ?", (key,)).fetchone() if db else None
            if row is None:
                self.misses += 1
                return None
            score = _decode(row[0])
            self._remember(key, score)
            self.hits += 1
            return score

    def put(self, key: str, score: Score) -> None:
        """Store ``score`` under ``key`` when its verdict is a decision (not ERROR/TIMEOUT/SKIP)."""
        if score.verdict not in _CACHEABLE:
            return
        with self._lock:
            self._remember(key, score)
            db = self._conn()
            if db is not None:
                db.execute("INSERT OR REPLACE INTO judge_cache (key, score) VALUES (?, ?)", (key, _encode(score)))

    def _remember(self, key: str, score: Score) -> None:
        self._mem[key] = score
        self._mem.move_to_end(key)
        while len(self._mem) > self.maxsize:
            self._mem.popitem(last=False)

    def clear(self) -> None:
        """Forget every entry (in memory and in the SQLite file)."""
        with self._lock:
            self._mem.clear()
            db = self._conn()
            if db is not None:
                db.execute("DELETE FROM judge_cache")

    def close(self) -> None:
        """Close the SQLite connection (it reopens on next use)."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


def _encode(score: Score) -> str:
    return json.dumps(score.to_dict(with_details=True), ensure_ascii=False)


def _decode(text: str) -> Score:
    d = json.loads(text)
    return Score(d["value"], Verdict(d["verdict"]), d.get("reason", ""), d.get("details") or {})


def make_cache(cache: bool | int | ResultCache | None, path: str | None) -> ResultCache | None:
    """A judge's ``cache``/``cache_path`` options as a :class:`ResultCache` (or ``None``)."""
    if isinstance(cache, ResultCache):
        return cache
    if cache is None or cache is False:
        return ResultCache(path=path) if path else None
    if cache is True:
        return ResultCache(path=path)
    if isinstance(cache, int):
        return ResultCache(maxsize=cache, path=path)
    raise ValueError(f"cache must be a bool, a positive int (LRU size) or a ResultCache, got {cache!r}")
