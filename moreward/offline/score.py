"""``moreward score``: stream a JSONL file of rollouts through a pipeline.

How it stays correct and bounded:

- **Chunks at group boundaries.** Lines are read in chunks of about ``chunk_size``
  scored rows, cut only where the group id changes, so group-normalising combiners
  see whole groups. Memory depends on the chunk size, never on the file size.
- **Order.** Chunks are scored in order (in this process, or ``workers`` spawned
  processes with a bounded window of chunks in flight) and written in input order.
- **Nothing lost.** A line that cannot be decoded, parsed or mapped to a sample goes
  to the errors file with its line number and the reason; a chunk whose scoring fails
  as a whole goes there too, line by line.
- **Resume.** After every chunk the output and errors files are flushed and fsynced,
  then a small state file (``OUT.moreward-resume.json``) records how many input
  lines are done and the byte length of both files. ``--resume`` truncates the files
  to those lengths and continues from the next line. Chunking depends only on the
  input and ``chunk_size``, and gzip output is written one gzip member per chunk
  with a fixed header, so a resumed run ends byte-identical to an uninterrupted one.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import sys
import time
from collections import deque
from collections.abc import Hashable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import IO, Any

from ..config import PipelineConfig
from ..errors import ConfigError, InputError
from ..pipeline import Pipeline
from .jsonl import ParsedLine, error_record, is_gzip_path, iter_raw_lines, open_input, output_line, parse_line

__all__ = ["ScoreStats", "score_file"]

STATE_SUFFIX = ".moreward-resume.json"
HARD_CHUNK_FACTOR = 64  # a single group larger than chunk_size * this is cut anyway (memory bound)


@dataclass
class ScoreStats:
    """Counts of one ``score`` run (cumulative across resumes)."""

    lines: int = 0
    scored: int = 0
    errors: int = 0
    blank: int = 0
    split_groups: int = 0
    elapsed: float = 0.0
    resumed_from: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Entry:
    line: ParsedLine
    sample: Any = None  # a Sample, or None when the line is an error


def _config_digest(cfg: PipelineConfig) -> str:
    return hashlib.sha256(json.dumps(cfg.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


class _Sink:
    """An output file (or stdout) written chunk by chunk; gzip output is one member per chunk."""

    def __init__(self, path: str, *, truncate_to: int | None) -> None:
        self.path = path
        self.gz = is_gzip_path(path)
        if path == "-":
            self.fh: IO[bytes] = sys.stdout.buffer
        elif truncate_to is not None:
            self.fh = open(path, "r+b" if os.path.exists(path) else "w+b")
            self.fh.truncate(truncate_to)
            self.fh.seek(truncate_to)
        else:
            self.fh = open(path, "wb")

    def write(self, lines: list[str]) -> None:
        if not lines:
            return
        data = "".join(lines).encode("utf-8")
        if self.gz:
            data = gzip.compress(data, mtime=0)  # fixed header: identical bytes on every run
        self.fh.write(data)

    def commit(self) -> int:
        self.fh.flush()
        if self.path != "-":
            os.fsync(self.fh.fileno())
            return self.fh.tell()
        return 0

    def close(self) -> None:
        if self.path != "-":
            self.fh.close()
        else:
            self.fh.flush()


# -- chunk scoring (runs in this process or in a worker) -------------------------------------

_worker_pipeline: Pipeline | None = None


def _init_worker(config: Any) -> None:
    global _worker_pipeline
    _worker_pipeline = Pipeline.from_config(config)


def _score_entries(pipe: Pipeline, entries: list[_Entry]) -> tuple[list[str], list[str], int]:
    good = [e for e in entries if e.sample is not None]
    out: list[str] = []
    err: list[str] = []
    try:
        results = pipe.score([e.sample for e in good])
    except Exception as exc:
        reason = f"scoring failed: {type(exc).__name__}: {exc}"
        return [], [error_record(e.line, e.line.error or reason) for e in entries], 0
    it = iter(results)
    for e in entries:
        if e.sample is None:
            err.append(error_record(e.line))
        else:
            out.append(output_line(e.line, next(it)))
    return out, err, len(good)


def _score_in_worker(entries: list[_Entry]) -> tuple[list[str], list[str], int]:
    assert _worker_pipeline is not None
    return _score_entries(_worker_pipeline, entries)


# -- reading -----------------------------------------------------------------------------------


@dataclass
class _Chunk:
    last: int  # the last input line number the chunk covers
    entries: list[_Entry]
    blank: int  # blank lines skipped inside the chunk
    split_groups: int  # groups that continued from an earlier chunk


def _chunks(pipe: Pipeline, lines: Iterator[tuple[int, bytes]], chunk_size: int, progress: Any) -> Iterator[_Chunk]:
    """Yield chunks cut at group boundaries (counts travel with the chunk so resume state stays exact)."""
    chunk: list[_Entry] = []
    blank = split = 0
    n_samples = 0
    last_group: Hashable | None = None
    prev_groups: set[Hashable] = set()
    cur_groups: set[Hashable] = set()
    last_number = 0
    for number, raw in lines:
        last_number = number
        if progress is not None:
            progress.update(len(raw) + 1)
        parsed = parse_line(number, raw)
        if parsed is None:
            blank += 1
            continue
        entry = _Entry(parsed)
        if parsed.obj is not None:
            try:
                entry.sample = pipe.sample_from_row(parsed.obj)
            except InputError as exc:
                entry = _Entry(ParsedLine(number, parsed.text, None, str(exc)))
        if entry.sample is not None:
            group = entry.sample.group
            boundary = group is None or group != last_group
            if n_samples >= chunk_size and (boundary or n_samples >= chunk_size * HARD_CHUNK_FACTOR):
                yield _Chunk(number - 1, chunk, blank, split)
                prev_groups, cur_groups = cur_groups, set()
                chunk, n_samples, blank, split = [], 0, 0, 0
            if group is not None and group != last_group and group in prev_groups:
                split += 1
            if group is not None:
                cur_groups.add(group)
            last_group = group
            n_samples += 1
        chunk.append(entry)
    if chunk or blank:
        yield _Chunk(last_number, chunk, blank, split)


def _skip(lines: Iterator[tuple[int, bytes]], n: int) -> Iterator[tuple[int, bytes]]:
    for number, raw in lines:
        if number > n:
            yield number, raw
            break
    yield from lines


def _progress(in_path: str, show: bool | None) -> Any:
    if show is None:
        show = sys.stderr.isatty()
    if not show:
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a core dependency
        return None
    total = None
    if in_path != "-":
        with open(in_path, "rb") as fh:
            if fh.read(2) != b"\x1f\x8b":
                total = os.path.getsize(in_path)
    return tqdm(total=total, unit="B", unit_scale=True, desc="scoring", file=sys.stderr, dynamic_ncols=True)


# -- the command ------------------------------------------------------------------------------


def score_file(
    in_path: str,
    config: str | Path | Mapping[str, Any],
    out_path: str,
    *,
    errors_path: str | None = None,
    workers: int = 1,
    resume: bool = False,
    chunk_size: int = 256,
    progress: bool | None = None,
) -> ScoreStats:
    """Score every line of ``in_path`` into ``out_path``; bad lines go to ``errors_path``.

    ``errors_path`` defaults to ``OUT.errors.jsonl`` (stderr when the output is stdout).

    Raises:
        ConfigError: a bad config, bad options, or a resume state that does not match.
        OSError: the input cannot be read or the output written.
    """
    if chunk_size < 1:
        raise ConfigError(f"chunk_size must be >= 1, got {chunk_size}")
    if workers < 1:
        raise ConfigError(f"workers must be >= 1, got {workers}")
    if resume and out_path == "-":
        raise ConfigError("--resume needs an output file, not stdout")
    pipe = Pipeline.from_config(config)  # errors name the config file
    cfg = pipe.config
    assert cfg is not None  # from_config always keeps the parsed config
    digest = _config_digest(cfg)
    if errors_path is None:
        errors_path = "-stderr" if out_path == "-" else _default_errors_path(out_path)
    state_path = None if out_path == "-" else out_path + STATE_SUFFIX

    stats = ScoreStats()
    offsets: tuple[int, int] | None = None
    if resume and state_path and os.path.exists(state_path):
        state = json.loads(Path(state_path).read_text())
        if state.get("config") != digest:
            raise ConfigError(f"{state_path}: the resume state was written with a different config; rerun without --resume")
        if state.get("chunk_size") != chunk_size:
            raise ConfigError(f"{state_path}: the resume state used --chunk-size {state.get('chunk_size')}; use the same value")
        offsets = (int(state["out_bytes"]), int(state["err_bytes"]))
        stats = ScoreStats(**{k: v for k, v in state["stats"].items() if k in ScoreStats.__dataclass_fields__})
        stats.resumed_from = int(state["lines_done"])
    elif resume:
        sys.stderr.write(f"moreward: no resume state for {out_path}; scoring from the start\n")

    started = time.perf_counter() - stats.elapsed
    out = _Sink(out_path, truncate_to=offsets[0] if offsets else None)
    err: _Sink | None = None
    if errors_path == "-stderr":
        err_stream: IO[str] | None = sys.stderr
    else:
        err_stream = None
        err = _Sink(errors_path, truncate_to=offsets[1] if offsets else None)
    bar = _progress(in_path, progress)
    executor: ProcessPoolExecutor | None = None
    try:
        with open_input(in_path) as fh:
            lines = iter_raw_lines(fh)
            if stats.resumed_from:
                lines = _skip(lines, stats.resumed_from)
            chunks = _chunks(pipe, lines, chunk_size, bar)
            if workers > 1:
                executor = ProcessPoolExecutor(
                    max_workers=workers,
                    mp_context=get_context("spawn"),
                    initializer=_init_worker,
                    initargs=(cfg.model_dump(mode="json"),),
                )
            pending: deque[tuple[_Chunk, Any]] = deque()
            window = 2 * workers
            for chunk in chunks:
                if executor is not None:
                    pending.append((chunk, executor.submit(_score_in_worker, chunk.entries)))
                else:
                    pending.append((chunk, _score_entries(pipe, chunk.entries)))
                while len(pending) >= window or (executor is None and pending):
                    _commit(pending.popleft(), out, err, err_stream, stats, state_path, digest, chunk_size, started)
            while pending:
                _commit(pending.popleft(), out, err, err_stream, stats, state_path, digest, chunk_size, started)
    finally:
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
        if bar is not None:
            bar.close()
        out.close()
        if err is not None:
            err.close()
    stats.elapsed = time.perf_counter() - started
    if state_path and os.path.exists(state_path):
        os.unlink(state_path)
    return stats


def _default_errors_path(out_path: str) -> str:
    base = out_path[:-3] if out_path.endswith(".gz") else out_path
    base = base[:-6] if base.endswith(".jsonl") else base
    return base + ".errors.jsonl"


def _commit(
    item: tuple[_Chunk, Any],
    out: _Sink,
    err: _Sink | None,
    err_stream: IO[str] | None,
    stats: ScoreStats,
    state_path: str | None,
    digest: str,
    chunk_size: int,
    started: float,
) -> None:
    chunk, value = item
    out_lines, err_lines, n_scored = value.result() if isinstance(value, Future) else value
    chunk.entries = []  # free the chunk's memory before the next one is read
    out.write(out_lines)
    if err is not None:
        err.write(err_lines)
    elif err_stream is not None:
        err_stream.writelines(err_lines)
    stats.scored += n_scored
    stats.errors += len(err_lines)
    stats.blank += chunk.blank
    stats.split_groups += chunk.split_groups
    stats.lines = chunk.last
    out_bytes = out.commit()
    err_bytes = err.commit() if err is not None else 0
    if state_path is None:
        return
    stats.elapsed = time.perf_counter() - started
    state = {
        "version": 1,
        "config": digest,
        "chunk_size": chunk_size,
        "lines_done": chunk.last,
        "out_bytes": out_bytes,
        "err_bytes": err_bytes,
        "stats": {k: v for k, v in asdict(stats).items() if k != "resumed_from"},
    }
    tmp = state_path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(state, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, state_path)
