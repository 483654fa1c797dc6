"""The output comparator, the value comparison, the data-only codec and the test formats."""

from __future__ import annotations

import math

import pytest

from moreward import ConfigError
from moreward.verifiers.code import OutputComparator, parse_tests, values_equal
from moreward.verifiers.code import _codec as codec


@pytest.mark.parametrize(
    "mode,actual,expected,ok",
    [
        ("lines", "1 2\n3\n", "1 2\n3\n", True),
        ("lines", "1 2   \n3\n\n\n", "1 2\n3", True),  # trailing spaces, trailing blank lines
        ("lines", "1  2\r\n3", "1 2\n3\n", True),  # token spacing, CRLF
        ("lines", "1 2\n", "1 2\n3\n", False),  # a prefix is not enough
        ("lines", "1 2\n\n3\n", "1 2\n3\n", False),  # a blank line inside
        ("lines", "1 2 3\n", "1 2\n3\n", False),
        ("tokens", "1 2 3\n", "1 2\n3\n", True),
        ("tokens", "1 2\n", "1 2 3\n", False),
        ("exact", "a\n", "a", True),
        ("exact", "a \n", "a\n", False),
        ("exact", "a\n\n", "a", False),
        ("lines", "0.3333333\n", "0.333333\n", True),
        ("lines", "0.34\n", "0.333333\n", False),
        ("lines", "1000000000000000001\n", "1000000000000000000\n", False),  # integers are exact
        ("lines", "3.0\n", "3\n", True),
        ("lines", "nan\n", "nan\n", True),
        ("lines", "inf\n", "1e308\n", False),
        ("lines", "YES\n", "yes\n", False),
    ],
)
def test_comparator(mode, actual, expected, ok):
    assert OutputComparator(mode)(actual, expected)[0] is ok


def test_comparator_case_folding_and_reasons():
    assert OutputComparator(case_sensitive=False)("YES\n", "yes\n")[0]
    ok, why = OutputComparator()("1\n2\n", "1\n3\n")
    assert not ok and "line 2" in why
    assert OutputComparator(rel_tol=0, abs_tol=0)("0.30000001", "0.3")[0] is False
    with pytest.raises(ConfigError, match="allowed: lines, tokens, exact"):
        OutputComparator("fuzzy")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "got,expected,ok",
    [
        ([1, 2], (1, 2), True),
        ((1, [2, 3]), [1, [2, 3]], True),
        (0.1 + 0.2, 0.3, True),
        (1, 1.0000000001, True),
        (True, 1, False),
        (1, True, False),
        ({"a": [1.0]}, {"a": [1]}, True),
        ({"a": 1}, {"b": 1}, False),
        ("1", 1, False),
        (None, 0, False),
        (math.nan, math.nan, True),
        (codec.Opaque("x.Anything"), 3, False),
        ({1, 2}, {2, 1}, True),
    ],
)
def test_values_equal(got, expected, ok):
    assert values_equal(got, expected) is ok


class _Liar(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__


class _Anything:
    def __eq__(self, other):
        return True


@pytest.mark.parametrize(
    "value",
    [None, True, 0, -7, 2**100, -(2**80), 1.5, math.inf, -math.inf, 1 + 2j, "é", b"\x00\xff", [1, [2]], (1, (2,)),
     {"a": (1, 2), 3: [4]}, {1, 2}, frozenset({3})],
)
def test_codec_round_trip(value):
    assert codec.loads(codec.dumps(value)) == value


def test_codec_reads_subclasses_by_their_real_value():
    assert codec.loads(codec.dumps(_Liar(5))) == 5
    assert type(codec.loads(codec.dumps(_Liar(5)))) is int
    out = codec.loads(codec.dumps([_Anything()]))
    assert out != [3] and isinstance(out[0], codec.Opaque)
    assert math.isnan(codec.loads(codec.dumps(math.nan)))


@pytest.mark.parametrize("text", ['{"$zz": 1}', '{"a": 1, "b": 2}', "[" * 5000 + "]" * 5000, "nope", '{"$i": "xyz"}'])
def test_codec_rejects_malformed(text):
    with pytest.raises(codec.CodecError):
        codec.loads(text)


def test_parse_formats():
    s = parse_tests([{"input": "1\n", "output": "2\n"}])
    assert (s.kind, s.inputs, s.expected) == ("stdio", ["1\n"], ["2\n"])
    s = parse_tests('{"inputs": ["1\\n"], "outputs": ["2\\n"]}')
    assert s.kind == "stdio"
    s = parse_tests({"input_output": '{"inputs": [[1, 2]], "outputs": [3], "fn_name": "add"}', "time_limit": 1})
    assert (s.kind, s.entry_point, s.inputs, s.time_limit) == ("call", "add", [[1, 2]], 1.0)
    s = parse_tests({"fn_name": "f", "tests": [{"input": "1\n2", "output": 3}]})  # LiveCodeBench: JSON per line
    assert s.inputs == [[1, 2]]
    s = parse_tests({"test": "def check(c): assert c(1)", "entry_point": "f", "prompt": "import math\n"})
    assert s.kind == "assert" and s.inputs[0]["prelude"] == "import math\n"
    s = parse_tests({"test_list": ["assert f(1) == 1", "assert f(2) == 2"], "test_setup_code": "x = 1"})
    assert s.kind == "assert" and len(s) == 2 and s.inputs[1]["prelude"] == "x = 1"
    s = parse_tests({"tests": [{"input": "", "output": ""}] * 2, "weights": [1, 3], "memory_limit": 64,
                     "language": "cpp"})
    assert (s.weights, s.memory_mb, s.language) == ([1.0, 3.0], 64, "cpp")


@pytest.mark.parametrize(
    "ref,kind",
    [(None, "auto"), ([], "auto"), ({"x": 1}, "auto"), ([{"input": 1}], "auto"),
     ({"inputs": [1], "outputs": []}, "auto"), ([{"input": "", "output": ""}], "call"),
     ({"tests": [{"input": "", "output": ""}], "weights": [1, 2]}, "auto")],
)
def test_parse_rejects(ref, kind):
    with pytest.raises(ValueError):
        parse_tests(ref, kind)
