"""The role's k8snode_cli_options filter: role variables to k8snode option words."""

from __future__ import annotations

import importlib.util

from fleet import ANSIBLE_DIR

_spec = importlib.util.spec_from_file_location(
    "cli_options", ANSIBLE_DIR / "roles/k8snode/filter_plugins/cli_options.py"
)
assert _spec is not None and _spec.loader is not None
cli_options = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cli_options)


def test_values_become_name_equals_value_and_empty_ones_are_left_out():
    options = {"pod-subnet": "10.244.0.0/16", "lb": "", "advertise-address": None, "max-pods": 110}
    assert cli_options.cli_options(options) == ["--pod-subnet=10.244.0.0/16", "--max-pods=110"]


def test_booleans_become_the_flag_or_its_no_form_and_lists_repeat_the_option():
    options = {"strict-arp": True, "register-node": False, "node-ip": ["10.0.0.5", "fd00::5"]}
    assert cli_options.cli_options(options) == [
        "--strict-arp",
        "--no-register-node",
        "--node-ip=10.0.0.5",
        "--node-ip=fd00::5",
    ]


def test_the_filter_is_registered_under_the_role_prefixed_name():
    assert cli_options.FilterModule().filters() == {"k8snode_cli_options": cli_options.cli_options}
