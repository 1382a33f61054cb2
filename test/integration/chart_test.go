package integration

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	v1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	rbachelpers "k8s.io/component-helpers/auth/rbac/validation"
	"k8s.io/klog/v2/ktesting"
	"k8s.io/kubernetes/cmd/kube-scheduler/app/options"
	schedconfig "k8s.io/kubernetes/pkg/scheduler/apis/config"
	"k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac"
	"k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac/bootstrappolicy"
	eqv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"
	eqclient "sigs.k8s.io/scheduler-plugins/pkg/generated/clientset/versioned"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config/validation"
	"github.com/kube-mesos/kube-mesos-scheduler/test/harness"
)

// The plain manifests generated from the Helm chart (make manifests), the
// ElasticQuota CRD, and the demo workloads of the kind end-to-end test
// (test/e2e/kind/run.sh asserts the same placements on kind).
const (
	chartManifest      = "../../manifests/install/kube-mesos-scheduler.yaml"
	chartMesosManifest = "../../manifests/install/kube-mesos-scheduler-mesos.yaml"
	elasticQuotaCRD    = "../../manifests/crds/scheduling.x-k8s.io_elasticquotas.yaml"
	kindWorkloads      = "../e2e/kind/workloads.yaml"
)

// TestChartInstall installs the chart's plain manifest on an API server
// that enforces RBAC, runs our scheduler in-process with the configuration
// of the chart's ConfigMap as the chart's ServiceAccount (impersonated),
// and checks that the RBAC is enough: the scheduler leads through its
// Lease, binds pods, writes their unschedulable conditions and events, and
// watches ElasticQuotas. Then that it is no more than needed.
//
// The pods are the kind end-to-end test's workloads on nodes like kind's
// (a tainted control plane and two workers with 2 example.com/slot each),
// with the same assertions as test/e2e/kind/run.sh.
//
// It starts its own control plane: the other tests' authorizes everything.
func TestChartInstall(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	cp, err := harness.StartControlPlane(t, harness.WithAPIServerFlags("--authorization-mode=RBAC"))
	if err != nil {
		t.Fatalf("control plane: %v", err)
	}
	t.Cleanup(cp.Stop)
	c := cp.Client

	objs := readObjects(t, chartManifest)
	if err := cp.InstallCRD(ctx, elasticQuotaCRD); err != nil {
		t.Fatal(err)
	}
	createObjects(t, ctx, cp.Config, objs)
	sa := find(t, objs, "ServiceAccount", "")
	cm := find(t, objs, "ConfigMap", "")
	schedConfig, _, _ := unstructured.NestedString(cm.Object, "data", "config.yaml")
	if schedConfig == "" {
		t.Fatalf("ConfigMap %s has no config.yaml", cm.GetName())
	}

	if err := harness.CreateNodes(ctx, c,
		harness.MakeNode("kms-e2e-control-plane").Capacity("cpu", "4", "memory", "8Gi").
			Label("node-role.kubernetes.io/control-plane", "").Taint("node-role.kubernetes.io/control-plane", "", "NoSchedule").Obj(),
		harness.MakeNode("kms-e2e-worker").Capacity("cpu", "4", "memory", "8Gi", "example.com/slot", "2").Obj(),
		harness.MakeNode("kms-e2e-worker2").Capacity("cpu", "4", "memory", "8Gi", "example.com/slot", "2").Obj(),
	); err != nil {
		t.Fatal(err)
	}
	// The workloads exist before the scheduler starts, as run.sh applies
	// them before helm install.
	createObjects(t, ctx, cp.Config, readObjects(t, kindWorkloads))
	// An ElasticQuota caps a namespace at one 100m pod: only a scheduler
	// that may watch ElasticQuotas holds the second back.
	createQuotaNamespace(t, ctx, cp)

	as := rest.CopyConfig(cp.Config)
	as.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + sa.GetNamespace() + ":" + sa.GetName()}
	sched, err := harness.StartScheduler(ctx, cp, schedConfig, harness.WithRESTConfig(as))
	if err != nil {
		t.Fatalf("scheduler with the chart's config: %v", err)
	}
	t.Cleanup(func() { _ = sched.Stop() })
	select {
	case <-sched.Leading:
	case <-time.After(time.Minute):
		t.Fatal("the scheduler never led: it cannot take its Lease or sync its informers")
	}
	leaseNS, leaseName := leaseOf(t, schedConfig)
	lease, err := c.CoordinationV1().Leases(leaseNS).Get(ctx, leaseName, metav1.GetOptions{})
	if err != nil || lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" {
		t.Fatalf("Lease %s/%s has no holder: %v", leaseNS, leaseName, err)
	}

	assertKindPlacements(t, ctx, c)

	// Events: our scheduler reported the binding.
	if err := harness.Poll(ctx, 30*time.Second, func(ctx context.Context) (bool, error) {
		evs, err := c.EventsV1().Events("kms-e2e-apps").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		return slices.ContainsFunc(evs.Items, func(e eventsv1.Event) bool {
			return e.Reason == "Scheduled" && e.Regarding.Name == "hello" && e.ReportingController == harness.SchedulerName
		}), nil
	}); err != nil {
		t.Errorf("no Scheduled event for kms-e2e-apps/hello: %v", err)
	}

	// ElasticQuotas: one pod is bound, the other waits at the quota's limit
	// (without the watch both would be bound).
	var bound map[string]int
	var msg string
	if err := harness.Poll(ctx, settle, func(ctx context.Context) (bool, error) {
		list, err := c.CoreV1().Pods("kms-quota").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		bound, msg = map[string]int{}, ""
		for i := range list.Items {
			if list.Items[i].Spec.NodeName != "" {
				bound["kms-quota"]++
			} else {
				msg = harness.Unschedulable(&list.Items[i])
			}
		}
		return bound["kms-quota"] == 1 && strings.Contains(msg, "limit"), nil
	}); err != nil {
		t.Errorf("kms-quota: %d bound, the other says %q; want 1 bound and the other held at its ElasticQuota's limit", bound["kms-quota"], msg)
	}
	if bound, err := harness.Settled(ctx, c, settle, "kms-quota"); err != nil || bound["kms-quota"] != 1 {
		t.Errorf("kms-quota: %d bound once settled (%v), want 1", bound["kms-quota"], err)
	}

	assertLeastPrivilege(t, ctx, as, sa.GetNamespace(), leaseNS, leaseName)
}

