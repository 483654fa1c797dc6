"""``moreward score --backend ray``: the same scoring on a Ray cluster, through Ray Data.

The driver reads the JSONL and cuts it into the same group-aligned chunks as the
local backend; windows of chunks become Ray Datasets that are mapped through a
pipeline actor pool (``map_batches`` with a callable class, so each actor builds the
pipeline once) and iterated back in order. The driver writes the output with the
local backend's writer, so both backends produce identical bytes. Ray is the
optional ``[ray]`` extra and is imported only here.
"""

from __future__ import annotations

import pickle
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError, missing_extra
from ..pipeline import Pipeline
from .jsonl import iter_raw_lines, open_input
from .score import ScoreStats, _Chunk, _chunks, _commit, _default_errors_path, _score_entries, _Sink

__all__ = ["score_file_ray"]

WINDOW_CHUNKS = 64  # chunks per Ray Dataset: bounds driver memory, amortises dataset start-up


class _RayScorer:
    """Ray Data UDF: unpickles chunks, scores them with a pipeline built once per actor."""

    def __init__(self, config: Any) -> None:
        self.pipeline = Pipeline.from_config(config)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        results = [pickle.dumps(_score_entries(self.pipeline, pickle.loads(p))) for p in batch["payload"]]
        return {"index": batch["index"], "result": results}


def _windows(chunks: Iterator[_Chunk], size: int) -> Iterator[list[_Chunk]]:
    window: list[_Chunk] = []
    for chunk in chunks:
        window.append(chunk)
        if len(window) >= size:
            yield window
            window = []
    if window:
        yield window


def score_file_ray(
    in_path: str,
    config: str | Path | Mapping[str, Any],
    out_path: str,
    *,
    errors_path: str | None = None,
    address: str | None = None,
    chunk_size: int = 256,
    num_actors: int | None = None,
) -> ScoreStats:
    """Score ``in_path`` on Ray; output identical to :func:`moreward.offline.score_file`.

    ``address`` names a running cluster (``"auto"``, ``"ray://host:10001"``); by default
    a local Ray instance is started for the run and stopped after it.
    """
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise missing_extra("ray[data]", "ray") from exc
    if chunk_size < 1:
        raise ConfigError(f"chunk_size must be >= 1, got {chunk_size}")
    pipe = Pipeline.from_config(config)  # validate before starting anything; errors name the file
    assert pipe.config is not None  # from_config always keeps the parsed config
    portable = pipe.config.model_dump(mode="json")  # a dict travels to remote actors; a local path might not exist there
    if errors_path is None:
        errors_path = _default_errors_path(out_path) if out_path != "-" else None
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True
    ctx.enable_progress_bars = False
    if num_actors is None:
        num_actors = max(1, int(ray.available_resources().get("CPU", 1)))
    stats = ScoreStats()
    t0 = time.perf_counter()
    out = _Sink(out_path, truncate_to=None)
    err = _Sink(errors_path, truncate_to=None) if errors_path else None

    try:
        with open_input(in_path) as fh:
            for window in _windows(_chunks(pipe, iter_raw_lines(fh), chunk_size, None), WINDOW_CHUNKS):
                rows = [{"index": i, "payload": pickle.dumps(c.entries)} for i, c in enumerate(window)]
                ds = ray.data.from_items(rows).map_batches(
                    _RayScorer,
                    fn_constructor_args=(portable,),
                    batch_size=1,
                    concurrency=min(num_actors, len(rows)),
                )
                results: dict[int, Any] = {}
                for row in ds.iter_rows():
                    results[int(row["index"])] = pickle.loads(row["result"])
                for i, chunk in enumerate(window):
                    _commit((chunk, results[i]), out, err, None if err else sys.stderr, stats, None, "", chunk_size, t0)
    finally:
        out.close()
        if err is not None:
            err.close()
        if started_here:
            ray.shutdown()
    stats.elapsed = time.perf_counter() - t0
    return stats
