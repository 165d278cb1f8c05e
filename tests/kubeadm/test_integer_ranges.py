"""An integer field takes what the Go type it decodes into holds (int32, uint32, int64), as kubeadm's
decoding does ("cannot unmarshal number 2147483648 into Go struct field KubeProxyConfiguration.oomScoreAdj of type
int32"); the schemas carry that type (tools/k8s-truth/schema.go). tests/truth/test_integer_ranges_truth.py compares
the same boundaries with the real kubeadm."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes import make_node, write
from where import FIXTURES

from k8snode.core import schema

BOUNDS = {"int32": (-(2**31), 2**31 - 1), "uint32": (0, 2**32 - 1), "int64": (-(2**63), 2**63 - 1)}
DOCUMENTS = {
    "KubeProxyConfiguration": "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n",
    "KubeletConfiguration": "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n",
}
# (kind, field path, Go type): a field of each width the schemas use, an int-or-string and a list item.
FIELDS = [
    ("KubeProxyConfiguration", "oomScoreAdj", "int32"),
    ("KubeletConfiguration", "logging.verbosity", "uint32"),
    ("KubeletConfiguration", "maxOpenFiles", "int64"),
    ("KubeletConfiguration", "logging.flushFrequency", "int64"),  # a duration string, or integer nanoseconds
    ("KubeletConfiguration", "tlsCurvePreferences", "int32"),  # a list of int32
]
IDS = [f"{kind}.{path}" for kind, path, _ in FIELDS]


def document(kind: str, path: str, value: int | str) -> str:
    """The kind's document setting ``path`` (dotted) to ``value``, or to ``[value]`` for the list field."""
    *parents, name = path.split(".")
    scalar = f"[{value}]" if name == "tlsCurvePreferences" else str(value)
    lines = [f"{'  ' * depth}{parent}:" for depth, parent in enumerate(parents)]
    lines.append(f"{'  ' * len(parents)}{name}: {scalar}")
    return DOCUMENTS[kind] + "\n".join(lines) + "\n"


def out_of_range(value: int, go_type: str) -> str:
    low, high = BOUNDS[go_type]
    return f"{value} is out of range for {go_type} ({low} to {high})"


@pytest.fixture
def node(tmp_path: Path) -> Path:
    return make_node(tmp_path / "node")


@pytest.mark.parametrize(("kind", "path", "go_type"), FIELDS, ids=IDS)
def test_validate_takes_the_bounds_of_the_go_type_and_refuses_one_beyond(cli, tmp_path, kind, path, go_type):
    low, high = BOUNDS[go_type]
    for value, valid in ((low, True), (high, True), (low - 1, False), (high + 1, False)):
        write(tmp_path / "cfg.yaml", document(kind, path, value))
        run = cli("validate", "/cfg.yaml", "--root", str(tmp_path))
        if valid:
            assert run.exit_code == 0, (value, run.stdout)
        else:
            assert run.exit_code == 1, (value, run.stdout)
            assert f"{kind}.{path}" in run.stdout and out_of_range(value, go_type) in run.stdout


@pytest.mark.parametrize(("kind", "path", "go_type"), FIELDS, ids=IDS)
def test_set_refuses_a_value_beyond_the_go_type_in_one_line_and_writes_nothing(cli, node, kind, path, go_type):
    low, high = BOUNDS[go_type]
    options = ("--kubelet-config", "--out", "/etc/kubernetes/init-config.yaml", "--root", str(node))
    for value in (low - 1, high + 1):
        run = cli("kubeadm-config", "--set", f"{kind}.{path}={value}", *options)
        message = f"k8snode: error: --set {kind}.{path}: {out_of_range(value, go_type)}\n"
        assert (run.exit_code, run.stderr) == (2, message)
        assert not (node / "etc/kubernetes/init-config.yaml").exists()
    run = cli("kubeadm-config", "--set", f"{kind}.{path}={high}", *options)
    assert run.exit_code == 0, run.stderr
    assert str(high) in (node / "etc/kubernetes/init-config.yaml").read_text()


