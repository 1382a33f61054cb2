package drf

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config/validation"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/cluster"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/roles"
)

// decodeArgs type-asserts and validates the plugin's args.
func decodeArgs(obj runtime.Object) (*config.DRFArgs, error) {
	args, ok := obj.(*config.DRFArgs)
	if !ok {
		return nil, fmt.Errorf("want args of type DRFArgs, got %T", obj)
	}
	if err := validation.ValidateDRFArgs(nil, args); err != nil {
		return nil, fmt.Errorf("invalid DRFArgs: %w", err)
	}
	return args, nil
}

// RoleConfig turns validated args into the state's role configuration.
func RoleConfig(args *config.DRFArgs) cluster.RoleConfig {
	cfg := cluster.RoleConfig{
		Resources: args.Resources,
		Excluded:  args.ExcludedResourceNames,
		Roles:     map[string]cluster.RoleOverride{},
	}
	for _, rc := range args.Roles {
		o := cluster.RoleOverride{}
		if rc.Weight != "" {
			o.Weight, _ = roles.ParseWeight(rc.Weight) // validated
		}
		if rc.Guarantee != nil {
			o.Guarantee = resources.FromList(rc.Guarantee)
		}
		if rc.Limit != nil {
			o.Limit = resources.FromList(rc.Limit)
		}
		cfg.Roles[rc.Name] = o
	}
	return cfg
}
