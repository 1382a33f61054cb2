// Package offers is the MesosOffers plugin: a pod may land only on resources
// currently offered to its role.
package offers

import (
	"context"
	"fmt"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	fwk "k8s.io/kube-scheduler/framework"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/cluster"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

var (
	_ fwk.FilterPlugin = &Offers{}
)

const (
	// Name is the plugin's name in the registry and in configurations.
	Name = "MesosOffers"
	// AnnotationPorts on a node lists the host ports it offers ("31000-32000,8080").
	AnnotationPorts = "kube-mesos.io/ports"

	// ErrReasonPortsNotOffered is the reason for nodes whose offered port
	// ranges do not hold the pod's host ports.
	ErrReasonPortsNotOffered = "node(s) did not offer the pod's host ports"
)

// Offers is the plugin.
type Offers struct {
	handle       fwk.Handle
	args         *config.MesosOffersArgs
	state        *cluster.State
	defaultPorts resources.Ranges
}

// New decodes and validates the args.
func New(ctx context.Context, obj runtime.Object, h fwk.Handle, provider *cluster.Provider) (fwk.Plugin, error) {
	args, err := decodeArgs(obj)
	if err != nil {
		return nil, err
	}
	if args.Source != config.OfferSourceEmbedded {
		return nil, fmt.Errorf("%s: offer source %q is not available yet", Name, args.Source)
	}
	st, err := provider.For(ctx, h)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	return &Offers{handle: h, args: args, state: st, defaultPorts: defaultPorts(args)}, nil
}

// Name returns the plugin's name.
func (pl *Offers) Name() string { return Name }

// Filter checks that the pod's host ports lie in the node's offered ranges.
func (pl *Offers) Filter(_ context.Context, _ fwk.CycleState, pod *v1.Pod, ni fwk.NodeInfo) *fwk.Status {
	ports := resources.HostPorts(pod)
	if len(ports) == 0 {
		return nil
	}
	if _, ok := pl.nodePorts(ni.Node()).ContainsAll(ports); !ok {
		return fwk.NewStatus(fwk.UnschedulableAndUnresolvable, ErrReasonPortsNotOffered)
	}
	return nil
}

// nodePorts returns the port ranges a node offers.
func (pl *Offers) nodePorts(node *v1.Node) resources.Ranges {
	if s, ok := node.Annotations[AnnotationPorts]; ok {
		if r, err := resources.ParseRanges(s); err == nil {
			return r
		}
	}
	return pl.defaultPorts
}
