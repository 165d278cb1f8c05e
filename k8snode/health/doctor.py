"""`k8snode doctor`: is this host ready to be (or working as) a Kubernetes node? Read-only, through the seam.

Sources: kubeadm preflight (kubernetes/kubernetes cmd/kubeadm/app/preflight/checks_linux.go: ip_forward, swap, the
ip/iptables/mount/nsenter binaries), kube-proxy's endpoints (127.0.0.1:10249/proxyMode, :10256/healthz), kubelet's
healthz (127.0.0.1:10248), KEP-5495 (IPVS mode deprecated in 1.35) and KEP-3866 (nftables mode needs kernel 5.13).
The runtime area is `node check`'s runtime findings (k8snode/runtime), one check per finding.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from k8snode.core.compat import StrEnum
from k8snode.core.errors import K8snodeError
from k8snode.core.system import System
from k8snode.health import http_probe
from k8snode.health.probe import DEFAULT_KUBERNETES_VERSION, Outcome, Verdict, user_agent
from k8snode.node import modules, requirements, swap, sysctl
from k8snode.node.kernel import Kernel, ModuleState, module_state, read_kernel
from k8snode.proxy import ipvs, ipvs_state, nftables
from k8snode.proxy.modes import KUBE_PROXY_HEALTHZ, KUBE_PROXY_METRICS, KUBELET_HEALTHZ, PROXY_MODES, ProxyMode
from k8snode.runtime import model as runtime_model

AREAS = ("kernel", "sysctl", "host", "runtime", "components", "kube-proxy")
PACKAGES = {
    "ip": "iproute2",
    "iptables": "iptables",
    "mount": "mount",
    "nsenter": "util-linux",
    "ipset": "ipset",
    "ipvsadm": "ipvsadm",
    "nft": "nftables",
}
IP_FORWARD = "FileContent--proc-sys-net-ipv4-ip_forward"
PREFLIGHT = {
    # kubeadm's check names (cmd/kubeadm/app/preflight/checks.go: FileContentCheck is "FileContent-" + the path with
    # '/' as '-', InPathCheck "FileExisting-" + the executable, SwapCheck "Swap"). The bridge-nf-call check left
    # kubeadm in 1.30, so bridge-nf-call-iptables predicts none.
    "ip-forward": IP_FORWARD,
    "sysctl-boot": IP_FORWARD,
    "swap": "Swap",
    "swap-boot": "Swap",
    "binaries": "FileExisting-ip,FileExisting-iptables,FileExisting-mount,FileExisting-nsenter",
    # ContainerRuntimeCheck is "CRI" (it connects to criSocket), ContainerRuntimeVersionCheck
    # "ContainerRuntimeVersion" (it warns about a runtime without the RuntimeConfig call), and ImagePullCheck
    # "ImagePull" warns when the runtime's sandbox image is not kubeadm's.
    "runtime-version": "ContainerRuntimeVersion",
    "runtime-cri-plugin": "CRI",
    "runtime-sandbox-image": "ImagePull",
    "runtime-socket": "CRI",
    # kubeadm's SystemVerification runs the system validators, which warn about cgroup v1 (KEP-5573)
    "cgroup-version": "SystemVerification",
}
CGROUP_ROOT = "/sys/fs/cgroup"
PREPARE_HINT = "run: k8snode node prepare"

RUNTIME_CHECKS = {
    # doctor's check id: the id of the runtime finding it reports (k8snode.runtime.model.Finding)
    "runtime-version": "version",
    "runtime-config": "config",
    "runtime-schema": "schema",
    "runtime-cri-plugin": "cri_plugin",
    "runtime-cgroup-driver": "cgroup_driver",
    "runtime-conmon-cgroup": "conmon_cgroup",
    "runtime-sandbox-image": "sandbox_image",
    "runtime-socket": "socket",
    "runtime-binary": "runtime_binary",
}
WARN_ONLY = {"sandbox_image"}
"""Drift kubeadm only warns about (ImagePull); the rest stops init or join, or the node, and fails."""

KubeletFlagsCheck = Callable[[System], tuple[str, str, str]]
"""The kubelet flag lint for doctor, given by the command layer (health does not import kubelet): it returns
(status, detail, hint), status one of ok, warn, fail, skip."""


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True)
class Finding:
    """What one check found; its id and area come from its declaration in _CHECKS."""

    status: Status
    detail: str
    hint: str = ""


@dataclass(frozen=True)
class Check:
    id: str
    area: str
    status: Status
    detail: str
    hint: str = ""
    preflight: str | None = None
    """The kubeadm preflight check this one predicts (its name for --ignore-preflight-errors), when there is one."""

    def as_dict(self) -> dict[str, str | None]:
        return {
            "id": self.id,
            "area": self.area,
            "status": str(self.status),
            "detail": self.detail,
            "hint": self.hint,
            "preflight": self.preflight,
        }


@dataclass(frozen=True)
class Endpoints:
    kubelet_healthz: str = KUBELET_HEALTHZ
    kube_proxy_healthz: str = KUBE_PROXY_HEALTHZ
    kube_proxy_metrics: str = KUBE_PROXY_METRICS
    timeout: float = 1.0

    def get(self, url: str) -> Outcome:
        headers = http_probe.probe_headers([], user_agent(DEFAULT_KUBERNETES_VERSION))
        return http_probe.get(http_probe.Request(url, headers, self.timeout))


@dataclass
class _Context:
    system: System
    mode: ProxyMode
    scheduler: str
    endpoints: Endpoints
    kubelet_flags: KubeletFlagsCheck | None = None
    runtime: runtime_model.RuntimeChoice = runtime_model.RuntimeChoice.AUTO
    kubernetes_version: str | None = None
    answers: dict[str, Outcome] = field(default_factory=dict)
    """Each endpoint is asked once per run, however many checks read its answer."""

    @cached_property
    def ipvs(self) -> ipvs.Check:
        return ipvs.check(self.system, self.scheduler)

    @cached_property
    def kernel(self) -> Kernel:
        """The kernel and its module index, read once for the checks that need them (modules.dep can be large)."""
        return read_kernel(self.system)

    @cached_property
    def runtime_plan(self) -> runtime_model.RuntimePlan | None:
        """The runtime `node check` would report, against the node's kubelet config and the release's pause image."""
        from k8snode.runtime import detect, wanted  # lazy: tomlkit and the image data, only when the area runs

        wants, _ = wanted.wanted(self.system, wanted.Sources(self.kubernetes_version))
        return detect.assess(self.system, self.runtime, wants, "k8snode node prepare")

    def answer(self, url: str) -> Outcome:
        if url not in self.answers:
            self.answers[url] = self.endpoints.get(url)
        return self.answers[url]

    @property
    def proxy_mode_url(self) -> str:
        return self.endpoints.kube_proxy_metrics.rstrip("/") + "/proxyMode"

    @property
    def running_mode(self) -> str | None:
        """What kube-proxy's /proxyMode answers; None when it does not answer."""
        outcome = self.answer(self.proxy_mode_url)
        return outcome.message.strip() if outcome.verdict == Verdict.SUCCESS else None


