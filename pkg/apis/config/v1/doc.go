// +k8s:deepcopy-gen=package
// +k8s:conversion-gen=github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config
// +k8s:defaulter-gen=TypeMeta
// +k8s:defaulter-gen-input=github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config/v1
// +groupName=kubescheduler.config.k8s.io

// Package v1 holds the versioned (kubescheduler.config.k8s.io/v1) arguments
// of the MesosOffers, DRF and Hetero plugins, their defaults and conversions.
package v1
