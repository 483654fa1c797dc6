"""The moreward pytest plugin (entry point ``pytest11: moreward = "moreward.testing.plugin"``).

A thin module: it imports only pytest and the standard library at start-up. The
case-file machinery, the pipeline and hypothesis load when a golden-case file is
collected or a fixture is used.

What it adds:

- collection of golden-case files ``reward_cases*.yaml|yml|toml|jsonl`` (see
  :mod:`moreward.testing.cases`), one test item per case, each marked ``moreward_case``;
- the fixtures ``moreward_pipeline`` (a :class:`~moreward.pipeline.Pipeline`) and
  ``score`` (a :class:`~moreward.testing.assertions.PipelineScorer`);
- the marker ``@pytest.mark.moreward(config=PATH_OR_MAPPING)`` choosing a test's pipeline;
- options in the ``moreward`` group: ``--moreward-config PATH`` (ini: ``moreward_config``),
  ``--moreward-no-cases`` and ``--moreward-details``.

Disable it with ``-p no:moreward``.
"""

from __future__ import annotations

import argparse
import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ..pipeline import Pipeline
    from .assertions import PipelineScorer

__all__ = [
    "CASE_FILE_PATTERNS",
    "moreward_pipeline",
    "parse_config_path",
    "pytest_addoption",
    "pytest_collect_file",
    "pytest_configure",
    "pytest_report_header",
    "score",
    "session_config",
]

# Kept here (and equal to ``moreward.testing.cases.CASE_FILE_PATTERNS``, a test checks it)
# so that deciding whether to collect a file imports nothing.
CASE_FILE_PATTERNS: tuple[str, ...] = (
    "reward_cases*.yaml",
    "reward_cases*.yml",
    "reward_cases*.toml",
    "reward_cases*.jsonl",
)

_CONFIG_KEY: pytest.StashKey[Path | None] = pytest.StashKey()
_PIPELINES_KEY: pytest.StashKey[dict[str, Any]] = pytest.StashKey()


def parse_config_path(value: str) -> Path:
    """The ``--moreward-config`` value: an existing file, made absolute (argparse ``type``)."""
    path = Path(value).expanduser()
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"pipeline config not found: {value}")
    return path.resolve()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Options in the ``moreward`` group, all with the ``--moreward-`` prefix."""
    group = parser.getgroup("moreward", "moreward: reward tests (golden cases, fixtures)")
    group.addoption(
        "--moreward-config",
        metavar="PATH",
        type=parse_config_path,
        default=None,
        dest="moreward_config",
        help="pipeline config (TOML/YAML/JSON) for the moreward_pipeline and score fixtures and for "
        "golden cases that name no objective or config (default: the moreward_config ini option).",
    )
    group.addoption(
        "--moreward-no-cases",
        action="store_true",
        default=False,
        dest="moreward_no_cases",
        help="do not collect reward_cases*.yaml|yml|toml|jsonl golden-case files.",
    )
    group.addoption(
        "--moreward-details",
        action="store_true",
        default=False,
        dest="moreward_details",
        help="print each score's details (not only value, verdict, reason, extracted answer) when a golden case fails.",
    )
    parser.addini(
        "moreward_config",
        "pipeline config for the moreward fixtures and golden cases, relative to the ini file.",
        type="string",
        default="",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers and resolve the session's pipeline config."""
    config.addinivalue_line(
        "markers",
        "moreward(config): the pipeline config of this test's moreward_pipeline/score fixtures "
        "(a path relative to the test file, or a mapping).",
    )
    config.addinivalue_line(
        "markers",
        "moreward_case: a golden reward case collected from a reward_cases* file (added by moreward).",
    )
    config.stash[_CONFIG_KEY] = _resolve_config(config)
    config.stash[_PIPELINES_KEY] = {}


def _resolve_config(config: pytest.Config) -> Path | None:
    opt = config.getoption("moreward_config", None)
    if opt is not None:
        return Path(opt)
    ini = str(config.getini("moreward_config") or "").strip()
    if not ini:
        return None
    base = config.inipath.parent if config.inipath is not None else config.rootpath
    path = Path(ini).expanduser()
    path = path if path.is_absolute() else base / path
    if not path.is_file():
        where = config.inipath or "the ini file"
        raise pytest.UsageError(f"moreward_config = {ini!r} ({where}): pipeline config not found: {path}")
    return path


def session_config(config: pytest.Config) -> Path | None:
    """The session's pipeline config: ``--moreward-config``, else the ``moreward_config`` ini option."""
    return config.stash.get(_CONFIG_KEY, None)


def pytest_report_header(config: pytest.Config) -> str | None:
    """Name the session's pipeline config in the header, when one is set."""
    path = session_config(config)
    return f"moreward: config {path}" if path is not None else None


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """Collect golden-case files (unless ``--moreward-no-cases``)."""
    name = file_path.name
    if not any(fnmatch.fnmatchcase(name, p) for p in CASE_FILE_PATTERNS):
        return None
    if parent.config.getoption("moreward_no_cases", False):
        return None
    from ._items import RewardCaseFile

    return RewardCaseFile.from_parent(parent, path=file_path)


@pytest.fixture
def moreward_pipeline(request: pytest.FixtureRequest) -> Pipeline:
    """The pipeline of the test: ``@pytest.mark.moreward(config=...)``, else ``--moreward-config``
    / the ``moreward_config`` ini option. Built once per config and session."""
    from ._items import pipeline_for_request

    return pipeline_for_request(request, request.config.stash[_PIPELINES_KEY])  # type: ignore[no-any-return]


@pytest.fixture
def score(moreward_pipeline: Pipeline) -> PipelineScorer:
    """``score(completion, reference=None, **fields) -> Result`` with the test's pipeline;
    ``score.batch([...])`` scores several together."""
    from .assertions import PipelineScorer

    return PipelineScorer(moreward_pipeline)
