package cyclestate

import (
	"strings"
	"testing"

	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
)

type a struct{ n int }

func (x *a) Clone() fwk.StateData { return x }

type b struct{}

func (x *b) Clone() fwk.StateData { return x }

func TestRead(t *testing.T) {
	cs := framework.NewCycleState()
	if _, err := Read[*a](cs, "k"); err == nil || !strings.Contains(err.Error(), `"k"`) {
		t.Errorf("missing key: err %v, want one naming the key", err)
	}
	cs.Write("k", &b{})
	if _, err := Read[*a](cs, "k"); err == nil || !strings.Contains(err.Error(), "*cyclestate.b") {
		t.Errorf("wrong type: err %v, want one naming the type found", err)
	}
	cs.Write("k", &a{n: 7})
	if got, err := Read[*a](cs, "k"); err != nil || got.n != 7 {
		t.Errorf("Read = %v, %v", got, err)
	}
}
