"""The reward server, started for real on 127.0.0.1 (ephemeral ports only)."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from moreward.server import BackgroundServer, Metrics, add_serve_parser, main  # noqa: E402

from .integrations.helpers import CONFIG_TOML, Broken, SlowOn, em_regex_pipeline, pipeline  # noqa: E402

QWEN = "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n"


@pytest.fixture(scope="module")
def config_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("server") / "pipeline.toml"
    path.write_text(CONFIG_TOML)
    return path


@pytest.fixture(scope="module")
def server(config_path):
    with BackgroundServer(config_path, max_body_bytes=64 * 1024, max_samples=100) as srv:
        yield srv


@pytest.fixture
def client(server):
    with httpx.Client(base_url=server.url, timeout=10) as c:
        yield c


def metric_value(text: str, line_prefix: str) -> float:
    for line in text.splitlines():
        if line.startswith(line_prefix + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_binds_loopback_only(server):
    assert server.host == "127.0.0.1" and server.port > 0


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok" and r.json()["objectives"] == ["em", "fmt"]


def test_v1_score(client):
    samples = [
        {"completion": "<answer>4</answer>", "reference": "4", "group": "g"},
        {"completion": [{"role": "assistant", "content": "<answer>5</answer>"}], "reference": "4", "group": "g"},
        {"completion": "no tag", "reference": "4"},
    ]
    r = client.post("/v1/score", json={"samples": samples})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["objectives"] == ["em", "fmt"]
    assert [x["reward"] for x in body["results"]] == [1.5, 0.5, 0.0]
    comp = body["results"][1]["components"]
    assert comp["em"]["verdict"] == "fail" and comp["fmt"] == {"value": 1.0, "verdict": "pass", "reason": "pattern found"}
    detailed = client.post("/v1/score", json={"samples": samples[:1], "details": True}).json()
    assert detailed["results"][0]["components"]["em"]["details"]["matched"] == "4"


def test_get_reward_in_openrlhf_format(client):
    payload = {
        "query": [QWEN + "<answer>4</answer><|im_end|>", QWEN + "<answer>3</answer><|im_end|>"],
        "prompts": [QWEN, QWEN],
        "labels": ["4", "4"],
    }
    r = client.post("/get_reward", json=payload)
    assert r.status_code == 200, r.text
    body = json.loads(r.text)  # Python's json, as OpenRLHF's aiohttp client uses
    assert body["rewards"] == [1.5, 0.5] and body["scores"] == [1.5, 0.5]
    assert body["extra_logs"] == {"em": [1.0, 0.0], "fmt": [1.0, 1.0], "moreward_valid": [1.0, 1.0]}
    # prompts and labels are optional
    r = client.post("/get_reward", json={"query": ["<answer>4</answer>"]})
    assert r.status_code == 200 and r.json()["rewards"] == [0.5]


@pytest.mark.parametrize(
    ("route", "body", "status", "message"),
    [
        ("/v1/score", b'{"samples": [', 400, "malformed JSON: Expecting value at line 1 column 14"),
        ("/v1/score", b"", 400, "empty request body"),
        ("/v1/score", b"[1, 2]", 400, "the body must be a JSON object, got list"),
        ("/v1/score", b'{"sample": []}', 400, "missing field(s): samples"),
        ("/v1/score", b'{"samples": {}}', 400, "field 'samples' must be a list, got dict"),
        ("/v1/score", b'{"samples": [{"completion": "a"}, {"reference": "b"}]}', 400, "samples[1].completion is missing"),
        ("/v1/score", b'{"samples": [{"completion": 3}]}', 400, "samples[0].completion must be a string or a list"),
        ("/v1/score", b'{"samples": [{"completion": "a", "refrence": "b"}]}', 400, "samples[0]: unknown key(s) 'refrence'"),
        ("/v1/score", b'{"samples": [{"completion": "a", "tokens": -1}]}', 400, "samples[0].tokens must be a non-negative integer"),
        ("/v1/score", b'{"samples": [{"completion": [{"content": "x"}]}]}', 400, "samples[0].completion: messages[0] must be a dict with a 'role'"),
        ("/v1/score", b'{"samples": [], "details": "yes"}', 400, "field 'details' must be true or false"),
        ("/get_reward", b'{"queries": ["a"]}', 400, "missing field(s): query"),
        ("/get_reward", b'{"query": ["a", 1]}', 400, "query[1] must be a string"),
        ("/get_reward", b'{"query": ["a", "b"], "labels": ["x"]}', 400, "field 'labels' has 1 entries, expected 2"),
        ("/get_reward", b'\xff\xfe{"query": 1}', 400, "request body is not UTF-8"),
        ("/get_reward", json.dumps({"query": ["a"] * 101}).encode(), 413, "101 entries; the limit is 100"),
        ("/get_reward", b'{"query": ["' + b"a" * 70_000 + b'"]}', 413, "exceeds the limit of 65536 bytes"),
    ],
)
def test_bad_requests_are_named(client, route, body, status, message):
    r = client.post(route, content=body, headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    assert message in r.json()["error"]


def test_body_limit_without_content_length(server):
    def chunks():
        for _ in range(20):
            yield b"x" * 8192

    with httpx.Client(base_url=server.url, timeout=10) as c:
        r = c.post("/v1/score", content=chunks())  # chunked: no Content-Length header
    assert r.status_code == 413 and "exceeds the limit" in r.json()["error"]


def test_wrong_method(client):
    assert client.get("/get_reward").status_code == 405


def test_metrics_count(client):
    before = client.get("/metrics").text
    client.post("/v1/score", json={"samples": [{"completion": "<answer>4</answer>", "reference": "4"}]})
    client.post("/v1/score", content=b"{bad")
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain; version=0.0.4")
    after = r.text
    for prefix, delta in [
        ('moreward_requests_total{route="/v1/score",status="200"}', 1),
        ('moreward_requests_total{route="/v1/score",status="400"}', 1),
        ('moreward_request_duration_seconds_count{route="/v1/score"}', 2),
        ('moreward_request_duration_seconds_bucket{route="/v1/score",le="+Inf"}', 2),
        ('moreward_verdicts_total{objective="em",verdict="pass"}', 1),
        ('moreward_verdicts_total{objective="fmt",verdict="pass"}', 1),
        ("moreward_samples_total", 1),
    ]:
        assert metric_value(after, prefix) - metric_value(before, prefix) == delta, prefix
    assert "# TYPE moreward_request_duration_seconds histogram" in after
    assert "moreward_requests_in_flight 0" in after


def test_metrics_render_is_valid_exposition():
    m = Metrics(buckets=(0.1, 1.0))
    m.observe('/a"b', 200, 0.5)
    text = m.render()
    assert 'route="/a\\"b",le="0.1"} 0' in text and 'route="/a\\"b",le="1"} 1' in text
    assert text.endswith("\n")


def test_missing_reward_answers_500_or_the_chosen_value():
    pipe = pipeline({"broken": Broken()})
    with BackgroundServer(pipe) as srv, httpx.Client(base_url=srv.url, timeout=10) as c:
        r = c.post("/get_reward", json={"query": ["a"]})
        assert r.status_code == 500 and "broken: error" in r.json()["error"]
        r = c.post("/v1/score", json={"samples": [{"completion": "a"}]})  # the JSON API reports null
        assert r.status_code == 200 and r.json()["results"][0]["reward"] is None
        assert metric_value(c.get("/metrics").text, "moreward_missing_rewards_total") == 2
    with BackgroundServer(pipe, on_missing=0.0) as srv, httpx.Client(base_url=srv.url, timeout=10) as c:
        body = json.loads(c.post("/get_reward", json={"query": ["a"]}).text)
        assert body["rewards"] == [0.0] and body["extra_logs"]["moreward_valid"] == [0.0]
        assert math.isnan(body["extra_logs"]["broken"][0])


def test_slow_request_does_not_block_others():
    pipe = pipeline({"slow": SlowOn(delay=1.5)})

    async def run(url: str) -> tuple[float, float]:
        async with httpx.AsyncClient(base_url=url, timeout=10) as c:
            start = time.perf_counter()
            slow = asyncio.create_task(c.post("/v1/score", json={"samples": [{"completion": "SLOW"}]}))
            await asyncio.sleep(0.1)
            fast = await c.post("/v1/score", json={"samples": [{"completion": "quick"}]})
            fast_done = time.perf_counter() - start
            assert fast.status_code == 200 and not slow.done()
            assert (await slow).status_code == 200
            return fast_done, time.perf_counter() - start

    with BackgroundServer(pipe) as srv:
        fast_done, slow_done = asyncio.run(run(srv.url))
    assert fast_done < 1.0 <= slow_done


def test_graceful_shutdown_finishes_requests_in_flight():
    srv = BackgroundServer(pipeline({"slow": SlowOn(delay=1.0)})).start()
    result: dict = {}

    def request() -> None:
        with httpx.Client(base_url=srv.url, timeout=10) as c:
            result["r"] = c.post("/v1/score", json={"samples": [{"completion": "SLOW"}]})

    t = threading.Thread(target=request)
    t.start()
    time.sleep(0.3)
    srv.stop()
    t.join(10)
    assert result["r"].status_code == 200 and result["r"].json()["results"][0]["reward"] == 1.0


def test_add_serve_parser_registers_the_command(config_path):
    parser = argparse.ArgumentParser(prog="moreward")
    add_serve_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["serve", "-c", str(config_path), "--host", "127.0.0.1", "--port", "0"])
    assert (args.config, args.host, args.port, args.on_missing) == (str(config_path), "127.0.0.1", 0, "raise")
    assert callable(args.func)
    with pytest.raises(SystemExit):
        parser.parse_args(["serve", "-c", "x", "--port", "70000"])


def test_cli_bad_config_exit_code(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[objectives.x]\ntype = 'nope'\n")
    assert main(["serve", "-c", str(bad), "--port", "0"]) == 2
    assert "unknown objective type 'nope'" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_entry_point_serves_and_stops_on_sigterm(config_path):
    port = _free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "-m", "moreward.server", "serve", "-c", str(config_path), "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        assert r.status_code == 200
        r = httpx.post(f"http://127.0.0.1:{port}/get_reward", json={"query": [QWEN + "<answer>4</answer>"], "prompts": [QWEN], "labels": ["4"]})
        assert r.json()["rewards"] == [1.5]
        proc.send_signal(signal.SIGTERM)
        # uvicorn finishes its graceful shutdown, then re-raises the signal (exit by SIGTERM, as Unix expects)
        out = proc.communicate(timeout=20)[0].decode()
        assert proc.returncode in (0, -signal.SIGTERM), out
        assert "Application shutdown complete" in out and "Finished server process" in out, out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        if proc.stdout is not None:
            proc.stdout.close()


def test_openrlhf_http_client_against_the_server(server, monkeypatch):
    """OpenRLHF's own ``_fetch_rewards_via_http`` (when its files and aiohttp are present)."""
    from .integrations.test_openrlhf import _openrlhf_agent

    agent = _openrlhf_agent(monkeypatch)
    executor = agent.SingleTurnAgentExecutor([server.url + "/get_reward"])
    (info,) = asyncio.run(executor._fetch_rewards_via_http([QWEN + "<answer>4</answer><|im_end|>"], [QWEN], ["4"]))
    assert info["rewards"] == [1.5] and info["extra_logs"]["em"] == [1.0]


def test_server_from_pipeline_object():
    with BackgroundServer(em_regex_pipeline()) as srv:
        r = httpx.post(srv.url + "/v1/score", json={"samples": [{"completion": "<answer>1</answer>", "reference": "1"}]})
    assert r.json()["results"][0]["reward"] == 2.0
