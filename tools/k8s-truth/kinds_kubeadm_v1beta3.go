package main

import "k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm/v1beta3"

func init() {
	addSchemaKinds(v1beta3.SchemeGroupVersion,
		v1beta3.InitConfiguration{}, v1beta3.ClusterConfiguration{}, v1beta3.JoinConfiguration{})
}
