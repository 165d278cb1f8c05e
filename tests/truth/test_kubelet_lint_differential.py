"""`kubelet-flags lint` against the real kubelet flag parser of every built release.

`k8s-truth kubelet-parse` parses each command line with a fresh NewKubeletCommand flag set (pflag Parse, then the
kubelet's refusal of non-flag words) and reports the error and the deprecation warnings. The corpus: every flag
of every built release and of the recorded history, each with a good value, bad values for its type, the
``--flag value`` form, booleans bare and with a separate value, repeats, typos, underscores, shorthands and
syntax errors, crossed with every built release. lint and the parser must agree on each case: accepted or not,
the kind of the first error, and the deprecation warnings, except for the cases listed in BY_DESIGN.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from k8snode.kubelet.flagdefs import FlagDef, minor
from k8snode.kubelet.flagsets import FlagSets, flag_sets
from k8snode.kubelet.lint import lint_words
from k8snode.kubelet.sources import Origin, Word

pytestmark = pytest.mark.truth

GOOD = {
    "bool": "true",
    "int32": "3",
    "int64": "3",
    "int": "3",
    "float64": "1.5",
    "float32": "1.5",
    "duration": "15s",
    "string": "x",
    "stringSlice": "a,b",
    "ip": "10.0.0.1",
    "mapStringBool": "AllAlpha=false",
    "quantity": "1Mi",
    "Level": "2",
    "pattern=N,...": "foo=2",
    "version": "false",
    "[]v1.Taint": "a=b:NoSchedule",
    "reserved-memory": "0:memory=1Gi",
}
GOOD_BY_GO_TYPE = {
    "*flag.LangleSeparatedMapStringString": "memory.available<100Mi",
    "*flag.ColonSeparatedMultimapStringString": "a:b",
    "*flag.MapStringString": "a=b",
    "*flag.MapStringString,nosplit": "a=b,c",
}
BAD = {
    "bool": ["yes", "2", ""],
    "int32": ["abc", "1.5", "99999999999", "0x", "08", "1__0", ""],
    "int64": ["abc", "1e3", "99999999999999999999"],
    "duration": ["10", "1d", "", "s"],
    "ip": ["300.1.1.1", "x", "10.0.0.1%eth0"],
    "stringSlice": ['a"b', '"a"b', '"a'],
    "mapStringBool": ["A=yes", "A", ",A=1,B"],
    "quantity": ["1X", "abc", "1e"],
    "Level": ["-1", "a", "2147483648"],
    "pattern=N,...": ["a", "a=x", "=1"],
    "version": ["maybe"],
    "[]v1.Taint": ["a=b:Bad", "a", "a:NoSchedule,a:NoSchedule", "a=b=c:NoSchedule", "-x:NoSchedule", ",", "a:b:c"],
    "reserved-memory": ["0:cpu=1", "x", "a:memory=1Gi", "0:memory=x", "0;1"],
}
BAD_BY_GO_TYPE = {
    "*flag.LangleSeparatedMapStringString": ["a=b", "a<b,c"],
    "*flag.ColonSeparatedMultimapStringString": ["a=b"],
    "*flag.MapStringString": ["novalue", "a=b,c"],
    "*flag.MapStringString,nosplit": ["novalue"],
    "*flag.IPVar": ["300.1.1.1", "x"],
}
SYNTAX = [
    ["--"],
    ["--", "--v=2"],
    ["---v=2"],
    ["--=x"],
    ["-"],
    ["-x"],
    ["-h"],
    ["-v", "2"],
    ["-v=2"],
    ["-v2"],
    ["-hv", "3"],
    ["-v"],
    ["stray"],
    ["--v=2", "stray"],
]
# Edge cases of the value grammars (Go's strconv, time, net, encoding/csv, resource.Quantity, taints).
EDGES = {
    "log-text-info-buffer-size": ["1n", "1u", "1.", ".5", "+1Ki", "1e3", "1E", "1Ei", "0.5m", "1.5.5", "-1", "1ki"],
    "address": ["::ffff:1.2.3.4", " 1.2.3.4", "1.2.3.4 ", "01.2.3.4", "1.2.3", "::", ""],
    "register-with-taints": [
        "example.com/a=b:NoSchedule",
        "a/b/c:NoSchedule",
        "a=:NoSchedule",
        "a-",
        "a=b-",
        "a=b:NoSchedule-",
        "a:NoSchedule,a=b:NoSchedule",
        "A_b.c=x_y:NoExecute",
        "a=" + "x" * 64 + ":NoSchedule",
        "",
    ],
    "max-pods": ["+3", "-0", "0b101", "0o17", "0X1F", "1_0", "0x_1", "3 ", "\u0663"],
    "sync-frequency": ["1.5h", ".5s", "1\u00b5s", "-1s", "0", "+0"],
    "version": ["v1.2.3", "v9.9.9", "raw", "true"],
    "cluster-dns": ['"a"', '""', 'a,"b""c"', 'a, "b"', '"a",'],
    "node-labels": ["a", "=", ",,"],
    "feature-gates": ["A=True", " A = true ", "A=true,", "=true"],
    "reserved-memory": ["+0:memory=1Gi", "0:hugepages-=1", "0:memory=1Gi;", " 0:memory=1Gi"],
    "v": ["+1", "01", "2147483647"],
    "vmodule": ["a=01", "a=+1", "a==1", ","],
    "healthz-bind-address": ["1.2.3.4:80"],
    "eviction-hard": ["a<", "<b", ""],
    "manifest-url-header": ["a:", ":b", "a:b:c"],
}
# Cases where lint and the kubelet parser disagree on purpose, each with its reason.
BY_DESIGN: dict[str, str] = {
    "--version=v1.2.3": "the kubelet accepts --version=vX.Y.Z only when X.Y.Z is its own build's version; lint knows "
    "the target's minor release, not the patch of the node's binary, so it leaves v-prefixed values alone",
    "--version=v9.9.9": "as --version=v1.2.3",
}


def definition(sets: FlagSets, name: str) -> FlagDef | None:
    for release in reversed(sets.releases):
        if name in release.flags:
            return release.flags[name]
    return None


def corpus(sets: FlagSets) -> list[list[str]]:
    cases: list[list[str]] = [list(case) for case in SYNTAX]
    cases += [[f"--{name}={value}"] for name, values in EDGES.items() for value in values]
    for name in sorted({name for release in sets.releases for name in release.flags} | set(sets.history)):
        flag = definition(sets, name)
        if flag is None:  # only in the recorded history: any value
            cases += [[f"--{name}=x"], [f"--{name}", "x"]]
            continue
        good = GOOD_BY_GO_TYPE.get(flag.go_type, GOOD.get(flag.type, flag.default or "x"))
        cases += [[f"--{name}={good}"], [f"--{name}", good], [f"--{name}={good}", f"--{name}={good}"]]
        cases += [[f"--{name}={bad}"] for bad in BAD_BY_GO_TYPE.get(flag.go_type, BAD.get(flag.type, []))]
        if flag.no_opt_default:
            cases += [[f"--{name}"], [f"--{name}", "false"], [f"--{name}=false"]]
        else:
            cases.append([f"--{name}"])
        if "-" in name:
            cases.append([f"--{name.replace('-', '_')}={good}"])
            cases.append([f"--{name.replace('-', '', 1)}={good}"])  # a typo
    return cases


def real_parse(k8s_truth: Path, cases: list[list[str]]) -> list[dict[str, Any]]:
    stdin = "".join(json.dumps(case) + "\n" for case in cases)
    done = subprocess.run(
        [str(k8s_truth), "kubelet-parse"], input=stdin, capture_output=True, text=True, timeout=600, check=True
    )
    return [json.loads(line) for line in done.stdout.splitlines()]


def real_verdict(parsed: dict[str, Any]) -> tuple[str, list[str]]:
    error = parsed["error"]
    warned = [line.split()[1] for line in parsed["warnings"] if line.startswith("Flag --")]
    if not error:
        return "ok", warned
    for prefix, kind in (
        ("failed to parse kubelet flag: unknown flag", "unknown"),
        ("failed to parse kubelet flag: unknown shorthand flag", "unknown"),
        ("failed to parse kubelet flag: invalid argument", "bad-value"),
        ("failed to parse kubelet flag: flag needs an argument", "needs-value"),
        ("failed to parse kubelet flag: bad flag syntax", "bad-syntax"),
        ("unknown command", "positional"),
    ):
        if error.startswith(prefix):
            return kind, []
    return f"other: {error}", []


LINT_KIND = {"removed": "unknown", "not-yet": "unknown", "unknown": "unknown"}


def lint_verdict(sets: FlagSets, version: str, case: list[str]) -> tuple[str, list[str]]:
    words = [Word(text, Origin("/case", 1)) for text in case]
    findings = lint_words(words, sets.target(minor(version)), sets)
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        return LINT_KIND.get(errors[0].kind, errors[0].kind), []
    return "ok", [f.flag or "" for f in findings if f.kind == "deprecated"]


def test_lint_agrees_with_the_real_kubelet_parser(
    truth_version: str, truth_command: Callable[[str, str], Path]
) -> None:
    sets = flag_sets()
    assert truth_version in [release.version for release in sets.releases], "regenerate kubelet_flags.json"
    cases = corpus(sets)
    real = real_parse(truth_command(truth_version, "kubelet-parse"), cases)
    assert len(real) == len(cases)
    disagreements, by_design = [], set()
    for case, parsed in zip(cases, real, strict=True):
        expected, mine = real_verdict(parsed), lint_verdict(sets, truth_version, case)
        if expected != mine and " ".join(case) in BY_DESIGN:
            by_design.add(" ".join(case))
        elif expected != mine:
            disagreements.append(f"{' '.join(case)!r}: kubelet {expected}, lint {mine} ({parsed['error']})")
    print(f"{truth_version}: {len(cases)} cases, {len(by_design)} differ by design, {len(disagreements)} disagreements")
    assert disagreements == []
    assert by_design == set(BY_DESIGN), "a by-design case agrees now: drop it from BY_DESIGN"
