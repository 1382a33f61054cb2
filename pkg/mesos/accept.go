package mesos

import (
	"context"
	"fmt"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/offer"
)

// launchTimeout bounds the wait for a launched task's first status.
const launchTimeout = time.Minute

// Accept launches the pods placed on an offer as placeholder tasks, one
// LAUNCH operation per pod in one ACCEPT (the unused part of the offer goes
// back at once: refuse_seconds 0). The master answers 202 even for a stale
// offer or a task too big (it then sends TASK_DROPPED or TASK_ERROR), so a
// pod counts as launched only when its task reports TASK_STARTING (or
// TASK_RUNNING with waitForTaskRunning); it fails otherwise.
func (s *Source) Accept(ctx context.Context, offerID string, launches []offer.Launch) (map[types.UID]error, error) {
	// The offer leaves the book and its tasks are registered at once
	// (under the source's lock), so an offer for the agent arriving
	// meanwhile counts them as ours, and the unused part as given back.
	s.mu.Lock()
	o := s.offers[offerID]
	delete(s.offers, offerID)
	if o == nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("offer %s is no longer valid", offerID)
	}
	failed := map[types.UID]error{}
	var ops []mesos.Offer_Operation
	waits := map[types.UID]*launch{}
	rest, _, _ := toVector(o.Resources, "")
	for _, l := range launches {
		if why := s.tasks.startable(string(l.Pod.UID)); why != "" {
			failed[l.Pod.UID] = fmt.Errorf("pod %s/%s cannot be launched yet: %s", l.Pod.Namespace, l.Pod.Name, why)
			continue
		}
		ti, err := taskInfo(o, l, s.cfg.PlaceholderCommand)
		if err != nil {
			failed[l.Pod.UID] = err
			continue
		}
		waits[l.Pod.UID] = s.tasks.expect(ti.TaskID.Value, o.AgentID.Value, l.Pod.Namespace, l.Pod.Name, l.Resources)
		ops = append(ops, calls.OpLaunch(ti))
		rest.Sub(l.Resources)
	}
	delete(rest, v1.ResourcePods)
	s.noteReturningLocked(offerID, o.AgentID.Value, rest.ClampZero())
	s.mu.Unlock()
	if len(ops) == 0 {
		_ = s.call(ctx, calls.Decline(o.ID).With(calls.RefuseSeconds(0)))
		s.answered(offerID)
		return failed, nil
	}
	accept := calls.Accept(calls.OfferOperations(ops).WithOffers(o.ID)).With(calls.RefuseSeconds(0))
	err := s.call(ctx, accept)
	s.answered(offerID)
	if err != nil {
		// The master may have received the ACCEPT: reconciliation settles it.
		for uid := range waits {
			s.tasks.abandon(string(uid), true)
		}
		go s.tasks.reconcile(s.ctx, false)
		return nil, err
	}
	timeout := time.NewTimer(launchTimeout)
	defer timeout.Stop()
	for uid, w := range waits {
		select {
		case err := <-w.result:
			if err != nil {
				failed[uid] = err
			}
		case <-timeout.C:
			failed[uid] = fmt.Errorf("no status for task %s after %v", uid, launchTimeout)
			_ = s.tasks.kill(ctx, uid)
			s.tasks.abandon(string(uid), false)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return failed, nil
}

// Kill kills the task of a pod that will not run after all.
func (s *Source) Kill(ctx context.Context, pod *v1.Pod) error {
	return s.tasks.kill(ctx, pod.UID)
}
