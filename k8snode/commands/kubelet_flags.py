"""`k8snode kubelet-flags`: the kubelet flag set (or KubeletConfiguration) for a Kubernetes version, and
`k8snode kubelet-flags lint`: whether a node's kubelet flags work with a release.

`kubelet-flags` is a click group that runs its own callback when no subcommand follows
(``invoke_without_command``), so `k8snode kubelet-flags [options]` works as it did when it was a plain command:
the group has no positional arguments, so the only word it can mistake for a subcommand is ``lint`` itself. Its
options given before `lint` are refused (exit 2), not silently dropped: lint takes its own after its name.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Annotated

import typer

from k8snode.commands.common import Debug, DryRun, Force, Json, Root, execute, given_on_command_line, group, usage_error
from k8snode.core import console
from k8snode.core.errors import ExitCode, K8snodeError, bad_input
from k8snode.core.result import Result
from k8snode.core.system import System
from k8snode.core.versions import NEWEST_KUBERNETES
from k8snode.kubelet import flags as library
from k8snode.node.swap import SwapMode

if TYPE_CHECKING:
    from k8snode.kubelet.findings import Linted

_describe = library.describe
Text = str | None
Texts = list[str] | None

KubernetesVersion = Annotated[
    Text,
    typer.Option(
        "--kubernetes-version",
        help="The kubelet release: the newest release k8snode knows by default.",
        show_default=NEWEST_KUBERNETES,
    ),
]


def command(
    context: typer.Context,
    kubernetes_version: KubernetesVersion = None,
    register_node: Annotated[
        bool | None, typer.Option("--register-node/--no-register-node", help=_describe("register-node"))
    ] = None,
    api_servers: Annotated[Texts, typer.Option("--api-servers", "--api-server", help=_describe("api-servers"))] = None,
    kubeconfig: Annotated[Text, typer.Option("--kubeconfig", help=_describe("kubeconfig"))] = None,
    bootstrap_kubeconfig: Annotated[
        Text, typer.Option("--bootstrap-kubeconfig", help=_describe("bootstrap-kubeconfig"))
    ] = None,
    cloud_provider: Annotated[Text, typer.Option("--cloud-provider", help=_describe("cloud-provider"))] = None,
    node_status_update_frequency: Annotated[
        Text, typer.Option("--node-status-update-frequency", help=_describe("node-status-update-frequency"))
    ] = None,
    static_pod_path: Annotated[
        Text, typer.Option("--static-pod-path", "--pod-manifest-path", help=_describe("static-pod-path"))
    ] = None,
    file_check_frequency: Annotated[
        Text, typer.Option("--file-check-frequency", help=_describe("file-check-frequency"))
    ] = None,
    manifest_url: Annotated[Text, typer.Option("--manifest-url", help=_describe("manifest-url"))] = None,
    manifest_url_header: Annotated[
        Texts, typer.Option("--manifest-url-header", help=_describe("manifest-url-header"))
    ] = None,
    http_check_frequency: Annotated[
        Text, typer.Option("--http-check-frequency", help=_describe("http-check-frequency"))
    ] = None,
    node_ip: Annotated[Texts, typer.Option("--node-ip", help=_describe("node-ip"))] = None,
    node_labels: Annotated[Texts, typer.Option("--node-labels", help=_describe("node-labels"))] = None,
    register_with_taints: Annotated[
        Texts, typer.Option("--register-with-taints", help=_describe("register-with-taints"))
    ] = None,
    fail_swap_on: Annotated[
        bool | None, typer.Option("--fail-swap-on/--no-fail-swap-on", help=_describe("fail-swap-on"))
    ] = None,
    config: Annotated[Text, typer.Option("--config", help=_describe("config"))] = None,
    node_monitor_grace_period: Annotated[
        Text,
        typer.Option(
            "--node-monitor-grace-period",
            metavar="DURATION",
            help="kube-controller-manager's --node-monitor-grace-period (default: that release's default): warn "
            "when it is too short for the kubelet's heartbeats. Written nowhere.",
        ),
    ] = None,
    swap: Annotated[
        SwapMode,
        typer.Option(
            "--swap",
            help="keep: the node keeps swap on (node prepare --swap keep), so add failSwapOn false and, from "
            "kubelet 1.30, memorySwap.swapBehavior NoSwap.",
        ),
    ] = SwapMode.OFF,
    output: Annotated[
        library.Format | None,
        typer.Option(
            "--format",
            help="flags, args, env, dropin or config (default: config from kubelet 1.10, where the node-management "
            "flags are deprecated; flags before).",
        ),
    ] = None,
    out: Annotated[
        Text,
        typer.Option("--out", help="Write the output to this file (0644, atomically); - or no --out: standard output."),
    ] = None,
    force: Force = False,
    dry_run: DryRun = False,
    root: Root = Path("/"),
    json_output: Json = False,
    debug: Debug = False,
) -> None:
    """Print the kubelet flags for a Kubernetes version, with deprecations and KubeletConfiguration equivalents.

    With no setting options: the node-management set (registration, status updates, kubeconfig, static pods).
    `kubelet-flags lint` checks a node's kubelet flags against a release instead.
    """
    if context.invoked_subcommand is not None:
        _refuse_options_before(context, context.invoked_subcommand, json_output or "--json" in context.args)
        return
    given = {
        "register-node": register_node,
        "api-servers": api_servers,
        "kubeconfig": kubeconfig,
        "bootstrap-kubeconfig": bootstrap_kubeconfig,
        "cloud-provider": cloud_provider,
        "node-status-update-frequency": node_status_update_frequency,
        "static-pod-path": static_pod_path,
        "file-check-frequency": file_check_frequency,
        "manifest-url": manifest_url,
        "manifest-url-header": manifest_url_header,
        "http-check-frequency": http_check_frequency,
        "node-ip": node_ip,
        "node-labels": node_labels,
        "register-with-taints": register_with_taints,
        "fail-swap-on": fail_swap_on,
        "config": config,
    }
    settings = {name: ",".join(v) if isinstance(v, list) else v for name, v in given.items() if v is not None}
    execute(
        "kubelet-flags",
        lambda: library.render(
            System(root, debug),
            settings,
            kubernetes_version=kubernetes_version,
            output=output,
            out=out,
            dry_run=dry_run,
            force=force,
            swap=swap,
            node_monitor_grace_period=node_monitor_grace_period,
        ),
        show,
        json_output=json_output,
        debug=debug,
    )


app, subcommand = group(
    """Print kubelet flags for a release, or lint a node's flags.

    With no setting options: the node-management set (registration, status updates, kubeconfig, static pods), as
    a KubeletConfiguration from kubelet 1.10, with deprecations and KubeletConfiguration equivalents.
    `kubelet-flags lint` checks a node's kubelet flags against a release instead; its options go after `lint`.
    """,
    callback=command,
    epilog="""Examples:

