"""Factum's Structured Event Facts: structural completeness and causal fidelity.

Factum (Structured Causal Video Reasoning via Multi-Objective Alignment, arXiv
2604.04415) writes Structured Event Facts, time-ordered salient events and their causal
links, before it thinks; its RL stage balances structural completeness and causal
fidelity against accuracy and length. The paper's exact field names are not in the
sources read, so :class:`EventFacts` is this package's schema::

    {"events": [{"id": "e1", "time": [start, end], "entities": ["man", "ball"], "action": "kicks"}],
     "causal_links": [{"cause": "e1", "effect": "e2"}]}

with a few aliases accepted (``span``, ``subjects``, ``predicate``, ``links``, ``source``/``target``...).
Causal fidelity is precision, recall and F1 over cause -> effect edges between events
keyed by normalised entity names and action, and the temporal IoU of matched spans.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from ...core import BaseObjective, Sample, Score, Verdict
from ...errors import ConfigError
from ...registry import register
from ..text import normalize_text
from .validate import _EXTRACT, JsonExtract, find_json

__all__ = [
    "CausalFidelity",
    "CausalLink",
    "Event",
    "EventFacts",
    "EventFactsFormat",
    "causal_fidelity",
    "event_facts_completeness",
    "parse_span",
    "temporal_iou",
]


_TIME = re.compile(r"^\s*(?:(\d+):)?(?:(\d+):)?(\d+(?:\.\d+)?)\s*s?\s*$")


def _seconds(x: Any) -> float | None:
    if isinstance(x, bool):
        return None
    if isinstance(x, (int, float)):
        return float(x) if math.isfinite(x) and x >= 0 else None
    if isinstance(x, str) and (m := _TIME.match(x)):
        parts = [p for p in m.groups() if p is not None]
        total = 0.0
        for p in parts:
            total = total * 60 + float(p)
        return total
    return None


def parse_span(value: Any) -> tuple[float, float] | None:
    """A time span in seconds from ``[start, end]``, ``{"start", "end"}`` or ``"0:12-0:20"``
    (numbers, ``ss``, ``mm:ss``, ``hh:mm:ss``, optional ``s``); ``None`` when it is not one
    or ends before it starts."""
    if isinstance(value, str) and "-" in value:
        value = value.split("-", 1)
    elif isinstance(value, Mapping):
        value = [value.get("start"), value.get("end")]
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 2:
        return None
    start, end = _seconds(value[0]), _seconds(value[1])
    if start is None or end is None or end < start:
        return None
    return start, end


class Event(BaseModel):
    """One salient event: an id, a time span, the entities involved and the action."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")
    id: str = Field(validation_alias=AliasChoices("id", "event_id"))
    time: tuple[float, float] = Field(validation_alias=AliasChoices("time", "span", "timestamp"))
    entities: list[str] = Field(min_length=1, validation_alias=AliasChoices("entities", "subjects", "objects"))
    action: str = Field(min_length=1, validation_alias=AliasChoices("action", "predicate", "description"))

    @field_validator("time", mode="before")
    @classmethod
    def _span(cls, v: Any) -> tuple[float, float]:
        span = parse_span(v)
        if span is None:
            raise ValueError("time must be [start, end] with 0 <= start <= end")
        return span


class CausalLink(BaseModel):
    """A cause -> effect edge between two event ids."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")
    cause: str = Field(validation_alias=AliasChoices("cause", "source", "from"))
    effect: str = Field(validation_alias=AliasChoices("effect", "target", "to"))


class EventFacts(BaseModel):
    """Structured Event Facts: time-ordered events and the causal links between them."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")
    events: list[Event] = Field(min_length=1)
    causal_links: list[CausalLink] = Field(validation_alias=AliasChoices("causal_links", "links", "causality"))


def _get(d: Mapping[str, Any], *names: str) -> Any:
    return next((d[n] for n in names if n in d), None)


def _event_slots(ev: Any) -> tuple[int, int]:
    if not isinstance(ev, Mapping):
        return 0, 4
    ents = _get(ev, "entities", "subjects", "objects")
    action = _get(ev, "action", "predicate", "description")
    ok = [
        isinstance(_get(ev, "id", "event_id"), str),
        parse_span(_get(ev, "time", "span", "timestamp")) is not None,
        isinstance(ents, list) and bool(ents) and all(isinstance(e, str) and e.strip() for e in ents),
        isinstance(action, str) and bool(action.strip()),
    ]
    return sum(ok), 4


