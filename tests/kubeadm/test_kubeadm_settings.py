"""The kubeadm settings table (k8snode/kubeadm/settings.py): every option that writes a value lands through it."""

from __future__ import annotations

from dataclasses import fields

import pytest

from k8snode.core.releases import kubeadm_api, parse_release
from k8snode.kubeadm.options import Options
from k8snode.kubeadm.settings import KUBE_PROXY, Scope, settings
from k8snode.node.swap import SwapMode

EVERYTHING = Options(
    kubernetes_version="v1.30.14",
    proxy_mode="ipvs",
    ipvs_scheduler="wrr",
    strict_arp=True,
    exclude_cidrs=("10.0.0.0/8",),
    sync_period="30s",
    min_sync_period="2s",
    tcp_timeout="900s",
    tcp_fin_timeout="120s",
    udp_timeout="300s",
    load_balancer="metallb",
    advertise_address="192.0.2.10",
    bind_port=8443,
    control_plane_endpoint="cp.example.net:6443",
    node_name="cp-1",
    cri_socket="unix:///run/crio/crio.sock",
    pod_subnet="10.244.0.0/16",
    service_subnet="10.96.0.0/12",
    image_repository="registry.example.net/k8s",
    cluster_name="prod",
    token="k8sn0d.e2etest012345678",
    kubelet_config=True,
    swap=SwapMode.KEEP,
)
NOT_IN_DOCUMENTS = {"api_version", "patch", "migrate", "sets", "node_kernel", "out", "print_defaults",
                    "component_configs"}  # fmt: skip
"""What an option says besides a value: the API, the input and output, --set (typed by sets.py), the kernel."""


@pytest.mark.parametrize("api", ["v1beta4", "v1beta3", "v1alpha1"])
def test_every_option_that_writes_a_value_lands_through_the_table(api):
    table = settings(EVERYTHING, parse_release("v1.10.0" if api == "v1alpha1" else "v1.30.14"), kubeadm_api(api),
                     token=EVERYTHING.token, address="192.0.2.10")  # fmt: skip
    landed = {setting.option for setting in table.settings} - {None}  # None: what k8snode always writes
    # --lb forces strictARP on, so the setting names --lb, not --strict-arp.
    assert landed == {item.name for item in fields(Options)} - NOT_IN_DOCUMENTS - {"strict_arp"}
    assert all(setting.reason for setting in table.settings)
    if api == "v1alpha1":
        assert {setting.kind for setting in table.settings} == {"MasterConfiguration"}


def test_the_kube_proxy_configmap_takes_the_options_that_land_in_kube_proxy_configuration():
    table = settings(EVERYTHING, parse_release("v1.30.14"), kubeadm_api("v1beta4"))
    assert table.options(KUBE_PROXY) == {
        "proxy_mode", "pod_subnet", "ipvs_scheduler", "load_balancer", "exclude_cidrs",
        "sync_period", "min_sync_period", "tcp_timeout", "tcp_fin_timeout", "udp_timeout",
    }  # fmt: skip


def test_a_default_fills_only_a_new_document():
    """A patched file keeps its own values where no option is given; a new document gets k8snode's defaults."""
    table = settings(Options(), parse_release("v1.37.2"), kubeadm_api("v1beta4"))
    patched = {(s.kind, s.path) for s in table.settings if s.applies(new=False)}
    assert patched == {(KUBE_PROXY, ("mode",))}  # k8snode's default mode applies to a patched file too
    new = {(s.kind, s.path): s for s in table.settings if s.applies(new=True)}
    assert new[("InitConfiguration", ("localAPIEndpoint", "bindPort"))].value == 6443
    assert new[(KUBE_PROXY, ("ipvs", "strictARP"))].scope is Scope.NEW
