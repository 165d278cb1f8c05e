package main

import (
	kubeproxyv1alpha1 "k8s.io/kube-proxy/config/v1alpha1"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"
)

func init() {
	addSchemaKinds(kubeproxyv1alpha1.SchemeGroupVersion, kubeproxyv1alpha1.KubeProxyConfiguration{})
	addSchemaKinds(kubeletv1beta1.SchemeGroupVersion, kubeletv1beta1.KubeletConfiguration{})
}
