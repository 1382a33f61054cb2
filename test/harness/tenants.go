package harness

import (
	"context"
	"fmt"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// Tenants follows the pods of some namespaces as their controllers would:
// a pod deleted while bound (a preemption victim: the tests delete none of
// these pods themselves) is counted as an eviction and created again under
// its name, as its ReplicaSet or Job would create a replacement. It records
// the namespaces' bound pods at the moment of the first eviction, in the
// order the API server reported the changes, so that a test can compute
// the fewest evictions that reach a fair allocation from there.
type Tenants struct {
	client     kubernetes.Interface
	namespaces map[string]bool

	mu        sync.Mutex
	bound     map[string]map[string]string // namespace -> pod name -> node
	nominated map[string]map[string]string // namespace -> pending pod -> the node it is nominated to
	evicted   map[string][]time.Time       // node -> when its pods were evicted
	// counted holds the pods whose eviction is counted already: at the
	// first sight of their deletion timestamp. A deletion is two writes
	// (the timestamp, then the removal), seen as an update and then a
	// delete; between them the pod is no longer bound, and counting the
	// eviction only at the delete left its CPU counted as idle meanwhile
	// (under CI load three samples in a row found one).
	counted   map[types.UID]bool
	handovers []time.Duration // eviction on a node to the next bind there
	evictions map[string]int
	first     map[string]int // bound pods per namespace at the first eviction
	firstAt   time.Time
	lastAt    time.Time // the last eviction
	errs      []error
	wg        sync.WaitGroup
	stop      func()
}

// WatchTenants starts following the pods of the namespaces until Stop (or
// ctx ends). Stop it before the control plane: an open watch holds the API
// server's shutdown back.
func WatchTenants(ctx context.Context, c kubernetes.Interface, namespaces ...string) (*Tenants, error) {
	ctx, cancel := context.WithCancel(ctx)
	t := &Tenants{
		client: c, namespaces: map[string]bool{}, bound: map[string]map[string]string{},
		nominated: map[string]map[string]string{}, evicted: map[string][]time.Time{}, evictions: map[string]int{},
		counted: map[types.UID]bool{},
	}
	for _, ns := range namespaces {
		t.namespaces[ns] = true
		t.bound[ns] = map[string]string{}
		t.nominated[ns] = map[string]string{}
	}
	factory := informers.NewSharedInformerFactory(c, 0)
	inf := factory.Core().V1().Pods().Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { t.update(obj.(*v1.Pod)) },
		UpdateFunc: func(_, obj any) { t.update(obj.(*v1.Pod)) },
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if p, ok := obj.(*v1.Pod); ok {
				t.deleted(ctx, p)
			}
		},
	}); err != nil {
		cancel()
		return nil, err
	}
	factory.Start(ctx.Done())
	t.stop = func() {
		cancel()
		factory.Shutdown()
		t.wg.Wait()
	}
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		t.stop()
		return nil, fmt.Errorf("pod informer did not sync")
	}
	return t, nil
}

// Stop stops following the pods and waits for pods being created again.
func (t *Tenants) Stop() { t.stop() }

