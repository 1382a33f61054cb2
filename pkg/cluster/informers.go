package cluster

import (
	"context"
	"fmt"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	eqv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"
	eqclient "sigs.k8s.io/scheduler-plugins/pkg/generated/clientset/versioned"
	eqinformers "sigs.k8s.io/scheduler-plugins/pkg/generated/informers/externalversions"
)

// Provider hands out one State per scheduler profile, so that the plugins of
// a profile (DRF, MesosOffers) share one view. It is created by the plugin
// registry, never a package variable. States are keyed by the framework
// handle (one per profile of one scheduler instance), so a registry reused
// for a new scheduler (as the scheduler_perf harness does per workload)
// never hands out a state bound to an old cluster's informers.
type Provider struct {
	mu     sync.Mutex
	states map[fwk.Handle]*State
	slots  map[fwk.Handle]*PlacementSlot
}

// NewProvider returns an empty provider.
func NewProvider() *Provider {
	return &Provider{states: map[fwk.Handle]*State{}, slots: map[fwk.Handle]*PlacementSlot{}}
}

// For returns the state of the handle's profile, creating it and attaching
// it to the scheduler's informers on first use. It is dropped when ctx ends.
func (p *Provider) For(ctx context.Context, h fwk.Handle) (*State, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.states[h]; ok {
		return s, nil
	}
	s := New(h.ProfileName(), RoleConfig{})
	if err := s.Attach(h.SharedInformerFactory()); err != nil {
		return nil, err
	}
	s.SetPlacementSlot(p.slotLocked(h))
	if cfg := h.KubeConfig(); cfg != nil && h.ClientSet() != nil {
		go s.WatchElasticQuotas(ctx, cfg, h.ClientSet().Discovery())
	}
	p.states[h] = s
	go s.RunTargets(ctx)
	context.AfterFunc(ctx, func() {
		p.mu.Lock()
		delete(p.states, h)
		delete(p.slots, h)
		p.mu.Unlock()
	})
	return s, nil
}

// Attach registers the state's handlers on the scheduler's informers. The
// informers replay their caches, so the state fills up once they sync.
func (s *State) Attach(factory informers.SharedInformerFactory) error {
	if _, err := factory.Core().V1().Namespaces().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { s.UpsertNamespace(obj.(*v1.Namespace)) },
		UpdateFunc: func(_, obj any) { s.UpsertNamespace(obj.(*v1.Namespace)) },
		DeleteFunc: func(obj any) {
			if ns, ok := unwrap[*v1.Namespace](obj); ok {
				s.DeleteNamespace(ns.Name)
			}
		},
	}); err != nil {
		return fmt.Errorf("watching namespaces: %w", err)
	}
	if _, err := factory.Core().V1().Nodes().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { s.UpsertNode(obj.(*v1.Node)) },
		UpdateFunc: func(_, obj any) { s.UpsertNode(obj.(*v1.Node)) },
		DeleteFunc: func(obj any) {
			if n, ok := unwrap[*v1.Node](obj); ok {
				s.DeleteNode(n.Name)
			}
		},
	}); err != nil {
		return fmt.Errorf("watching nodes: %w", err)
	}
	if _, err := factory.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { s.UpsertPod(obj.(*v1.Pod)) },
		UpdateFunc: func(_, obj any) { s.UpsertPod(obj.(*v1.Pod)) },
		DeleteFunc: func(obj any) {
			if p, ok := unwrap[*v1.Pod](obj); ok {
				s.DeletePod(p.UID)
			}
		},
	}); err != nil {
		return fmt.Errorf("watching pods: %w", err)
	}
	s.synced = []cache.InformerSynced{
		factory.Core().V1().Namespaces().Informer().HasSynced,
		factory.Core().V1().Nodes().Informer().HasSynced,
		factory.Core().V1().Pods().Informer().HasSynced,
	}
	return nil
}

// WaitForSync blocks until the informers feeding the state have synced.
func (s *State) WaitForSync(ctx context.Context) bool {
	return cache.WaitForCacheSync(ctx.Done(), s.synced...)
}

// HasSynced reports whether the informers feeding the state have synced.
func (s *State) HasSynced() bool {
	for _, f := range s.synced {
		if !f() {
			return false
		}
	}
	return true
}

func unwrap[T any](obj any) (T, bool) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	t, ok := obj.(T)
	return t, ok
}

// elasticQuotaRecheck is how often the state looks for the ElasticQuota CRD
// while it is not installed.
const elasticQuotaRecheck = 30 * time.Second

// WatchElasticQuotas watches scheduling.x-k8s.io/v1alpha1 ElasticQuotas
// (sigs.k8s.io/scheduler-plugins) once their CRD is served; until then it
// looks again every 30 seconds. min is a guarantee, max a limit.
func (s *State) WatchElasticQuotas(ctx context.Context, cfg *rest.Config, disc discovery.DiscoveryInterface) {
	logger := klog.FromContext(ctx)
	gv := eqv1alpha1.SchemeGroupVersion.String()
	err := wait.PollUntilContextCancel(ctx, elasticQuotaRecheck, true, func(context.Context) (bool, error) {
		list, err := disc.ServerResourcesForGroupVersion(gv)
		if err != nil {
			if !apierrors.IsNotFound(err) {
				logger.V(4).Info("Looking for the ElasticQuota CRD", "err", err)
			}
			return false, nil
		}
		for _, r := range list.APIResources {
			if r.Name == "elasticquotas" {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return // context cancelled
	}
	// The scheduler's client speaks protobuf, which custom resources do not.
	cfg = rest.CopyConfig(cfg)
	cfg.ContentType, cfg.AcceptContentTypes = "application/json", "application/json"
	client, err := eqclient.NewForConfig(cfg)
	if err != nil {
		logger.Error(err, "Cannot watch ElasticQuotas")
		return
	}
	factory := eqinformers.NewSharedInformerFactory(client, 0)
	informer := factory.Scheduling().V1alpha1().ElasticQuotas().Informer()
	set := func(obj any) {
		if eq, ok := obj.(*eqv1alpha1.ElasticQuota); ok {
			s.SetQuota(eq.Namespace, eq.Spec.Min, eq.Spec.Max)
		}
	}
	if _, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    set,
		UpdateFunc: func(_, obj any) { set(obj) },
		DeleteFunc: func(obj any) {
			if eq, ok := unwrap[*eqv1alpha1.ElasticQuota](obj); ok {
				s.DeleteQuota(eq.Namespace)
			}
		},
	}); err != nil {
		logger.Error(err, "Cannot watch ElasticQuotas")
		return
	}
	logger.V(2).Info("Watching ElasticQuotas", "groupVersion", gv)
	factory.Start(ctx.Done())
}
