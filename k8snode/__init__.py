"""k8snode: prepare Linux hosts to become Kubernetes nodes."""

__version__ = "0.1.0"