// kindPlacements is what test/e2e/kind/run.sh checks on kind.
type kindPlacements struct {
	helloBound             bool
	webNodes               []string // nodes of the bound web pods
	webUnschedulable       int      // web pods with PodScheduled=False
	goldBound, silverBound int
}

func (k kindPlacements) ok() bool {
	return k.helloBound && len(k.webNodes) == 2 && k.webNodes[0] != k.webNodes[1] &&
		!slices.Contains(k.webNodes, "kms-e2e-control-plane") && k.webUnschedulable == 1 &&
		k.goldBound == 3 && k.silverBound == 1
}

func observeKindPlacements(ctx context.Context, c kubernetes.Interface) (kindPlacements, error) {
	var k kindPlacements
	for _, ns := range []string{"kms-e2e-apps", "kms-e2e-gold", "kms-e2e-silver"} {
		list, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return k, err
		}
		for i := range list.Items {
			p := &list.Items[i]
			bound := p.Spec.NodeName != ""
			switch {
			case ns == "kms-e2e-gold" && bound:
				k.goldBound++
			case ns == "kms-e2e-silver" && bound:
				k.silverBound++
			case p.Name == "hello":
				k.helloBound = bound
			case strings.HasPrefix(p.Name, "web-") && bound:
				k.webNodes = append(k.webNodes, p.Spec.NodeName)
			case strings.HasPrefix(p.Name, "web-") && harness.Unschedulable(p) != "":
				k.webUnschedulable++
			}
		}
	}
	return k, nil
}

// assertKindPlacements asserts what test/e2e/kind/run.sh asserts on kind:
// hello is bound; host port 18080 puts two web pods on the two workers and
// the third is unschedulable; weighted DRF (gold 3, silver 1) shares the
// four slots 3:1. It waits for them, then checks that they hold once
// nothing more happens.
func assertKindPlacements(t *testing.T, ctx context.Context, c kubernetes.Interface) {
	t.Helper()
	var last kindPlacements
	err := harness.Poll(ctx, settle, func(ctx context.Context) (bool, error) {
		k, err := observeKindPlacements(ctx, c)
		last = k
		return err == nil && k.ok(), nil
	})
	if err != nil {
		t.Fatalf("placements %+v; want hello bound, web on two workers and one unschedulable, gold 3 and silver 1 slots", last)
	}
	if _, err := harness.Settled(ctx, c, settle, "kms-e2e-apps", "kms-e2e-gold", "kms-e2e-silver"); err != nil {
		t.Fatal(err)
	}
	if k, err := observeKindPlacements(ctx, c); err != nil || !k.ok() {
		t.Fatalf("placements changed to %+v (%v)", k, err)
	}
}

