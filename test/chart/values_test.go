package chart

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/kube-mesos/kube-mesos-scheduler/test/chart/render"
)

// TestMode: mode: mesos needs a master (the schema says so, naming it), an
// unknown mode is refused, and each Mesos value set in embedded mode stops
// the rendering with a message naming it, instead of being ignored.
func TestMode(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values map[string]any
		want   []string
	}{
		{"mesos without master", map[string]any{"mode": "mesos"}, []string{"schema", "/mesos/master"}},
		{"mesos with an empty master", mesosMode(map[string]any{"master": ""}), []string{"schema", "/mesos/master"}},
		{"unknown mode", map[string]any{"mode": "Mesos"}, []string{"schema", "/mode"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := render.Render(chartDir, release, namespace, tc.values)
			if err == nil {
				t.Fatal("rendered")
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %q", err, want)
				}
			}
		})
	}

	for _, tc := range []struct {
		value string // the path under mesos
		mesos map[string]any
	}{
		{"mesos.master", map[string]any{"master": "zk://zk:2181/mesos"}},
		{"mesos.principal", map[string]any{"principal": "p"}},
		{"mesos.credentials.existingSecret", map[string]any{"credentials": map[string]any{"existingSecret": "s"}}},
		{"mesos.credentials.insecureSendInClear", map[string]any{"credentials": map[string]any{"insecureSendInClear": true}}},
		{"mesos.tls.caSecret", map[string]any{"tls": map[string]any{"caSecret": "ca"}}},
		{"mesos.tls.caConfigMap", map[string]any{"tls": map[string]any{"caConfigMap": "ca"}}},
		{"mesos.tls.insecureSkipTLSVerify", map[string]any{"tls": map[string]any{"insecureSkipTLSVerify": true}}},
		{"mesos.frameworkIDConfigMap", map[string]any{"frameworkIDConfigMap": "ns/fw"}},
		{"mesos.extraConfig", map[string]any{"extraConfig": map[string]any{"drainOnMaintenance": true}}},
	} {
		t.Run("embedded with "+tc.value, func(t *testing.T) {
			for _, values := range []map[string]any{
				{"mesos": tc.mesos},                     // mode left at its default
				{"mode": "embedded", "mesos": tc.mesos}, // or said
			} {
				_, _, err := render.Render(chartDir, release, namespace, values)
				if err == nil {
					t.Fatalf("%v rendered: the value would be ignored", values)
				}
				for _, want := range []string{tc.value, "only used with mode: mesos"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not say %q", err, want)
					}
				}
			}
		})
	}

	// The Mesos-only values that have defaults do not count as set.
	_, args := renderChart(t, map[string]any{"mode": "embedded"}).schedulerConfig(t)
	if args["MesosOffers"]["source"] != "Embedded" {
		t.Errorf("mode: embedded gives MesosOffers %v", args["MesosOffers"])
	}
}

