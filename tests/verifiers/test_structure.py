"""Structured outputs: JSON extraction, schema / pydantic validation, completeness, Factum facts."""

from __future__ import annotations

import json
import pickle
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict

from moreward import ConfigError, Sample, Verdict, registry
from moreward.verifiers.structure import (
    EventFacts,
    causal_fidelity,
    event_facts_completeness,
    find_json,
    parse_span,
    temporal_iou,
)

FENCE = "```"


# --------------------------------------------------------------------------- extraction


@pytest.mark.parametrize(
    "text,value,source",
    [
        ('<json>{"a": 1}</json> and {"b": 2}', {"a": 1}, "tag"),
        ('<json>{"a": 1}</json><json>{"a": 2}</json>', {"a": 2}, "tag"),  # the last block
        (f'Here:\n{FENCE}json\n{{"a": 1}}\n{FENCE}\n', {"a": 1}, "fence"),
        (f'{FENCE}python\nx = {{"no": 1}}\n{FENCE}\n{FENCE}\n[1, 2]\n{FENCE}', [1, 2], "fence"),  # unlabelled counts, python not
        ('  {"a": [1, {"b": null}]}  ', {"a": [1, {"b": None}]}, "full"),
        ('I think {"a": 1} but finally {"a": 2}. Done.', {"a": 2}, "braces"),
        ('nested {"a": {"b": 1}} end', {"a": {"b": 1}}, "braces"),
        ('{"a": 1} trailing text', {"a": 1}, "braces"),
        ('for x in [0, 1], {"a": 1} and [2]', {"a": 1}, "braces"),  # lists in prose are not taken
        ("\\frac{1}{2} " * 50 + '{"a": 1}', {"a": 1}, "braces"),
    ],
)
def test_find_json(text, value, source):
    assert find_json(text) == (value, source, None)


def test_find_json_errors_and_modes():
    value, source, error = find_json('<json>{bad}</json> {"a": 1}')
    assert value is None and source == "tag" and "invalid JSON in the tag" in error  # a bad tag block is not skipped
    assert find_json("no json here")[2] == "no JSON found (auto)"
    assert find_json('{"a": 1}', extract="tag")[2] is not None
    assert find_json('x {"a": 1}', extract="full")[2].startswith("invalid JSON")
    assert find_json('<facts>{"a": 1}</facts>', tag="facts")[0] == {"a": 1}
    assert find_json(f"{FENCE}json\n{{}}", extract="fence")[2] is not None  # an unclosed fence is not a block


# --------------------------------------------------------------------------- validation and completeness