func createQuotaNamespace(t *testing.T, ctx context.Context, cp *harness.ControlPlane) {
	t.Helper()
	if err := harness.CreateNamespace(ctx, cp.Client, "kms-quota", nil, nil); err != nil {
		t.Fatal(err)
	}
	cfg := rest.CopyConfig(cp.Config)
	cfg.ContentType = "application/json"
	eqs, err := eqclient.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eqs.SchedulingV1alpha1().ElasticQuotas("kms-quota").Create(ctx, &eqv1alpha1.ElasticQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "quota", Namespace: "kms-quota"},
		Spec:       eqv1alpha1.ElasticQuotaSpec{Max: v1.ResourceList{"cpu": resource.MustParse("100m")}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := harness.CreatePods(ctx, cp.Client,
		harness.MakePod("kms-quota", "q-0").Req("cpu", "100m").Obj(),
		harness.MakePod("kms-quota", "q-1").Req("cpu", "100m").Obj()); err != nil {
		t.Fatal(err)
	}
}

// assertLeastPrivilege asks the API server what the chart's ServiceAccount
// may do (SelfSubjectAccessReview as the ServiceAccount) and makes one
// forbidden call.
func assertLeastPrivilege(t *testing.T, ctx context.Context, as *rest.Config, saNS, leaseNS, leaseName string) {
	t.Helper()
	c, err := kubernetes.NewForConfig(as)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		verb, group, resource, namespace, name string
		want                                   bool
	}{
		{"create", "", "pods/binding", "kms-e2e-apps", "", true},
		{"patch", "", "pods/status", "kms-e2e-apps", "", true},
		{"update", "coordination.k8s.io", "leases", leaseNS, leaseName, true},
		{"watch", "scheduling.x-k8s.io", "elasticquotas", "", "", true},
		{"get", "", "configmaps", "kube-system", "extension-apiserver-authentication", true},
		{"list", "", "secrets", "", "", false},
		{"get", "", "secrets", saNS, "", false},
		{"create", "", "pods", "kms-e2e-apps", "", false},
		{"update", "", "nodes", "", "", false},
		{"patch", "", "nodes/status", "", "", false},
		{"delete", "", "namespaces", "", "", false},
		{"update", "coordination.k8s.io", "leases", "kube-system", "kube-scheduler", false},
		{"get", "", "configmaps", saNS, "", false},
		{"create", "", "configmaps", saNS, "", false},
		{"create", "", "pods/eviction", "kms-e2e-apps", "", false},
		{"create", "apps", "deployments", saNS, "", false},
		{"impersonate", "", "users", "", "", false},
		{"bind", "rbac.authorization.k8s.io", "clusterroles", "", "", false},
	} {
		ssar, err := c.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
			Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
				Verb: tc.verb, Group: tc.group, Resource: strings.Split(tc.resource, "/")[0], Subresource: subresource(tc.resource),
				Namespace: tc.namespace, Name: tc.name,
			}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if ssar.Status.Allowed != tc.want {
			t.Errorf("%s %s %s in %q name %q: allowed %v, want %v", tc.verb, tc.group, tc.resource, tc.namespace, tc.name, ssar.Status.Allowed, tc.want)
		}
	}
	if _, err := c.CoreV1().Secrets("").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("listing secrets as the scheduler: %v, want Forbidden", err)
	}
}

func subresource(r string) string {
	_, sub, _ := strings.Cut(r, "/")
	return sub
}

// leaseOf returns the Lease the configuration names.
func leaseOf(t *testing.T, schedConfig string) (string, string) {
	t.Helper()
	cfg := loadConfig(t, schedConfig)
	le := cfg.LeaderElection
	if !le.LeaderElect {
		t.Fatal("the chart's configuration has no leader election")
	}
	return le.ResourceNamespace, le.ResourceName
}

