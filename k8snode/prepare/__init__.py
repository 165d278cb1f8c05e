"""Every kernel and OS prerequisite of a kubeadm node in one plan: modules, sysctls, swap, and the IPVS set."""
