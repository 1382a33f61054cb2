package offers

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	fwk "k8s.io/kube-scheduler/framework"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/allocator"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/cluster"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/mesos"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/metrics"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/offer"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

// newSources creates the configured offer sources (args.OfferSources):
// each Mesos source serves the nodes its selector picks, the embedded
// allocator the nodes none picks (offer.Claims decides, for all of them).
func newSources(args *config.MesosOffersArgs, st *cluster.State, h fwk.Handle, book *offer.Book) (*offer.Multi, error) {
	cfgs := args.OfferSources()
	members := make([]offer.Member, len(cfgs))
	for i, c := range cfgs {
		members[i].Name = c.Name
		if c.Type == config.OfferSourceMesos && len(c.NodeSelector) > 0 {
			members[i].Selector = labels.SelectorFromSet(c.NodeSelector)
		}
	}
	claims := offer.NewClaims(members)
	var multi *offer.Multi // set below; the allocator's Remaining asks the book by the book's IDs
	for i, c := range cfgs {
		// With one source, it serves every node (or its selector's) and
		// keeps its unnamed logs and offer IDs, as before sources existed.
		serves := claims.Serves(i)
		if len(cfgs) == 1 && members[i].Selector == nil {
			serves = nil
		}
		switch c.Type {
		case config.OfferSourceEmbedded:
			members[i].Source = allocator.New(st, allocator.Config{
				Interval: args.AllocationInterval.Duration, OfferTimeout: args.OfferTimeout.Duration,
				DefaultPorts: defaultPorts(args), Serves: serves,
				Remaining: func(id string) (resources.Vector, resources.Ranges, bool) {
					return book.Free(multi.OfferID(i, id))
				},
			})
		case config.OfferSourceMesos:
			cfg, err := mesos.NewConfig(c.Mesos, time.Duration(args.RefuseSeconds)*time.Second)
			if err != nil {
				return nil, fmt.Errorf("%s: invalid MesosOffersArgs: source %s: %w", Name, c.Name, err)
			}
			if len(cfgs) > 1 {
				cfg.Name = c.Name
			}
			cfg.Serves = serves
			src, err := mesos.New(cfg, st, h.SharedInformerFactory(), h.ClientSet(), h.EventRecorder())
			if err != nil {
				return nil, fmt.Errorf("%s: source %s: %w", Name, c.Name, err)
			}
			members[i].Source = src
		default:
			return nil, fmt.Errorf("%s: source %s: unknown type %q", Name, c.Name, c.Type)
		}
	}
	nodes := h.SharedInformerFactory().Core().V1().Nodes().Lister()
	multi = offer.NewMulti(members, func(name string) (map[string]string, bool) {
		n, err := nodes.Get(name)
		if err != nil {
			return nil, false
		}
		return n.Labels, true
	}, func(member, event string, n int) {
		metrics.SourceOffers.WithLabelValues(member, event).Add(float64(n))
	})
	return multi, nil
}

// sourceGaugeInterval is how often the per-source gauges are refreshed.
const sourceGaugeInterval = 5 * time.Second

// runSourceGauges keeps the per-source gauges (connected, leader, nodes
// served) until ctx is done.
func runSourceGauges(ctx context.Context, m *offer.Multi, st *cluster.State) {
	t := time.NewTicker(sourceGaugeInterval)
	defer t.Stop()
	leaders := map[string]string{}
	for {
		for name, s := range m.Statuses() {
			v := 0.0
			if s.Connected {
				v = 1
			}
			metrics.SourceConnected.WithLabelValues(name).Set(v)
			if old := leaders[name]; old != s.Leader {
				if old != "" {
					metrics.SourceLeader.DeleteLabelValues(name, old)
				}
				if s.Leader != "" {
					metrics.SourceLeader.WithLabelValues(name, s.Leader).Set(1)
				}
				leaders[name] = s.Leader
			}
		}
		for name, n := range nodesBySource(m, st) {
			metrics.SourceNodes.WithLabelValues(name).Set(float64(n))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// nodesBySource counts the schedulable nodes each source serves.
func nodesBySource(m *offer.Multi, st *cluster.State) map[string]int {
	out := map[string]int{}
	members, claims := m.Members(), m.Claims()
	for _, mb := range members {
		out[mb.Name] = 0
	}
	for _, n := range st.AppendNodes(nil) {
		if !n.Schedulable || n.Object == nil {
			continue
		}
		if i := claims.Owner(n.Object.Labels); i >= 0 {
			out[members[i].Name]++
		}
	}
	return out
}