// TestChartRBACCoversKubeScheduler compares the chart's ClusterRole with
// the in-tree system:kube-scheduler and system:volume-scheduler roles of
// this Kubernetes version and its feature gates: it grants all of theirs
// (except the Lease rules, which name the default scheduler's Lease: ours
// is in a Role of its own, and leasecandidates, which only coordinated
// leader election uses) plus only what our plugins need.
func TestChartRBACCoversKubeScheduler(t *testing.T) {
	var inTree []rbacv1.PolicyRule
	for _, role := range bootstrappolicy.ClusterRoles() {
		if role.Name != "system:kube-scheduler" && role.Name != "system:volume-scheduler" {
			continue
		}
		for _, r := range role.Rules {
			if slices.Contains(r.Resources, "leases") || slices.Contains(r.Resources, "leasecandidates") {
				continue
			}
			inTree = append(inTree, r)
		}
	}
	if len(inTree) < 10 {
		t.Fatalf("found %d in-tree scheduler rules", len(inTree))
	}
	ours := []rbacv1.PolicyRule{
		// pkg/cluster watches ElasticQuotas.
		{APIGroups: []string{"scheduling.x-k8s.io"}, Resources: []string{"elasticquotas"}, Verbs: []string{"list", "watch"}},
	}
	mesos := []rbacv1.PolicyRule{
		// pkg/mesos evicts pods (maintenance drain, task gone).
		{APIGroups: []string{""}, Resources: []string{"pods/eviction"}, Verbs: []string{"create"}},
	}
	for _, tc := range []struct {
		manifest string
		extra    []rbacv1.PolicyRule
	}{
		{chartManifest, ours},
		{chartMesosManifest, append(slices.Clone(ours), mesos...)},
	} {
		t.Run(filepath.Base(tc.manifest), func(t *testing.T) {
			role := clusterRole(t, readObjects(t, tc.manifest))
			if ok, missing := rbachelpers.Covers(role.Rules, inTree); !ok {
				t.Errorf("the ClusterRole lacks what the kube-scheduler needs: %v", missing)
			}
			if ok, more := rbachelpers.Covers(append(slices.Clone(inTree), tc.extra...), role.Rules); !ok {
				t.Errorf("the ClusterRole grants more than the kube-scheduler and our plugins need: %v", more)
			}
		})
	}
}

// TestChartMesosManifest: the Mesos-mode manifest's configuration decodes
// and validates, and its Roles let the scheduler store the framework ID in
// the ConfigMap the configuration names, and no other.
func TestChartMesosManifest(t *testing.T) {
	objs := readObjects(t, chartMesosManifest)
	data, _, _ := unstructured.NestedString(find(t, objs, "ConfigMap", "").Object, "data", "config.yaml")
	cfg := loadConfig(t, data)
	var args *config.MesosOffersArgs
	for _, pc := range cfg.Profiles[0].PluginConfig {
		if a, ok := pc.Args.(*config.MesosOffersArgs); ok {
			args = a
		}
	}
	if args == nil || args.Source != config.OfferSourceMesos || args.Mesos == nil {
		t.Fatalf("MesosOffers args %+v, want the Mesos source", args)
	}
	if err := validation.ValidateMesosOffersArgs(field.NewPath("args"), args); err != nil {
		t.Fatal(err)
	}
	if args.Mesos.SecretFile == "" || args.Mesos.CAFile == "" || args.Mesos.Principal == "" {
		t.Errorf("mesos %+v, want a principal, a secret file and a CA file", args.Mesos)
	}
	ns, name, _ := strings.Cut(args.Mesos.FrameworkIDConfigMap, "/")
	sa := find(t, objs, "ServiceAccount", "")
	allowed := func(verb, namespace, name string) bool {
		attrs := authorizer.AttributesRecord{
			User: &user.DefaultInfo{Name: "system:serviceaccount:" + sa.GetNamespace() + ":" + sa.GetName()},
			Verb: verb, Namespace: namespace, Resource: "configmaps", Name: name, ResourceRequest: true, APIGroup: "",
		}
		return rbac.RulesAllow(attrs, rulesBoundTo(t, objs, sa, namespace)...)
	}
	for _, verb := range []string{"get", "update"} {
		if !allowed(verb, ns, name) {
			t.Errorf("cannot %s the framework ID ConfigMap %s/%s", verb, ns, name)
		}
		if allowed(verb, ns, "other") {
			t.Errorf("can %s any ConfigMap in %s", verb, ns)
		}
	}
	if !allowed("create", ns, "") {
		t.Errorf("cannot create the framework ID ConfigMap in %s", ns)
	}
	if allowed("create", "default", "") {
		t.Errorf("can create ConfigMaps outside %s", ns)
	}
}

