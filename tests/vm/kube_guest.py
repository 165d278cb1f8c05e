"""Guest-side helper for the end-to-end VM tests: talks to the real kube-apiserver on 127.0.0.1 and plays the endpoint.

Runs inside the guest under the project's venv Python. Subcommands:

    ready SECONDS           wait until the API server's /readyz answers ok
    proxy-config FILE       print the KubeProxyConfiguration document of a rendered init-config.yaml
    configmap FILE          print the kube-proxy ConfigMap holding FILE as config.conf, laid out as kubeadm writes it
    configmap-config FILE   print the config.conf of a kube-proxy ConfigMap (after `kubeadm-config --patch`)
    objects                 create the Node, the Services, their EndpointSlices and the load balancer's status IP
    trigger NAME            create an empty EndpointSlice of service NAME: kube-proxy syncs on it (no Service needed)
    get URL                 print the body of an HTTP GET (kube-proxy's /proxyMode)
    serve ADDRESS PORT      answer every TCP connection with the line "endpoint ADDRESS:PORT", until killed
    connect ADDRESS PORT    connect, print the first line the server sends; exit 1 when it cannot
"""

from __future__ import annotations

import json
import socket
import socketserver
import ssl
import sys
import time
import urllib.error
import urllib.request
from typing import Any

API = "https://127.0.0.1:6443"
NODE = "node0"
NODE_IP = "192.168.50.10"
ENDPOINT_IP = "10.244.1.10"
LB_IP = "198.51.100.10"
EXTERNAL_IP = "198.51.100.20"
# The guest's API server serves a self-signed certificate it made itself; nothing outside the guest can reach it.
TLS = ssl.create_default_context()
TLS.check_hostname = False
TLS.verify_mode = ssl.CERT_NONE
# The API server's --token-auth-file holds this token: v1.37.2 turns anonymous access off under AlwaysAllow.
TOKEN = "e2e-token"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}


def call(method: str, path: str, body: dict[str, Any], content_type: str = "application/json") -> tuple[int, Any]:
    request = urllib.request.Request(
        API + path, json.dumps(body).encode(), {"Content-Type": content_type, **HEADERS}, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=30, context=TLS) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def create(path: str, body: dict[str, Any], deadline: float) -> dict[str, Any]:
    """POST until it is accepted: just after /readyz the default namespace and ServiceCIDR may still be coming."""
    while True:
        status, answer = call("POST", path, body)
        if status in (200, 201):
            return answer
        if time.monotonic() > deadline:
            raise SystemExit(f"POST {path}: {status} {answer.get('message', answer)}")
        time.sleep(1)


def ready(seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            request = urllib.request.Request(API + "/readyz", headers=HEADERS)
            with urllib.request.urlopen(request, timeout=10, context=TLS) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"{API}/readyz did not answer ok within {seconds} s")
        time.sleep(1)


def port(name: str, number: int, protocol: str = "TCP", node_port: int | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": name, "port": number, "targetPort": 8080 if protocol == "TCP" else 5353}
    spec["protocol"] = protocol
    if node_port is not None:
        spec["nodePort"] = node_port
    return spec


# name -> spec: one Service of each type. Fixed cluster IPs and node ports make the kernel's state predictable.
SERVICES: dict[str, dict[str, Any]] = {
    "web": {"type": "ClusterIP", "clusterIP": "10.96.0.100", "ports": [port("http", 80)], "externalIPs": [EXTERNAL_IP]},
    "web-np": {
        "type": "NodePort",
        "clusterIP": "10.96.0.101",
        "ports": [port("http", 80, node_port=30080), port("dns", 53, "UDP", node_port=30053)],
    },
    "web-lb": {
        "type": "LoadBalancer",
        "clusterIP": "10.96.0.102",
        "externalTrafficPolicy": "Local",
        "ports": [port("http", 80, node_port=30081)],
    },
}


def objects() -> None:
    deadline = time.monotonic() + 120
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": NODE, "labels": {"kubernetes.io/hostname": NODE}},
        "status": {"addresses": [{"type": "InternalIP", "address": NODE_IP}, {"type": "Hostname", "address": NODE}]},
    }
    create("/api/v1/nodes", node, deadline)
    for name, spec in SERVICES.items():
        metadata = {"name": name, "namespace": "default"}
        create("/api/v1/namespaces/default/services", {"metadata": metadata, "spec": spec}, deadline)
        endpoints = {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {"name": f"{name}-1", "labels": {"kubernetes.io/service-name": name}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [ENDPOINT_IP], "conditions": {"ready": True}, "nodeName": NODE}],
            "ports": [{"name": p["name"], "port": p["targetPort"], "protocol": p["protocol"]} for p in spec["ports"]],
        }
        create("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", endpoints, deadline)
    status = {"status": {"loadBalancer": {"ingress": [{"ip": LB_IP}]}}}
    path = "/api/v1/namespaces/default/services/web-lb/status"
    code, answer = call("PATCH", path, status, "application/merge-patch+json")
    if code != 200:
        raise SystemExit(f"PATCH {path}: {code} {answer.get('message', answer)}")
    print("objects created")


def trigger(name: str) -> None:
    endpoints = {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": f"{name}-1", "labels": {"kubernetes.io/service-name": name}},
        "addressType": "IPv4",
        "endpoints": [],
    }
    create("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", endpoints, time.monotonic() + 60)
    print("triggered", name)


def proxy_config(path: str) -> None:
    with open(path) as rendered:
        documents = rendered.read().split("\n---\n")
    sys.stdout.write(next(d for d in documents if "\nkind: KubeProxyConfiguration\n" in f"\n{d}\n") + "\n")


def configmap(path: str) -> None:
    with open(path) as config:
        lines = config.read().rstrip("\n").splitlines()
    block = "".join(f"    {line}\n" if line else "\n" for line in lines)
    sys.stdout.write(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\n"
        "  labels:\n    app: kube-proxy\ndata:\n  config.conf: |-\n" + block
    )


def configmap_config(path: str) -> None:
    from ruamel.yaml import YAML  # the guest runs the project's venv: the one import from outside the standard library

    with open(path) as patched:
        sys.stdout.write(YAML(typ="safe").load(patched)["data"]["config.conf"] + "\n")


def get(url: str) -> None:
    with urllib.request.urlopen(url, timeout=10) as response:
        sys.stdout.write(response.read().decode())


def serve(address: str, number: int) -> None:
    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            self.request.sendall(f"endpoint {address}:{number}\n".encode())

    socketserver.ThreadingTCPServer.allow_reuse_address = True
    with socketserver.ThreadingTCPServer((address, number), Handler) as server:
        print("serving", flush=True)
        server.serve_forever()


def connect(address: str, number: int) -> None:
    try:
        with socket.create_connection((address, number), timeout=10) as connection:
            print(connection.makefile().readline().strip())
    except OSError as error:
        print(f"connect {address}:{number}: {error}", file=sys.stderr)
        raise SystemExit(1) from None


def main(argv: list[str]) -> None:
    match argv:
        case ["ready", seconds]:
            ready(float(seconds))
        case ["proxy-config", path]:
            proxy_config(path)
        case ["configmap", path]:
            configmap(path)
        case ["configmap-config", path]:
            configmap_config(path)
        case ["objects"]:
            objects()
        case ["trigger", name]:
            trigger(name)
        case ["get", url]:
            get(url)
        case ["serve", address, number]:
            serve(address, int(number))
        case ["connect", address, number]:
            connect(address, int(number))
        case _:
            raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
