// Package scheme registers the plugin arguments into the kube-scheduler's
// configuration scheme, so that a KubeSchedulerConfiguration decodes, defaults
// and strictly validates them like in-tree plugin args.
package scheme

import (
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	kubeschedulerscheme "k8s.io/kubernetes/pkg/scheduler/apis/config/scheme"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config"
	configv1 "github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config/v1"
)

// Scheme is the kube-scheduler's own scheme, extended with our types.
var Scheme = kubeschedulerscheme.Scheme

func init() {
	// The kube-scheduler scheme was built in its own init, before our types
	// were appended to its scheme builders: add them now. This is the only
	// init in the project beyond the generated registrations.
	AddToScheme(Scheme)
}

// AddToScheme adds the internal and v1 plugin args to a scheme.
func AddToScheme(s *runtime.Scheme) {
	utilruntime.Must(config.AddToScheme(s))
	utilruntime.Must(configv1.AddToScheme(s))
}
