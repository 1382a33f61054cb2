// Package hetero is the Hetero plugin: scoring of heterogeneous hardware.
package hetero

import (
	"context"
	"fmt"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	fwk "k8s.io/kube-scheduler/framework"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config/validation"
)

var (
	_ fwk.FilterPlugin = &Hetero{}
)

const (
	// Name is the plugin's name in the registry and in configurations.
	Name = "Hetero"
	// AnnotationArchitectures lists the CPU architectures a pod's images exist for.
	AnnotationArchitectures = "kube-mesos.io/architectures"

	// ErrReasonArchitecture is the reason for nodes of another architecture.
	ErrReasonArchitecture = "node(s) had a CPU architecture the pod's images do not support"
)

// Hetero is the plugin.
type Hetero struct {
	args *config.HeteroArgs
}

// New decodes and validates the args.
func New(_ context.Context, obj runtime.Object, _ fwk.Handle) (fwk.Plugin, error) {
	args, ok := obj.(*config.HeteroArgs)
	if !ok {
		return nil, fmt.Errorf("want args of type HeteroArgs, got %T", obj)
	}
	if err := validation.ValidateHeteroArgs(nil, args); err != nil {
		return nil, fmt.Errorf("invalid HeteroArgs: %w", err)
	}
	return &Hetero{args: args}, nil
}

// Name returns the plugin's name.
func (pl *Hetero) Name() string { return Name }

// Filter keeps pods on nodes of an architecture their images exist for.
func (pl *Hetero) Filter(_ context.Context, _ fwk.CycleState, pod *v1.Pod, ni fwk.NodeInfo) *fwk.Status {
	list, ok := pod.Annotations[AnnotationArchitectures]
	if !ok {
		return nil
	}
	arch := ni.Node().Labels[v1.LabelArchStable]
	for _, a := range strings.Split(list, ",") {
		if strings.TrimSpace(a) == arch {
			return nil
		}
	}
	return fwk.NewStatus(fwk.UnschedulableAndUnresolvable, ErrReasonArchitecture)
}
