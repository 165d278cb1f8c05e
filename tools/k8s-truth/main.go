// Command k8s-truth prints, as JSON, facts read from the real Kubernetes code
// it was linked against. tools/k8s-truth/build.sh builds it once per release.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/debug"
)

const usage = `usage: k8s-truth COMMAND
  kubelet-flags        the kubelet's flags, registered as NewKubeletCommand does
  schema               field types of the kubeadm, kubelet and kube-proxy config kinds
  duration STRING...   time.ParseDuration of each STRING; "-" reads one per line from stdin
  kubelet-parse        parse command lines (stdin: one JSON array of strings a line) with the kubelet's flag set
  kubelet-config FILE  load a KubeletConfiguration file as the kubelet's loadConfigFile does
  kubeadm-gates        kubeadm's feature gates (features.InitFeatureGates)
  component-gates      the kubelet's and kube-proxy's feature gates (utilfeature.DefaultMutableFeatureGate)
  component-gates-set  apply gate maps (stdin: one JSON object of name to bool a line) to a copy of that feature gate
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "kubelet-flags":
		err = printKubeletFlags(os.Stdout)
	case "schema":
		err = printSchemas(os.Stdout)
	case "duration":
		err = printDurations(os.Stdout, os.Stdin, os.Args[2:])
	case "kubeadm-gates":
		err = printKubeadmGates(os.Stdout)
	case "component-gates":
		err = printComponentGates(os.Stdout)
	case "component-gates-set":
		err = printGateSets(os.Stdout, os.Stdin)
	case "kubelet-parse":
		err = printParses(os.Stdout, os.Stdin)
	case "kubelet-config":
		if len(os.Args) != 3 {
			fmt.Fprint(os.Stderr, usage)
			os.Exit(2)
		}
		err = printConfigLoad(os.Stdout, os.Args[2])
	default:
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "k8s-truth:", err)
		os.Exit(1)
	}
}

// kubernetesVersion is the version of k8s.io/kubernetes this binary was linked against.
func kubernetesVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "k8s.io/kubernetes" {
				return dep.Version
			}
		}
	}
	return "unknown"
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
