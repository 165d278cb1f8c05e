"""The command line itself: how options are declared, what completes, and options given before a subcommand."""

from __future__ import annotations

import inspect
import json
from dataclasses import fields
from typing import Annotated, get_args, get_origin

import pytest
import typer
from clitree import command, leaves

from k8snode.commands.kubeadm_config import ApiVersion
from k8snode.core.releases import KUBEADM_APIS
from k8snode.kubeadm.options import Options


def test_every_parameter_is_declared_one_way_annotated_with_a_named_typer_option_or_an_argument():
    odd = []
    for name, leaf in leaves():
        function = leaf.callback.__wrapped__  # Typer wraps the function it builds the command from
        # inspect, not typing.get_type_hints: before 3.11 the latter wraps Annotated in Optional for a None default
        for parameter, declared_as in inspect.signature(function, eval_str=True).parameters.items():
            hint = declared_as.annotation
            if hint is typer.Context:
                continue
            info = get_args(hint)[1] if get_origin(hint) is Annotated else None
            # An option names its flags (Typer takes the first from its first argument); an argument is named by its
            # parameter.
            declared = isinstance(info, typer.models.ArgumentInfo) or (
                isinstance(info, typer.models.OptionInfo) and str(info.default).startswith("--")
            )
            if not declared:
                odd.append(f"{name}: {parameter}")
    assert leaves() and odd == []


@pytest.mark.parametrize(
    ("words", "values"),
    [
        ("kubeadm-config --proxy-mode ", ["ipvs", "iptables", "nftables"]),
        ("kubeadm-config --lb ", ["metallb", "kube-vip"]),
        ("kubeadm-config --api-version ", ["auto", "v1beta4", "v1beta3", "v1alpha1"]),
        ("validate init.yaml --lb ", ["metallb", "kube-vip"]),
        ("node check --proxy-mode ", ["ipvs", "iptables", "nftables"]),
        ("doctor --proxy-mode ", ["ipvs", "iptables", "nftables"]),
    ],
)
def test_choice_options_complete_their_values(k8snode, words, values):
    env = {"PATH": "/usr/bin:/bin", "_K8SNODE_COMPLETE": "complete_bash"}
    line = f"k8snode {words}"
    run = k8snode(env={**env, "COMP_WORDS": line, "COMP_CWORD": str(len(line.split()))})
    assert (run.exit_code, run.stdout.split()) == (0, values)


def test_the_api_version_choices_are_auto_and_the_kubeadm_apis_k8snode_knows():
    assert get_args(ApiVersion) == ("auto", *(api.name for api in KUBEADM_APIS))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["kubeadm-config", "--lb", "f5"], "Invalid value for '--lb': 'f5' is not one of 'metallb', 'kube-vip'."),
        (
            ["kubeadm-config", "--proxy-mode", "userspace"],
            "Invalid value for '--proxy-mode': 'userspace' is not one of 'ipvs', 'iptables', 'nftables'.",
        ),
        (
            ["kubeadm-config", "--api-version", "v1beta5"],
            "Invalid value for '--api-version': 'v1beta5' is not one of 'auto', 'v1beta4', 'v1beta3', 'v1alpha1'.",
        ),
        (["validate", "-", "--lb", "f5"], "Invalid value for '--lb': 'f5' is not one of 'metallb', 'kube-vip'."),
    ],
)
def test_a_value_that_is_not_a_choice_is_one_line_and_exit_2(cli, args, message):
    run = cli(*args)
    assert (run.exit_code, run.stdout, run.stderr) == (2, "", f"k8snode: error: {message}\n")


def test_kubelet_flags_options_before_lint_are_refused_not_ignored(cli, tmp_path):
    run = cli("kubelet-flags", "--kubernetes-version", "v1.20.0", "lint", "--root", str(tmp_path))
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == (
        "k8snode: error: --kubernetes-version given before 'lint': kubelet-flags lint takes its options after 'lint'\n"
    )


def test_kubelet_flags_json_before_lint_is_refused_with_the_envelope(cli, tmp_path):
    run = cli("kubelet-flags", "--json", "lint", "--root", str(tmp_path))
    message = "--json given before 'lint': kubelet-flags lint takes its options after 'lint'"
    assert (run.exit_code, run.stderr) == (2, f"k8snode: error: {message}\n")
    envelope = json.loads(run.stdout)
    assert (envelope["command"], envelope["error"]) == ("kubelet-flags lint", {"message": message, "exit_code": 2})


def test_kubelet_flags_lint_takes_the_same_options_after_its_name(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("K8SNODE_ROOT", str(tmp_path))  # the group's --root from the environment is not "given before"
    run = cli("kubelet-flags", "lint", "--kubernetes-version", "v1.20.0", "--json")
    assert run.exit_code == 0, run.stderr
    assert json.loads(run.stdout)["data"]["kubernetes_version"] == "v1.20.0"


def test_kubelet_flags_alone_still_prints_the_flag_set(cli):
    run = cli("kubelet-flags", "--format", "flags", "--kubernetes-version", "v1.20.0")
    assert run.exit_code == 0, run.stderr
    assert "--kubeconfig=/etc/kubernetes/kubelet.conf" in run.stdout.splitlines()


def test_a_group_without_a_subcommand_prints_its_help(cli):
    for words in ([], ["ipvs"], ["node"], ["probe"]):
        run = cli(*words)
        assert (run.exit_code, run.stderr) == (0, ""), words
        assert run.stdout.startswith(f"Usage: k8snode {' '.join(words)}".rstrip() + " [OPTIONS] COMMAND [ARGS]...")


def test_kubeadm_config_parameters_are_the_options_fields_in_order_with_their_defaults():
    params = command("kubeadm-config").params
    declared = [(param.name, param.default) for param in params[: len(fields(Options))]]
    assert declared == [(item.name, None if item.default == () else item.default) for item in fields(Options)]


def test_json_before_the_command_is_refused_not_ignored(cli, tmp_path):
    run = cli("--json", "ipvs", "check", "--root", str(tmp_path))
    message = "--json given before 'ipvs' is --version's; give it after the command"
    assert (run.exit_code, run.stderr) == (2, f"k8snode: error: {message}\n")
    assert json.loads(run.stdout)["error"] == {"message": message, "exit_code": 2}


@pytest.mark.parametrize("argv", [[], ["ipvs"], ["probe"]])
def test_no_subcommand_prints_the_help_and_exits_0(cli, argv):
    run = cli(*argv)
    assert run.exit_code == 0 and "Usage:" in run.stdout
    assert "error" not in run.stderr