class Person(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    age: int
    email: str
    city: str
    nickname: str | None = None


SCHEMA = {
    "type": "object",
    "required": ["name", "age", "email", "city"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "age": {"type": "integer", "minimum": 0},
        "email": {"type": "string", "pattern": "@"},
        "city": {"type": "string"},
        "nickname": {"type": ["string", "null"]},
    },
}

GOOD = {"name": "Ada", "age": 36, "email": "ada@x.org", "city": "London"}

# (object, completeness by hand): slots = required fields + other fields with errors + 1 for root errors
COMPLETENESS_CASES = [
    (GOOD, 1.0),
    ({**GOOD, "nickname": None}, 1.0),
    ({k: v for k, v in GOOD.items() if k != "city"}, 3 / 4),  # one missing
    ({**GOOD, "age": "old"}, 3 / 4),  # one invalid
    ({"name": "Ada", "age": "old"}, 1 / 4),  # two missing, one invalid
    ({**GOOD, "nickname": 5}, 4 / 5),  # an invalid optional field is a slot too
    ({**GOOD, "extra": 1}, 4 / 5),  # a forbidden key: one root slot
    ([GOOD], 0.0),  # not an object
    ({}, 0.0),
]


@pytest.mark.parametrize("obj,share", COMPLETENESS_CASES)
@pytest.mark.parametrize("kind", ["model", "schema", "schema_builtin"])
def test_completeness_by_hand(obj, share, kind, monkeypatch):
    if kind == "schema_builtin":
        monkeypatch.setitem(sys.modules, "jsonschema", None)  # force the built-in subset
    opts = {"model": Person} if kind == "model" else {"schema": SCHEMA}
    s = registry.get("json_structure", **opts).score(Sample(json.dumps(obj)))
    assert s.value == pytest.approx(share)
    assert s.details["completeness"] == pytest.approx(share)
    assert s.verdict is (Verdict.PASS if share == 1.0 else Verdict.PARTIAL if share else Verdict.FAIL)
    if share < 1:
        assert s.details["errors"]
    strict = registry.get("json_structure", partial_credit=False, **opts).score(Sample(json.dumps(obj)))
    assert strict.value == (1.0 if share == 1.0 else 0.0)


def test_missing_and_invalid_named():
    s = registry.get("json_structure", schema=SCHEMA).score(Sample(json.dumps({"name": "Ada", "age": -1})))
    assert s.details["missing"] == ["email", "city"] and s.details["invalid"] == ["age"]
    assert s.verdict is Verdict.PARTIAL and s.value == pytest.approx(1 / 4)
    bad = registry.get("json_structure", schema=SCHEMA).score(Sample("```json\n{oops}\n```"))
    assert bad.verdict is Verdict.INVALID and bad.value == 0.0


def test_builtin_schema_subset(monkeypatch):
    monkeypatch.setitem(sys.modules, "jsonschema", None)
    schema = {
        "type": "object",
        "properties": {
            "tags": {"type": "array", "items": {"enum": ["a", "b"]}, "minItems": 1, "maxItems": 2},
            "n": {"anyOf": [{"type": "integer"}, {"const": "many"}]},
            "x": {"type": "number", "exclusiveMaximum": 1},
            "meta": {"type": "object", "additionalProperties": {"type": "string"}},
            "one": {"oneOf": [{"type": "integer"}, {"type": "number"}]},
            "both": {"allOf": [{"type": "string"}, {"maxLength": 2}]},
        },
    }
    obj = registry.get("json_structure", schema=schema)
    assert obj.score(Sample('{"tags": ["a"], "n": "many", "x": 0.5, "meta": {"k": "v"}, "one": 1.5, "both": "ab"}')).passed
    for bad in ('{"tags": []}', '{"tags": ["c"]}', '{"n": "few"}', '{"x": 1}', '{"meta": {"k": 1}}', '{"one": 1}', '{"both": "abc"}', '{"n": true}'):
        assert not obj.score(Sample(bad)).passed, bad


def test_json_structure_config_and_pickle():
    with pytest.raises(ConfigError, match="exactly one of model"):
        registry.get("json_structure")
    with pytest.raises(ConfigError, match="exactly one of model"):
        registry.get("json_structure", model=Person, schema=SCHEMA)
    with pytest.raises(ConfigError, match="cannot be imported"):
        registry.get("json_structure", model="moreward.nowhere:Model")
    with pytest.raises(ConfigError, match="not a pydantic model"):
        registry.get("json_structure", model="moreward.core:Sample")
    with pytest.raises(ConfigError, match=r"package\.module:Name"):
        registry.get("json_structure", model="EventFacts")
    with pytest.raises(ConfigError, match="invalid JSON schema"):
        registry.get("json_structure", schema={"type": 12})
    with pytest.raises(ConfigError, match="cannot be read"):
        registry.get("json_structure", schema="/no/such/schema.json")
    with pytest.raises(ConfigError, match="allowed: auto, tag, fence, full, braces"):
        registry.get("json_structure", schema=SCHEMA, extract="xml")
    obj = registry.get("json_structure", model="moreward.verifiers.structure:EventFacts", tag="facts")
    clone = pickle.loads(pickle.dumps(obj))
    assert clone == obj and clone.score(Sample("{}")) == obj.score(Sample("{}"))


def test_schema_from_file(tmp_path):
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(SCHEMA))
    assert registry.get("json_structure", schema=str(path)).score(Sample(json.dumps(GOOD))).passed


# --------------------------------------------------------------------------- Factum

FACTS = {
    "events": [
        {"id": "e1", "time": [0, 4], "entities": ["The man", "ball"], "action": "kicks"},
        {"id": "e2", "time": "0:04-0:06", "entities": ["ball"], "action": "hits the window"},
        {"id": "e3", "time": {"start": 6, "end": 10}, "entities": ["window"], "action": "breaks"},
    ],
    "causal_links": [{"cause": "e1", "effect": "e2"}, {"cause": "e2", "effect": "e3"}],
}


def test_parse_span():
    assert parse_span([1, 2.5]) == (1.0, 2.5)
    assert parse_span("1:02-1:10") == (62.0, 70.0)
    assert parse_span("01:00:00 - 01:00:30") == (3600.0, 3630.0)
    assert parse_span("12.5s-20s") == (12.5, 20.0)
    assert parse_span({"start": "0:05", "end": 9}) == (5.0, 9.0)
    assert parse_span([3, 3]) == (3.0, 3.0)
    for bad in ([5, 1], [-1, 2], [1], "soon", None, [True, 2], [float("nan"), 1], "1:xx-2", [1, float("inf")]):
        assert parse_span(bad) is None, bad


