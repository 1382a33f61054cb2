package integration

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kube-mesos/kube-mesos-scheduler/test/harness"
)

// TestBindsOwnPodsOnly: a pod for kube-mesos-scheduler is bound; a pod for
// another scheduler is left alone.
func TestBindsOwnPodsOnly(t *testing.T) {
	e := start(t, profile)
	c := e.cp.Client
	if err := harness.CreateNodes(e.ctx, c, harness.MakeNode("n1").Capacity("cpu", "4", "memory", "8Gi").Obj()); err != nil {
		t.Fatal(err)
	}
	ours := harness.MakePod("default", "ours").Req("cpu", "1", "memory", "1Gi").Obj()
	theirs := harness.MakePod("default", "theirs").Req("cpu", "1").Scheduler("someone-else").Obj()
	if err := harness.CreatePods(e.ctx, c, ours, theirs); err != nil {
		t.Fatal(err)
	}
	node, err := harness.WaitForPodBound(e.ctx, c, "default", "ours", 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if node != "n1" {
		t.Errorf("pod bound to %q, want n1", node)
	}
	// Our pod is bound, so our scheduler has processed the queue; the other
	// scheduler's pod must carry no trace of us: no node, no condition.
	p, err := c.CoreV1().Pods("default").Get(e.ctx, "theirs", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Spec.NodeName != "" || len(p.Status.Conditions) != 0 {
		t.Errorf("pod for another scheduler was touched: node %q, conditions %v", p.Spec.NodeName, p.Status.Conditions)
	}
}

// TestBadArgsRefuseToStart: unknown fields and bad values in plugin args
// stop the scheduler with a message naming the field.
func TestBadArgsRefuseToStart(t *testing.T) {
	e := start(t, "")
	for _, tc := range []struct {
		name, args, want string
	}{
		{
			name: "unknown DRF field",
			args: "      - name: DRF\n        args:\n          wieght: 2\n",
			want: `unknown field "wieght"`,
		},
		{
			name: "bad DRF weight",
			args: "      - name: DRF\n        args:\n          roles:\n            - name: team-a\n              weight: \"-1\"\n",
			want: "roles[0].weight",
		},
		{
			name: "bad role name",
			args: "      - name: DRF\n        args:\n          roles:\n            - name: \"/eng\"\n",
			want: "roles[0].name",
		},
		{
			name: "bad offer source",
			args: "      - name: MesosOffers\n        args:\n          source: Marathon\n",
			want: "source",
		},
		{
			name: "bad port range",
			args: "      - name: MesosOffers\n        args:\n          defaultPortRanges: [\"32000-31000\"]\n",
			want: "defaultPortRanges[0]",
		},
		{
			name: "bad hetero policy",
			args: "      - name: Hetero\n        args:\n          acceleratorNodePolicy: Sometimes\n",
			want: "acceleratorNodePolicy",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := harness.StartScheduler(e.ctx, e.cp, withArgs(profile, tc.args))
			if err == nil {
				_ = s.Stop()
				t.Fatalf("scheduler started with bad args")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %q", err, tc.want)
			}
		})
	}
}
