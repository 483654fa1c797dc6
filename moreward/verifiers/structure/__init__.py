"""Structured outputs: JSON found in a completion and validated against a pydantic model or
a JSON Schema with a completeness score (``json_structure``), and Factum's Structured
Event Facts (arXiv 2604.04415): structural completeness (``event_facts``) and causal
fidelity against reference facts (``causal_fidelity``).
"""

from __future__ import annotations

from .facts import (
    CausalFidelity,
    CausalLink,
    Event,
    EventFacts,
    EventFactsFormat,
    causal_fidelity,
    event_facts_completeness,
    parse_span,
    temporal_iou,
)
from .validate import JsonStructure, completeness, find_json

__all__ = [
    "CausalFidelity",
    "CausalLink",
    "Event",
    "EventFacts",
    "EventFactsFormat",
    "JsonStructure",
    "causal_fidelity",
    "completeness",
    "event_facts_completeness",
    "find_json",
    "parse_span",
    "temporal_iou",
]
