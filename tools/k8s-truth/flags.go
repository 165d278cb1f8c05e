package main

import (
	"io"
	"sort"

	"github.com/spf13/pflag"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	cliflag "k8s.io/component-base/cli/flag"
	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/kubernetes/cmd/kubelet/app/options"
)

type flagInfo struct {
	Name       string `json:"name"`
	Deprecated string `json:"deprecated"`
	Hidden     bool   `json:"hidden"`
	Default    string `json:"default"`
	Type       string `json:"type"`
}

// kubeletFlagSet registers the flags the way cmd/kubelet/app.NewKubeletCommand
// does (including the init of that package), without the rest of the kubelet.
func kubeletFlagSet() (*pflag.FlagSet, error) {
	if err := logsapi.AddFeatureGates(utilfeature.DefaultMutableFeatureGate); err != nil {
		return nil, err
	}
	fs := pflag.NewFlagSet("kubelet", pflag.ContinueOnError)
	fs.SetNormalizeFunc(cliflag.WordSepNormalizeFunc)
	kubeletConfig, err := options.NewKubeletConfiguration()
	if err != nil {
		return nil, err
	}
	options.NewKubeletFlags().AddFlags(fs)
	options.AddKubeletConfigFlags(fs, kubeletConfig)
	options.AddGlobalFlags(fs)
	fs.BoolP("help", "h", false, "help for kubelet")
	return fs, nil
}

func printKubeletFlags(w io.Writer) error {
	fs, err := kubeletFlagSet()
	if err != nil {
		return err
	}
	flags := []flagInfo{}
	fs.VisitAll(func(f *pflag.Flag) {
		flags = append(flags, flagInfo{
			Name:       f.Name,
			Deprecated: f.Deprecated,
			Hidden:     f.Hidden,
			Default:    f.DefValue,
			Type:       f.Value.Type(),
		})
	})
	sort.Slice(flags, func(i, j int) bool { return flags[i].Name < flags[j].Name })
	return writeJSON(w, map[string]any{"kubernetes_version": kubernetesVersion(), "flags": flags})
}
