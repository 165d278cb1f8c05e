"""The k8snode_run action: one ``k8snode ... --json`` call, judged by its JSON envelope.

It runs ``argv`` on the host through the connection itself, as the ``raw`` action does (with the task's
``environment`` and become), not through ansible.builtin.command: that module would cost each host a module
build, a temporary directory and a second Python start around the one k8snode call. It then takes ``changed``
from the envelope, fails the task when the exit code is not in ``ok_codes`` (k8snode's one-line error as ``msg``),
and returns the unified diffs that k8snode prints with ``--dry-run`` as the task's diff, so that ``--check
--diff`` shows what a real run would write. An accepted exit code other than 0 (``node prepare``'s 1: done, but
the next boot would undo part of it) turns each of the envelope's ``data.problems`` into an Ansible warning.
``stdin``, when given, is written to the command's standard input (``kubeadm-config --patch -``); otherwise an
empty line is, so that no connection runs the call on a pseudo-terminal, which would mix stderr into the JSON.

Check mode is the action's own business, so that no task can forget it: every task declares ``writes``. A call that
writes (``writes: true``) runs in check mode with ``--dry-run`` added, and reports what it would change; a read-only
call (``writes: false``: ``node check``, ``probe exec``) runs as it is. The arguments are checked first: a missing
or misspelt one fails the task with Ansible's one-line message.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase


def envelope_diffs(data: dict[str, Any]) -> list[dict[str, str]]:
    """k8snode's diffs: ``data.diffs`` (path -> unified diff) or ``data.diff`` (one unified diff)."""
    texts = list((data.get("diffs") or {}).values())
    if data.get("diff"):
        texts.append(data["diff"])
    return [{"prepared": text} for text in texts if text]


ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "argv": {"type": "list", "elements": "str", "required": True},
    "writes": {"type": "bool", "required": True},
    "ok_codes": {"type": "list", "elements": "int", "default": [0]},
    "stdin": {"type": "str"},
}
DRY_RUN = "--dry-run"


def with_dry_run(argv: list[str]) -> list[str]:
    """``argv`` with k8snode's ``--dry-run`` among its options: before a ``--`` that ends them, else at the end."""
    if DRY_RUN in argv:
        return argv
    end = argv.index("--") if "--" in argv else len(argv)
    return [*argv[:end], DRY_RUN, *argv[end:]]


class ActionModule(ActionBase):
    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(ARGUMENT_SPEC)
        argv = [str(word) for word in args["argv"]]
        if not argv:
            raise AnsibleActionFail("argv is empty: give the k8snode command line to run")
        if args["writes"] and self._task.check_mode:
            argv = with_dry_run(argv)
        ok_codes = args["ok_codes"]
        environment = self._compute_environment_string()  # "VAR=value ..." for the shell, or ""
        command = " ".join([*([environment] if environment else []), *(shlex.quote(word) for word in argv)])
        stdin = args["stdin"]  # k8snode reads it for --patch -
        # Always some input (bytes, as the connection writes them): over SSH, a sudoable command without input runs
        # on a pseudo-terminal (ssh -tt, the ssh connection's use_tty), which merges k8snode's stderr into the JSON on
        # its stdout; a call that reads no input ignores the empty line.
        in_data = b"\n" if stdin is None else str(stdin).encode()
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
