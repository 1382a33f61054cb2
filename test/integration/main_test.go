// Package integration tests the scheduler against a real kube-apiserver
// backed by a real etcd, both started in-process by test/harness; one file
// per capability.
package integration

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"k8s.io/klog/v2"
	"k8s.io/klog/v2/ktesting"

	"github.com/kube-mesos/kube-mesos-scheduler/test/harness"
)

// profile is the scheduler configuration of most tests: all three plugins,
// the embedded allocator, short timings, no leader election.
const profile = `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection:
  leaderElect: false
profiles:
  - schedulerName: kube-mesos-scheduler
    plugins:
      queueSort:
        enabled:
          - name: DRF
        disabled:
          - name: "*"
      multiPoint:
        enabled:
          - name: MesosOffers
          - name: DRF
          - name: Hetero
        disabled:
          - name: DefaultPreemption  # DRF preempts (priority and fair share)
`

// env is one test's control plane and scheduler.
type env struct {
	ctx   context.Context
	cp    *harness.ControlPlane
	sched *harness.Scheduler
}

// start brings up a control plane and, unless config is empty, our scheduler.
func start(t *testing.T, config string) *env {
	t.Helper()
	ctx := klog.NewContext(context.Background(), ktesting.NewLogger(t, ktesting.NewConfig(ktesting.Verbosity(testVerbosity()))))
	ctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	cp, err := harness.StartControlPlane(t)
	if err != nil {
		t.Fatalf("control plane: %v", err)
	}
	t.Cleanup(cp.Stop)
	e := &env{ctx: ctx, cp: cp}
	if config != "" {
		e.sched = e.startScheduler(t, config)
	}
	return e
}

func (e *env) startScheduler(t *testing.T, config string) *harness.Scheduler {
	t.Helper()
	s, err := harness.StartScheduler(e.ctx, e.cp, config)
	if err != nil {
		t.Fatalf("scheduler: %v", err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	return s
}

// withArgs appends a pluginConfig block to a profile.
func withArgs(config, pluginConfig string) string {
	return strings.TrimRight(config, "\n") + "\n    pluginConfig:\n" + pluginConfig
}

// testVerbosity is the log verbosity of the schedulers in the tests: 3
// (state changes and per-pod decisions of our plugins at V(4) are left out,
// and so are kube-scheduler's V(5) pod dumps, which cost more CPU than the
// scheduling they describe), or KMS_TEST_V.
func testVerbosity() int {
	if v, err := strconv.Atoi(os.Getenv("KMS_TEST_V")); err == nil {
		return v
	}
	return 3
}

func TestMain(m *testing.M) {
	os.Exit(m.Run())
}
