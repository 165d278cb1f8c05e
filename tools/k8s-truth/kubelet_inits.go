package main

import (
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	logsapi "k8s.io/component-base/logs/api/v1"
	metricsfeatures "k8s.io/component-base/metrics/features"

	// The blank imports of cmd/kubelet/kubelet.go, so this program registers what the kubelet binary registers.
	// logs/json/register adds the JSON log format, whose options are the --log-json-* flags (see flags.go).
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	// Its init gives cAdvisor's flags the kubelet's defaults (--housekeeping-interval 10s, not cAdvisor's 1s).
	_ "k8s.io/kubernetes/pkg/kubelet/cadvisor"
)

// The rest of what the kubelet's packages register at start-up, without linking cmd/kubelet/app (a third of this
// program's packages): the logging gates of cmd/kubelet/app/server.go's init, and the metrics gates of
// pkg/kubelet/server's (the only registration before v1.32; kubernetes' pkg/features adds the same ones from v1.32,
// and featuregate takes the same gate twice).
func init() {
	utilruntime.Must(logsapi.AddFeatureGates(utilfeature.DefaultMutableFeatureGate))
	utilruntime.Must(metricsfeatures.AddFeatureGates(utilfeature.DefaultMutableFeatureGate))
}
