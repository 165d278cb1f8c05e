"""The k8snode_run action: one ``k8snode ... --json`` call, judged by its JSON envelope.

It runs ``argv`` on the host through the connection itself, as the ``raw`` action does (with the task's
``environment`` and become), not through ansible.builtin.command: that module would cost each host a module
build, a temporary directory and a second Python start around the one k8snode call. It then takes ``changed``
from the envelope, fails the task when the exit code is not in ``ok_codes`` (k8snode's one-line error as ``msg``),
and returns the unified diffs that k8snode prints with ``--dry-run`` as the task's diff, so that ``--check
--diff`` shows what a real run would write. An accepted exit code other than 0 (``node prepare``'s 1: done, but
the next boot would undo part of it) turns each of the envelope's ``data.problems`` into an Ansible warning.
``stdin``, when given, is written to the command's standard input (``kubeadm-config --patch -``).
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from ansible.plugins.action import ActionBase


def envelope_diffs(data: dict[str, Any]) -> list[dict[str, str]]:
    """k8snode's diffs: ``data.diffs`` (path -> unified diff) or ``data.diff`` (one unified diff)."""
    texts = list((data.get("diffs") or {}).values())
    if data.get("diff"):
        texts.append(data["diff"])
    return [{"prepared": text} for text in texts if text]


class ActionModule(ActionBase):
    _VALID_ARGS = frozenset(("argv", "ok_codes", "stdin"))

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        argv = [str(word) for word in self._task.args["argv"]]
        ok_codes = [int(code) for code in self._task.args.get("ok_codes", [0])]
        environment = self._compute_environment_string()  # "VAR=value ..." for the shell, or ""
        command = " ".join([*([environment] if environment else []), *(shlex.quote(word) for word in argv)])
        stdin = self._task.args.get("stdin")  # k8snode reads it for --patch -
        in_data = None if stdin is None else str(stdin).encode()  # the connection writes bytes
        done = self._low_level_execute_command(command, sudoable=True, in_data=in_data)
        result.update({key: done.get(key) for key in ("rc", "stdout", "stderr")}, cmd=argv)
        try:
            envelope = json.loads(done.get("stdout") or "")
        except ValueError:
            envelope = None
        rc = done.get("rc")
        if not isinstance(envelope, dict):
            result.update(failed=True, changed=False, msg=f"no JSON from k8snode (exit {rc}): {done.get('stderr', '')}")
            return result
        result["changed"] = bool(envelope.get("changed")) and rc in ok_codes
        # Said outright: Ansible takes a result with a non-zero rc and no failed key as failed.
        result["failed"] = rc not in ok_codes
        if rc not in ok_codes:
            error = envelope.get("error") or {}
            result["msg"] = error.get("message") or f"k8snode exited {rc}"
        if rc != 0 and rc in ok_codes:
            problems = (envelope.get("data") or {}).get("problems") or []
            result["warnings"] = [str(problem) for problem in problems] or [f"k8snode exited {rc}"]
        diffs = envelope_diffs(envelope.get("data") or {})
        if diffs:
            result["diff"] = diffs
        return result
