"""The HTTP reward server: ``moreward serve -c CONFIG --host 127.0.0.1 --port 8000``.

Built on Starlette + uvicorn (the ``server`` extra). Routes:

- ``POST /get_reward``: OpenRLHF's remote reward-model schema (``--reward.remote_url
  http://host:port/get_reward``). Request ``{"query": [str], "prompts": [str],
  "labels": [any]}`` (``query`` holds prompt + response with special tokens; the
  prompt and end-of-turn tokens are stripped as in
  :mod:`moreward.integrations.openrlhf`). Answer ``{"rewards": [float], "scores":
  [float], "extra_logs": {name: [float]}}``; a component without a value is
  ``NaN`` (Python's ``json``, which OpenRLHF uses, reads it). With
  ``--on-missing raise`` (default) a sample with no reward at all makes the
  request fail with 500 and the verdicts in ``error``; OpenRLHF retries it.
- ``POST /v1/score``: ``{"samples": [{"completion": str | messages, "reference",
  "prompt", "group", "tokens", "meta"}], "details": false}`` ->
  ``{"objectives": [...], "results": [{"reward": float | null, "components":
  {name: {"value", "verdict", "reason"}}}]}``. Samples sharing ``group`` are
  combined together.
- ``GET /healthz``: ``{"status": "ok", "objectives": [...], "combiner": ...}``.
- ``GET /metrics``: Prometheus text: requests by route and status, a latency
  histogram per route, samples scored, verdicts per objective, missing rewards,
  requests in flight.

Bodies over ``max_body_bytes`` get 413; malformed JSON, missing fields and wrong
types get 400 with an ``error`` that names the field (``samples[3].completion``).
Scoring goes through :meth:`Pipeline.ascore`, whose objectives run in worker
threads, so a slow request does not hold up the others. uvicorn shuts down
gracefully on SIGINT/SIGTERM: it stops accepting, lets requests in flight finish
(up to ``--graceful-timeout`` seconds), then exits.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import socket
import sys
import threading
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .core import Result, Sample
from .errors import InputError, MorewardError, missing_extra
from .integrations._common import MissingRewardError, PipelineSource, as_pipeline
from .integrations.openrlhf import RewardFunc
from .pipeline import Pipeline

__all__ = ["BackgroundServer", "Metrics", "add_serve_parser", "create_app", "main", "serve"]

DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_SAMPLES = 4096
LATENCY_BUCKETS: tuple[float, ...] = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_SAMPLE_KEYS = ("completion", "reference", "prompt", "group", "tokens", "meta")


def _require() -> tuple[Any, Any]:
    try:
        import starlette
        import uvicorn
    except ImportError as exc:
        raise missing_extra(exc.name or "starlette/uvicorn", "server") from exc
    return starlette, uvicorn


class Metrics:
    """Counters and latency histograms, rendered in the Prometheus text format (0.0.4).

    Updated from the event loop thread only, so no lock is needed.
    """

    def __init__(self, buckets: Sequence[float] = LATENCY_BUCKETS) -> None:
        self.buckets = tuple(sorted(buckets))
        self.requests: dict[tuple[str, int], int] = defaultdict(int)
        self.hist: dict[str, list[int]] = {}
        self.hist_sum: dict[str, float] = defaultdict(float)
        self.samples = 0
        self.missing = 0
        self.verdicts: dict[tuple[str, str], int] = defaultdict(int)
        self.in_flight = 0

    def observe(self, route: str, status: int, seconds: float) -> None:
        """Count one request and its latency."""
        self.requests[(route, status)] += 1
        counts = self.hist.setdefault(route, [0] * (len(self.buckets) + 1))
        for i, bound in enumerate(self.buckets):
            if seconds <= bound:
                counts[i] += 1
        counts[-1] += 1  # +Inf
        self.hist_sum[route] += seconds

    def count_results(self, results: Sequence[Result]) -> None:
        """Count samples, verdicts per objective and missing rewards."""
        self.samples += len(results)
        for r in results:
            if r.reward is None:
                self.missing += 1
            for name, score in r.components.items():
                self.verdicts[(name, score.verdict.value)] += 1

    def render(self) -> str:
        """The exposition text."""

        def esc(v: str) -> str:
            return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

        lines = [
            "# HELP moreward_requests_total HTTP requests by route and status.",
            "# TYPE moreward_requests_total counter",
        ]
        for (route, status), n in sorted(self.requests.items()):
            lines.append(f'moreward_requests_total{{route="{esc(route)}",status="{status}"}} {n}')
        lines += [
            "# HELP moreward_request_duration_seconds Request latency by route.",
            "# TYPE moreward_request_duration_seconds histogram",
        ]
        for route, counts in sorted(self.hist.items()):
            r = esc(route)
            for bound, c in zip(self.buckets, counts):
                lines.append(f'moreward_request_duration_seconds_bucket{{route="{r}",le="{bound:g}"}} {c}')
            lines.append(f'moreward_request_duration_seconds_bucket{{route="{r}",le="+Inf"}} {counts[-1]}')
            lines.append(f'moreward_request_duration_seconds_sum{{route="{r}"}} {self.hist_sum[route]:.6f}')
            lines.append(f'moreward_request_duration_seconds_count{{route="{r}"}} {counts[-1]}')
        lines += [
            "# HELP moreward_samples_total Samples scored.",
            "# TYPE moreward_samples_total counter",
            f"moreward_samples_total {self.samples}",
            "# HELP moreward_missing_rewards_total Samples for which no objective gave a value.",
            "# TYPE moreward_missing_rewards_total counter",
            f"moreward_missing_rewards_total {self.missing}",
            "# HELP moreward_verdicts_total Verdicts by objective.",
            "# TYPE moreward_verdicts_total counter",
        ]
        for (name, verdict), n in sorted(self.verdicts.items()):
            lines.append(f'moreward_verdicts_total{{objective="{esc(name)}",verdict="{verdict}"}} {n}')
        lines += [
            "# HELP moreward_requests_in_flight Requests being handled.",
            "# TYPE moreward_requests_in_flight gauge",
            f"moreward_requests_in_flight {self.in_flight}",
        ]
        return "\n".join(lines) + "\n"


class _HTTPError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


async def _read_json(request: Any, limit: int) -> Any:
    length = request.headers.get("content-length")
    if length is not None:
        try:
            if int(length) > limit:
                raise _HTTPError(413, f"request body of {int(length)} bytes exceeds the limit of {limit} bytes")
        except ValueError:
            raise _HTTPError(400, f"invalid Content-Length header {length!r}") from None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _HTTPError(413, f"request body exceeds the limit of {limit} bytes")
    if not body:
        raise _HTTPError(400, "empty request body; expected a JSON object")
    try:
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise _HTTPError(400, f"request body is not UTF-8: {exc.reason} at byte {exc.start}") from None
    except json.JSONDecodeError as exc:
        raise _HTTPError(400, f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None


def _object(data: Any, required: Sequence[str]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _HTTPError(400, f"the body must be a JSON object, got {type(data).__name__}")
    missing = [k for k in required if k not in data]
    if missing:
        raise _HTTPError(400, f"missing field(s): {', '.join(missing)}")
    return data


def _list(data: dict[str, Any], key: str, n: int | None, limit: int, optional: bool = False) -> list[Any] | None:
    value = data.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, list):
        raise _HTTPError(400, f"field {key!r} must be a list, got {type(value).__name__}")
    if len(value) > limit:
        raise _HTTPError(413, f"field {key!r} has {len(value)} entries; the limit is {limit} per request")
    if n is not None and len(value) != n:
        raise _HTTPError(400, f"field {key!r} has {len(value)} entries, expected {n} (one per query)")
    return value


def _parse_sample(i: int, raw: Any) -> Sample:
    where = f"samples[{i}]"
    if not isinstance(raw, dict):
        raise _HTTPError(400, f"{where} must be an object, got {type(raw).__name__}")
    unknown = [k for k in raw if k not in _SAMPLE_KEYS]
    if unknown:
        raise _HTTPError(400, f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(_SAMPLE_KEYS)}")
    if "completion" not in raw:
        raise _HTTPError(400, f"{where}.completion is missing")
    completion = raw["completion"]
    if not isinstance(completion, (str, list)):
        raise _HTTPError(400, f"{where}.completion must be a string or a list of messages, got {type(completion).__name__}")
    tokens = raw.get("tokens")
    if tokens is not None and (isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 0):
        raise _HTTPError(400, f"{where}.tokens must be a non-negative integer, got {tokens!r:.40}")
    meta = raw.get("meta") or {}
    if not isinstance(meta, dict):
        raise _HTTPError(400, f"{where}.meta must be an object, got {type(meta).__name__}")
    prompt = raw.get("prompt")
    if prompt is not None and not isinstance(prompt, str):
        prompt = json.dumps(prompt, sort_keys=True)
    group = raw.get("group")
    if isinstance(group, (list, dict)):
        group = json.dumps(group, sort_keys=True)
    try:
        return Sample.from_messages(
            completion, raw.get("reference"), prompt=prompt, group=group, tokens=tokens, meta=meta
        )
    except InputError as exc:
        raise _HTTPError(400, f"{where}.completion: {exc}") from None


def _nan_safe(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _nan_safe(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_nan_safe(v) for v in obj]
    return obj


def create_app(
    pipeline: PipelineSource,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_samples: int = DEFAULT_MAX_SAMPLES,
    on_missing: str | float = "raise",
    score_objective: str | None = None,
    threads: int = 32,
) -> Any:
    """The Starlette application serving ``pipeline`` (a pipeline or a config path/mapping).

    ``app.state.metrics`` is the :class:`Metrics` instance; ``app.state.pipeline`` the pipeline.

    Raises:
        MissingExtraError: starlette is not installed (``pip install 'moreward[server]'``).
    """
    _require()
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, PlainTextResponse, Response
    from starlette.routing import Route

    pipe: Pipeline = as_pipeline(pipeline)
    openrlhf = RewardFunc(pipe, on_missing=on_missing, score_objective=score_objective)
    metrics = Metrics()

    def instrument(route: str, handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            start = time.perf_counter()
            metrics.in_flight += 1
            try:
                response = await handler(request)
            except _HTTPError as exc:
                response = JSONResponse({"error": exc.message}, status_code=exc.status)
            except MissingRewardError as exc:
                response = JSONResponse({"error": str(exc)}, status_code=500)
            except InputError as exc:
                response = JSONResponse({"error": str(exc)}, status_code=400)
            except Exception as exc:
                response = JSONResponse({"error": f"internal error: {type(exc).__name__}: {exc}"}, status_code=500)
            finally:
                metrics.in_flight -= 1
            metrics.observe(route, response.status_code, time.perf_counter() - start)
            return response

        return endpoint

    async def get_reward(request: Request) -> Response:
        data = _object(await _read_json(request, max_body_bytes), ["query"])
        queries = _list(data, "query", None, max_samples)
        assert queries is not None
        for i, q in enumerate(queries):
            if not isinstance(q, str):
                raise _HTTPError(400, f"query[{i}] must be a string, got {type(q).__name__}")
        prompts = _list(data, "prompts", len(queries), max_samples, optional=True)
        labels = _list(data, "labels", len(queries), max_samples, optional=True)
        samples = openrlhf.samples(queries, prompts, labels)
        results = await pipe.ascore(samples)
        metrics.count_results(results)
        body = json.dumps(openrlhf.pack(results), allow_nan=True)
        return Response(body, media_type="application/json")

    async def score(request: Request) -> Response:
        data = _object(await _read_json(request, max_body_bytes), ["samples"])
        raw = _list(data, "samples", None, max_samples)
        assert raw is not None
        details = data.get("details", False)
        if not isinstance(details, bool):
            raise _HTTPError(400, f"field 'details' must be true or false, got {details!r:.40}")
        samples = [_parse_sample(i, s) for i, s in enumerate(raw)]
        results = await pipe.ascore(samples)
        metrics.count_results(results)
        payload = {"objectives": pipe.names, "results": [r.to_dict(with_details=details) for r in results]}
        return JSONResponse(_nan_safe(payload))

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "objectives": pipe.names, "combiner": repr(pipe.combiner)})

    async def metrics_route(request: Request) -> Response:
        return PlainTextResponse(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="moreward-serve")
        asyncio.get_running_loop().set_default_executor(executor)
        try:
            yield
        finally:
            executor.shutdown(wait=False, cancel_futures=True)

    app = Starlette(
        routes=[
            Route("/get_reward", instrument("/get_reward", get_reward), methods=["POST"]),
            Route("/v1/score", instrument("/v1/score", score), methods=["POST"]),
            Route("/healthz", instrument("/healthz", healthz), methods=["GET"]),
            Route("/metrics", metrics_route, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.metrics = metrics
    app.state.pipeline = pipe
    return app


def serve(
    config: PipelineSource,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    graceful_timeout: int = 30,
    log_level: str = "info",
    access_log: bool = False,
    **app_options: Any,
) -> None:
    """Serve ``config`` until SIGINT/SIGTERM (blocking). ``app_options`` go to :func:`create_app`."""
    _, uvicorn = _require()
    app = create_app(config, **app_options)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=access_log,
        ws="none",
        lifespan="on",
        timeout_graceful_shutdown=graceful_timeout,
    )


class BackgroundServer:
    """Run the server in a daemon thread on an ephemeral port, for tests and benchmarks.

    Example::

        with BackgroundServer(pipeline) as srv:
            httpx.post(srv.url + "/v1/score", json={"samples": [...]})
    """

    def __init__(
        self, pipeline: PipelineSource, *, host: str = "127.0.0.1", port: int = 0, graceful_timeout: int = 5, **app_options: Any
    ) -> None:
        _, uvicorn = _require()
        self.app = create_app(pipeline, **app_options)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.host, self.port = self._sock.getsockname()[:2]
        config = uvicorn.Config(
            self.app, log_config=None, access_log=False, ws="none", lifespan="on", timeout_graceful_shutdown=graceful_timeout
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True)

    @property
    def url(self) -> str:
        """``http://host:port``."""
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> BackgroundServer:
        """Start and wait until the server accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the reward server did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 15.0) -> None:
        """Ask for a graceful shutdown and wait for it."""
        self._server.should_exit = True
        self._thread.join(timeout)
        self._sock.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be in 0..65535, got {value}")
    return value


def _positive(kind: type) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
        return value

    return parse


def add_serve_parser(subparsers: Any) -> None:
    """Register the ``serve`` subcommand on an ``argparse`` subparsers object (its handler returns an exit code)."""
    p = subparsers.add_parser("serve", help="serve rewards over HTTP (OpenRLHF's /get_reward, /v1/score, /metrics)")
    p.add_argument("-c", "--config", required=True, help="pipeline config (.toml, .yaml, .json)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    p.add_argument("--max-body-mb", type=_positive(float), default=DEFAULT_MAX_BODY_BYTES / 2**20, help="request size limit in MiB (default 16)")
    p.add_argument("--max-samples", type=_positive(int), default=DEFAULT_MAX_SAMPLES, help="samples per request (default 4096)")
    p.add_argument("--on-missing", default="raise", help="reward when no objective has a value: 'raise' (HTTP 500) or a number")
    p.add_argument("--score-objective", help="objective returned as OpenRLHF's 'scores' (default: the reward)")
    p.add_argument("--threads", type=_positive(int), default=32, help="worker threads for scoring (default 32)")
    p.add_argument("--graceful-timeout", type=_positive(int), default=30, help="seconds to finish requests on shutdown (default 30)")
    p.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
    p.add_argument("--access-log", action="store_true", help="log every request")
    p.set_defaults(func=_cmd_serve)


def _cmd_serve(args: argparse.Namespace) -> int:
    from .integrations._common import check_on_missing

    _require()
    pipe = Pipeline.from_config(args.config)
    serve(
        pipe,
        host=args.host,
        port=args.port,
        graceful_timeout=args.graceful_timeout,
        log_level=args.log_level,
        access_log=args.access_log,
        max_body_bytes=int(args.max_body_mb * 2**20),
        max_samples=args.max_samples,
        on_missing=check_on_missing(args.on_missing),
        score_objective=args.score_objective,
        threads=args.threads,
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m moreward.server serve -c CONFIG ...``; returns the exit code."""
    parser = argparse.ArgumentParser(prog="moreward.server", description="the moreward HTTP reward server")
    add_serve_parser(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except MorewardError as exc:
        sys.stderr.write(f"moreward: error: {exc}\n")
        return 2 if isinstance(exc, ValueError) else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
