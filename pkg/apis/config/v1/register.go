package v1

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	schedconfigv1 "k8s.io/kube-scheduler/config/v1"
)

// SchemeGroupVersion is kubescheduler.config.k8s.io/v1.
var SchemeGroupVersion = schema.GroupVersion{Group: schedconfigv1.GroupName, Version: "v1"}

var (
	// localSchemeBuilder extends the kube-scheduler's v1 builder so that the
	// kube-scheduler defaults and converts our args with its own.
	localSchemeBuilder = &schedconfigv1.SchemeBuilder
	// AddToScheme registers the v1 types, defaults and conversions.
	AddToScheme = localSchemeBuilder.AddToScheme
)

func addKnownTypes(scheme *runtime.Scheme) error {
	scheme.AddKnownTypes(SchemeGroupVersion,
		&MesosOffersArgs{},
		&DRFArgs{},
		&HeteroArgs{},
	)
	return nil
}

func init() {
	// Generated defaults and conversions register themselves in the
	// generated files; only the hand-written parts are registered here.
	localSchemeBuilder.Register(addKnownTypes)
	localSchemeBuilder.Register(RegisterDefaults)
}
