"""Answers like kube-proxy in IPVS mode on its metrics (10249) and health (10256) ports, inside the test VM.

`k8snode doctor` looks at the kernel's IPVS state only when kube-proxy answers; the state itself is real. It serves
only test_real_kernel.py's reboot case, whose state is made by hand with ipvsadm and ipset to cover what a real
kube-proxy never builds (a virtual server with two weighted real servers, a single KUBE-* set) and whose boot has no
API server to feed one. test_kube_proxy.py runs the real kube-proxy.
"""

import http.server
import threading

ANSWERS = {"/proxyMode": b"ipvs", "/healthz": b'{"lastUpdated": "", "currentTime": ""}'}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = ANSWERS.get(self.path)
        self.send_response(200 if body else 404)
        self.end_headers()
        self.wfile.write(body or b"")


servers = [http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler) for port in (10249, 10256)]
for server in servers:
    threading.Thread(target=server.serve_forever, daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
