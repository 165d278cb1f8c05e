package main

import (
	"io"
	"sort"

	"k8s.io/kubernetes/cmd/kubeadm/app/features"
)

type gateInfo struct {
	Name    string `json:"name"`
	Stage   string `json:"stage"`
	Default bool   `json:"default"`
	// Locked is featuregate.FeatureSpec.LockToDefault: the gate cannot be set to anything but its default.
	Locked     bool   `json:"locked"`
	Deprecated string `json:"deprecated"`
	Hidden     bool   `json:"hidden"`
}

// printKubeadmGates lists features.InitFeatureGates: the names ClusterConfiguration.featureGates accepts
// (validation.ValidateFeatureGates refuses any other with "NAME is not a valid feature name.").
func printKubeadmGates(w io.Writer) error {
	gates := []gateInfo{}
	for name, feature := range features.InitFeatureGates {
		gates = append(gates, gateInfo{
			Name:       name,
			Stage:      string(feature.PreRelease),
			Default:    feature.Default,
			Locked:     feature.LockToDefault,
			Deprecated: feature.DeprecationMessage,
			Hidden:     feature.HiddenInHelpText,
		})
	}
	sort.Slice(gates, func(i, j int) bool { return gates[i].Name < gates[j].Name })
	return writeJSON(w, map[string]any{"kubernetes_version": kubernetesVersion(), "gates": gates})
}