func (t *Tenants) update(p *v1.Pod) {
	if !t.namespaces[p.Namespace] {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if p.Spec.NodeName != "" && p.DeletionTimestamp == nil {
		if _, was := t.bound[p.Namespace][p.Name]; !was {
			if ev := t.evicted[p.Spec.NodeName]; len(ev) > 0 {
				t.handovers = append(t.handovers, time.Since(ev[0]))
				t.evicted[p.Spec.NodeName] = ev[1:]
			}
		}
		t.bound[p.Namespace][p.Name] = p.Spec.NodeName
		delete(t.nominated[p.Namespace], p.Name)
		return
	}
	if p.DeletionTimestamp != nil {
		t.evictedLocked(p)
	}
	delete(t.bound[p.Namespace], p.Name)
	if p.Spec.NodeName == "" && p.Status.NominatedNodeName != "" {
		t.nominated[p.Namespace][p.Name] = p.Status.NominatedNodeName
	} else {
		delete(t.nominated[p.Namespace], p.Name)
	}
}

// evictedLocked counts the eviction of a pod being deleted while bound,
// once (at its deletion timestamp or, if that was not seen, its deletion).
func (t *Tenants) evictedLocked(p *v1.Pod) {
	_, wasBound := t.bound[p.Namespace][p.Name]
	if t.counted[p.UID] || (!wasBound && p.Spec.NodeName == "") {
		return
	}
	t.counted[p.UID] = true
	if t.first == nil {
		t.first = t.boundCountsLocked()
		t.firstAt = time.Now()
	}
	t.evictions[p.Namespace]++
	t.lastAt = time.Now()
	node := t.bound[p.Namespace][p.Name]
	if node == "" {
		node = p.Spec.NodeName
	}
	t.evicted[node] = append(t.evicted[node], t.lastAt)
}

func (t *Tenants) deleted(ctx context.Context, p *v1.Pod) {
	if !t.namespaces[p.Namespace] {
		return
	}
	t.mu.Lock()
	t.evictedLocked(p)
	delete(t.counted, p.UID)
	delete(t.bound[p.Namespace], p.Name)
	delete(t.nominated[p.Namespace], p.Name)
	t.mu.Unlock()
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		t.recreate(ctx, p)
	}()
}

// recreate creates a fresh copy of a deleted pod under its name.
func (t *Tenants) recreate(ctx context.Context, old *v1.Pod) {
	p := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: old.Namespace, Name: old.Name, Labels: old.Labels, Annotations: old.Annotations},
		Spec:       *old.Spec.DeepCopy(),
	}
	p.Spec.NodeName = ""
	err := Poll(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		_, err := t.client.CoreV1().Pods(p.Namespace).Create(ctx, p, metav1.CreateOptions{})
		return err == nil, nil
	})
	if err != nil && ctx.Err() == nil && !apierrors.IsAlreadyExists(err) {
		t.mu.Lock()
		t.errs = append(t.errs, fmt.Errorf("creating %s/%s again: %w", p.Namespace, p.Name, err))
		t.mu.Unlock()
	}
}

func (t *Tenants) boundCountsLocked() map[string]int {
	out := make(map[string]int, len(t.bound))
	for ns, pods := range t.bound {
		out[ns] = len(pods)
	}
	return out
}

// Bound returns the bound pods per namespace.
func (t *Tenants) Bound() map[string]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.boundCountsLocked()
}

// Claimed returns, per node, the pods bound there plus its pods in
// handover: a slot whose pod was evicted is claimed by the preemptor the
// eviction was for — once it is nominated there (the API shows it after
// the scheduler's status write), and for at most handover after the
// eviction in any case (the preemptor then binds there).
func (t *Tenants) Claimed(handover time.Duration) map[string]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[string]int{}
	for _, pods := range t.bound {
		for _, node := range pods {
			out[node]++
		}
	}
	nominated := map[string]int{}
	for _, pods := range t.nominated {
		for _, node := range pods {
			nominated[node]++
		}
	}
	recent := map[string]int{}
	for node, ev := range t.evicted {
		for _, at := range ev {
			if time.Since(at) < handover {
				recent[node]++
			}
		}
	}
	for node := range out {
		out[node] += max(nominated[node], recent[node])
	}
	return out
}

// Handovers returns, for each eviction whose node got a new pod since, the
// time from the eviction to that pod's binding.
func (t *Tenants) Handovers() []time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]time.Duration(nil), t.handovers...)
}

// Evictions returns the evictions per namespace and in all.
func (t *Tenants) Evictions() (map[string]int, int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	out, total := make(map[string]int, len(t.evictions)), 0
	for ns, n := range t.evictions {
		out[ns] = n
		total += n
	}
	return out, total
}

// FirstEviction returns the bound pods per namespace when the first
// eviction happened and when it did (nil before any).
func (t *Tenants) FirstEviction() (map[string]int, time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.first, t.firstAt
}

// LastEviction returns the time of the last eviction (zero before any).
func (t *Tenants) LastEviction() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lastAt
}

// Err returns the first error met recreating pods.
func (t *Tenants) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.errs) > 0 {
		return t.errs[0]
	}
	return nil
}
