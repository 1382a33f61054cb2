package mesos

import (
	"context"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// frameworkIDKey is the ConfigMap key holding the framework ID.
const frameworkIDKey = "frameworkID"

// storeBackoff paces retries of reading and writing the stored framework ID.
var storeBackoff = wait.Backoff{Duration: 200 * time.Millisecond, Factor: 2, Jitter: 0.2, Steps: 1 << 30, Cap: 10 * time.Second}

// loadFrameworkID reads the framework ID stored by an earlier run (or the
// replica that led before), so the scheduler fails over to the same
// framework within failover_timeout instead of registering a new one. It
// retries until the ConfigMap is read or known to be absent: subscribing
// without the ID would orphan the old framework's tasks.
func (s *Source) loadFrameworkID(ctx context.Context) {
	ns, name, _ := strings.Cut(s.cfg.FrameworkIDStore, "/")
	_ = wait.ExponentialBackoffWithContext(ctx, storeBackoff, func(ctx context.Context) (bool, error) {
		cm, err := s.client.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			return true, nil
		case err != nil:
			s.logger.Info("Reading the stored framework ID; retrying", "configMap", s.cfg.FrameworkIDStore, "err", err)
			return false, nil
		}
		s.mu.Lock()
		s.frameworkID = cm.Data[frameworkIDKey]
		s.mu.Unlock()
		return true, nil
	})
}

// saveFrameworkID stores the framework ID ("" forgets it), retrying until
// it is stored or a newer ID replaced it.
func (s *Source) saveFrameworkID(ctx context.Context, id string) {
	ns, name, _ := strings.Cut(s.cfg.FrameworkIDStore, "/")
	cms := s.client.CoreV1().ConfigMaps(ns)
	_ = wait.ExponentialBackoffWithContext(ctx, storeBackoff, func(ctx context.Context) (bool, error) {
		if s.currentFrameworkID() != id {
			return true, nil // superseded
		}
		cm, err := cms.Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			_, err = cms.Create(ctx, &v1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app.kubernetes.io/managed-by": "kube-mesos-scheduler"}},
				Data:       map[string]string{frameworkIDKey: id},
			}, metav1.CreateOptions{})
		case err == nil:
			if cm.Data[frameworkIDKey] == id {
				return true, nil
			}
			if cm.Data == nil {
				cm.Data = map[string]string{}
			}
			cm.Data[frameworkIDKey] = id
			_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
		}
		if err != nil {
			s.logger.Error(err, "Storing the framework ID; retrying", "configMap", s.cfg.FrameworkIDStore)
			return false, nil
		}
		return true, nil
	})
}