def event_facts_completeness(facts: Any) -> tuple[float, dict[str, Any]]:
    """Structural completeness of event facts: the share of slots filled validly, over
    two top-level slots (a non-empty ``events`` list, a ``causal_links`` list), four per
    event (``id``, ``time``, ``entities``, ``action``) and one per link (both ends name an
    event). Returns the share and the counts."""
    if not isinstance(facts, Mapping):
        return 0.0, {"events": 0, "links": 0, "dangling_links": 0}
    events = _get(facts, "events")
    links = _get(facts, "causal_links", "links", "causality")
    ok, total = int(isinstance(events, list) and bool(events)) + int(isinstance(links, list)), 2
    ids: set[str] = set()
    for ev in events if isinstance(events, list) else []:
        got, n = _event_slots(ev)
        ok, total = ok + got, total + n
        if isinstance(ev, Mapping) and isinstance(_get(ev, "id", "event_id"), str):
            ids.add(_get(ev, "id", "event_id"))
    dangling = 0
    for link in links if isinstance(links, list) else []:
        resolved = isinstance(link, Mapping) and _get(link, "cause", "source", "from") in ids and _get(link, "effect", "target", "to") in ids
        ok, total, dangling = ok + resolved, total + 1, dangling + (not resolved)
    n_events = len(events) if isinstance(events, list) else 0
    return ok / total, {"events": n_events, "links": len(links) if isinstance(links, list) else 0, "dangling_links": dangling}


_DANGLING = object()  # a link whose ends name no event: never equal to a reference edge
EdgeKey = Literal["event", "entities", "action"]
_EDGE_KEYS = ("event", "entities", "action")
Metric = Literal["f1", "precision", "recall", "temporal_iou"]
_METRICS = ("f1", "precision", "recall", "temporal_iou")


def _key(ev: Mapping[str, Any], how: str) -> Any:
    ents = _get(ev, "entities", "subjects", "objects")
    ents = frozenset(normalize_text(e, remove_articles=True) for e in ents if isinstance(e, str)) if isinstance(ents, list) else frozenset()
    action = _get(ev, "action", "predicate", "description")
    action = normalize_text(action, remove_articles=True) if isinstance(action, str) else ""
    return ents if how == "entities" else action if how == "action" else (action, ents)


def _graph(facts: Any, how: str) -> tuple[list[tuple[Any, Any]], dict[Any, list[tuple[float, float] | None]]]:
    if not isinstance(facts, Mapping):
        return [], {}
    events = [e for e in (_get(facts, "events") or []) if isinstance(e, Mapping)] if isinstance(_get(facts, "events"), list) else []
    by_id = {_get(e, "id", "event_id"): e for e in events if isinstance(_get(e, "id", "event_id"), str)}
    spans: dict[Any, list[tuple[float, float] | None]] = {}
    for ev in events:
        spans.setdefault(_key(ev, how), []).append(parse_span(_get(ev, "time", "span", "timestamp")))
    edges = []
    links = _get(facts, "causal_links", "links", "causality")
    for link in links if isinstance(links, list) else []:
        cause = by_id.get(_get(link, "cause", "source", "from")) if isinstance(link, Mapping) else None
        effect = by_id.get(_get(link, "effect", "target", "to")) if isinstance(link, Mapping) else None
        edges.append((_key(cause, how), _key(effect, how)) if cause is not None and effect is not None else (_DANGLING, object()))
    return edges, spans


def temporal_iou(a: tuple[float, float] | None, b: tuple[float, float] | None) -> float:
    """Intersection over union of two time spans (0 when either is missing; 1 for equal points)."""
    if a is None or b is None:
        return 0.0
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else float(a == b)


def causal_fidelity(pred: Any, ref: Any, *, edge_key: EdgeKey = "event") -> dict[str, float]:
    """Precision, recall and F1 of the predicted cause -> effect edges against the
    reference's, events matched by ``edge_key`` (normalised action and entity names, one
    of them, or both), and the mean temporal IoU over reference events (each matched to
    the best predicted event with the same key; unmatched: 0).

    Edge sets: ``P = |p ∩ r| / |p|``, ``R = |p ∩ r| / |r|``, ``F1 = 2PR / (P + R)`` (0 when
    ``P + R = 0``). A link whose ends name no event counts as a wrong predicted edge.
    No edges on either side: P = R = F1 = 1; none predicted but some expected: all 0.
    """
    p_edges, p_spans = _graph(pred, edge_key)
    r_edges, r_spans = _graph(ref, edge_key)
    p_set, r_set = set(p_edges), set(r_edges)
    hit = len(p_set & r_set)
    if not p_set and not r_set:
        precision = recall = 1.0
    else:
        precision = hit / len(p_set) if p_set else 0.0
        recall = hit / len(r_set) if r_set else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    ious = [max((temporal_iou(rs, ps) for ps in p_spans.get(k, [])), default=0.0) for k, spans in r_spans.items() for rs in spans]
    return {"precision": precision, "recall": recall, "f1": f1, "temporal_iou": sum(ious) / len(ious) if ious else 0.0}