def test_event_facts_completeness_by_hand():
    assert event_facts_completeness(FACTS) == (1.0, {"events": 3, "links": 2, "dangling_links": 0})
    assert EventFacts.model_validate(FACTS).events[1].time == (4.0, 6.0)
    broken = json.loads(json.dumps(FACTS))
    broken["events"][0]["time"] = [4, 0]  # 1 of 4 event slots lost
    broken["events"][2].pop("entities")  # another
    broken["causal_links"].append({"cause": "e3", "effect": "e9"})  # a dangling link
    # slots: 2 top + 12 event + 3 link = 17; filled: 2 + 10 + 2 = 14
    assert event_facts_completeness(broken) == (14 / 17, {"events": 3, "links": 3, "dangling_links": 1})
    aliases = {"events": [{"event_id": "a", "span": [0, 1], "subjects": ["x"], "predicate": "moves"}], "links": []}
    assert event_facts_completeness(aliases)[0] == 1.0 and EventFacts.model_validate(aliases)
    assert event_facts_completeness({"events": []})[0] == 0.0  # 0 of 2 top-level slots
    assert event_facts_completeness([1])[0] == 0.0


def test_event_facts_objective():
    obj = registry.get("event_facts")
    good = obj.score(Sample(f"<facts>{json.dumps(FACTS)}</facts>\n<think>so</think><answer>B</answer>"))
    assert good.passed and good.details["events"] == 3
    partial = obj.score(Sample(json.dumps({"events": [{"id": "e1", "time": [0, 1]}], "causal_links": []})))
    assert partial.verdict is Verdict.PARTIAL and partial.value == pytest.approx(4 / 6)
    assert obj.score(Sample("no facts")).verdict is Verdict.INVALID
    assert obj.score(Sample("[]")).verdict is Verdict.FAIL


def _facts(edges, spans=None):
    names = sorted({n for e in edges for n in e} | set(spans or {}))
    events = [{"id": n, "time": (spans or {}).get(n, [0, 1]), "entities": [n.split()[0]], "action": n.split()[-1]} for n in names]
    return {"events": events, "causal_links": [{"cause": c, "effect": e} for c, e in edges]}


def test_causal_fidelity_by_hand():
    ref = _facts([("man kicks", "ball flies"), ("ball flies", "window breaks"), ("dog barks", "man kicks")])
    pred = _facts([("man kicks", "ball flies"), ("ball flies", "window breaks"), ("cat sleeps", "man kicks"), ("window breaks", "man kicks")])
    m = causal_fidelity(pred, ref)
    assert m["precision"] == pytest.approx(2 / 4) and m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 * (1 / 2) * (2 / 3) / (1 / 2 + 2 / 3))
    # entity names are normalised: case, punctuation and articles
    renamed = json.loads(json.dumps(pred))
    for ev in renamed["events"]:
        ev["id"] = ev["id"].upper() + "!"
        ev["entities"] = [f"The {e.title()}." for e in ev["entities"]]
    for link in renamed["causal_links"]:
        link["cause"], link["effect"] = link["cause"].upper() + "!", link["effect"].upper() + "!"
    assert causal_fidelity(renamed, ref) == m
    assert causal_fidelity(ref, ref)["f1"] == 1.0
    # edge cases
    assert causal_fidelity(_facts([]), _facts([])) == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "temporal_iou": 0.0}
    assert causal_fidelity(_facts([]), ref)["f1"] == 0.0
    assert causal_fidelity(pred, _facts([]))["f1"] == 0.0
    assert causal_fidelity("not facts", ref)["recall"] == 0.0
    dangling = {**ref, "causal_links": [*ref["causal_links"], {"cause": "ghost", "effect": "man kicks"}]}
    assert causal_fidelity(dangling, ref)["precision"] == pytest.approx(3 / 4)  # a dangling link is a wrong edge
    assert causal_fidelity(dangling, dangling)["precision"] == pytest.approx(3 / 4)  # and never matches one
    # matching by entities only: "man kicks" and "man runs" become the same node
    runs = _facts([("man runs", "ball flies")])
    assert causal_fidelity(runs, _facts([("man kicks", "ball flies")]), edge_key="entities")["f1"] == 1.0
    assert causal_fidelity(runs, _facts([("man kicks", "ball flies")]))["f1"] == 0.0


