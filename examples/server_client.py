"""The HTTP reward server: start ``moreward serve`` and call it as OpenRLHF and a JSON client would.

    moreward serve -c examples/config.toml --host 127.0.0.1 --port 8000   # in one shell
    python examples/server_client.py --url http://127.0.0.1:8000          # in another

Run without ``--url``, it starts the server itself on a free loopback port, calls it, and
stops it. Uses only the standard library as the client.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent


def post(url: str, payload: dict) -> dict:
    req = urllib.request.Request(url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def call(base: str) -> None:
    # OpenRLHF's remote reward model schema: queries are prompt + response.
    prompts = ["Capital of France?", "2+2?"]
    queries = [prompts[0] + " <think>ok</think> <answer>Paris</answer>", prompts[1] + " <think>ok</think> <answer>5</answer>"]
    print("/get_reward:", post(base + "/get_reward", {"query": queries, "prompts": prompts, "labels": ["Paris", "4"]})["rewards"])
    samples = [{"completion": "<think>x</think> <answer>4</answer>", "reference": "4"}]
    print("/v1/score:", json.dumps(post(base + "/v1/score", {"samples": samples})["results"][0]))
    with urllib.request.urlopen(base + "/metrics", timeout=10) as resp:
        lines = [ln for ln in resp.read().decode().splitlines() if ln.startswith("moreward_requests_total")]
    print("/metrics:", *lines, sep="\n  ")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="a running server (default: start one on 127.0.0.1)")
    args = ap.parse_args()
    if args.url:
        call(args.url.rstrip("/"))
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "moreward", "serve", "-c", str(HERE / "config.toml"), "--port", str(port), "--log-level", "warning"]
    proc = subprocess.Popen(cmd)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        call(base)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