// TestSchemaKnowsTheArgs: every field of the plugin args types
// (pkg/apis/config/v1/types.go, by their json tags) is in
// values.schema.json, and nothing else is, so the schema refuses typos
// without refusing a real field. The fields the chart sets from other
// values are left out of mesos.extraConfig.
func TestSchemaKnowsTheArgs(t *testing.T) {
	fields := jsonFields(t, filepath.Join(root, "pkg/apis/config/v1/types.go"))
	data, err := os.ReadFile(filepath.Join(chartDir, "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatal(err)
	}
	setByChart := []string{"master", "frameworkName", "user", "principal", "secretFile", "caFile",
		"insecureSkipTLSVerify", "insecureSendCredentialsInClear", "frameworkIDConfigMap"}
	for _, tc := range []struct {
		goType string
		path   []string // to the object in the schema
		except []string // Go fields the chart sets from other values
	}{
		{"MesosOffersArgs", []string{"plugins", "mesosOffers", "args"}, nil},
		{"MesosMasterConfig", []string{"mesos", "extraConfig"}, setByChart},
		{"DRFArgs", []string{"plugins", "drf", "args"}, nil},
		{"RoleConfig", []string{"plugins", "drf", "args", "roles", "items"}, nil},
		{"HeteroArgs", []string{"plugins", "hetero", "args"}, nil},
		{"HeteroWeights", []string{"plugins", "hetero", "args", "weights"}, nil},
	} {
		t.Run(tc.goType, func(t *testing.T) {
			goFields, ok := fields[tc.goType]
			if !ok {
				t.Fatalf("no type %s in types.go", tc.goType)
			}
			var want []string
			for _, f := range goFields {
				if !slices.Contains(tc.except, f) {
					want = append(want, f)
				}
			}
			obj := schema
			for i, p := range tc.path {
				var next any
				if p == "items" {
					next = obj["items"]
				} else {
					props, _ := obj["properties"].(map[string]any)
					next = props[p]
				}
				if obj, _ = next.(map[string]any); obj == nil {
					t.Fatalf("schema has no %s", strings.Join(tc.path[:i+1], "."))
				}
			}
			if obj["additionalProperties"] != false {
				t.Errorf("%s allows unknown fields", strings.Join(tc.path, "."))
			}
			var got []string
			for k := range obj["properties"].(map[string]any) {
				got = append(got, k)
			}
			slices.Sort(want)
			slices.Sort(got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: schema fields (-%s +schema):\n%s", strings.Join(tc.path, "."), tc.goType, diff)
			}
		})
	}
}

// jsonFields returns the json names of the fields of every struct type in
// a Go file; an inline metav1.TypeMeta gives apiVersion and kind.
func jsonFields(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok {
			return true
		}
		st, ok := ts.Type.(*ast.StructType)
		if !ok {
			return false
		}
		var names []string
		for _, field := range st.Fields.List {
			if field.Tag == nil {
				continue
			}
			tag, err := strconv.Unquote(field.Tag.Value)
			if err != nil {
				t.Fatal(err)
			}
			name, _, _ := strings.Cut(reflect.StructTag(tag).Get("json"), ",")
			switch {
			case name == "-":
			case name == "" && len(field.Names) == 0:
				if sel, ok := field.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "TypeMeta" {
					names = append(names, "apiVersion", "kind")
				}
			default:
				names = append(names, name)
			}
		}
		out[ts.Name.Name] = names
		return false
	})
	return out
}

// TestPluginArgsOfTheExample: the plugin args of
// manifests/config/embedded.yaml, which spells out every embedded-mode
// argument (weight: 2 a number) and which the scheduler binary loads in
// cmd/scheduler's TestExampleConfigs, pass the schema as chart values and
// reach the rendered configuration unchanged.
func TestPluginArgsOfTheExample(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(root, "manifests/config/embedded.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var example struct {
		Profiles []struct {
			PluginConfig []struct {
				Name string         `json:"name"`
				Args map[string]any `json:"args"`
			} `json:"pluginConfig"`
		} `json:"profiles"`
	}
	if err := yaml.Unmarshal(data, &example); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]any{}
	for _, pc := range example.Profiles[0].PluginConfig {
		want[pc.Name] = pc.Args
	}
	if len(want) != 3 {
		t.Fatalf("the example configures %v, want the three plugins", want)
	}
	roles, _ := want["DRF"]["roles"].([]any)
	if len(roles) == 0 || roles[0].(map[string]any)["weight"] != float64(2) {
		t.Fatalf("the example's first role %v has no weight: 2", roles)
	}
	offers := map[string]any{}
	for k, v := range want["MesosOffers"] {
		if k != "source" { // the chart's, from mode
			offers[k] = v
		}
	}
	r := renderChart(t, map[string]any{"plugins": map[string]any{
		"mesosOffers": map[string]any{"args": offers},
		"drf":         map[string]any{"args": want["DRF"]},
		"hetero":      map[string]any{"args": want["Hetero"]},
	}})
	_, got := r.schedulerConfig(t)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rendered plugin args (-manifests/config/embedded.yaml +chart):\n%s", diff)
	}
}

