package simulate

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	v1 "k8s.io/api/core/v1"
)

// WriteText writes the report for people: namespaces (role, weight, pods
// bound and pending, dominant share), why pods wait, and node use.
func WriteText(w io.Writer, r *Report) error {
	var b strings.Builder
	source := "the embedded allocator"
	if r.Mode == ModeMesos {
		source = "the Mesos master emulator"
		if masters := len(r.Sources) - 1; r.Sources[SourceEmbedded] != nil && masters > 0 {
			source = fmt.Sprintf("%d Mesos master emulators and the embedded allocator", masters)
		}
	}
	bound, pending := 0, 0
	for _, ns := range r.Namespaces {
		bound += ns.Bound
		pending += ns.Pending
	}
	fmt.Fprintf(&b, "Scenario %s, offers from %s\n", orDash(r.Scenario), source)
	if r.Settled {
		fmt.Fprintf(&b, "Placement settled %.1fs after the scheduler started: %d pods bound, %d pending.\n\n", r.Seconds, bound, pending)
	} else {
		fmt.Fprintf(&b, "Placement had NOT settled after %.1fs: %d pods bound, %d pending.\n\n", r.Seconds, bound, pending)
	}

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAMESPACE\tROLE\tWEIGHT\tBOUND\tPENDING\tPREEMPTED\tDOMINANT SHARE\tWEIGHTED\tALLOCATED")
	for _, name := range sortedKeys(r.Namespaces) {
		ns := r.Namespaces[name]
		share := fmt.Sprintf("%.3f", ns.DominantShare)
		if ns.DominantResource != "" {
			share += " (" + ns.DominantResource + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%g\t%d\t%d\t%d\t%s\t%.3f\t%s\n", name, ns.Role, ns.Weight, ns.Bound, ns.Pending,
			ns.Preempted, share, ns.WeightedShare, formatList(ns.Allocated))
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	if pending > 0 {
		b.WriteString("\nWhy pods are pending (the PodScheduled condition's message):\n")
		for _, name := range sortedKeys(r.Namespaces) {
			for _, rc := range r.Namespaces[name].PendingReasons {
				fmt.Fprintf(&b, "  %s: %d pod(s): %s\n", name, rc.Pods, rc.Reason)
			}
		}
	}

	b.WriteString("\n")
	extended := extendedResources(r.Nodes)
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	header := "NODE\tSOURCE\tARCH\tACCELERATOR\tPODS\tCPU\tMEMORY"
	for _, e := range extended {
		header += "\t" + strings.ToUpper(e)
	}
	fmt.Fprintln(tw, header)
	for _, name := range sortedKeys(r.Nodes) {
		n := r.Nodes[name]
		row := fmt.Sprintf("%s\t%s\t%s\t%s\t%d\t%s\t%s", name, orDash(n.Source), orDash(n.Arch), orDash(n.Accelerator), n.Pods,
			usage(n, string(v1.ResourceCPU)), usage(n, string(v1.ResourceMemory)))
		for _, e := range extended {
			row += "\t" + usage(n, e)
		}
		fmt.Fprintln(tw, row)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Sources) > 0 {
		b.WriteString("\n")
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "OFFER SOURCE\tAGENTS\tOFFERS\tPODS\tCONNECTED")
		for _, name := range sortedKeys(r.Sources) {
			src := r.Sources[name]
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%v\n", name, src.Agents, src.Offers, src.Pods, src.Connected)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// usage renders "used/allocatable" of one resource of a node; "-" when the
// node has none of it.
func usage(n *NodeReport, r string) string {
	total, ok := n.Allocatable[r]
	if !ok {
		return "-"
	}
	used, ok := n.Allocated[r]
	if !ok {
		used = "0"
	}
	return used + "/" + total
}

// extendedResources lists the resources beyond cpu, memory and
// ephemeral-storage that any node offers (GPUs, ...), sorted.
func extendedResources(nodes map[string]*NodeReport) []string {
	set := map[string]bool{}
	for _, n := range nodes {
		for r := range n.Allocatable {
			switch v1.ResourceName(r) {
			case v1.ResourceCPU, v1.ResourceMemory, v1.ResourceEphemeralStorage, v1.ResourcePods:
			default:
				set[r] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for r := range set {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// formatList renders "cpu=4 memory=16Gi" in resource name order.
func formatList(m map[string]string) string {
	if len(m) == 0 {
		return "-"
	}
	parts := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, " ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
