package hetero

import (
	"fmt"
	"strings"

	v1 "k8s.io/api/core/v1"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/fair"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/hardware"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

var _ fair.Placement = &Hetero{}

// For implements fair.Placement for the embedded allocator: the same
// needs, admission and score as Filter and Score, so the agent the
// allocator offers a pod is one this plugin admits and ranks best. A pod
// with a bad annotation gets nil: PreFilter makes it wait with the reason.
func (pl *Hetero) For(pod *v1.Pod) fair.PodPlacement {
	need, err := pl.needsOf(pod)
	if err != nil || (!need.Filters() && hardware.TotalWeight(&need, pl.weights) == 0) {
		return nil
	}
	return &podPlacement{pl: pl, need: need, key: needsKey(&need)}
}

// podPlacement is one pod's hardware judgement.
type podPlacement struct {
	pl   *Hetero
	need hardware.Needs
	key  string
}

func (p *podPlacement) Key() string { return p.key }

func (p *podPlacement) Admits(node *v1.Node) bool {
	return hardware.Admit(&p.need, p.pl.model(node)) == hardware.Admitted
}

// Score rates the node as Score does, with the node's accelerator use taken
// from used (the allocator's view, offers of this cycle included). DRA
// devices count as capacity; their allocations are not known here.
func (p *podPlacement) Score(node *v1.Node, used resources.Vector) int64 {
	m := p.pl.model(node)
	u := hardware.Usage{Capacity: m.Extended + m.DRADevices}
	for _, r := range p.pl.args.AcceleratorResources {
		u.Used += used[r]
	}
	return hardware.Score(&p.need, m, u, p.pl.weights)
}

// needsKey renders needs deterministically: pods with equal keys judge
// every node alike.
func needsKey(n *hardware.Needs) string {
	var b strings.Builder
	fmt.Fprintf(&b, "g%d|m", n.GPUs)
	for _, m := range n.Models {
		b.WriteString(strings.Join(m, " "))
		b.WriteByte(',')
	}
	fmt.Fprintf(&b, "|mem%d|a%s|r%t|p%s|x%t|i%t", n.MinMemory, strings.Join(n.Archs, ","), n.ArchRequired, n.Policy, n.AvoidAccelerators, n.ScoreIdle)
	return b.String()
}
