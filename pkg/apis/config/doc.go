// +k8s:deepcopy-gen=package
// +groupName=kubescheduler.config.k8s.io

// Package config holds the internal (unversioned) types of the arguments of
// the MesosOffers, DRF and Hetero plugins. They are registered into the
// kube-scheduler's own API group so that a KubeSchedulerConfiguration carries
// them in pluginConfig like any in-tree plugin's args.
package config
