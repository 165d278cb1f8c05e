"""k8snode.core.durations.parse_duration against Go's own time.ParseDuration (`k8s-truth duration -`) on generated text.

Each hypothesis example is a batch of a few hundred inputs that go through one Go process; ok/reject and the
nanoseconds must agree exactly for every input.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from k8snode.core.durations import parse_duration

pytestmark = pytest.mark.truth

UNITS = ("ns", "us", "\u00b5s", "\u03bcs", "ms", "s", "m", "h")
NOT_UNITS = ("", "d", "S", "sec", "M", "H", "\u00b5", "\u03bc", "u", "n", "mss", " s", "\u00b5S")
EDGES = (
    "0",
    "-0",
    "+0",
    "",
    "-",
    "+",
    ".",
    ".s",
    "9223372036854775807ns",
    "9223372036854775808ns",
    "-9223372036854775808ns",
    "-9223372036854775809ns",
    "2562047h47m16.854775807s",
    "2562047h47m16.854775808s",
    "-2562047h47m16.854775808s",
    "-2562047h47m16.854775809s",
    "2562047h48m",
    "106751d",
    "9223372036.854775807s",
    "9223372036.854775808s",
    "0.000000001ns",
    "1.00000000000000000000000000001s",
    "18446744073709551616ns",
)
digits = st.text("0123456789", min_size=1, max_size=22)
number = st.one_of(
    digits,
    st.builds(lambda whole, part: f"{whole}.{part}", st.one_of(st.just(""), digits), digits),
    st.builds(lambda whole: f"{whole}.", digits),
    st.integers(min_value=0, max_value=2**65).map(str),
)
unit = st.one_of(st.sampled_from(UNITS), st.sampled_from(NOT_UNITS))
composition = st.builds(
    lambda sign, parts: sign + "".join(parts),
    st.sampled_from(("", "", "-", "+", "--", "+-")),
    st.lists(st.builds(str.__add__, number, unit), min_size=1, max_size=4),
)
# Everything but line breaks, which separate the inputs on the Go helper's stdin.
any_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), max_size=14)
duration_alphabet = st.text("0123456789.+-nsuµμmh d", max_size=12)
duration_text = st.one_of(composition, composition, duration_alphabet, any_text, st.sampled_from(EDGES))


def k8snode_result(text: str) -> int | None:
    try:
        return parse_duration(text)
    except ValueError:
        return None


def go_results(k8s_truth: Path, inputs: list[str]) -> list[tuple[str, int | None]]:
    done = subprocess.run(
        [str(k8s_truth), "duration", "-"],
        input="".join(f"{text}\n" for text in inputs),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=True,
    )
    lines = [json.loads(line) for line in done.stdout.split("\n") if line]  # not splitlines: inputs hold \x85, \u2028
    return [(line["input"], line["nanoseconds"] if line["ok"] else None) for line in lines]


def test_parse_duration_agrees_with_go(truth_bin: Callable[[str], Path], truth_versions: list[str]) -> None:
    k8s_truth = truth_bin(truth_versions[0]) / "k8s-truth"
    counted: list[int] = []

    @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.lists(duration_text, min_size=200, max_size=400))
    def agree(inputs: list[str]) -> None:
        go = go_results(k8s_truth, inputs)
        assert [text for text, _ in go] == inputs, "the Go helper must echo every input, in order"
        ours = [(text, k8snode_result(text)) for text in inputs]
        assert [pair for pair in ours if pair not in go] == []
        counted.append(len(inputs))

    agree()
    print(f"{sum(counted)} generated durations in {len(counted)} batches agreed with Go's time.ParseDuration")
    assert sum(counted) >= 100 * 200


def test_the_edge_cases_go_through_unchanged(truth_bin: Callable[[str], Path], truth_versions: list[str]) -> None:
    go = dict(go_results(truth_bin(truth_versions[0]) / "k8s-truth", list(EDGES)))
    assert {text: k8snode_result(text) for text in EDGES} == go
    assert go["9223372036854775807ns"] == 2**63 - 1 and go["9223372036854775808ns"] is None
