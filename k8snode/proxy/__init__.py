"""What kube-proxy needs on a node: the proxy modes and their endpoints, the IPVS modules, and the IPVS state."""
