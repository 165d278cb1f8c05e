"""An Ansible callback that writes one JSON line per task result to $K8SNODE_MODULE_RUNS: host, task, action,
status (ok, changed, failed, skipped, unreachable) and ``on_host``, whether it ran a module on the host.

A task runs on the host when its action needs a connection (set_fact, assert, fail, debug... do not: their action
plugins say ``_requires_connection = False``) and it is not delegated to localhost. Enable it with
ANSIBLE_CALLBACK_PLUGINS=<this directory> ANSIBLE_CALLBACKS_ENABLED=k8snode_module_runs.
"""

from __future__ import annotations

import json
import os
from typing import Any

from ansible.plugins.callback import CallbackBase
from ansible.plugins.loader import action_loader

# Handled by the strategy on the controller, with no action plugin to ask.
CONTROLLER_ONLY = ("include_tasks", "import_tasks", "include_role", "import_role", "meta")

DOCUMENTATION = """
name: k8snode_module_runs
type: aggregate
short_description: one JSON line per task result, with whether it ran a module on the host
description: Writes to the file named by $K8SNODE_MODULE_RUNS.
requirements: [enable in configuration]
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "k8snode_module_runs"
    CALLBACK_NEEDS_ENABLED = True

    def _record(self, result: Any, status: str) -> None:
        task = result._task
        plugin = action_loader.get(task.action, class_only=True)
        if task.action.rsplit(".", 1)[-1] in CONTROLLER_ONLY:
            needs_host = False
        else:
            needs_host = getattr(plugin, "_requires_connection", True) if plugin is not None else True
        delegated = task.delegate_to is not None and str(task.delegate_to) in ("localhost", "127.0.0.1")
        if status == "ok" and result._result.get("changed"):
            status = "changed"
        line = {
            "host": result._host.get_name(),
            "task": task.get_name(),
            "action": task.action,
            "status": status,
            "on_host": needs_host and not delegated and status not in ("skipped", "unreachable"),
        }
        with open(os.environ["K8SNODE_MODULE_RUNS"], "a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")

    def v2_runner_on_ok(self, result: Any) -> None:
        self._record(result, "ok")

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        self._record(result, "failed")

    def v2_runner_on_skipped(self, result: Any) -> None:
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result: Any) -> None:
        self._record(result, "unreachable")