@dataclass(frozen=True)
class Report:
    mode: ProxyMode
    checks: list[Check]

    @property
    def failed(self) -> bool:
        return any(c.status == Status.FAIL for c in self.checks)

    @property
    def summary(self) -> str:
        counts = Counter(c.status for c in self.checks)
        return ", ".join(f"{counts[s]} {s}" for s in Status)


def doctor(
    system: System,
    mode: ProxyMode,
    scheduler: str = "rr",
    endpoints: Endpoints | None = None,
    kubelet_flags: KubeletFlagsCheck | None = None,
    on_check: Callable[[str, str], None] | None = None,
    runtime: runtime_model.RuntimeChoice = runtime_model.RuntimeChoice.AUTO,
    kubernetes_version: str | None = None,
) -> Report:
    """Every check in order; ``on_check`` hears each one's id and area as it starts (progress on a terminal).
    ``runtime`` and ``kubernetes_version`` say which runtime to check and the release it must suit."""
    for url in _urls(endpoints or Endpoints()):
        http_probe.parse_url(url)
    context = _Context(
        system,
        mode,
        ipvs.validate_scheduler(scheduler),
        endpoints or Endpoints(),
        kubelet_flags,
        runtime,
        kubernetes_version,
    )
    checks = []
    for check in _CHECKS:
        if on_check is not None:
            on_check(check[0], check[1])
        checks.append(_run(check, context))
    return Report(mode, checks)