// rulesBoundTo returns the rules the manifest's bindings give sa in a
// namespace (ClusterRoleBindings and that namespace's RoleBindings, to the
// manifest's own roles).
func rulesBoundTo(t *testing.T, objs []*unstructured.Unstructured, sa *unstructured.Unstructured, namespace string) []rbacv1.PolicyRule {
	t.Helper()
	var rules []rbacv1.PolicyRule
	for _, o := range objs {
		if o.GetKind() != "ClusterRoleBinding" && !(o.GetKind() == "RoleBinding" && o.GetNamespace() == namespace) {
			continue
		}
		b := &rbacv1.RoleBinding{}
		fromUnstructured(t, o, b)
		if !slices.ContainsFunc(b.Subjects, func(s rbacv1.Subject) bool {
			return s.Kind == "ServiceAccount" && s.Name == sa.GetName() && s.Namespace == sa.GetNamespace()
		}) {
			continue
		}
		for _, r := range objs {
			if r.GetKind() == b.RoleRef.Kind && r.GetName() == b.RoleRef.Name && (r.GetKind() == "ClusterRole" || r.GetNamespace() == namespace) {
				role := &rbacv1.ClusterRole{}
				fromUnstructured(t, r, role)
				rules = append(rules, role.Rules...)
			}
		}
	}
	return rules
}

func clusterRole(t *testing.T, objs []*unstructured.Unstructured) *rbacv1.ClusterRole {
	t.Helper()
	role := &rbacv1.ClusterRole{}
	fromUnstructured(t, find(t, objs, "ClusterRole", ""), role)
	return role
}

func fromUnstructured(t *testing.T, o *unstructured.Unstructured, obj any) {
	t.Helper()
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, obj); err != nil {
		t.Fatalf("%s %s: %v", o.GetKind(), o.GetName(), err)
	}
}

// loadConfig decodes a KubeSchedulerConfiguration as the scheduler does
// (strictly, with our plugins' args typed and defaulted).
func loadConfig(t *testing.T, data string) *schedconfig.KubeSchedulerConfiguration {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	logger, _ := ktesting.NewTestContext(t)
	cfg, err := options.LoadConfigFromFile(logger, path)
	if err != nil {
		t.Fatalf("decoding the chart's configuration: %v", err)
	}
	if len(cfg.Profiles) != 1 {
		t.Fatalf("%d profiles", len(cfg.Profiles))
	}
	return cfg
}

// readObjects reads the objects of a multi-document YAML file.
func readObjects(t *testing.T, path string) []*unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var objs []*unstructured.Unstructured
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		obj := &unstructured.Unstructured{}
		if err := utilyaml.Unmarshal(doc, &obj.Object); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if len(obj.Object) > 0 {
			objs = append(objs, obj)
		}
	}
	if len(objs) == 0 {
		t.Fatalf("%s holds no objects", path)
	}
	return objs
}

// find returns the only object of a kind (with a name, unless "").
func find(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	var found []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind && (name == "" || o.GetName() == name) {
			found = append(found, o)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d objects of kind %s named %q, want 1", len(found), kind, name)
	}
	return found[0]
}

// createObjects creates objects in order, as kubectl apply would, with an
// admin client.
func createObjects(t *testing.T, ctx context.Context, cfg *rest.Config, objs []*unstructured.Unstructured) {
	t.Helper()
	dc, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc.Discovery()))
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			t.Fatalf("%s %s: %v", gvk, o.GetName(), err)
		}
		var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			ri = dyn.Resource(m.Resource).Namespace(o.GetNamespace())
		}
		if _, err := ri.Create(ctx, o, metav1.CreateOptions{}); err != nil {
			t.Fatalf("creating %s %s/%s: %v", o.GetKind(), o.GetNamespace(), o.GetName(), err)
		}
	}
}
