"""The built wheel ships templates/ and its console script works from a fresh virtual environment.

Offline: the wheel is built with the hatchling of the test environment (no isolated build environment to fetch), and
the fresh environment installs it without an index, taking k8snode's dependencies from the test environment.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import zipfile

import pytest
from where import REPO


@pytest.mark.heavy
def test_wheel_installs_into_a_fresh_venv_and_runs(tmp_path, fake_root):
    dist = tmp_path / "dist"
    build = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(REPO)]
    subprocess.run(build, check=True, capture_output=True)
    wheel = next(dist.glob("k8snode-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "k8snode/templates/ipvs.modules.tmpl" in names
    assert {
        "k8snode/kubeadm/data/skeletons/v1beta4.yaml",
        "k8snode/core/schemas/kubeadm.k8s.io_v1beta4_InitConfiguration.json",
        "k8snode/kubeadm/data/init-defaults/v1.37.2.yaml",
    } <= set(names)
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    installed = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    # k8snode's dependencies from the test environment, placed after its own site-packages (the wheel's k8snode wins)
    (installed / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = [str(venv / "bin/pip"), "install", "-q", "--no-index", "--no-deps", str(wheel)]
    subprocess.run(install, check=True, capture_output=True)
    where = [str(venv / "bin/python"), "-c", "import k8snode; print(k8snode.__file__)"]
    assert subprocess.run(where, capture_output=True, text=True, cwd=tmp_path).stdout.startswith(str(installed))
    root = fake_root("el8.3-4.18")
    run = subprocess.run(
        [str(venv / "bin/k8snode"), "ipvs", "enable", "--root", str(root.path), "--json"],
        capture_output=True,
        text=True,
        env=root.env(),
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["data"]["conntrack_rule"]["module"] == "nf_conntrack"
    assert (root.path / "etc/sysconfig/modules/ipvs.modules").read_text().startswith("#!/bin/bash\n# Written by")
    rendered = subprocess.run(
        [str(venv / "bin/k8snode"), "kubeadm-config", "--advertise-address", "192.0.2.10", "--root", str(root.path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert rendered.returncode == 0, rendered.stderr
    assert "kind: KubeProxyConfiguration\nmode: ipvs\n" in rendered.stdout
