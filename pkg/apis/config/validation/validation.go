// Package validation checks the plugin arguments and reports every problem
// with its field path, so a bad configuration stops the scheduler with a
// message naming the field.
package validation

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	k8svalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/hardware"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/roles"
)

// ValidateMesosOffersArgs validates MesosOffers arguments.
func ValidateMesosOffersArgs(path *field.Path, args *config.MesosOffersArgs) error {
	var errs field.ErrorList
	if len(args.Sources) > 0 {
		if args.Source != "" {
			errs = append(errs, field.Forbidden(path.Child("source"), "set either sources or source (and mesos), not both"))
		}
		if args.Mesos != nil {
			errs = append(errs, field.Forbidden(path.Child("mesos"), "set either sources or source and mesos, not both: give each Mesos source its mesos in sources"))
		}
		errs = append(errs, validateSources(path.Child("sources"), args.Sources)...)
	} else {
		switch args.Source {
		case config.OfferSourceEmbedded:
		case config.OfferSourceMesos:
			if args.Mesos == nil {
				errs = append(errs, field.Required(path.Child("mesos"), "required when source is Mesos"))
			}
		default:
			errs = append(errs, field.NotSupported(path.Child("source"), args.Source,
				[]config.OfferSourceType{config.OfferSourceEmbedded, config.OfferSourceMesos}))
		}
	}
	if args.AllocationInterval.Duration <= 0 {
		errs = append(errs, field.Invalid(path.Child("allocationInterval"), args.AllocationInterval.Duration.String(), "must be positive"))
	}
	if args.RefuseSeconds < 0 || args.RefuseSeconds > MaxRefuseSeconds {
		errs = append(errs, field.Invalid(path.Child("refuseSeconds"), args.RefuseSeconds, fmt.Sprintf(
			"must be from 0 to %d: a declined agent stays hidden from the role that long, away from pods that arrive meanwhile", MaxRefuseSeconds)))
	}
	if args.OfferTimeout.Duration < 0 {
		errs = append(errs, field.Invalid(path.Child("offerTimeout"), args.OfferTimeout.Duration.String(), "must not be negative (0 never rescinds)"))
	}
	if w := args.AcceptBatchWindow.Duration; w < 0 || w > args.AllocationInterval.Duration {
		errs = append(errs, field.Invalid(path.Child("acceptBatchWindow"), w.String(), "must be between 0 and allocationInterval"))
	}
	if t := args.OfferTimeout.Duration; t > 0 && t <= args.AcceptBatchWindow.Duration {
		errs = append(errs, field.Invalid(path.Child("offerTimeout"), t.String(), "must be longer than acceptBatchWindow"))
	}
	for i, r := range args.DefaultPortRanges {
		if _, err := resources.ParseRanges(r); err != nil {
			errs = append(errs, field.Invalid(path.Child("defaultPortRanges").Index(i), r, err.Error()))
		}
	}
	if args.Mesos != nil && len(args.Sources) == 0 {
		errs = append(errs, validateMesos(path.Child("mesos"), args.Mesos)...)
	}
	return errs.ToAggregate()
}

