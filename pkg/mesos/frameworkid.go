package mesos

import (
	"context"
	"strings"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// frameworkIDKey is the ConfigMap key holding the framework ID.
const frameworkIDKey = "frameworkID"

// loadFrameworkID reads the framework ID stored by an earlier run (or the
// replica that led before), so the scheduler fails over to the same
// framework within failover_timeout instead of registering a new one.
func (s *Source) loadFrameworkID(ctx context.Context) {
	ns, name, _ := strings.Cut(s.cfg.FrameworkIDStore, "/")
	cm, err := s.client.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if !apierrors.IsNotFound(err) {
			s.logger.Info("Reading the stored framework ID", "configMap", s.cfg.FrameworkIDStore, "err", err)
		}
		return
	}
	s.mu.Lock()
	s.frameworkID = cm.Data[frameworkIDKey]
	s.mu.Unlock()
}

// saveFrameworkID stores the framework ID ("" forgets it).
func (s *Source) saveFrameworkID(ctx context.Context, id string) {
	ns, name, _ := strings.Cut(s.cfg.FrameworkIDStore, "/")
	cms := s.client.CoreV1().ConfigMaps(ns)
	cm, err := cms.Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = cms.Create(ctx, &v1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app.kubernetes.io/managed-by": "kube-mesos-scheduler"}},
			Data:       map[string]string{frameworkIDKey: id},
		}, metav1.CreateOptions{})
	case err == nil:
		if cm.Data == nil {
			cm.Data = map[string]string{}
		}
		cm.Data[frameworkIDKey] = id
		_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
	}
	if err != nil {
		s.logger.Error(err, "Storing the framework ID", "configMap", s.cfg.FrameworkIDStore)
	}
}
