"""The recipes with a model-based judge: QwenLong-L1 against a local fake judge server, and
SketchThinker-R1's weights with the judge's verdict stubbed (no checkpoint is loaded).

Skipped as a whole while the judge package (``moreward.verifiers.judge``) is absent.
"""

from __future__ import annotations

import importlib.util
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from moreward import Sample, Verdict, recipes
from moreward.recipes.parts import Column

pytest.importorskip("moreward.verifiers.judge", reason="the judge package is not there yet")


# --------------------------------------------------------------------------- QwenLong-L1


class _Judge(BaseHTTPRequestHandler):
    """A chat-completions endpoint: [[YES]] when the judged answer is "the French capital"."""

    asked: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        content = body["messages"][-1]["content"]
        type(self).asked.append(content)
        decision = "[[YES]]" if "French capital" in content else "[[NO]]"
        reply = {"choices": [{"message": {"role": "assistant", "content": f"Both name one city. {decision}"}}]}
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@pytest.fixture
def judge_url() -> Iterator[str]:
    if importlib.util.find_spec("httpx") is None:
        pytest.skip("httpx (the judge extra) is not installed")
    _Judge.asked = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Judge)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_qwenlong_l1_rule_first_then_judge_max(judge_url):
    pipe = recipes.get("qwenlong_l1", judge_base_url=judge_url, judge_model="judge")
    think = "<think>The report names the city twice.</think>\n"
    samples = [
        Sample(think + "Therefore, the answer is Paris.", reference="Paris"),  # sub-EM: 1, no judge
        Sample(think + "Therefore, the answer is the French capital.", reference="Paris"),  # judge YES: 1
        Sample(think + "Therefore, the answer is London.", reference="Paris"),  # judge NO: 0
        Sample("Therefore, the answer is Paris.", reference="Paris"),  # no </think>: 0
        Sample(think + "It is Paris, I think.", reference="Paris"),  # no "the answer is": 0, no judge
        Sample(think + "Therefore, the answer is **paris, France**.", reference="Paris"),  # sub-EM: 1
    ]
    results = pipe.score(samples)
    assert [r.reward for r in results] == [1.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    assert len(_Judge.asked) == 2  # only the rule's failures reach the judge
    assert "the French capital" in _Judge.asked[0] or "the French capital" in _Judge.asked[1]
    acc = [r.components["accuracy"] for r in results]
    assert [a.details.get("decided_by") for a in acc[:3]] == ["rule", "judge", "judge"]  # ties go to the judge
    assert acc[4].verdict is Verdict.INVALID


def test_qwenlong_l1_judge_failure_is_never_a_zero():
    pipe = recipes.get("qwenlong_l1", judge_base_url="http://127.0.0.1:9/v1", judge_model="judge",
                       **{"objectives.accuracy.judge.max_retries": 0, "objectives.accuracy.judge.timeout": 2.0})
    [res] = pipe.score([Sample("<think>x</think> Therefore, the answer is Lyon.", reference="Paris")])
    assert res.components["accuracy"].verdict is Verdict.ERROR and res.raw["accuracy"] is None


# --------------------------------------------------------------------------- SketchThinker-R1


@pytest.fixture
def sketch_pipe():
    if importlib.util.find_spec("torch") is None or importlib.util.find_spec("transformers") is None:
        pytest.skip("torch and transformers (the judge extra) are not installed")
    return recipes.get("sketchthinker_r1", judge_model="/models/SketchJudge")


def test_sketchthinker_builds_the_sketch_judge(sketch_pipe):
    from moreward.verifiers.judge import HFJudge

    judge = sketch_pipe.objectives["sketch"]
    assert isinstance(judge, HFJudge)
    assert (judge.model_path, judge.kind, judge.template, judge.output) == (
        "/models/SketchJudge", "yes_no", "sketch_judge", "binary")


def test_sketchthinker_weights(sketch_pipe):
    sketch_pipe.objectives["sketch"] = Column(key="sketch")  # the judge's 0/1 verdict, stubbed
    sketch = "<think>1. 3 * 4 = 12.\n2. Halve it: 6.</think> The answer is $\\boxed{6}$."
    samples = [
        Sample(sketch, reference="6", meta={"sketch": 1}),  # 0.5 + 0.4 + 0.1
        Sample(sketch, reference="6", meta={"sketch": 0}),  # 0.5 + 0.4 + 0
        Sample(sketch, reference="7", meta={"sketch": 1}),  # 0 + 0.4 + 0.1
        Sample("The answer is $\\boxed{6}$.", reference="6", meta={"sketch": 0}),  # no think: 0.5 + 0 + 0
        Sample("<think>1. 3 * 4 = 12.</think> so 6", reference="6", meta={"sketch": 1}),  # no \boxed: 0.5 + 0 + 0.1
    ]
    assert [r.reward for r in sketch_pipe.score(samples)] == pytest.approx([1.0, 0.9, 0.5, 0.5, 0.6])


def test_sketchthinker_guard_decides_without_the_model(sketch_pipe):
    # No thinking section: the judge's guard scores it 0 without loading the checkpoint.
    [res] = sketch_pipe.score([Sample("The answer is $\\boxed{6}$.", reference="6")])
    assert res.components["sketch"].verdict is Verdict.INVALID
    assert res.reward == pytest.approx(0.5)
