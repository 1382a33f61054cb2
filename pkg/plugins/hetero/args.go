package hetero

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config/validation"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/hardware"
)

// decodeArgs type-asserts and validates the plugin's args.
func decodeArgs(obj runtime.Object) (*config.HeteroArgs, error) {
	args, ok := obj.(*config.HeteroArgs)
	if !ok {
		return nil, fmt.Errorf("want args of type HeteroArgs, got %T", obj)
	}
	if err := validation.ValidateHeteroArgs(nil, args); err != nil {
		return nil, fmt.Errorf("invalid HeteroArgs: %w", err)
	}
	return args, nil
}

// weightsOf converts the validated weights.
func weightsOf(args *config.HeteroArgs) hardware.Weights {
	w := args.Weights
	return hardware.Weights{
		Model: int64(w.Model), Memory: int64(w.Memory), Packing: int64(w.Packing),
		Idle: int64(w.IdleAccelerators), Arch: int64(w.Architecture),
	}
}
