"""`k8snode kubeadm-config`: a kubeadm init configuration for the target Kubernetes version.

The options are declared once, as the fields of ``k8snode.kubeadm.options.Options``; the command's parameters are
built from them here.
"""

from __future__ import annotations

import inspect
from dataclasses import fields
from pathlib import Path
from typing import Annotated, Any, get_type_hints

import typer

from k8snode.commands.common import Debug, DryRun, Force, Json, Root, execute
from k8snode.core import console
from k8snode.core.result import Result
from k8snode.core.system import System
from k8snode.kubeadm.options import Options, flag_of

_SHARED = (
    inspect.Parameter("force", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Force),
    inspect.Parameter("dry_run", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=DryRun),
    inspect.Parameter("root", inspect.Parameter.KEYWORD_ONLY, default=Path("/"), annotation=Root),
    inspect.Parameter("json_output", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Json),
    inspect.Parameter("debug", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Debug),
)


_HINTS = get_type_hints(Options)
_REPEATABLE = {name for name, kind in _HINTS.items() if kind == tuple[str, ...]}


def _parameters() -> list[inspect.Parameter]:
    """One Typer option per ``Options`` field: a tuple field is a repeatable option, ``bool | None`` a flag pair."""
    parameters = []
    for item in fields(Options):
        flag, kind, default = flag_of(item.name), _HINTS[item.name], item.default
        names = f"{flag.name}/{flag.negative}" if kind == bool | None else flag.name
        if item.name in _REPEATABLE:
            kind, default = list[str] | None, None
        option = typer.Option(names, help=flag.help, metavar=flag.metavar)
        parameters.append(
            inspect.Parameter(
                item.name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=Annotated[kind, option]
            )
        )
    return [*parameters, *_SHARED]


def command(**given: Any) -> None:
    """Render init-config.yaml: kubeadm Init/ClusterConfiguration plus KubeProxyConfiguration, validated."""
    from k8snode.kubeadm import render as library  # lazy: every other command would pay for its imports

    shared = {parameter.name: given.pop(parameter.name) for parameter in _SHARED}
    values: dict[str, Any] = {name: tuple(v or ()) if name in _REPEATABLE else v for name, v in given.items()}
    options = Options(**values)
    execute(
        "kubeadm-config",
        lambda: library.kubeadm_config(
            System(shared["root"], shared["debug"]), options, dry_run=shared["dry_run"], force=shared["force"]
        ),
        show,
        json_output=shared["json_output"],
        debug=shared["debug"],
    )


command.__signature__ = inspect.Signature(_parameters())  # type: ignore[attr-defined]


def show(result: Result) -> None:
    yaml_text = getattr(result, "yaml_text", "")  # a ConfigResult: the YAML holds the token, so it is not in data
    if yaml_text:
        print(yaml_text, end="")
        return
    if "diff" in result.data:
        console.diff(result.data["diff"])
    console.line(result.summary, style="green")
    if "next" in result.data:
        console.line(f"next: {result.data['next']}")