@dataclass(frozen=True)
class ModeAnswer:
    """What kube-proxy's /proxyMode answered: a mode, nothing (nothing listens there), or no clean answer."""

    mode: str | None
    """The mode of a clean answer (HTTP 200 naming one of kube-proxy's modes); None otherwise."""
    unclear: str | None = None
    """What was seen when something listens there but gives no clean answer (late, an error, a redirect...)."""


def running_proxy_mode(kube_proxy_metrics: str = KUBE_PROXY_METRICS, timeout: float = 1.0) -> ModeAnswer:
    """Ask kube-proxy's /proxyMode on this node, within ``timeout`` seconds."""
    endpoints = Endpoints(kube_proxy_metrics=kube_proxy_metrics, timeout=timeout)
    http_probe.parse_url(endpoints.kube_proxy_metrics)
    url = endpoints.kube_proxy_metrics.rstrip("/") + "/proxyMode"
    outcome = endpoints.get(url)
    if outcome.refused:
        return ModeAnswer(None)
    answer = outcome.message.strip()
    if outcome.verdict == Verdict.SUCCESS and outcome.status == 200 and answer in PROXY_MODES:
        return ModeAnswer(answer)
    if outcome.verdict == Verdict.SUCCESS:
        seen = f"HTTP {outcome.status} with {answer[:80]!r}, not one of {', '.join(PROXY_MODES)}"
    else:
        seen = outcome.warning or outcome.message
    return ModeAnswer(None, f"{url}: {seen}")


def _urls(endpoints: Endpoints) -> list[str]:
    return [endpoints.kubelet_healthz, endpoints.kube_proxy_healthz, endpoints.kube_proxy_metrics]


def _run(check: tuple[str, str, Callable[[_Context], Finding]], context: _Context) -> Check:
    """One check, named by its one declaration in _CHECKS; an error reading the host fails that check only."""
    check_id, area, function = check
    try:
        finding = function(context)
    except K8snodeError as error:
        finding = Finding(Status.FAIL, error.message, "rerun with --debug for details")
    return Check(check_id, area, finding.status, finding.detail, finding.hint, PREFLIGHT.get(check_id))


def _modules(context: _Context) -> Finding:
    if context.mode != ProxyMode.IPVS:
        return Finding(Status.SKIP, f"proxy mode {context.mode} needs no IPVS modules")
    assessment = context.ipvs.assessment
    absent = assessment.absent
    if not absent:
        return Finding(Status.OK, f"present: {' '.join(m.name for m in assessment.modules)}")
    loadable = all(m.state == ModuleState.AVAILABLE for m in assessment.modules if m.name in absent)
    if loadable and context.running_mode == ProxyMode.IPVS:
        # kube-proxy 1.27+ tests IPVS by making a dummy virtual server, and the kernel loads ip_vs and the scheduler's
        # module on that first request (seen in tests/vm/test_kube_proxy.py); the rest stay out.
        detail = f"not loaded: {' '.join(absent)}; kube-proxy runs in ipvs mode on what the kernel loaded on demand"
        hint = "run: k8snode ipvs enable (loads them all now and at boot, as kube-proxy before 1.27 requires)"
        return Finding(Status.WARN, detail, hint)
    hint = assessment.problems[0] if assessment.problems else "run: k8snode ipvs enable"
    return Finding(Status.FAIL, f"not present: {' '.join(absent)}", hint)


def _persistence(context: _Context) -> Finding:
    if context.mode != ProxyMode.IPVS:
        return Finding(Status.SKIP, f"proxy mode {context.mode} needs no IPVS modules")
    stale = context.ipvs.stale
    if stale:
        detail = f"modules would not load at boot: {', '.join(f'{f.path} ({f.action})' for f in stale)}"
        return Finding(Status.WARN, detail, "run: k8snode ipvs enable")
    return Finding(Status.OK, "current: " + ", ".join(str(f.path) for f in context.ipvs.assessment.files))