\b
  k8snode kubelet-flags
  k8snode kubelet-flags --kubernetes-version v1.20.0 --format flags
  k8snode kubelet-flags --node-labels zone=a --format env --out /etc/default/kubelet
  k8snode kubelet-flags lint --kubernetes-version v1.36.3
  k8snode kubelet-flags lint --fix --dry-run""",
)


def _refuse_options_before(context: typer.Context, name: str, json_output: bool) -> None:
    """`kubelet-flags --kubernetes-version v1.20.0 lint` would lint against the default release: refused instead."""
    given = [param.opts[0] for param in context.command.params if given_on_command_line(context, param.name or "")]
    if given:
        usage_error(
            ["kubelet-flags", name, *(["--json"] if json_output else [])],
            f"{', '.join(given)} given before '{name}': kubelet-flags {name} takes its options after '{name}'",
        )


def show(result: Result) -> None:
    data = result.data
    if "files" in data:
        for path, text in data.get("diffs", {}).items():
            console.line(f"diff for {path}:")
            console.diff(text)
        console.line(result.summary)
    else:
        print(data["text"], end="")
    if data["extra_args"]:
        where = "" if "--config=" in data["extra_args"] else "; add --config=PATH naming the file above"
        print(f"# Flag-only settings, for /etc/default/kubelet or /etc/sysconfig/kubelet{where}:")
        print(data["extra_args"])


@subcommand("lint")
def lint_command(
    files: Annotated[
        list[str] | None,
        typer.Argument(
            help="Flag, environment or systemd unit files (paths on the target system). Default: the node's "
            "kubelet.service and drop-ins, /var/lib/kubelet/kubeadm-flags.env, /etc/default/kubelet, "
            "/etc/sysconfig/kubelet."
        ),
    ] = None,
    kubernetes_version: KubernetesVersion = None,
    fix: Annotated[
        bool,
        typer.Option(
            "--fix",
            help="Move deprecated config-backed flags into the --config file, drop removed flags, and rewrite the "
            "environment or flag files without them (atomically, under the lock).",
        ),
    ] = False,
    force: Force = False,
    dry_run: DryRun = False,
    root: Root = Path("/"),
    json_output: Json = False,
    debug: Debug = False,
) -> None:
    """Check a node's kubelet flags against a release.

    Finds removed, unknown, mistyped, deprecated and repeated flags. Exit 1 when the kubelet of that release would
    refuse a flag; each finding names its file and line. With --fix, a file k8snode did not write changes only with
    --force, and its original is kept as FILE.k8snode-orig.
    """
    if dry_run and not fix:
        usage_error(["kubelet-flags", "lint", *(["--json"] if json_output else [])], "--dry-run needs --fix")
    execute(
        "kubelet-flags lint",
        lambda: lint(System(root, debug), files or [], kubernetes_version, fix=fix, dry_run=dry_run, force=force),
        show_lint,
        json_output=json_output,
        debug=debug,
    )


def show_lint(result: Result) -> None:
    for source in result.data["sources"]:
        console.line(f"{source['label']}: {source['flags']} flag(s) from {', '.join(source['files'])}")
    for finding in result.data["findings"]:
        style = "red" if finding["severity"] == "error" else "yellow"
        console.line(f"{finding['path']}:{finding['line']}: {finding['severity']}: {finding['message']}", style=style)
    for path, text in result.data.get("diffs", {}).items():
        console.line(f"diff for {path}:")
        console.diff(text)
    for file in result.data.get("files", []):
        console.line(f"{file['path']}: {file['action'].replace('-', ' ')}")
    for left in result.data.get("not_fixed", []):
        console.line(f"not fixed: {left}", style="yellow")
    console.line(result.summary, style="green" if result.ok else "red")


def lint(system: System, files: list[str], version: str | None, *, fix: bool, dry_run: bool, force: bool) -> Result:
    """Lint; with ``fix``, rewrite what can be fixed and lint again: what is left decides the exit code."""
    from k8snode.kubelet import fix as fixer
    from k8snode.kubelet import lint as linter  # lazy: only lint loads the history of removed flags

    files = _on_target(system, files)
    linted = linter.check_sources(system, files, version)
    result = _linted(linted)
    if not fix:
        return result
    words = ["kubelet-flags", "lint", "--fix", *(["--kubernetes-version", version] if version else []), *files]
    try:
        fixed = fixer.fix(system, linted, " ".join(words), dry_run=dry_run, force=force)
    except K8snodeError as refusal:
        if not dry_run or force or refusal.code != ExitCode.FAILED:
            raise
        # A dry run still shows what --fix would write; what --force alone allows (a file k8snode did not write, a
        # link) is said, and is drift: this command line, run for real, would be refused.
        fixed = fixer.fix(system, linted, " ".join(words), dry_run=True, force=True)
        result.warnings.append(f"without --force a real run is refused: {refusal.message}")
        result.exit_code = ExitCode.DRIFT
    result.changed = fixed.changed
    result.data |= {"files": [p.as_dict() for p in fixed.plans], "backups": fixed.backups, "not_fixed": fixed.not_fixed}
    if dry_run:
        result.data["diffs"] = {str(plan.path): plan.diff() for plan in fixed.rewritten}
    result.summary += f"; --fix {'would change' if dry_run else 'changed'} {len(fixed.rewritten)} file(s)"
    if fixed.changed and not dry_run:
        after = _linted(linter.check_sources(system, files, version))
        result.data["findings_after_fix"], result.exit_code = after.data["findings"], after.exit_code
    return result


def _on_target(system: System, names: list[str]) -> list[str]:
    """FILE arguments as paths on the target system. A relative one is the operator's own file, from the working
    directory, as `validate` reads it; --fix may write it, so it must be on the target: with --root / only."""
    targets = []
    for name in names:
        if PurePosixPath(name).is_absolute():
            targets.append(name)
        elif system.root != Path("/"):
            raise bad_input(f"FILE {name} must be an absolute path on the target system when --root is given")
        else:
            targets.append(os.path.normpath(Path.cwd() / name))
    return targets


def _linted(linted: Linted) -> Result:
    from k8snode.kubelet.sources import config_path

    sources = [
        {
            "label": line.label,
            "files": line.files,
            "flags": sum(word.text.startswith("-") for word in line.words),
            "config": config_path(line.words),
        }
        for line in linted.lines
    ]
    data = {
        "kubernetes_version": linted.kubernetes_version,
        "checked_against": linted.target.release.version,
        "sources": sources,
        "findings": [finding.as_dict() for finding in linted.findings],
    }
    exit_code = ExitCode.DRIFT if linted.errors else ExitCode.OK
    return Result("kubelet-flags lint", data, warnings=linted.warnings, exit_code=exit_code, summary=linted.summary)
