package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"

	utilfeature "k8s.io/apiserver/pkg/util/feature"
)

// componentGate is a gate as featuregate.FeatureSpec has it, which has no deprecation message (kubeadm's has).
type componentGate struct {
	Name    string `json:"name"`
	Stage   string `json:"stage"`
	Default bool   `json:"default"`
	// Locked is featuregate.FeatureSpec.LockToDefault: SetFromMap refuses any other value.
	Locked bool `json:"locked"`
}

// printComponentGates lists the gates of the process-wide feature gate the kubelet and kube-proxy set their
// featureGates on (utilfeature.DefaultMutableFeatureGate.SetFromMap in cmd/kubelet/app/server.go and in
// cmd/kube-proxy/app/options.go): kubernetes' pkg/features, and the logs and metrics gates the kubelet's inits add
// (repeated in kubelet_inits.go). GetAll leaves out what is not available at the binary's
// version (featuregate's PRE-ALPHA), which SetFromMap refuses too.
func printComponentGates(w io.Writer) error {
	gates := []componentGate{}
	for name, feature := range utilfeature.DefaultMutableFeatureGate.GetAll() {
		gates = append(gates, componentGate{
			Name:    string(name),
			Stage:   string(feature.PreRelease),
			Default: feature.Default,
			Locked:  feature.LockToDefault,
		})
	}
	sort.Slice(gates, func(i, j int) bool { return gates[i].Name < gates[j].Name })
	return writeJSON(w, map[string]any{"kubernetes_version": kubernetesVersion(), "gates": gates})
}

// printGateSets reads gate maps from r, one JSON object of name to bool a line, and applies each to a fresh copy
// of that feature gate with SetFromMap, as the kubelet and kube-proxy apply their featureGates. One JSON line each:
// {"gates", "error"}, error "" when accepted.
func printGateSets(w io.Writer, r io.Reader) error {
	scanner := bufio.NewScanner(r)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	enc := json.NewEncoder(w)
	for scanner.Scan() {
		gates := map[string]bool{}
		if err := json.Unmarshal(scanner.Bytes(), &gates); err != nil {
			return fmt.Errorf("not a JSON map of string to bool: %q: %w", scanner.Text(), err)
		}
		message := ""
		if err := utilfeature.DefaultMutableFeatureGate.DeepCopy().SetFromMap(gates); err != nil {
			message = err.Error()
		}
		if err := enc.Encode(map[string]any{"gates": gates, "error": message}); err != nil {
			return err
		}
	}
	return scanner.Err()
}