def _nftables(requirement: Callable[[_Context], nftables.Requirement | None]) -> Callable[[_Context], Finding]:
    """A prerequisite of nftables mode (k8snode.proxy.nftables) as a doctor check; skipped in the other modes and
    when ``requirement`` gives None (another check covers it)."""

    def check(context: _Context) -> Finding:
        if context.mode != ProxyMode.NFTABLES:
            return Finding(Status.SKIP, f"proxy mode {context.mode} does not need it")
        found = requirement(context)
        if found is None:
            return Finding(Status.SKIP, "nft is not on PATH: the binaries check says what to install")
        status = Status.OK if found.met else Status.WARN if found.met is None else Status.FAIL
        return Finding(status, found.detail, found.hint)

    return check


def _nft(context: _Context) -> nftables.Requirement | None:
    return None if context.system.which("nft") is None else nftables.nft(context.system)


def _ip_forward(context: _Context) -> Finding:
    path = "/proc/sys/net/ipv4/ip_forward"
    value = context.system.read_text(path)
    hint = "sysctl -w net.ipv4.ip_forward=1 and persist it in /etc/sysctl.d/"
    if value is None:
        return Finding(Status.FAIL, f"cannot read {path}", hint)
    if value.strip() != "1":
        return Finding(Status.FAIL, f"net.ipv4.ip_forward = {value.strip()}", hint)
    return Finding(Status.OK, "net.ipv4.ip_forward = 1")


def _bridge_nf_call(context: _Context) -> Finding:
    value = context.system.read_text("/proc/sys/net/bridge/bridge-nf-call-iptables")
    if value is None:
        return Finding(Status.SKIP, "br_netfilter is not loaded")
    if value.strip() != "1":
        detail = f"br_netfilter is loaded and net.bridge.bridge-nf-call-iptables = {value.strip()}"
        hint = "sysctl -w net.bridge.bridge-nf-call-iptables=1 and persist it in /etc/sysctl.d/"
        return Finding(Status.WARN, detail, hint)
    return Finding(Status.OK, "net.bridge.bridge-nf-call-iptables = 1")


def _swap(context: _Context) -> Finding:
    active = swap.active(context.system)
    if active is None:
        return Finding(Status.SKIP, "cannot read /proc/swaps")
    if active:
        hint = "swapoff -a and remove swap from /etc/fstab, or set failSwapOn: false in the kubelet configuration"
        return Finding(Status.FAIL, f"swap is on: {' '.join(active)}", hint)
    return Finding(Status.OK, "no active swap in /proc/swaps")


def _sysctl_boot(context: _Context) -> Finding:
    """Running values survive only when a file sets them at boot and no later file sets them otherwise."""
    view = sysctl.boot_view(context.system, {})
    wanted = requirements.sysctls()
    wrong = []
    for key, value in wanted.items():
        setting = view.settings.get(key)
        if setting is None:
            wrong.append(f"{key} is not set by any sysctl.d file or /etc/sysctl.conf")
        elif setting.value != value:
            wrong.append(f"{key} = {setting.value} ({setting.where})")
    if wrong or view.problems:
        detail = "after a reboot: " + "; ".join(wrong + view.problems)
        return Finding(Status.WARN, detail, PREPARE_HINT + "; remove the lines named")
    where = ", ".join(sorted({view.settings[key].where.rsplit(":", 1)[0] for key in wanted}))
    return Finding(Status.OK, f"a reboot applies {', '.join(sorted(set(wanted.values())))} to each ({where})")


def _modules_boot(context: _Context) -> Finding:
    kernel = context.kernel
    names = requirements.boot_modules(context.mode, context.scheduler, kernel)
    listed = modules.listed_for_boot(context.system)
    absent = [
        name
        for name in names
        if name not in listed and module_state(context.system, kernel, name)[0] != ModuleState.BUILTIN
    ]
    blocked = modules.blocked_at_boot(context.system, names)
    if absent or blocked:
        detail = "; ".join(([f"not loaded at boot: {' '.join(absent)}"] if absent else []) + blocked)
        return Finding(Status.WARN, detail, PREPARE_HINT)
    return Finding(Status.OK, f"loaded at boot: {' '.join(names)}")


