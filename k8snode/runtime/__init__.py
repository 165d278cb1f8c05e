"""The node's container runtime (containerd, CRI-O): what kubeadm and the kubelet need from its configuration."""