// TestPriorityClassName: system-cluster-critical unless set; "" sets none.
func TestPriorityClassName(t *testing.T) {
	for _, tc := range []struct {
		value any // nil: the default
		want  string
	}{
		{nil, "system-cluster-critical"},
		{"scheduling-critical", "scheduling-critical"},
		{"", ""},
	} {
		values := map[string]any{}
		if tc.value != nil {
			values["priorityClassName"] = tc.value
		}
		if got := renderChart(t, values).deployment(t).Spec.Template.Spec.PriorityClassName; got != tc.want {
			t.Errorf("priorityClassName %v: pod has %q, want %q", tc.value, got, tc.want)
		}
	}
}

// TestHelmTest: the `helm test` pod runs the scheduler's image's `check`
// against the metrics Service's /readyz and the Lease, as a non-root,
// hardened pod that no selector of the release picks up; its own
// ServiceAccount may get that Lease and nothing else. Without leader
// election there is no Lease to read and no API access; without rbac.create
// the scheduler's ServiceAccount reads it; without the Service there is no
// test.
func TestHelmTest(t *testing.T) {
	r := renderChart(t, nil)
	if !strings.Contains(r.notes, "helm test "+release+" -n "+namespace) {
		t.Errorf("notes do not say how to test the release:\n%s", r.notes)
	}
	pod := &corev1.Pod{}
	r.get(t, "Pod", fullname+"-test-ready", pod)
	if pod.Namespace != namespace || pod.Annotations["helm.sh/hook"] != "test" ||
		pod.Annotations["helm.sh/hook-delete-policy"] != "before-hook-creation,hook-succeeded" {
		t.Errorf("test pod %s/%s annotations %v, want a test hook deleted before creation and on success", pod.Namespace, pod.Name, pod.Annotations)
	}
	if pod.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy %q, want Never (a test runs once)", pod.Spec.RestartPolicy)
	}
	d := r.deployment(t)
	c := pod.Spec.Containers[0]
	wantArgs := []string{"check",
		"--url=https://" + fullname + "-metrics." + namespace + ".svc:10259/readyz",
		"--lease=" + namespace + "/" + fullname}
	if c.Image != d.Spec.Template.Spec.Containers[0].Image || !slices.Equal(c.Command, []string{"/usr/local/bin/kube-mesos-scheduler"}) || !slices.Equal(c.Args, wantArgs) {
		t.Errorf("test container %s %v %v, want the scheduler's image running %v", c.Image, c.Command, c.Args, wantArgs)
	}
	psc, sc := pod.Spec.SecurityContext, c.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("test pod securityContext %+v / %+v, want the scheduler's (non-root, read-only, no escalation)", psc, sc)
	}
	svc := &corev1.Service{}
	r.get(t, "Service", fullname+"-metrics", svc)
	pdb := &policyv1.PodDisruptionBudget{}
	r.get(t, "PodDisruptionBudget", fullname, pdb)
	for what, selector := range map[string]map[string]string{
		"the Deployment (its ReplicaSet would adopt the pod)": d.Spec.Selector.MatchLabels,
		"the Service":             svc.Spec.Selector,
		"the PodDisruptionBudget": pdb.Spec.Selector.MatchLabels,
	} {
		if selectedBy(selector, pod.Labels) {
			t.Errorf("the test pod (labels %v) is selected by %s", pod.Labels, what)
		}
	}

	// Its ServiceAccount can get the Lease, and that is all it can do.
	sa := fullname + "-test"
	if pod.Spec.ServiceAccountName != sa {
		t.Fatalf("test pod serviceAccountName %q, want %q", pod.Spec.ServiceAccountName, sa)
	}
	r.get(t, "ServiceAccount", sa, &corev1.ServiceAccount{})
	rb := &rbacv1.RoleBinding{}
	r.get(t, "RoleBinding", sa, rb)
	if rb.Namespace != namespace || rb.RoleRef.Kind != "Role" || rb.RoleRef.Name != sa ||
		len(rb.Subjects) != 1 || rb.Subjects[0].Name != sa || rb.Subjects[0].Namespace != namespace {
		t.Errorf("test RoleBinding %+v, want Role %s to ServiceAccount %s/%s", rb, sa, namespace, sa)
	}
	role := &rbacv1.Role{}
	r.get(t, "Role", sa, role)
	want := []rbacv1.PolicyRule{{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, ResourceNames: []string{fullname}, Verbs: []string{"get"}}}
	if diff := cmp.Diff(want, role.Rules); diff != "" {
		t.Errorf("test Role rules (-want +got):\n%s", diff)
	}
	for _, o := range []metaObject{rb, role} {
		if o.GetAnnotations()["helm.sh/hook"] != "test" || o.GetAnnotations()["helm.sh/hook-weight"] != "-1" {
			t.Errorf("%s annotations %v: want a test hook created before the pod", o.GetName(), o.GetAnnotations())
		}
	}

	// The Lease elsewhere: the Role follows it.
	r = renderChart(t, map[string]any{"leaderElection": map[string]any{"resourceName": "kms-lease", "resourceNamespace": "leases"}})
	pod = &corev1.Pod{}
	r.get(t, "Pod", fullname+"-test-ready", pod)
	if !slices.Contains(pod.Spec.Containers[0].Args, "--lease=leases/kms-lease") {
		t.Errorf("args %v, want --lease=leases/kms-lease", pod.Spec.Containers[0].Args)
	}
	if rules := r.rules(t)["Role leases/"+sa]; !allows(rules, "get", "coordination.k8s.io", "leases", "kms-lease") || allows(rules, "get", "coordination.k8s.io", "leases", fullname) {
		t.Errorf("test Role in leases: %v, want get on kms-lease only", rules)
	}

	// No leader election: no Lease, no RBAC, no token.
	r = renderChart(t, map[string]any{"replicaCount": 1, "leaderElection": map[string]any{"enabled": false}})
	pod = &corev1.Pod{}
	r.get(t, "Pod", fullname+"-test-ready", pod)
	if args := pod.Spec.Containers[0].Args; slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--lease") }) {
		t.Errorf("args %v without leader election, want no --lease", args)
	}
	if pod.Spec.AutomountServiceAccountToken == nil || *pod.Spec.AutomountServiceAccountToken || pod.Spec.ServiceAccountName != "" {
		t.Errorf("test pod without leader election: serviceAccountName %q, automount %v, want no token", pod.Spec.ServiceAccountName, pod.Spec.AutomountServiceAccountToken)
	}
	for _, kind := range []string{"ServiceAccount", "Role", "RoleBinding"} {
		if r.find(t, kind, sa, &map[string]any{}) {
			t.Errorf("%s %s without leader election", kind, sa)
		}
	}

	// rbac.create false: no RBAC of its own; the scheduler's account.
	r = renderChart(t, map[string]any{"rbac": map[string]any{"create": false}})
	pod = &corev1.Pod{}
	r.get(t, "Pod", fullname+"-test-ready", pod)
	if pod.Spec.ServiceAccountName != fullname {
		t.Errorf("test pod serviceAccountName %q with rbac.create false, want the scheduler's %s", pod.Spec.ServiceAccountName, fullname)
	}
	if ids := r.ids(); slices.ContainsFunc(ids, func(id string) bool { return strings.HasSuffix(id, "/"+sa) }) {
		t.Errorf("objects %v: the test's own RBAC with rbac.create false", ids)
	}

	// No Service, nothing to test.
	r = renderChart(t, map[string]any{"metrics": map[string]any{"service": map[string]any{"enabled": false}}})
	if ids := r.ids(); slices.ContainsFunc(ids, func(id string) bool { return strings.Contains(id, "-test") }) {
		t.Errorf("objects %v: a test without the Service it reaches", ids)
	}
}

type metaObject interface {
	GetName() string
	GetAnnotations() map[string]string
}

// selectedBy says if a non-empty selector matches labels.
func selectedBy(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}
