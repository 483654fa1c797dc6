"""The reward server under load: 2,000 requests, 64 in flight, against ``moreward serve``.

Starts ``python -m moreward.server serve`` on 127.0.0.1 (an ephemeral port) in a
subprocess, or uses ``--url`` of a server already running, and sends OpenRLHF
0.11-style requests to ``POST /get_reward`` (one query per request: prompt +
response with the Qwen chat template, as OpenRLHF's ``SingleTurnAgentExecutor``
sends them) or ``--route v1/score`` requests. Reports requests/s, latency p50 /
p90 / p99 / max, and errors (any non-200 answer or transport failure; target 0).

The load generator holds one keep-alive HTTP/1.1 connection per request in flight
on plain asyncio streams: httpx's async client costs about ten times more CPU per
request, and on a small machine it, not the server, sets the figures
(``--client httpx`` to see it).

The peer is OpenRLHF's reference reward server pattern (``openrlhf/cli/serve_rm.py``):
an ``async def`` route that calls the scorer synchronously on the event loop
(here ``pipeline.score``, on the same Starlette + uvicorn stack and the same
pipeline), run under the same load with ``--peer``. moreward's server awaits
``pipeline.ascore`` instead, whose objectives run in worker threads, so one slow
sample does not stall every other request; with cheap objectives that costs a
thread hop per request, which the comparison shows.

Usage::

    python benchmarks/server_bench.py                      # 2,000 requests, 64 in flight, + the peer
    python benchmarks/server_bench.py --requests 500 --no-peer
    python benchmarks/server_bench.py -c my_pipeline.toml --route v1/score
    python benchmarks/server_bench.py --url http://127.0.0.1:8000   # a server you started
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, ClassVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from moreward import BaseObjective, Pipeline, Sample, Score, register  # noqa: E402

SLOW_MARK = "[[slow]]"

QWEN = "<|im_start|>system\nReason, then answer in <answer></answer>.<|im_end|>\n<|im_start|>user\n{q}<|im_end|>\n<|im_start|>assistant\n"


def make_payloads(n: int, route: str, batch: int, seed: int = 0, slow_every: int = 0) -> list[dict[str, Any]]:
    """Synthetic rollouts: ~400-character think blocks, 60% correct answers, 80% well formed;
    with ``slow_every``, one sample in that many carries the mark that makes ``bench_wait`` wait."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        rows = []
        for _ in range(batch):
            a, b = rng.randint(1, 99), rng.randint(1, 99)
            answer = str(a + b) if rng.random() < 0.6 else str(a + b + rng.randint(1, 5))
            think = " ".join(rng.choice(["add", "carry", "the", "units", "tens", "so", "we", "get"]) for _ in range(70))
            body = f"<think>{think}</think>\n<answer>{answer}</answer>" if rng.random() < 0.8 else f"{think} so {answer}"
            if slow_every and (i * batch + len(rows)) % slow_every == slow_every - 1:
                body = body.replace(" so ", f" {SLOW_MARK} so ", 1) if "<think>" not in body else body.replace("</think>", f" {SLOW_MARK}</think>", 1)
            rows.append((f"What is {a} + {b}?", body, str(a + b), f"p{i}"))
        if route == "get_reward":
            prompts = [QWEN.format(q=q) for q, _, _, _ in rows]
            out.append(
                {
                    "query": [p + body + "<|im_end|>" for p, (_, body, _, _) in zip(prompts, rows)],
                    "prompts": prompts,
                    "labels": [ref for _, _, ref, _ in rows],
                }
            )
        else:
            out.append({"samples": [{"completion": body, "reference": ref, "prompt": q, "group": g} for q, body, ref, g in rows]})
    return out