// validateSources checks a list of offer sources: unique names, at most one
// Embedded source, and Mesos sources that claim disjoint sets of nodes,
// each with its own master and framework ID ConfigMap.
func validateSources(path *field.Path, sources []config.OfferSourceConfig) field.ErrorList {
	var errs field.ErrorList
	names := map[string]int{}
	masters := map[string]int{}
	configMaps := map[string]int{}
	embedded := -1
	var mesosAt []int
	for i, src := range sources {
		p := path.Index(i)
		for _, msg := range k8svalidation.IsDNS1123Label(src.Name) {
			errs = append(errs, field.Invalid(p.Child("name"), src.Name, msg))
		}
		if j, dup := names[src.Name]; dup {
			errs = append(errs, field.Duplicate(p.Child("name"), fmt.Sprintf("%s (also sources[%d])", src.Name, j)))
		} else {
			names[src.Name] = i
		}
		switch src.Type {
		case config.OfferSourceEmbedded:
			if embedded >= 0 {
				errs = append(errs, field.Invalid(p.Child("type"), src.Type, fmt.Sprintf(
					"sources[%d] is Embedded already: one embedded allocator serves every node no Mesos source selects", embedded)))
			}
			embedded = i
			if len(src.NodeSelector) > 0 {
				errs = append(errs, field.Forbidden(p.Child("nodeSelector"), "the Embedded source serves every node no Mesos source selects"))
			}
			if src.Mesos != nil {
				errs = append(errs, field.Forbidden(p.Child("mesos"), "only for type Mesos"))
			}
		case config.OfferSourceMesos:
			mesosAt = append(mesosAt, i)
			if src.Mesos == nil {
				errs = append(errs, field.Required(p.Child("mesos"), "required when type is Mesos"))
				continue
			}
			errs = append(errs, validateMesos(p.Child("mesos"), src.Mesos)...)
			if j, dup := masters[src.Mesos.Master]; dup {
				errs = append(errs, field.Duplicate(p.Child("mesos", "master"), fmt.Sprintf("%s (also sources[%d]): one master is one source", src.Mesos.Master, j)))
			} else {
				masters[src.Mesos.Master] = i
			}
			if j, dup := configMaps[src.Mesos.FrameworkIDConfigMap]; dup {
				errs = append(errs, field.Duplicate(p.Child("mesos", "frameworkIDConfigMap"), fmt.Sprintf(
					"%s (also sources[%d]): each master's framework ID needs its own ConfigMap", src.Mesos.FrameworkIDConfigMap, j)))
			} else {
				configMaps[src.Mesos.FrameworkIDConfigMap] = i
			}
		default:
			errs = append(errs, field.NotSupported(p.Child("type"), src.Type,
				[]config.OfferSourceType{config.OfferSourceEmbedded, config.OfferSourceMesos}))
		}
		errs = append(errs, metav1validation.ValidateLabels(src.NodeSelector, p.Child("nodeSelector"))...)
	}
	if len(sources) > 1 {
		for _, i := range mesosAt {
			if len(sources[i].NodeSelector) == 0 {
				errs = append(errs, field.Required(path.Index(i).Child("nodeSelector"),
					"with several sources, each Mesos source names the nodes of its agents by label"))
			}
		}
	}
	for a, i := range mesosAt {
		for _, j := range mesosAt[a+1:] {
			si, sj := sources[i].NodeSelector, sources[j].NodeSelector
			if len(si) > 0 && len(sj) > 0 && !config.DisjointSelectors(si, sj) {
				errs = append(errs, field.Invalid(path.Index(j).Child("nodeSelector"), sj, fmt.Sprintf(
					"may select nodes sources[%d] (%s) selects too: two sources must not claim one node; give both one label key with different values", i, sources[i].Name)))
			}
		}
	}
	return errs
}

func validateMesos(path *field.Path, m *config.MesosMasterConfig) field.ErrorList {
	var errs field.ErrorList
	if err := ValidateMasterURL(m.Master); err != nil {
		errs = append(errs, field.Invalid(path.Child("master"), m.Master, err.Error()))
	}
	if m.FrameworkName == "" {
		errs = append(errs, field.Required(path.Child("frameworkName"), ""))
	}
	if m.User == "" {
		errs = append(errs, field.Required(path.Child("user"), ""))
	}
	if m.SecretFile != "" && m.Principal == "" {
		errs = append(errs, field.Required(path.Child("principal"), "required with secretFile"))
	}
	if m.SecretFile != "" && PlainHTTP(m) && !m.InsecureSendCredentialsInClear {
		errs = append(errs, field.Forbidden(path.Child("secretFile"), fmt.Sprintf(
			"the master %s is reached over plain HTTP, where the principal's secret would travel in clear (HTTP basic auth): use https://, or zk:// with caFile; insecureSendCredentialsInClear: true allows it anyway", m.Master)))
	}
	if m.FailoverTimeout.Duration <= 0 {
		errs = append(errs, field.Invalid(path.Child("failoverTimeout"), m.FailoverTimeout.Duration.String(), "must be positive"))
	}
	if m.Encoding != config.MesosEncodingProtobuf && m.Encoding != config.MesosEncodingJSON {
		errs = append(errs, field.NotSupported(path.Child("encoding"), m.Encoding,
			[]config.MesosEncoding{config.MesosEncodingProtobuf, config.MesosEncodingJSON}))
	}
	if strings.TrimSpace(m.PlaceholderCommand) == "" {
		errs = append(errs, field.Required(path.Child("placeholderCommand"), ""))
	}
	if ns, name, ok := strings.Cut(m.FrameworkIDConfigMap, "/"); !ok || ns == "" || name == "" {
		errs = append(errs, field.Invalid(path.Child("frameworkIDConfigMap"), m.FrameworkIDConfigMap, `must be "namespace/name"`))
	}
	if m.ReconcileInterval.Duration <= 0 {
		errs = append(errs, field.Invalid(path.Child("reconcileInterval"), m.ReconcileInterval.Duration.String(), "must be positive"))
	}
	if m.MissedHeartbeats < 1 {
		errs = append(errs, field.Invalid(path.Child("missedHeartbeats"), m.MissedHeartbeats, "must be at least 1"))
	}
	if m.OrphanPodPolicy != config.OrphanPodRelaunch && m.OrphanPodPolicy != config.OrphanPodEvict {
		errs = append(errs, field.NotSupported(path.Child("orphanPodPolicy"), m.OrphanPodPolicy,
			[]config.OrphanPodPolicy{config.OrphanPodRelaunch, config.OrphanPodEvict}))
	}
	if m.TaskGonePolicy != config.TaskGoneEvict && m.TaskGonePolicy != config.TaskGoneDelete {
		errs = append(errs, field.NotSupported(path.Child("taskGonePolicy"), m.TaskGonePolicy,
			[]config.TaskGonePolicy{config.TaskGoneEvict, config.TaskGoneDelete}))
	}
	return errs
}

