package harness

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/kube-mesos/kube-mesos-scheduler/internal/controlplane"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/plugins/drf"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/plugins/offers"
	"github.com/kube-mesos/kube-mesos-scheduler/test/build"
)

// SchedulerName is our scheduler's name in the example configurations.
const SchedulerName = build.SchedulerName

// The object builders live in test/build, shared with the unit tests.
type (
	NodeBuilder = build.NodeBuilder
	PodBuilder  = build.PodBuilder
)

// MakeNode starts a node (build.MakeNode).
func MakeNode(name string) *NodeBuilder { return build.MakeNode(name) }

// MakePod starts a pod for our scheduler (build.MakePod).
func MakePod(namespace, name string) *PodBuilder { return build.MakePod(namespace, name) }

// CreateNamespace creates a namespace with labels and annotations.
func CreateNamespace(ctx context.Context, c kubernetes.Interface, name string, labels, annotations map[string]string) error {
	return controlplane.CreateNamespace(ctx, c, name, labels, annotations)
}

// CreateNodes creates nodes; their status (capacity) is written too.
func CreateNodes(ctx context.Context, c kubernetes.Interface, nodes ...*v1.Node) error {
	return controlplane.CreateNodes(ctx, c, nodes...)
}

// CreatePods creates pods.
func CreatePods(ctx context.Context, c kubernetes.Interface, pods ...*v1.Pod) error {
	return controlplane.CreatePods(ctx, c, pods...)
}

// Poll polls cond every 50 ms until it returns true, an error, or timeout.
func Poll(ctx context.Context, timeout time.Duration, cond func(ctx context.Context) (bool, error)) error {
	return wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, timeout, true, cond)
}

// WaitForPodBound waits until a pod is bound and returns its node.
func WaitForPodBound(ctx context.Context, c kubernetes.Interface, namespace, name string, timeout time.Duration) (string, error) {
	var node, why string
	err := Poll(ctx, timeout, func(ctx context.Context) (bool, error) {
		p, err := c.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			why = err.Error()
			return false, nil
		}
		node, why = p.Spec.NodeName, Unschedulable(p)
		return node != "", nil
	})
	if err != nil {
		if why == "" {
			why = "no PodScheduled=False condition: never attempted, or still in flight"
		}
		return "", fmt.Errorf("pod %s/%s not bound (last: %s): %w", namespace, name, why, err)
	}
	return node, nil
}

// Unschedulable returns the message of a pod's PodScheduled=False
// condition, or "" if it has none.
func Unschedulable(p *v1.Pod) string {
	for _, c := range p.Status.Conditions {
		if c.Type == v1.PodScheduled && c.Status == v1.ConditionFalse {
			return c.Message
		}
	}
	return ""
}

// WaitForUnschedulable waits until a pod carries PodScheduled=False and
// returns the condition's message. With want, it waits until the message
// contains one of them: a pod's reason changes as the world around it does
// (it waits for an offer before it waits for a matching node), so a test
// asserting a reason must wait for that reason, not for the first one.
func WaitForUnschedulable(ctx context.Context, c kubernetes.Interface, namespace, name string, timeout time.Duration, want ...string) (string, error) {
	var msg string
	err := Poll(ctx, timeout, func(ctx context.Context) (bool, error) {
		p, err := c.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		msg = Unschedulable(p)
		return msg != "" && (len(want) == 0 || containsAny(msg, want)), nil
	})
	if err != nil {
		if msg != "" {
			return msg, fmt.Errorf("pod %s/%s unschedulable with %q, never with one of %q: %w", namespace, name, msg, want, err)
		}
		return "", fmt.Errorf("pod %s/%s never reported unschedulable: %w", namespace, name, err)
	}
	return msg, nil
}

// transientReasons mark pods that wait for a moment, not for capacity or a
// cluster event: a role that appeared since the fair targets were computed,
// a fair-share preemption waiting out its delay, a preemptor waiting for
// its victims to go (or whose node has room already), and an offer that
// went away between Filter and Reserve.
var transientReasons = []string{drf.ErrReasonNoTarget, drf.ErrReasonPreemptionDeferred, drf.ErrReasonWaitingForVictims,
	drf.ErrReasonFitsFree, offers.ErrReasonOfferGone, "found a potential placement"}

// settleQuiet is how long nothing may change before Settled returns. A
// Mesos master offers an agent's free resources again within its
// allocation interval (1 s by default; the emulator's too) and a declined
// offer after refuse_seconds (1 s in the tests' profiles): "no outstanding
// offer for the pod's role" with no explanation may change without any
// cluster event until that much time passed with nothing placed.
const settleQuiet = 2 * time.Second

// Settled waits until placement has settled in the namespaces, and returns
// the bound count per namespace. Settled means: every pod is bound or was
// turned away for a reason that only a cluster event can change (its
// role's fair share, limit or guarantee, no room, hardware, no offer to
// its role), none for a transient reason (transientReasons), and the
// bound pods and every pending pod's reason stayed the same for
// settleQuiet — so a test does not read its counts before the master's
// next offer arrived.
func Settled(ctx context.Context, c kubernetes.Interface, timeout time.Duration, namespaces ...string) (map[string]int, error) {
	var bound map[string]int
	var last string
	var since time.Time
	err := Poll(ctx, timeout, func(ctx context.Context) (bool, error) {
		bound = map[string]int{}
		var seen strings.Builder
		for _, ns := range namespaces {
			list, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return false, nil
			}
			for i := range list.Items {
				p := &list.Items[i]
				msg := Unschedulable(p)
				switch {
				case p.Spec.NodeName != "":
					bound[ns]++
				case msg == "" || containsAny(msg, transientReasons):
					since = time.Time{}
					return false, nil
				}
				fmt.Fprintf(&seen, "%s/%s@%s:%s;", ns, p.Name, p.Spec.NodeName, msg)
			}
		}
		if now := seen.String(); now != last || since.IsZero() {
			last, since = now, time.Now()
		}
		return time.Since(since) >= settleQuiet, nil
	})
	return bound, err
}

// DeletePod deletes a pod at once, ignoring NotFound.
func DeletePod(ctx context.Context, c kubernetes.Interface, namespace, name string) error {
	err := c.CoreV1().Pods(namespace).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

func containsAny(s string, subs []string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

// CreatePodsInParallel creates pods with several requests in flight, in
// order within each worker's share, as a burst of submissions would.
func CreatePodsInParallel(ctx context.Context, c kubernetes.Interface, workers int, pods ...*v1.Pod) error {
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	next := make(chan *v1.Pod)
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range next {
				if err := CreatePods(ctx, c, p); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for _, p := range pods {
		next <- p
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}