class _Conn:
    """One keep-alive HTTP/1.1 connection on asyncio streams: a client far cheaper than httpx, so
    the numbers measure the server rather than the client sharing its CPUs."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        length, close = None, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            key, _, value = line.partition(b":")
            key = key.strip().lower()
            if key == b"content-length":
                length = int(value)
            elif key == b"connection" and value.strip().lower() == b"close":
                close = True
        if length is None:
            raise ConnectionError(f"no Content-Length in the answer ({status_line!r})")
        await self.reader.readexactly(length)
        if close:
            self.close()
        return int(status_line.split()[1])

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def load(url: str, route: str, payloads: list[dict[str, Any]], concurrency: int, client: str = "raw") -> dict[str, Any]:
    """Send every payload with ``concurrency`` requests in flight (one connection each); latencies in seconds."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    bodies = iter([json.dumps(p).encode() for p in payloads])
    parsed = httpx.URL(url)

    async def raw_worker() -> None:
        conn = _Conn(parsed.host, parsed.port or 80)
        for body in bodies:
            start = time.perf_counter()
            try:
                status = await conn.post(f"/{route}", body)
                key = None if status == 200 else f"HTTP {status}"
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
                key = type(exc).__name__
                conn.close()
            latencies.append(time.perf_counter() - start)
            if key:
                errors[key] = errors.get(key, 0) + 1
        conn.close()

    async def httpx_worker(http: httpx.AsyncClient) -> None:
        for body in bodies:
            start = time.perf_counter()
            try:
                r = await http.post(f"/{route}", content=body, headers={"content-type": "application/json"})
                key = None if r.status_code == 200 else f"HTTP {r.status_code}"
            except httpx.HTTPError as exc:
                key = type(exc).__name__
            latencies.append(time.perf_counter() - start)
            if key:
                errors[key] = errors.get(key, 0) + 1

    start = time.perf_counter()
    if client == "raw":
        await asyncio.gather(*(raw_worker() for _ in range(concurrency)))
    else:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as http:
            await asyncio.gather(*(httpx_worker(http) for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, round(p / 100 * (len(latencies) - 1)))] * 1000

    return {
        "requests": len(latencies),
        "elapsed_s": elapsed,
        "rps": len(latencies) / elapsed,
        "p50_ms": pct(50),
        "p90_ms": pct(90),
        "p99_ms": pct(99),
        "max_ms": latencies[-1] * 1000,
        "errors": sum(errors.values()),
        "error_kinds": errors,
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(cmd: list[str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not start within 60 s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if proc.stderr is not None:
        proc.stderr.close()


class BenchWait(BaseObjective):
    """``1.0``, after waiting ``ms`` milliseconds without CPU when the completion holds ``SLOW``:
    a stand-in for a judge call or a verification waiting on the worker pool."""

    name: ClassVar[str] = "bench_wait"

    def __init__(self, *, ms: float = 100.0) -> None:
        self.ms = ms

    def score(self, sample: Sample) -> Score:
        if SLOW_MARK in sample.completion:
            time.sleep(self.ms / 1000)
        return Score.from_bool(True, "waited" if SLOW_MARK in sample.completion else "instant")


def serve_ours(config: str, port: int) -> None:
    """``moreward serve`` itself, in a process where the bench's objective is registered."""
    register("bench_wait")(BenchWait)
    from moreward.server import serve

    serve(config, host="127.0.0.1", port=port, log_level="warning")


def serve_peer(config: str, port: int) -> None:
    """OpenRLHF ``serve_rm.py``'s pattern: the scorer runs synchronously inside the async route."""
    register("bench_wait")(BenchWait)
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from moreward.integrations.openrlhf import RewardFunc

    fn = RewardFunc(Pipeline.from_config(config))

    async def get_reward(request: Request) -> Response:
        data = await request.json()
        out = fn.compute(data.get("query"), data.get("prompts"), data.get("labels"))
        return Response(json.dumps(out), media_type="application/json")

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    app = Starlette(routes=[Route("/get_reward", get_reward, methods=["POST"]), Route("/healthz", healthz)])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", ws="none")


def run_against(url: str | None, cmd_for_port: Any, args: argparse.Namespace, payloads: list[dict[str, Any]]) -> dict[str, Any]:
    proc = None
    if url is None:
        port = _free_port()
        proc = start(cmd_for_port(port), port)
        url = f"http://127.0.0.1:{port}"
    try:
        asyncio.run(load(url, args.route, payloads[: args.warmup], args.concurrency, args.client))
        res = asyncio.run(load(url, args.route, payloads[args.warmup :], args.concurrency, args.client))
        if args.route == "get_reward" or proc is None:
            try:
                metrics = httpx.get(f"{url}/metrics", timeout=5)
                res["metrics_ok"] = metrics.status_code == 200
                res["metrics"] = metrics.text if metrics.status_code == 200 else ""
            except httpx.HTTPError:
                res["metrics_ok"] = False
        return res
    finally:
        if proc is not None:
            stop(proc)


def _line(name: str, r: dict[str, Any]) -> str:
    return (
        f"{name:<22} {r['rps']:>9.0f} {r['p50_ms']:>8.1f} {r['p90_ms']:>8.1f} {r['p99_ms']:>8.1f} "
        f"{r['max_ms']:>8.1f} {r['errors']:>7d}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-c", "--config", default=str(ROOT / "examples" / "config.toml"), help="pipeline config")
    parser.add_argument("--requests", type=int, default=2000, help="timed requests (default 2000)")
    parser.add_argument("--concurrency", type=int, default=64, help="requests in flight (default 64)")
    parser.add_argument("--batch", type=int, default=1, help="samples per request (default 1, as OpenRLHF 0.11)")
    parser.add_argument("--warmup", type=int, default=64, help="untimed requests first (default 64)")
    parser.add_argument("--route", choices=("get_reward", "v1/score"), default="get_reward")
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw", help="load generator (default: raw asyncio keep-alive connections)")
    parser.add_argument("--url", help="benchmark a server already running at this URL instead of starting one")
    parser.add_argument("--peer", action=argparse.BooleanOptionalAction, default=True, help="also run the serve_rm-style peer")
    parser.add_argument("--slow-every", type=int, default=50, help="scenario 2: one sample in N waits (default 50; 0 skips it)")
    parser.add_argument("--slow-ms", type=float, default=100.0, help="scenario 2: how long it waits (default 100 ms)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    parser.add_argument("--serve", nargs=3, metavar=("WHICH", "CONFIG", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        which, config, port = args.serve
        (serve_ours if which == "ours" else serve_peer)(config, int(port))
        return 0

    print(f"moreward server benchmark: {args.requests} requests, {args.concurrency} in flight, {args.batch} sample(s) each, "
          f"POST /{args.route}")
    print(f"config: {args.config}; python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPU(s); "
          f"{args.client} client on the same machine")
    head = f"{'server':<22} {'req/s':>9} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>7}"
    all_results: dict[str, dict[str, Any]] = {}

    def scenario(title: str, config: str, slow_every: int, ours_cmd: Any) -> dict[str, dict[str, Any]]:
        payloads = make_payloads(args.requests + args.warmup, args.route, args.batch, slow_every=slow_every)
        results = {"moreward serve": run_against(args.url, ours_cmd, args, payloads)}
        if args.peer and args.url is None and args.route == "get_reward":
            peer_cmd = [sys.executable, __file__, "--serve", "peer", config]
            results["peer: serve_rm-style"] = run_against(None, lambda port: [*peer_cmd, str(port)], args, payloads)
        print(f"\n{title}\n{head}")
        for name, r in results.items():
            print(_line(name, r))
            if r["error_kinds"]:
                print(f"{'':<22} errors: {r['error_kinds']}")
        if len(results) == 2:
            ours, peer = results["moreward serve"], results["peer: serve_rm-style"]
            print(f"moreward/peer: throughput {ours['rps'] / peer['rps']:.2f}x, p99 {ours['p99_ms'] / peer['p99_ms']:.2f}x")
        all_results.update({f"{title} / {k}": v for k, v in results.items()})
        return results

    first = scenario(
        "1. the config's objectives",
        args.config,
        0,
        lambda port: [sys.executable, "-m", "moreward.server", "serve", "-c", args.config, "--host", "127.0.0.1",
                      "--port", str(port), "--log-level", "warning"],
    )
    counted = [ln for ln in first["moreward serve"].get("metrics", "").splitlines() if ln.startswith("moreward_requests_total")]
    if counted:
        print("server /metrics: " + "; ".join(counted))
    errors = first["moreward serve"]["errors"]
    if args.slow_every > 0 and args.url is None:
        with tempfile.TemporaryDirectory() as tmp:
            slow_cfg = Path(tmp) / "slow.toml"
            text = Path(args.config).read_text(encoding="utf-8")
            slow_cfg.write_text(text.replace("[combiner]", f"[objectives.wait]\ntype = \"bench_wait\"\nms = {args.slow_ms}\n\n[combiner]", 1))
            second = scenario(
                f"2. plus one sample in {args.slow_every} waiting {args.slow_ms:g} ms in a verifier (judge call, worker pool)",
                str(slow_cfg),
                args.slow_every,
                lambda port: [sys.executable, __file__, "--serve", "ours", str(slow_cfg), str(port)],
            )
        errors += second["moreward serve"]["errors"]
    if args.json:
        print(json.dumps({k: {kk: vv for kk, vv in v.items() if kk != "metrics"} for k, v in all_results.items()}, indent=2))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
