package offers

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config/validation"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

// decodeArgs type-asserts and validates the plugin's args.
func decodeArgs(obj runtime.Object) (*config.MesosOffersArgs, error) {
	args, ok := obj.(*config.MesosOffersArgs)
	if !ok {
		return nil, fmt.Errorf("want args of type MesosOffersArgs, got %T", obj)
	}
	if err := validation.ValidateMesosOffersArgs(nil, args); err != nil {
		return nil, fmt.Errorf("invalid MesosOffersArgs: %w", err)
	}
	return args, nil
}

// defaultPorts parses the validated default port ranges.
func defaultPorts(args *config.MesosOffersArgs) resources.Ranges {
	var out resources.Ranges
	for _, s := range args.DefaultPortRanges {
		r, _ := resources.ParseRanges(s) // validated
		out = out.Union(r)
	}
	return out
}