// MaxRefuseSeconds bounds refuseSeconds: an hour.
const MaxRefuseSeconds = 3600

// PlainHTTP reports whether the master is reached without TLS: an http://
// URL, or zk:// (the leader's address) without caFile or
// insecureSkipTLSVerify.
func PlainHTTP(m *config.MesosMasterConfig) bool {
	switch {
	case strings.HasPrefix(m.Master, "http://"):
		return true
	case strings.HasPrefix(m.Master, "zk://"):
		return m.CAFile == "" && !m.InsecureSkipTLSVerify
	}
	return false
}

// ValidateMasterURL checks "http(s)://h:p[,h:p...]" and "zk://h:p[,h:p...]/path".
func ValidateMasterURL(s string) error {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return fmt.Errorf(`must start with "http://", "https://" or "zk://"`)
	}
	hosts, path, _ := strings.Cut(rest, "/")
	switch scheme {
	case "http", "https":
	case "zk":
		if path == "" {
			return fmt.Errorf("a zk:// URL needs the znode path, e.g. zk://h1:2181/mesos")
		}
	default:
		return fmt.Errorf("unsupported scheme %q", scheme)
	}
	if hosts == "" {
		return fmt.Errorf("no host")
	}
	for _, h := range strings.Split(hosts, ",") {
		u, err := url.Parse(scheme + "://" + h)
		if err != nil || u.Hostname() == "" || u.Port() == "" {
			return fmt.Errorf("%q is not host:port", h)
		}
	}
	return nil
}

// ValidateDRFArgs validates DRF arguments.
func ValidateDRFArgs(path *field.Path, args *config.DRFArgs) error {
	var errs field.ErrorList
	if len(args.Resources) == 0 {
		errs = append(errs, field.Required(path.Child("resources"), "at least one resource must count"))
	}
	counted := sets.New(args.Resources...)
	for i, r := range args.Resources {
		if r == "" {
			errs = append(errs, field.Invalid(path.Child("resources").Index(i), r, "must not be empty"))
		}
	}
	for i, r := range args.ExcludedResourceNames {
		if !counted.Has(r) {
			errs = append(errs, field.Invalid(path.Child("excludedResourceNames").Index(i), r, "is not in resources"))
		}
	}
	if len(resources.Counted(args.Resources, args.ExcludedResourceNames)) == 0 {
		errs = append(errs, field.Invalid(path.Child("excludedResourceNames"), args.ExcludedResourceNames, "excludes every resource"))
	}
	seen := sets.New[string]()
	for i, rc := range args.Roles {
		p := path.Child("roles").Index(i)
		if err := roles.ValidateName(rc.Name); err != nil {
			errs = append(errs, field.Invalid(p.Child("name"), rc.Name, err.Error()))
		} else if seen.Has(rc.Name) {
			errs = append(errs, field.Duplicate(p.Child("name"), rc.Name))
		}
		seen.Insert(rc.Name)
		if rc.Weight != "" {
			if _, err := roles.ParseWeight(rc.Weight); err != nil {
				errs = append(errs, field.Invalid(p.Child("weight"), rc.Weight, err.Error()))
			}
		}
		errs = append(errs, validateResourceList(p.Child("guarantee"), rc.Guarantee, counted)...)
		errs = append(errs, validateResourceList(p.Child("limit"), rc.Limit, counted)...)
		for name, g := range rc.Guarantee {
			if l, ok := rc.Limit[name]; ok && g.Cmp(l) > 0 {
				errs = append(errs, field.Invalid(p.Child("guarantee").Key(string(name)), g.String(),
					fmt.Sprintf("exceeds the limit %s", l.String())))
			}
		}
	}
	switch args.Preemption {
	case config.PreemptionFairShare, config.PreemptionPriority, config.PreemptionNever:
	default:
		errs = append(errs, field.NotSupported(path.Child("preemption"), args.Preemption,
			[]config.PreemptionPolicy{config.PreemptionFairShare, config.PreemptionPriority, config.PreemptionNever}))
	}
	if d := args.FairSharePreemptionDelay.Duration; d < 0 || d > maxFairSharePreemptionDelay {
		errs = append(errs, field.Invalid(path.Child("fairSharePreemptionDelay"), d.String(),
			fmt.Sprintf("must be between 0 and %v", maxFairSharePreemptionDelay)))
	}
	return errs.ToAggregate()
}