def test_temporal_iou():
    assert temporal_iou((0, 10), (5, 15)) == pytest.approx(5 / 15)
    assert temporal_iou((0, 10), (2, 4)) == pytest.approx(2 / 10)
    assert temporal_iou((0, 5), (5, 10)) == 0.0  # touching
    assert temporal_iou((3, 3), (3, 3)) == 1.0 and temporal_iou((3, 3), (4, 4)) == 0.0
    assert temporal_iou(None, (0, 1)) == 0.0
    ref = _facts([("man kicks", "ball flies")], {"man kicks": [0, 10], "ball flies": [10, 20]})
    pred = _facts([("man kicks", "ball flies")], {"man kicks": [5, 15], "ball flies": [10, 20]})
    assert causal_fidelity(pred, ref)["temporal_iou"] == pytest.approx((5 / 15 + 1) / 2)


def test_causal_fidelity_objective():
    obj = registry.get("causal_fidelity")
    text = f"<facts>{json.dumps(FACTS)}</facts> <think>t</think>"
    s = obj.score(Sample(text, reference=FACTS))
    assert s.passed and s.details["temporal_iou"] == 1.0
    assert obj.score(Sample(text, reference=json.dumps(FACTS))).passed
    assert obj.score(Sample(text, reference=EventFacts.model_validate(FACTS))).passed  # a model as reference
    assert registry.get("causal_fidelity", metric="recall").score(Sample(text, reference=_facts([("x y", "z w")]))).value == 0.0
    assert obj.score(Sample(text, reference=None)).verdict is Verdict.SKIP
    assert obj.score(Sample(text, reference="not json")).verdict is Verdict.SKIP
    assert obj.score(Sample("nothing", reference=FACTS)).verdict is Verdict.INVALID
    for opts, match in (({"metric": "iou"}, "allowed: f1"), ({"edge_key": "id"}, "allowed: event"), ({"tag": "<x>"}, "not a valid tag")):
        with pytest.raises(ConfigError, match=match):
            registry.get("causal_fidelity", **opts)
    assert pickle.loads(pickle.dumps(obj)) == obj


# --------------------------------------------------------------------------- properties

_leaf = st.one_of(st.none(), st.booleans(), st.integers(-5, 20), st.floats(allow_nan=True), st.text(max_size=6))
_json = st.recursive(_leaf, lambda c: st.one_of(st.lists(c, max_size=3), st.dictionaries(st.text(max_size=6), c, max_size=3)), max_leaves=10)
_event = st.fixed_dictionaries(
    {},
    optional={
        "id": st.sampled_from(["e1", "e2", 3]),
        "time": st.one_of(st.tuples(st.integers(-1, 9), st.integers(-1, 9)).map(list), st.sampled_from(["0:01-0:02", "x"])),
        "entities": st.one_of(st.lists(st.sampled_from(["man", "", "ball", 1]), max_size=3), st.text(max_size=3)),
        "action": st.one_of(st.sampled_from(["runs", " ", "kicks"]), st.integers()),
    },
)
_facts_strategy = st.fixed_dictionaries(
    {},
    optional={
        "events": st.one_of(st.lists(_event, max_size=3), _json),
        "causal_links": st.lists(st.fixed_dictionaries({"cause": st.sampled_from(["e1", "e2", "e9"]), "effect": st.sampled_from(["e1", "e2"])}), max_size=3),
    },
)


@settings(max_examples=150, deadline=None)
@given(_facts_strategy, _facts_strategy)
def test_facts_properties(pred, ref):
    share, _ = event_facts_completeness(pred)
    assert 0.0 <= share <= 1.0
    if share == 1.0:
        EventFacts.model_validate(pred)  # complete facts always validate
    m = causal_fidelity(pred, ref)
    assert all(0.0 <= v <= 1.0 for v in m.values())


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(max_size=120), _json.map(json.dumps), _facts_strategy.map(lambda f: f"<facts>{json.dumps(f)}</facts>")))
def test_structure_objectives_never_raise(text):
    for obj in (
        registry.get("json_structure", schema=SCHEMA),
        registry.get("json_structure", model=Person, extract="braces"),
        registry.get("event_facts"),
        registry.get("causal_fidelity", metric="temporal_iou"),
    ):
        s = obj.score(Sample(text, reference=FACTS))
        assert s.value is not None and 0.0 <= s.value <= 1.0 and s.reason
