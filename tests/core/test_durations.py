"""k8snode's Go-duration parser against values whose Go results are known (see tools/k8s-truth for the
differential test against Go's own time.ParseDuration)."""

import pytest

from k8snode.core.durations import parse_duration

S = 1_000_000_000


@pytest.mark.parametrize(
    ("text", "nanoseconds"),
    [
        ("10s", 10 * S),
        ("1m30s", 90 * S),
        ("1.5h", 5400 * S),
        ("500ms", S // 2),
        ("0", 0),
        ("-0", 0),
        ("+5s", 5 * S),
        ("-1.5m", -90 * S),
        (".5s", S // 2),
        ("5.s", 5 * S),
        ("1h2m3s4ms5us6ns", 3723 * S + 4_005_006),
        ("3\u00b5s", 3000),
        ("3\u03bcs", 3000),
        ("2562047h47m16.854775807s", (1 << 63) - 1),
        ("-2562047h47m16.854775808s", -(1 << 63)),
        ("1.0000000000000000000000001s", S),
    ],
)
def test_accepts_what_go_accepts(text, nanoseconds):
    assert parse_duration(text) == nanoseconds


@pytest.mark.parametrize(
    "text",
    [
        "",
        "10",
        "ten",
        "1",
        "s",
        ".s",
        "-",
        "+",
        "1.2.3s",
        "10 s",
        "1d",
        "1S",
        "2562047h47m16.854775808s",
        "0x10s",
        "1e3s",
        "\uff11s",  # a fullwidth digit one
    ],
)
def test_rejects_what_go_rejects(text):
    with pytest.raises(ValueError):
        parse_duration(text)
