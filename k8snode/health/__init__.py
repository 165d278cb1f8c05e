"""Node health: probes with kubelet's semantics (http, tcp, exec, grpc) and the doctor report."""
