"""The pytest nodes of golden-case files, and the pipeline behind the ``moreward_pipeline`` fixture.

Imported by :mod:`moreward.testing.plugin` only when a case file is collected or the
fixture is used, so a pytest run that does neither pays nothing for it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pluggy
import pytest

from ..errors import ConfigError, MissingExtraError
from ._runner import CaseFailed, CaseRunner
from .cases import Case, CaseFileError, load_cases

__all__ = ["RewardCaseFile", "RewardCaseItem", "pipeline_for_request"]

_MARKER_ARGS = ("config",)
_INTERNAL: tuple[str, ...] = (
    str(Path(pytest.__file__).parent.parent / "_pytest"),
    str(Path(pluggy.__file__).parent),
    str(Path(__file__).parent),
)


class RewardCaseFile(pytest.File):
    """A ``reward_cases*.yaml|toml|jsonl`` file: one test item per case."""

    def collect(self) -> Iterator[pytest.Item]:
        from .plugin import session_config

        try:
            cases = load_cases(self.path)
        except (CaseFileError, MissingExtraError) as exc:
            raise self.CollectError(str(exc)) from None
        runner = CaseRunner(
            cases,
            default_config=session_config(self.config),
            details=bool(self.config.getoption("moreward_details", False)),
        )
        for case in cases:
            if case.expect is None:  # only the other side of an ordering
                continue
            item = RewardCaseItem.from_parent(self, name=case.id, case=case, runner=runner)
            item.add_marker(pytest.mark.moreward_case)
            for name in case.marks:
                try:
                    mark = getattr(pytest.mark, name)
                except (
                    pytest.fail.Exception,
                    pytest.PytestUnknownMarkWarning,
                ) as exc:  # an unregistered marker
                    raise self.CollectError(
                        f"{self.path}: case {case.id!r} ({case.where}): marks: {exc}"
                    ) from None
                item.add_marker(mark)
            if case.skip is not None:
                item.add_marker(pytest.mark.skip(reason=case.skip))
            if case.xfail is not None:
                item.add_marker(pytest.mark.xfail(reason=case.xfail, strict=True))
            yield item


class RewardCaseItem(pytest.Item):
    """One golden case: scores it and checks the expectation."""

    def __init__(self, *, case: Case, runner: CaseRunner, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.runner = runner

    def runtest(self) -> None:
        self.runner.check(self.case.id)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, (CaseFailed, CaseFileError, MissingExtraError)):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def _traceback_filter(self, excinfo: pytest.ExceptionInfo[BaseException]) -> Any:
        # A reward that raises: show its own frames, not pytest's, pluggy's or this plugin's.
        keep = excinfo.traceback.filter(lambda entry: not str(entry.path).startswith(_INTERNAL))
        return keep if len(keep) else excinfo.traceback

    def reportinfo(self) -> tuple[Path, int, str]:
        # A line number is required: pytest reports a skip marker at the item's location.
        return self.path, 0, f"reward case {self.case.id}"


def _marker_source(request: pytest.FixtureRequest) -> Any:
    marker = request.node.get_closest_marker("moreward")
    if marker is None:
        return None
    unknown = [k for k in marker.kwargs if k not in _MARKER_ARGS]
    if unknown or len(marker.args) > 1 or (marker.args and "config" in marker.kwargs):
        pytest.fail(
            f"@pytest.mark.moreward: unknown argument(s) {', '.join(map(repr, unknown)) or repr(marker.args)}; "
            f"allowed: {', '.join(_MARKER_ARGS)} (a config path relative to the test file, or a mapping)",
            pytrace=False,
        )
    source = marker.kwargs.get("config", marker.args[0] if marker.args else None)
    if isinstance(source, (str, Path)):
        path = Path(source).expanduser()
        return path if path.is_absolute() else Path(request.node.path).parent / path
    if isinstance(source, Mapping):
        return dict(source)
    pytest.fail(
        f"@pytest.mark.moreward: config must be a path or a mapping, got {source!r:.80}", pytrace=False
    )


def pipeline_for_request(request: pytest.FixtureRequest, cache: dict[str, Any]) -> Any:
    """The pipeline of a test: its ``moreward`` marker's config, else the session config (cached by config)."""
    from ..pipeline import Pipeline
    from .plugin import session_config

    source = _marker_source(request)
    if source is None:
        source = session_config(request.config)
    if source is None:
        pytest.fail(
            "moreward_pipeline needs a pipeline config: pass --moreward-config PATH, set moreward_config "
            "in the ini file, or mark the test @pytest.mark.moreward(config=PATH)",
            pytrace=False,
        )
    key = str(source) if isinstance(source, Path) else json.dumps(source, sort_keys=True, default=repr)
    if key not in cache:
        try:
            cache[key] = Pipeline.from_config(source)
        except (ConfigError, MissingExtraError) as exc:
            pytest.fail(f"moreward_pipeline: {exc}", pytrace=False)
    return cache[key]
