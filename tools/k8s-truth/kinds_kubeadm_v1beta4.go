package main

import "k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm/v1beta4"

func init() {
	addSchemaKinds(v1beta4.SchemeGroupVersion,
		v1beta4.InitConfiguration{}, v1beta4.ClusterConfiguration{}, v1beta4.JoinConfiguration{})
}
