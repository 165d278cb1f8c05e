"""`kubeadm-config --patch FILE --migrate`: kubeadm v1beta3 documents converted to v1beta4, as `kubeadm config
migrate` does for what k8snode's files hold."""

from __future__ import annotations

from k8snode.kubeadm.documents import Document, Node, find, value_at


def migrate_v1beta3(documents: list[object]) -> list[str]:
    """Convert kubeadm v1beta3 documents to v1beta4 in place; return what was done, as warnings."""
    from ruamel.yaml.comments import CommentedMap

    done = []
    init, join = find(documents, "InitConfiguration"), find(documents, "JoinConfiguration")
    for document in documents:
        if not isinstance(document, dict) or document.get("apiVersion") != "kubeadm.k8s.io/v1beta3":
            continue
        document["apiVersion"] = "kubeadm.k8s.io/v1beta4"
        kind = document.get("kind")
        holders: list[tuple[str, ...]] = [("nodeRegistration", "kubeletExtraArgs")]
        if kind == "ClusterConfiguration":
            holders = [(c, "extraArgs") for c in ("apiServer", "controllerManager", "scheduler")]
            holders.append(("etcd", "local", "extraArgs"))
        for holder in holders:
            parent = value_at(document, holder[:-1])
            arguments = parent.get(holder[-1]) if isinstance(parent, dict) else None
            if isinstance(parent, dict) and isinstance(arguments, dict):
                parent[holder[-1]] = [CommentedMap(name=str(k), value=str(v)) for k, v in arguments.items()]
                done.append(f"{kind}.{'.'.join(holder)}: map -> list of {{name, value}}")
        api_server = document.get("apiServer") if kind == "ClusterConfiguration" else None
        if isinstance(api_server, dict) and "timeoutForControlPlane" in api_server:
            timeout = api_server.pop("timeoutForControlPlane")
            # kubeadm config migrate gives both InitConfiguration and JoinConfiguration the control plane timeout.
            carriers = [d for d in (init, join) if d is not None]
            for carrier in carriers:
                _timeouts(carrier)["controlPlaneComponentHealthCheck"] = timeout
            moved_to = " and ".join(f"{c['kind']}.timeouts.controlPlaneComponentHealthCheck" for c in carriers)
            outcome = f"-> {moved_to}" if carriers else "dropped: no Init or JoinConfiguration holds it"
            done.append(f"ClusterConfiguration.apiServer.timeoutForControlPlane {outcome}")
        discovery = document.get("discovery") if kind == "JoinConfiguration" else None
        if isinstance(discovery, dict) and "timeout" in discovery:
            _timeouts(document)["discovery"] = discovery.pop("timeout")
            done.append("JoinConfiguration.discovery.timeout -> JoinConfiguration.timeouts.discovery")
    return ["migrated kubeadm.k8s.io/v1beta3 to v1beta4" + (": " + "; ".join(done) if done else "")]


def _timeouts(document: Document) -> dict[str, Node]:
    """The document's v1beta4 ``timeouts`` map, made when it has none."""
    from ruamel.yaml.comments import CommentedMap

    timeouts = document.get("timeouts")
    if not isinstance(timeouts, dict):
        timeouts = document["timeouts"] = CommentedMap()
    return timeouts