// maxFairSharePreemptionDelay bounds the delay: longer, and a tenant
// below its fair share would wait longer than anyone would call fair.
const maxFairSharePreemptionDelay = time.Hour

// validateResourceList checks a guarantee or limit: non-negative amounts of
// resources that count in allocations (others could never be enforced).
func validateResourceList(path *field.Path, list v1.ResourceList, counted sets.Set[v1.ResourceName]) field.ErrorList {
	var errs field.ErrorList
	for _, name := range sets.List(sets.KeySet(list)) {
		q := list[name]
		if q.Sign() < 0 {
			errs = append(errs, field.Invalid(path.Key(string(name)), q.String(), "must not be negative"))
		}
		if !counted.Has(name) {
			errs = append(errs, field.Invalid(path.Key(string(name)), q.String(), "is not one of the resources that count (resources)"))
		}
	}
	return errs
}

// ValidateHeteroArgs validates Hetero arguments.
func ValidateHeteroArgs(path *field.Path, args *config.HeteroArgs) error {
	var errs field.ErrorList
	for i, r := range args.AcceleratorResources {
		if !strings.Contains(string(r), "/") {
			errs = append(errs, field.Invalid(path.Child("acceleratorResources").Index(i), r,
				"must be an extended resource name such as nvidia.com/gpu"))
		}
	}
	switch args.AcceleratorNodePolicy {
	case config.AcceleratorNodeStrict, config.AcceleratorNodePrefer, config.AcceleratorNodeNone:
	default:
		errs = append(errs, field.NotSupported(path.Child("acceleratorNodePolicy"), args.AcceleratorNodePolicy,
			[]config.AcceleratorNodePolicy{config.AcceleratorNodeStrict, config.AcceleratorNodePrefer, config.AcceleratorNodeNone}))
	}
	errs = append(errs, uniqueNames(path.Child("acceleratorDeviceClasses"), args.AcceleratorDeviceClasses, k8svalidation.IsDNS1123Subdomain)...)
	errs = append(errs, uniqueNames(path.Child("architecturePreference"), args.ArchitecturePreference, func(a string) []string {
		if hardware.IsKnownArchitecture(a) {
			return nil
		}
		return []string{"must be one of " + strings.Join(hardware.KnownArchitectures(), ", ")}
	})...)
	w := path.Child("weights")
	for _, t := range []struct {
		name string
		v    int32
	}{
		{"model", args.Weights.Model}, {"memory", args.Weights.Memory}, {"packing", args.Weights.Packing},
		{"idleAccelerators", args.Weights.IdleAccelerators}, {"architecture", args.Weights.Architecture},
	} {
		if t.v < 0 || t.v > 100 {
			errs = append(errs, field.Invalid(w.Child(t.name), t.v, "must be between 0 and 100"))
		}
	}
	return errs.ToAggregate()
}

// uniqueNames checks each name of a list and refuses duplicates.
func uniqueNames(path *field.Path, names []string, check func(string) []string) field.ErrorList {
	var errs field.ErrorList
	seen := sets.New[string]()
	for i, n := range names {
		for _, msg := range check(n) {
			errs = append(errs, field.Invalid(path.Index(i), n, msg))
		}
		if seen.Has(n) {
			errs = append(errs, field.Duplicate(path.Index(i), n))
		}
		seen.Insert(n)
	}
	return errs
}