def _facts_from(reference: Any) -> Any:
    if isinstance(reference, str):
        value, _, error = find_json(reference)
        return value if error is None else None
    return reference.model_dump() if isinstance(reference, BaseModel) else reference


@register("event_facts")
class EventFactsFormat(BaseObjective):
    """Structural completeness of Factum's Structured Event Facts
    (:func:`event_facts_completeness`), found like :func:`find_json` (tag ``facts`` first).
    PASS (1.0) when every slot is filled validly (then :class:`EventFacts` validates too).

    Args:
        extract: as :func:`find_json`.
        tag: the tag that holds the facts.
    """

    name: ClassVar[str] = "event_facts"

    def __init__(self, *, extract: JsonExtract = "auto", tag: str = "facts") -> None:
        if extract not in _EXTRACT:
            raise ConfigError(f"extract={extract!r} is not allowed; allowed: {', '.join(_EXTRACT)}")
        if not isinstance(tag, str) or not re.fullmatch(r"[A-Za-z][\w.:-]*", tag):
            raise ConfigError(f"tag {tag!r} is not a valid tag name")
        self.extract, self.tag = extract, tag

    def score(self, sample: Sample) -> Score:
        value, source, error = find_json(sample.completion, extract=self.extract, tag=self.tag)
        if error is not None:
            return Score(0.0, Verdict.INVALID, error, {"source": source})
        share, counts = event_facts_completeness(value)
        details = {"completeness": share, "source": source, **counts}
        if share == 1.0:
            return Score(1.0, Verdict.PASS, "complete event facts", details)
        verdict = Verdict.PARTIAL if share > 0 else Verdict.FAIL
        return Score(share, verdict, f"completeness {share:.2f}", details)


@register("causal_fidelity")
class CausalFidelity(BaseObjective):
    """Causal fidelity of the completion's event facts against the reference facts
    (:func:`causal_fidelity`). The value is ``metric`` (F1 by default); ``details`` holds
    precision, recall, F1 and temporal IoU. The reference is facts as a mapping, a
    JSON string or an :class:`EventFacts`; without one the sample is skipped.

    Args:
        metric: ``"f1"``, ``"precision"``, ``"recall"`` or ``"temporal_iou"``.
        edge_key: match events by ``"event"`` (action and entities), ``"entities"`` or ``"action"``.
        extract: as :func:`find_json`. tag: the tag that holds the facts.
    """

    name: ClassVar[str] = "causal_fidelity"

    def __init__(self, *, metric: Metric = "f1", edge_key: EdgeKey = "event", extract: JsonExtract = "auto", tag: str = "facts") -> None:
        for opt, val, allowed in (("metric", metric, _METRICS), ("edge_key", edge_key, _EDGE_KEYS), ("extract", extract, _EXTRACT)):
            if val not in allowed:
                raise ConfigError(f"{opt}={val!r} is not allowed; allowed: {', '.join(allowed)}")
        if not isinstance(tag, str) or not re.fullmatch(r"[A-Za-z][\w.:-]*", tag):
            raise ConfigError(f"tag {tag!r} is not a valid tag name")
        self.metric, self.edge_key, self.extract, self.tag = metric, edge_key, extract, tag

    def score(self, sample: Sample) -> Score:
        ref = _facts_from(sample.reference)
        if not isinstance(ref, Mapping) or not isinstance(_get(ref, "events"), list):
            return Score.skip(f"reference is not event facts: {sample.reference!r:.60}")
        value, source, error = find_json(sample.completion, extract=self.extract, tag=self.tag)
        if error is not None:
            return Score(0.0, Verdict.INVALID, error, {"source": source})
        m = causal_fidelity(value, ref, edge_key=self.edge_key)
        v = m[self.metric]
        verdict = Verdict.PASS if v == 1.0 else Verdict.FAIL if v == 0.0 else Verdict.PARTIAL
        return Score(v, verdict, f"{self.metric} {v:.3f}", {**m, "source": source})
