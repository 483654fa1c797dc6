"""The content-hash result cache: LRU, SQLite persistence, what is (not) stored, pickling, threads."""

from __future__ import annotations

import pickle
import threading

from moreward.core import Score, Verdict
from moreward.verifiers.judge import ResultCache, content_key


def test_content_key_is_stable_and_sensitive():
    assert content_key("judge", "p", "c", ["r"]) == content_key("judge", "p", "c", ["r"])
    assert content_key("judge", "p", "c", "r") != content_key("judge", "p", "c", ["r"])
    assert content_key("a", None) != content_key("a", "None")
    assert len(content_key("x")) == 64


def test_lru_eviction():
    cache = ResultCache(maxsize=2)
    for k in "abc":
        cache.put(k, Score.from_bool(True))
    assert cache.get("a") is None and cache.get("c").passed and len(cache) == 2
    cache.get("b")
    cache.put("d", Score.from_bool(False))
    assert cache.get("c") is None and cache.get("b") is not None
    assert cache.hits >= 2 and cache.misses >= 2


def test_only_decisions_are_stored():
    cache = ResultCache()
    cache.put("e", Score.error("server down"))
    cache.put("t", Score.timeout())
    cache.put("s", Score.skip("no reference"))
    cache.put("i", Score(0.0, Verdict.INVALID, "master key"))
    assert cache.get("e") is None and cache.get("t") is None and cache.get("s") is None
    assert cache.get("i").verdict is Verdict.INVALID


def test_sqlite_persists_across_instances(tmp_path):
    path = tmp_path / "sub" / "cache.sqlite"
    a = ResultCache(path=path)
    a.put("k", Score(0.75, Verdict.PARTIAL, "rm", {"logit": 1.1, "tokens": 12}))
    a.close()
    b = pickle.loads(pickle.dumps(ResultCache(path=path)))
    got = b.get("k")
    assert got == Score(0.75, Verdict.PARTIAL, "rm", {"logit": 1.1, "tokens": 12})
    assert got.details["tokens"] == 12
    b.clear()
    assert ResultCache(path=path).get("k") is None
    b.close()


def test_threads(tmp_path):
    cache = ResultCache(maxsize=50, path=tmp_path / "c.sqlite")

    def work(t):
        for i in range(100):
            cache.put(f"{t}-{i}", Score.from_bool(i % 2 == 0))
            assert cache.get(f"{t}-{i}") is not None

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(cache) == 50 and cache.get("3-99") is not None and cache.get("0-0") is not None  # from SQLite
    cache.close()
