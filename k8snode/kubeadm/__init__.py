"""kubeadm configuration: rendering, patching, migration and offline validation."""