def _swap_boot(context: _Context) -> Finding:
    found = swap.at_boot(context.system)
    if found:
        detail = "swap would be on after a reboot: " + "; ".join(found)
        return Finding(Status.WARN, detail, PREPARE_HINT + " (or set failSwapOn: false)")
    return Finding(Status.OK, "nothing turns swap on at boot")


def _cgroup_version(context: _Context) -> Finding:
    """cgroup v2 mounts one hierarchy at /sys/fs/cgroup, with cgroup.controllers at its top; v1 mounts a tmpfs of
    per-controller hierarchies there."""
    from k8snode.core.versions import newest_kubernetes, parse_release
    from k8snode.runtime import support

    system = context.system
    if not system.listdir(CGROUP_ROOT):  # sysfs has the directory whether or not a hierarchy is mounted on it
        return Finding(Status.SKIP, f"no cgroup hierarchy is mounted at {CGROUP_ROOT}")
    if system.exists(f"{CGROUP_ROOT}/cgroup.controllers"):
        return Finding(Status.OK, "cgroup v2 (the unified hierarchy)")
    text = context.kubernetes_version
    release = newest_kubernetes() if text is None else parse_release(text)
    hint = "boot with systemd.unified_cgroup_hierarchy=1 (cgroup v2)"
    if support.refuses_cgroup_v1(release):
        detail = f"cgroup v1: kubelet {release} does not start on it (failCgroupV1 is true by default since 1.35)"
        return Finding(Status.FAIL, detail, hint + ", or set failCgroupV1: false in the kubelet configuration")
    return Finding(Status.WARN, f"cgroup v1: kubelet {release} runs on it, 1.35 and later do not by default", hint)


def _binaries(context: _Context) -> Finding:
    needed = requirements.binaries(context.mode)
    missing = [name for name in needed if context.system.which(name) is None]
    if missing:
        packages = " ".join(dict.fromkeys(PACKAGES[name] for name in missing))
        hint = f"install {packages} (Debian/Ubuntu package names)"
        return Finding(Status.FAIL, f"not on PATH: {' '.join(missing)}", hint)
    return Finding(Status.OK, f"on PATH: {' '.join(needed)}")


def _runtime(finding_id: str) -> Callable[[_Context], Finding]:
    """One finding of the runtime's plan as a doctor check; skipped where the runtime has no such setting."""

    def check(context: _Context) -> Finding:
        if context.runtime == runtime_model.RuntimeChoice.NONE:
            return Finding(Status.SKIP, "--runtime none")
        plan = context.runtime_plan
        if plan is None:
            return Finding(Status.SKIP, "no container runtime found (no socket under the root, no binary on PATH)")
        found = [f for f in plan.findings if f.id == finding_id]
        if not found:
            return Finding(Status.SKIP, f"{plan.runtime} has no such setting")
        finding = found[0]
        detail = f"{plan.runtime}: {finding.detail}"
        if finding.status == runtime_model.Status.OK:
            return Finding(Status.OK, detail)
        if finding.status == runtime_model.Status.UNKNOWN:
            return Finding(Status.WARN, detail)
        if finding.status == runtime_model.Status.DRIFT:
            status = Status.WARN if finding.id in WARN_ONLY else Status.FAIL
            return Finding(status, detail, PREPARE_HINT)
        return Finding(Status.FAIL, detail, "the operator must change what the detail names")

    return check


def _health(url: Callable[[Endpoints], str], hint: str) -> Callable[[_Context], Finding]:
    def check(context: _Context) -> Finding:
        where = url(context.endpoints)
        outcome = context.answer(where)
        if outcome.refused:
            return Finding(Status.SKIP, f"nothing listens at {where}")
        if outcome.verdict == Verdict.FAILURE:
            return Finding(Status.FAIL, f"{where}: {outcome.message}", hint)
        return Finding(Status.OK, f"{where}: HTTP {outcome.status}")

    return check


def _kubelet_flags(context: _Context) -> Finding:
    if context.kubelet_flags is None:
        return Finding(Status.SKIP, "no kubelet flag lint was asked for")
    status, detail, hint = context.kubelet_flags(context.system)
    return Finding(Status(status), detail, hint)


