"""Every flag k8snode kubelet-flags prints exists in that release's real kubelet, with the same deprecation verdict."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from required import e2e_binary

from k8snode.kubelet.flags import catalog, parse_version

pytestmark = pytest.mark.truth

REPO = Path(__file__).resolve().parents[2]
KUBELET_FLAGS = REPO / "k8snode" / "kubelet" / "data" / "kubelet_flags.json"
# A flag line of pflag's FlagUsages, as `kubelet --help` prints it: "  -h, --help" or "      --address ip".
HELP_FLAG = re.compile(r"^ +(?:-\w, )?--([a-z0-9-]+)", re.MULTILINE)

# One value of each catalog value type, as its k8snode option takes it (bool settings are switches).
SAMPLE_VALUES = {
    "urls": "https://192.0.2.10:6443",
    "path": "/etc/kubernetes/kubelet-sample.conf",
    "duration": "15s",
    "url": "https://192.0.2.10/manifest.yaml",
    "headers": "Authorization:Bearer-sample",
    "ips": "192.0.2.20",
    "labels": "node-role.example/worker=true",
    "taints": "dedicated=infra:NoSchedule",
}


def real_flags(k8s_truth: Path) -> dict[str, dict[str, Any]]:
    done = subprocess.run([str(k8s_truth), "kubelet-flags"], capture_output=True, text=True, timeout=60, check=True)
    return {flag["name"]: flag for flag in json.loads(done.stdout)["flags"]}


def option_words(name: str) -> list[str]:
    """The k8snode options that give setting ``name`` a plausible value."""
    setting = catalog().setting(name)
    if setting.type == "bool":
        return [setting.option]
    if setting.type == "enum":
        return [setting.option, next(choice for choice in setting.choices if choice)]
    return [setting.option, SAMPLE_VALUES[setting.type]]


def test_every_setting_type_has_a_sample_value() -> None:
    types = {setting.type for setting in catalog().settings} - {"bool", "enum"}
    assert types == set(SAMPLE_VALUES)


def test_printed_flags_exist_in_the_real_kubelet_with_the_same_deprecation(
    truth_version: str, truth_bin: Callable[[str], Path], cli
) -> None:
    real = real_flags(truth_bin(truth_version) / "k8s-truth")
    version = parse_version(truth_version).minor_version
    runs: dict[str, list[str]] = {"default set": []}
    runs |= {name: option_words(name) for name in (s.name for s in catalog().settings) if _available(name, version)}
    mismatches: list[str] = []
    checked: set[str] = set()
    for label, words in runs.items():
        run = cli("kubelet-flags", "--format", "flags", "--kubernetes-version", truth_version, *words, "--json")
        assert run.exit_code == 0, (label, run.stderr)
        data = run.envelope()["data"]
        deprecated = {entry["flag"].removeprefix("--") for entry in data["deprecations"]}
        for word in data["flags"]:
            flag = word.removeprefix("--").partition("=")[0]
            checked.add(flag)
            if flag not in real:
                mismatches.append(f"{label}: --{flag} is not a kubelet {truth_version} flag")
            elif (flag in deprecated) != bool(real[flag]["deprecated"]):
                verdict = "deprecated" if flag in deprecated else "current"
                mismatches.append(
                    f"{label}: k8snode calls --{flag} {verdict}; kubelet says {real[flag]['deprecated']!r}"
                )
    print(f"{truth_version}: {len(runs)} runs, {len(checked)} distinct flags checked against {len(real)} real flags")
    assert mismatches == []


def test_flags_the_catalog_does_not_give_for_a_release_are_not_in_its_kubelet(
    truth_version: str, truth_bin: Callable[[str], Path], cli
) -> None:
    real = real_flags(truth_bin(truth_version) / "k8s-truth")
    version = parse_version(truth_version).minor_version
    current = {name.flag for setting in catalog().settings for name in setting.flags if name.covers(version)}
    gone = {name.flag for setting in catalog().settings for name in setting.flags} - current
    assert gone, "the catalog has flags of older releases (e.g. --api-servers), so this check is not empty"
    assert sorted(flag for flag in gone if flag.removeprefix("--") in real) == []
    for setting in catalog().settings:
        if not _available(setting.name, version):
            run = cli("kubelet-flags", "--kubernetes-version", truth_version, *option_words(setting.name))
            assert run.exit_code == 2, setting.name
            assert f"target kubelet {version[0]}.{version[1]}" in run.stderr, run.stderr


def _available(name: str, version: tuple[int, int]) -> bool:
    setting = catalog().setting(name)
    removed = setting.removed is not None and version >= setting.removed
    return not removed and setting.flag_at(version) is not None


def test_the_generated_flag_set_is_the_real_kubelets(e2e_version: str) -> None:
    """kubelet_flags.json of the release lists exactly the flags the real kubelet's `--help` prints, besides the
    hidden ones it omits. k8s-truth registers the flag set without linking cmd/kubelet/app (kubelet_inits.go); the
    real binary, built for the e2e releases, is what shows that nothing the kubelet registers at start-up is missed."""
    done = subprocess.run(
        [str(e2e_binary(e2e_version, "kubelet")), "--help"], capture_output=True, text=True, timeout=60, check=True
    )
    printed = set(HELP_FLAG.findall(done.stdout))
    data = json.loads(KUBELET_FLAGS.read_text())
    index = data["releases"].index(e2e_version)
    rows = [row for row in data["flags"] if index in row["in"]]
    shown = {row["name"] for row in rows if not row.get("hidden")}
    hidden = {row["name"] for row in rows if row.get("hidden")}
    print(f"{e2e_version}: kubelet --help prints {len(printed)} flags; kubelet_flags.json has {len(shown)} + "
          f"{len(hidden)} hidden ({', '.join(sorted(hidden)) or 'none'})")  # fmt: skip
    assert sorted(printed - shown) == [], "flags of the real kubelet that kubelet_flags.json lacks"
    assert sorted(shown - printed) == [], "flags in kubelet_flags.json that the real kubelet does not print"
    assert printed & hidden == set()


def test_the_shipped_kubelet_flags_are_the_generated_ones(
    truth_versions: list[str], truth_bin: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    caches = {truth_bin(version).parent for version in truth_versions}
    assert len(caches) == 1
    monkeypatch.syspath_prepend(str(REPO / "tools" / "k8s-truth"))  # the generator imports gen_schemas beside it
    spec = importlib.util.spec_from_file_location("gen_kubelet_flags", REPO / "tools/k8s-truth/gen_kubelet_flags.py")
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    text, counts = generator.generated(truth_versions, caches.pop())
    print(counts)
    assert KUBELET_FLAGS.read_text() == text, "run tools/k8s-truth/gen_kubelet_flags.py"