def test_patch_refuses_a_value_beyond_the_go_type_in_one_line(cli, node):
    defaults = (FIXTURES / "init-defaults-v1.37.2.yaml").read_text()
    assert "\noomScoreAdj: null\n" in defaults
    write(node / "in.yaml", defaults.replace("\noomScoreAdj: null\n", f"\noomScoreAdj: {2**31}\n"))
    run = cli("kubeadm-config", "--patch", "/in.yaml", "--root", str(node))
    assert run.exit_code == 2 and run.stderr.count("\n") == 1, run.stderr
    assert f"KubeProxyConfiguration.oomScoreAdj: {out_of_range(2**31, 'int32')}" in run.stderr


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("\u00b2", "'²' is not an integer value"),  # str.isdigit() is true for it, int() refuses it
        ("\u0663", "'٣' is not an integer value"),  # a digit to int(), not to Go
        ("9" * 5000, "a number of 5000 digits is out of range for int32 (-2147483648 to 2147483647)"),
        ("-" + "9" * 5000, "a number of 5000 digits is out of range for int32 (-2147483648 to 2147483647)"),
    ],
    ids=["superscript two", "Arabic-Indic three", "5,000 digits", "minus 5,000 digits"],
)
def test_set_numbers_python_reads_otherwise_are_exit_2(cli, node, value, message):
    run = cli("kubeadm-config", "--set", f"KubeProxyConfiguration.oomScoreAdj={value}", "--root", str(node))
    assert run.exit_code == 2 and run.stderr.count("\n") == 1, run.stderr
    assert message in run.stderr and "internal error" not in run.stderr


def _integer_specs(spec: Any, path: str) -> Iterator[tuple[str, Any]]:
    if spec["type"] == "object":
        for name, child in spec["fields"].items():
            yield from _integer_specs(child, f"{path}.{name}")
    elif spec["type"] in ("list", "map"):
        yield from _integer_specs(spec["items" if spec["type"] == "list" else "values"], f"{path}[]")
    elif spec["type"] in ("integer", "int-or-string"):
        yield path, spec


def test_every_integer_in_the_shipped_schemas_names_a_go_type_k8snode_knows():
    seen = set()
    for node in (Path(schema.__file__).parent / "schemas").glob("*.json"):
        data = json.loads(node.read_text())
        for path, spec in _integer_specs({"type": "object", "fields": data["fields"]}, data["kind"]):
            assert schema.scalar_problem(0, spec) is None, path  # a KeyError for a format without a range
            seen.add(spec["format"])
    assert {"int32", "int64", "uint32"} <= seen


@pytest.mark.parametrize(
    ("kind", "path", "text", "valid"),
    [
        ("KubeletConfiguration", "maxPods", "5.0", True),
        ("KubeletConfiguration", "maxPods", "1e3", True),
        ("KubeletConfiguration", "maxPods", "!!float 5", True),
        ("KubeletConfiguration", "maxPods", "2147483647.0", True),
        ("KubeletConfiguration", "maxPods", "2147483648.0", False),
        ("KubeletConfiguration", "maxPods", "5.5", False),
        ("KubeletConfiguration", "maxPods", ".inf", False),
        ("KubeletConfiguration", "maxOpenFiles", "-9223372036854774784.0", True),
        # -2**63 is a float64, but Go writes it -9223372036854776000, beyond int64
        ("KubeletConfiguration", "maxOpenFiles", "-9223372036854775808.0", False),
        ("KubeletConfiguration", "logging.flushFrequency", "1e9", True),
    ],
)
def test_a_float_without_a_fraction_is_the_integer_go_reads_from_it(cli, tmp_path, kind, path, text, valid):
    """sigs.k8s.io/yaml turns YAML into JSON before decoding: a float64 without a fraction becomes its shortest
    digits, which an integer field takes (kubeadm v1.37.2 accepts maxPods: 5.0 and refuses 2147483648.0)."""
    write(tmp_path / "cfg.yaml", document(kind, path, text))
    run = cli("validate", "/cfg.yaml", "--root", str(tmp_path))
    assert run.exit_code == (0 if valid else 1), run.stdout