def _proxy_mode(context: _Context) -> Finding:
    url = context.proxy_mode_url
    outcome = context.answer(url)
    if outcome.refused:
        return Finding(Status.SKIP, f"nothing listens at {url}")
    running = context.running_mode
    if running is None:
        return Finding(Status.WARN, f"{url}: {outcome.message}", "is kube-proxy healthy?")
    if running != context.mode:
        hint = (
            f"set mode: {context.mode} in kube-proxy's configuration (ConfigMap kube-system/kube-proxy) and restart "
            f"it, or pass --proxy-mode {running} if {running} is intended"
        )
        return Finding(Status.FAIL, f"kube-proxy runs in {running!r} mode", hint)
    return Finding(Status.OK, f"kube-proxy runs in {running} mode")


def _ipvs_deprecation(context: _Context) -> Finding:
    if context.mode != ProxyMode.IPVS:
        return Finding(Status.OK, f"proxy mode {context.mode} is not deprecated")
    detail = "IPVS mode is deprecated since Kubernetes 1.35 (KEP-5495); 1.37 puts it behind the KubeProxyIPVS gate"
    hint = "plan the move to nftables mode (kernel 5.13+, nft 1.0.1+)"
    return Finding(Status.WARN, detail, hint)


def _ipvs_state(context: _Context) -> Finding:
    if context.mode != ProxyMode.IPVS:
        return Finding(Status.SKIP, f"proxy mode {context.mode} builds no IPVS state")
    endpoints = context.endpoints
    if all(context.answer(url).refused for url in (endpoints.kube_proxy_healthz, context.proxy_mode_url)):
        return Finding(Status.SKIP, "kube-proxy is not running (nothing listens)")
    state = ipvs_state.read(context.system)
    servers = state.virtual_servers
    found = "ip_vs not loaded" if servers is None else f"{len(servers)} virtual server(s)"
    names = set() if state.ipsets is None else {s.name for s in state.ipsets}
    absent = [] if state.ipsets is None else [name for name in ipvs_state.KUBE_PROXY_SETS if name not in names]
    sets = (
        "ipsets not listed (ipset not on PATH or failed)"
        if state.ipsets is None
        else f"{len(ipvs_state.KUBE_PROXY_SETS) - len(absent)}/{len(ipvs_state.KUBE_PROXY_SETS)} KUBE-* ipsets"
    )
    detail = f"{found}; {sets}" + (f"; absent: {' '.join(absent)}" if absent else "")
    if not servers or absent:
        hint = "kube-proxy answers but has not built its IPVS state: check its logs for 'can't use the IPVS proxier'"
        return Finding(Status.WARN, detail, hint)
    return Finding(Status.OK, detail)


_CHECKS: list[tuple[str, str, Callable[[_Context], Finding]]] = [
    ("modules", "kernel", _modules),
    ("persistence", "kernel", _persistence),
    ("modules-boot", "kernel", _modules_boot),
    ("nftables-kernel", "kernel", _nftables(lambda context: nftables.kernel_release(context.kernel))),
    ("nf_tables", "kernel", _nftables(lambda context: nftables.nf_tables(context.system, context.kernel))),
    ("ip-forward", "sysctl", _ip_forward),
    ("bridge-nf-call-iptables", "sysctl", _bridge_nf_call),
    ("sysctl-boot", "sysctl", _sysctl_boot),
    ("swap", "host", _swap),
    ("swap-boot", "host", _swap_boot),
    ("cgroup-version", "host", _cgroup_version),
    ("binaries", "host", _binaries),
    ("nft-version", "host", _nftables(_nft)),
    *((check_id, "runtime", _runtime(finding_id)) for check_id, finding_id in RUNTIME_CHECKS.items()),
    (
        "kubelet-health",
        "components",
        _health(lambda e: e.kubelet_healthz, "see the kubelet's log: journalctl -u kubelet"),
    ),
    (
        "kube-proxy-health",
        "components",
        _health(
            lambda e: e.kube_proxy_healthz,
            "see kube-proxy's log: kubectl -n kube-system logs -l k8s-app=kube-proxy",
        ),
    ),
    ("kubelet-flags", "components", _kubelet_flags),
    ("proxy-mode", "kube-proxy", _proxy_mode),
    ("ipvs-deprecation", "kube-proxy", _ipvs_deprecation),
    ("ipvs-state", "kube-proxy", _ipvs_state),
]
