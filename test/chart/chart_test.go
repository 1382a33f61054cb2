// Package chart tests the Helm chart manifests/charts/kube-mesos-scheduler:
// it renders the chart with the Helm library for several value sets and
// asserts on the objects, lints it with Helm's linter, and checks that the
// plain manifests under manifests/install are what the chart renders.
// (test/integration/chart_test.go in the main module applies those plain
// manifests to a real API server and schedules with the chart's RBAC.)
package chart

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/kube-mesos/kube-mesos-scheduler/test/chart/render"
)

const (
	root = "../.."
	// The tests render a release whose name does not contain the chart's,
	// into a namespace other than the plain manifests', so that names and
	// namespaces are seen to follow the release.
	release   = "kms"
	namespace = "scheduling"
	fullname  = "kms-kube-mesos-scheduler"
)

var chartDir = filepath.Join(root, render.ChartDir)

// TestDefaults: the embedded allocator, two replicas with leader election,
// least-privilege RBAC, a hardened system-cluster-critical pod probed on
// /healthz, metrics Service and PodDisruptionBudget, the `helm test` pod
// and its Lease reader; no Mesos objects, no ServiceMonitor.
func TestDefaults(t *testing.T) {
	r := renderChart(t, nil)
	want := []string{
		"ClusterRole /" + fullname,
		"ClusterRoleBinding /" + fullname,
		"ConfigMap " + namespace + "/" + fullname + "-config",
		"Deployment " + namespace + "/" + fullname,
		"Pod " + namespace + "/" + fullname + "-test-ready",
		"PodDisruptionBudget " + namespace + "/" + fullname,
		"Role " + namespace + "/" + fullname + "-leader-election",
		"Role " + namespace + "/" + fullname + "-test",
		"RoleBinding kube-system/" + fullname + "-" + namespace + "-auth-reader",
		"RoleBinding " + namespace + "/" + fullname + "-leader-election",
		"RoleBinding " + namespace + "/" + fullname + "-test",
		"Service " + namespace + "/" + fullname + "-metrics",
		"ServiceAccount " + namespace + "/" + fullname,
		"ServiceAccount " + namespace + "/" + fullname + "-test",
	}
	if diff := cmp.Diff(want, r.ids()); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}

	d := r.deployment(t)
	if *d.Spec.Replicas != 2 {
		t.Errorf("replicas %d, want 2", *d.Spec.Replicas)
	}
	if d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		t.Errorf("strategy Recreate with leader election on")
	}
	pod := d.Spec.Template.Spec
	if pod.ServiceAccountName != fullname {
		t.Errorf("serviceAccountName %q", pod.ServiceAccountName)
	}
	if pod.PriorityClassName != "system-cluster-critical" {
		t.Errorf("priorityClassName %q, want system-cluster-critical", pod.PriorityClassName)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers", len(pod.Containers))
	}
	c := pod.Containers[0]
	if c.Image != "ghcr.io/kube-mesos/kube-mesos-scheduler:0.1.0" {
		t.Errorf("image %q, want the appVersion tag", c.Image)
	}
	for _, arg := range []string{"--config=/etc/kube-mesos-scheduler/config/config.yaml", "--secure-port=10259", "--v=2"} {
		if !slices.Contains(c.Args, arg) {
			t.Errorf("args %v lack %s", c.Args, arg)
		}
	}
	// The config file the flag names is the ConfigMap's key, mounted.
	if mountOf(t, pod, "/etc/kube-mesos-scheduler/config").ConfigMap.Name != fullname+"-config" {
		t.Errorf("the config directory is not the ConfigMap")
	}
	if len(c.Ports) != 1 || c.Ports[0].ContainerPort != 10259 || c.Ports[0].Name != "https" {
		t.Errorf("ports %v, want https 10259", c.Ports)
	}
	for name, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" || p.HTTPGet.Port.String() != "https" || p.HTTPGet.Scheme != corev1.URISchemeHTTPS {
			t.Errorf("%s probe %+v, want HTTPS /healthz on port https", name, p)
		}
	}
	psc, sc := pod.SecurityContext, c.SecurityContext
	if psc == nil || !*psc.RunAsNonRoot || *psc.RunAsUser != 65532 || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext %+v, want non-root 65532 with RuntimeDefault seccomp", psc)
	}
	if sc == nil || !*sc.ReadOnlyRootFilesystem || *sc.AllowPrivilegeEscalation || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("container securityContext %+v, want read-only root, no escalation, no capabilities", sc)
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
		t.Errorf("resources %v, want cpu and memory requests", c.Resources)
	}
	if d.Spec.Template.Annotations["checksum/config"] == "" {
		t.Errorf("no checksum/config annotation: a config change would not roll the pods")
	}
	if len(pod.Volumes) != 1 {
		t.Errorf("volumes %v, want the config only", pod.Volumes)
	}

	svc := &corev1.Service{}
	r.get(t, "Service", fullname+"-metrics", svc)
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != 10259 || svc.Spec.Ports[0].TargetPort.String() != "https" {
		t.Errorf("service ports %v, want 10259 -> https", svc.Spec.Ports)
	}
	selects(t, "Service", svc.Spec.Selector, d.Spec.Template.Labels)
	selects(t, "Deployment", d.Spec.Selector.MatchLabels, d.Spec.Template.Labels)
	pdb := &policyv1.PodDisruptionBudget{}
	r.get(t, "PodDisruptionBudget", fullname, pdb)
	if pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.IntValue() != 1 {
		t.Errorf("PDB maxUnavailable %v, want 1", pdb.Spec.MaxUnavailable)
	}
	selects(t, "PodDisruptionBudget", pdb.Spec.Selector.MatchLabels, d.Spec.Template.Labels)

	cfg, args := r.schedulerConfig(t)
	le := cfg.LeaderElection
	if le.LeaderElect == nil || !*le.LeaderElect || le.ResourceLock != "leases" || le.ResourceName != fullname || le.ResourceNamespace != namespace {
		t.Errorf("leaderElection %+v, want leases %s/%s", le, namespace, fullname)
	}
	if cfg.DelayCacheUntilActive {
		t.Errorf("delayCacheUntilActive with the embedded allocator: standbys would start cold")
	}
	prof := cfg.Profiles[0]
	if prof.SchedulerName == nil || *prof.SchedulerName != "kube-mesos-scheduler" {
		t.Errorf("schedulerName %v", prof.SchedulerName)
	}
	if qs := prof.Plugins.QueueSort.Enabled; len(qs) != 1 || qs[0].Name != "DRF" {
		t.Errorf("queueSort %v, want DRF", qs)
	}
	var multi []string
	for _, p := range prof.Plugins.MultiPoint.Enabled {
		multi = append(multi, p.Name)
	}
	if !slices.Equal(multi, []string{"MesosOffers", "DRF", "Hetero"}) {
		t.Errorf("multiPoint %v", multi)
	}
	if diff := cmp.Diff(map[string]map[string]any{"MesosOffers": {"source": "Embedded"}}, args); diff != "" {
		t.Errorf("plugin args (-want +got):\n%s", diff)
	}

	rules := r.rules(t)
	lease := rules["Role "+namespace+"/"+fullname+"-leader-election"]
	if !allows(lease, "create", "coordination.k8s.io", "leases", "") || !allows(lease, "update", "coordination.k8s.io", "leases", fullname) ||
		allows(lease, "update", "coordination.k8s.io", "leases", "kube-scheduler") {
		t.Errorf("lease rules %v: want create, and get/update of %s only", lease, fullname)
	}
	cluster := rules["ClusterRole "+fullname]
	for _, need := range [][3]string{
		{"create", "", "pods/binding"}, {"patch", "", "pods/status"}, {"delete", "", "pods"}, {"watch", "", "namespaces"},
		{"create", "events.k8s.io", "events"}, {"watch", "scheduling.x-k8s.io", "elasticquotas"}, {"watch", "resource.k8s.io", "resourceslices"},
	} {
		if !allows(cluster, need[0], need[1], need[2], "") {
			t.Errorf("ClusterRole does not allow %v", need)
		}
	}
	for _, not := range [][3]string{{"create", "", "pods/eviction"}, {"get", "", "configmaps"}, {"create", "", "configmaps"}} {
		if allows(cluster, not[0], not[1], not[2], "") {
			t.Errorf("ClusterRole allows %v without Mesos", not)
		}
	}
	rb := &rbacv1.RoleBinding{}
	r.get(t, "RoleBinding", fullname+"-"+namespace+"-auth-reader", rb)
	if rb.Namespace != "kube-system" || rb.RoleRef.Name != "extension-apiserver-authentication-reader" {
		t.Errorf("auth reader binding %+v", rb)
	}
	if !strings.Contains(r.notes, "schedulerName: kube-mesos-scheduler") {
		t.Errorf("notes do not say how pods opt in:\n%s", r.notes)
	}
}

// TestNoBroadRBAC: for every value set, no rule uses a wildcard or touches
// secrets, and configmaps only by name (the framework ID) or create.
func TestNoBroadRBAC(t *testing.T) {
	for name, values := range valueSets(t) {
		t.Run(name, func(t *testing.T) {
			for owner, rules := range renderChart(t, values).rules(t) {
				for _, rule := range rules {
					all := slices.Concat(rule.Verbs, rule.APIGroups, rule.Resources)
					if slices.Contains(all, "*") || len(rule.NonResourceURLs) > 0 {
						t.Errorf("%s: broad rule %+v", owner, rule)
					}
					if slices.Contains(rule.Resources, "secrets") {
						t.Errorf("%s: rule on secrets %+v", owner, rule)
					}
					if slices.Contains(rule.Resources, "configmaps") && len(rule.ResourceNames) == 0 && !slices.Equal(rule.Verbs, []string{"create"}) {
						t.Errorf("%s: configmaps rule not limited to a name %+v", owner, rule)
					}
				}
			}
		})
	}
}

// TestMesosZK: a zk:// master without credentials: the Mesos source, the
// framework ID ConfigMap in the release namespace with a Role for that
// ConfigMap only, eviction allowed; nothing mounted.
func TestMesosZK(t *testing.T) {
	master := "zk://zk-1.example.com:2181,zk-2.example.com:2181/mesos"
	r := renderChart(t, mesosMode(map[string]any{"master": master}))
	cfg, args := r.schedulerConfig(t)
	if !cfg.DelayCacheUntilActive {
		t.Errorf("Mesos mode without delayCacheUntilActive: standbys would subscribe as the same framework")
	}
	want := map[string]any{
		"source": "Mesos",
		"mesos": map[string]any{
			"master": master, "frameworkName": "kube-mesos-scheduler", "user": "nobody",
			"frameworkIDConfigMap": namespace + "/" + fullname + "-framework",
		},
	}
	if diff := cmp.Diff(want, args["MesosOffers"]); diff != "" {
		t.Errorf("MesosOffers args (-want +got):\n%s", diff)
	}
	rules := r.rules(t)
	fw := rules["Role "+namespace+"/"+fullname+"-framework-id"]
	if !allows(fw, "create", "", "configmaps", "") || !allows(fw, "get", "", "configmaps", fullname+"-framework") ||
		!allows(fw, "update", "", "configmaps", fullname+"-framework") || allows(fw, "get", "", "configmaps", "other") {
		t.Errorf("framework ID rules %v", fw)
	}
	if !allows(rules["ClusterRole "+fullname], "create", "", "pods/eviction", "") {
		t.Errorf("ClusterRole does not allow eviction in Mesos mode")
	}
	if v := r.deployment(t).Spec.Template.Spec.Volumes; len(v) != 1 {
		t.Errorf("volumes %v, want the config only", v)
	}
	if !strings.Contains(r.notes, master) {
		t.Errorf("notes do not name the master:\n%s", r.notes)
	}
}

// TestMesosCredentialsAndCA: the principal's secret and the CA come from
// existing Secrets/ConfigMaps, mounted read-only where the config's
// secretFile and caFile point; a framework ID ConfigMap in another
// namespace gets its Role there.
func TestMesosCredentialsAndCA(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values map[string]any
		ca     func(corev1.VolumeSource) string // the CA volume's source name
		fwNS   string
		fwName string
	}{
		{
			name:   "ci/mesos-values.yaml: zk, Secret for both",
			values: ciValues(t, "mesos-values.yaml"),
			ca: func(v corev1.VolumeSource) string {
				if v.Secret == nil {
					return ""
				}
				return v.Secret.SecretName
			},
			fwNS: namespace, fwName: fullname + "-framework",
		},
		{
			name: "https masters, CA in a ConfigMap, framework ID elsewhere",
			values: mesosMode(map[string]any{
				"master":               "https://m1.example.com:5050,m2.example.com:5050",
				"principal":            "kms",
				"credentials":          map[string]any{"existingSecret": "kube-mesos-scheduler-mesos", "key": "secret"},
				"tls":                  map[string]any{"caConfigMap": "kube-mesos-scheduler-mesos", "caKey": "bundle.pem"},
				"frameworkIDConfigMap": "mesos-state/kms-framework",
				"extraConfig":          map[string]any{"encoding": "JSON", "drainOnMaintenance": true},
			}),
			ca: func(v corev1.VolumeSource) string {
				if v.ConfigMap == nil {
					return ""
				}
				return v.ConfigMap.Name
			},
			fwNS: "mesos-state", fwName: "kms-framework",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := renderChart(t, tc.values)
			_, args := r.schedulerConfig(t)
			m, _ := args["MesosOffers"]["mesos"].(map[string]any)
			if args["MesosOffers"]["source"] != "Mesos" || m == nil {
				t.Fatalf("MesosOffers args %v", args["MesosOffers"])
			}
			mesosValues := tc.values["mesos"].(map[string]any)
			if m["principal"] != mesosValues["principal"] {
				t.Errorf("principal %v", m["principal"])
			}
			if m["frameworkIDConfigMap"] != tc.fwNS+"/"+tc.fwName {
				t.Errorf("frameworkIDConfigMap %v", m["frameworkIDConfigMap"])
			}
			extra, _ := mesosValues["extraConfig"].(map[string]any)
			for k, v := range extra {
				if m[k] != v {
					t.Errorf("extraConfig %s = %v, config has %v", k, v, m[k])
				}
			}
			pod := r.deployment(t).Spec.Template.Spec
			secretFile, caFile := m["secretFile"].(string), m["caFile"].(string)
			creds := mountOf(t, pod, filepath.Dir(secretFile))
			if creds.Secret == nil || creds.Secret.SecretName != "kube-mesos-scheduler-mesos" ||
				len(creds.Secret.Items) != 1 || creds.Secret.Items[0].Path != filepath.Base(secretFile) {
				t.Errorf("secretFile %s is not the Secret's key: %+v", secretFile, creds)
			}
			ca := mountOf(t, pod, filepath.Dir(caFile))
			if tc.ca(ca) != "kube-mesos-scheduler-mesos" || len(itemsOf(ca)) != 1 || itemsOf(ca)[0].Path != filepath.Base(caFile) {
				t.Errorf("caFile %s is not the CA's key: %+v", caFile, ca)
			}
			if psc := pod.SecurityContext; psc.FSGroup == nil || *psc.FSGroup != *psc.RunAsGroup {
				t.Errorf("the secret (mode 0440) is not readable by the scheduler's group: %+v", psc)
			}
			fw := r.rules(t)["Role "+tc.fwNS+"/"+fullname+"-framework-id"]
			if !allows(fw, "update", "", "configmaps", tc.fwName) {
				t.Errorf("no Role in %s to update %s: %v", tc.fwNS, tc.fwName, r.ids())
			}
		})
	}
}

// TestReplicas: one replica keeps leader election (a rolling update runs
// two for a while) and has no PodDisruptionBudget (it would block drains);
// without leader election the update strategy is Recreate and there is no
// Lease Role; two replicas without leader election are refused.
func TestReplicas(t *testing.T) {
	r := renderChart(t, map[string]any{"replicaCount": 1})
	if n := *r.deployment(t).Spec.Replicas; n != 1 {
		t.Errorf("replicas %d", n)
	}
	if r.find(t, "PodDisruptionBudget", fullname, &policyv1.PodDisruptionBudget{}) {
		t.Errorf("PodDisruptionBudget with one replica")
	}
	if cfg, _ := r.schedulerConfig(t); !*cfg.LeaderElection.LeaderElect {
		t.Errorf("leader election off with one replica")
	}

	r = renderChart(t, map[string]any{"replicaCount": 1, "leaderElection": map[string]any{"enabled": false}})
	if cfg, _ := r.schedulerConfig(t); *cfg.LeaderElection.LeaderElect {
		t.Errorf("leader election on")
	}
	if s := r.deployment(t).Spec.Strategy.Type; s != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("strategy %q, want Recreate without leader election", s)
	}
	if r.find(t, "Role", fullname+"-leader-election", &rbacv1.Role{}) {
		t.Errorf("Lease Role without leader election")
	}

	_, _, err := render.Render(chartDir, release, namespace, map[string]any{"leaderElection": map[string]any{"enabled": false}})
	if err == nil || !strings.Contains(err.Error(), "needs leaderElection.enabled") {
		t.Errorf("two replicas without leader election: err %v", err)
	}
}

// TestServiceMonitor: the ServiceMonitor scrapes the metrics Service's
// HTTPS port with the bearer token of the Secret the values name, through
// the endpoint's authorization, and uses no field prometheus-operator
// deprecated.
func TestServiceMonitor(t *testing.T) {
	r := renderChart(t, map[string]any{"metrics": map[string]any{"serviceMonitor": map[string]any{
		"enabled": true, "labels": map[string]any{"release": "prom"},
		"authorization": map[string]any{"credentials": map[string]any{"name": "kms-metrics-token"}},
	}}})
	var sm struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name      string            `json:"name"`
			Namespace string            `json:"namespace"`
			Labels    map[string]string `json:"labels"`
		} `json:"metadata"`
		Spec struct {
			NamespaceSelector struct {
				MatchNames []string `json:"matchNames"`
			} `json:"namespaceSelector"`
			Selector struct {
				MatchLabels map[string]string `json:"matchLabels"`
			} `json:"selector"`
			// Only the fields of prometheus-operator's current Endpoint
			// (monitoring.coreos.com/v1): UnmarshalStrict refuses the
			// deprecated bearerTokenFile and bearerTokenSecret.
			Endpoints []struct {
				Port, Scheme, Path, Interval, ScrapeTimeout string
				Authorization                               struct {
					Type        string `json:"type"`
					Credentials struct {
						Name string `json:"name"`
						Key  string `json:"key"`
					} `json:"credentials"`
				} `json:"authorization"`
				TLSConfig struct {
					InsecureSkipVerify bool `json:"insecureSkipVerify"`
				} `json:"tlsConfig"`
			} `json:"endpoints"`
		} `json:"spec"`
	}
	r.get(t, "ServiceMonitor", fullname, &sm)
	if sm.APIVersion != "monitoring.coreos.com/v1" || sm.Metadata.Labels["release"] != "prom" {
		t.Errorf("ServiceMonitor %s, labels %v", sm.APIVersion, sm.Metadata.Labels)
	}
	svc := &corev1.Service{}
	r.get(t, "Service", fullname+"-metrics", svc)
	selects(t, "ServiceMonitor", sm.Spec.Selector.MatchLabels, svc.Labels)
	if !slices.Equal(sm.Spec.NamespaceSelector.MatchNames, []string{namespace}) {
		t.Errorf("namespaceSelector %v", sm.Spec.NamespaceSelector.MatchNames)
	}
	if len(sm.Spec.Endpoints) != 1 {
		t.Fatalf("endpoints %+v", sm.Spec.Endpoints)
	}
	ep := sm.Spec.Endpoints[0]
	if ep.Port != svc.Spec.Ports[0].Name || ep.Scheme != "https" || ep.Path != "/metrics" || !ep.TLSConfig.InsecureSkipVerify {
		t.Errorf("endpoint %+v, want https /metrics on port %s", ep, svc.Spec.Ports[0].Name)
	}
	if a := ep.Authorization; a.Type != "Bearer" || a.Credentials.Name != "kms-metrics-token" || a.Credentials.Key != "token" {
		t.Errorf("endpoint authorization %+v, want Bearer from Secret kms-metrics-token key token", a)
	}
	// And by name, whatever the struct above says.
	for _, o := range r.objects {
		if o.Kind != "ServiceMonitor" {
			continue
		}
		var obj map[string]any
		if err := yaml.Unmarshal(o.raw, &obj); err != nil {
			t.Fatal(err)
		}
		for _, deprecated := range []string{"bearerTokenFile", "bearerTokenSecret"} {
			if path := findKey(obj, deprecated, ""); path != "" {
				t.Errorf("ServiceMonitor uses the deprecated %s", path)
			}
		}
	}
}

// TestPluginArgs: plugin args from values reach the configuration
// verbatim, next to the chart's MesosOffers source.
func TestPluginArgs(t *testing.T) {
	drf := map[string]any{"roles": []any{
		map[string]any{"name": "eng/ml", "weight": 2, "guarantee": map[string]any{"cpu": "8"}},
		map[string]any{"name": "eng/web", "weight": "0.5"},
	}}
	hetero := map[string]any{"acceleratorNodePolicy": "Strict"}
	r := renderChart(t, map[string]any{
		"schedulerName": "mesos",
		"plugins": map[string]any{
			"mesosOffers": map[string]any{"args": map[string]any{"allocationInterval": "2s", "refuseSeconds": 10}},
			"drf":         map[string]any{"args": drf},
			"hetero":      map[string]any{"weight": 3, "args": hetero},
		},
	})
	cfg, args := r.schedulerConfig(t)
	want := map[string]map[string]any{
		"MesosOffers": {"source": "Embedded", "allocationInterval": "2s", "refuseSeconds": float64(10)},
		// weight: 2 stays a number (the scheduler takes numbers and strings).
		"DRF": {"roles": []any{
			map[string]any{"name": "eng/ml", "weight": float64(2), "guarantee": map[string]any{"cpu": "8"}},
			map[string]any{"name": "eng/web", "weight": "0.5"},
		}},
		"Hetero": hetero,
	}
	if diff := cmp.Diff(want, args); diff != "" {
		t.Errorf("plugin args (-want +got):\n%s", diff)
	}
	if *cfg.Profiles[0].SchedulerName != "mesos" {
		t.Errorf("schedulerName %q", *cfg.Profiles[0].SchedulerName)
	}
	if w := cfg.Profiles[0].Plugins.MultiPoint.Enabled[2]; w.Name != "Hetero" || w.Weight == nil || *w.Weight != 3 {
		t.Errorf("Hetero %+v, want weight 3", w)
	}
}

// TestRefusesBadValues: the schema and the templates refuse values that
// would give a scheduler that cannot start, with a message naming them.
func TestRefusesBadValues(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values map[string]any
		want   string
	}{
		{"replicas not a number", map[string]any{"replicaCount": "two"}, "replicaCount"},
		{"the default scheduler's name", map[string]any{"schedulerName": "default-scheduler"}, "schedulerName"},
		{"unknown value", map[string]any{"replicas": 3}, "replicas"},
		{"master without scheme", map[string]any{"mesos": map[string]any{"master": "mesos-master:5050"}}, "master"},
		{"zk without path", map[string]any{"mesos": map[string]any{"master": "zk://zk:2181"}}, "master"},
		{"framework ID not ns/name", map[string]any{"mesos": map[string]any{"frameworkIDConfigMap": "fwid"}}, "frameworkIDConfigMap"},
		{"secret without principal", mesosMode(map[string]any{"master": "zk://zk:2181/mesos", "credentials": map[string]any{"existingSecret": "s"}}), "mesos.principal"},
		{"secret over plain HTTP", mesosMode(map[string]any{"master": "http://m1:5050", "principal": "p", "credentials": map[string]any{"existingSecret": "s"}}), "insecureSendInClear"},
		{"secret over zk:// without a CA", mesosMode(map[string]any{"master": "zk://zk:2181/mesos", "principal": "p", "credentials": map[string]any{"existingSecret": "s"}}), "travel in clear"},
		{"a CA with an http:// master", mesosMode(map[string]any{"master": "http://m1:5050", "tls": map[string]any{"caSecret": "a"}}), "plain HTTP but mesos.tls"},
		{"insecureSkipTLSVerify with an http:// master", mesosMode(map[string]any{"master": "http://m1:5050", "tls": map[string]any{"insecureSkipTLSVerify": true}}), "plain HTTP but mesos.tls"},
		{"two CAs", mesosMode(map[string]any{"master": "zk://zk:2181/mesos", "tls": map[string]any{"caSecret": "a", "caConfigMap": "b"}}), "caSecret"},
		{"source in args", map[string]any{"plugins": map[string]any{"mesosOffers": map[string]any{"args": map[string]any{"source": "Mesos"}}}}, "set mode: mesos"},
		{"mesos in args", map[string]any{"plugins": map[string]any{"mesosOffers": map[string]any{"args": map[string]any{"mesos": map[string]any{"master": "zk://zk:2181/mesos"}}}}}, "use the mesos values"},
		{"sources in args", map[string]any{"plugins": map[string]any{"mesosOffers": map[string]any{"args": map[string]any{"sources": []any{map[string]any{"name": "dc1", "type": "Mesos"}}}}}}, "this chart configures one offer source"},
		{"Mesos standbys that subscribe", map[string]any{"mode": "mesos", "mesos": map[string]any{"master": "zk://zk:2181/mesos"}, "leaderElection": map[string]any{"delayCacheUntilActive": false}}, "delayCacheUntilActive"},
		{"ServiceMonitor without Service", map[string]any{"metrics": map[string]any{"service": map[string]any{"enabled": false}, "serviceMonitor": map[string]any{"enabled": true}}}, "metrics.service.enabled"},
		{"ServiceMonitor without a token", map[string]any{"metrics": map[string]any{"serviceMonitor": map[string]any{"enabled": true}}}, "metrics.serviceMonitor.authorization.credentials.name"},
		// values.schema.json knows the plugin args: a typo fails at install,
		// not when the scheduler starts.
		{"typo in DRF args", drfArgs(map[string]any{"rolez": []any{map[string]any{"name": "eng"}}}), "rolez"},
		{"typo in a DRF role", drfArgs(map[string]any{"roles": []any{map[string]any{"name": "eng", "weigth": 2}}}), "weigth"},
		{"DRF role without a name", drfArgs(map[string]any{"roles": []any{map[string]any{"weight": 2}}}), "missing property 'name'"},
		{"weight neither number nor string", drfArgs(map[string]any{"roles": []any{map[string]any{"name": "eng", "weight": true}}}), "roles/0/weight"},
		{"weight not a decimal", drfArgs(map[string]any{"roles": []any{map[string]any{"name": "eng", "weight": "two"}}}), "roles/0/weight"},
		{"weight not positive", drfArgs(map[string]any{"roles": []any{map[string]any{"name": "eng", "weight": 0}}}), "roles/0/weight"},
		{"guarantee not a quantity", drfArgs(map[string]any{"roles": []any{map[string]any{"name": "eng", "guarantee": map[string]any{"cpu": "eight"}}}}), "guarantee/cpu"},
		{"unknown preemption", drfArgs(map[string]any{"preemption": "Fair"}), "args/preemption"},
		{"typo in MesosOffers args", map[string]any{"plugins": map[string]any{"mesosOffers": map[string]any{"args": map[string]any{"allocationIntervall": "1s"}}}}, "allocationIntervall"},
		{"duration without unit", map[string]any{"plugins": map[string]any{"mesosOffers": map[string]any{"args": map[string]any{"offerTimeout": "30"}}}}, "args/offerTimeout"},
		{"typo in Hetero args", map[string]any{"plugins": map[string]any{"hetero": map[string]any{"args": map[string]any{"acceleratorPolicy": "Strict"}}}}, "acceleratorPolicy"},
		{"typo in Hetero weights", map[string]any{"plugins": map[string]any{"hetero": map[string]any{"args": map[string]any{"weights": map[string]any{"gpu": 3}}}}}, "gpu"},
		{"args of another kind", drfArgs(map[string]any{"kind": "HeteroArgs"}), "drf/args/kind"},
		{"typo in mesos.extraConfig", mesosMode(map[string]any{"master": "zk://zk:2181/mesos", "extraConfig": map[string]any{"drainOnMaintainance": true}}), "drainOnMaintainance"},
		{"extraConfig sets what the chart sets", mesosMode(map[string]any{"master": "zk://zk:2181/mesos", "extraConfig": map[string]any{"secretFile": "/s"}}), "secretFile"},
		{"ServiceMonitor with the deprecated token file", map[string]any{"metrics": map[string]any{"serviceMonitor": map[string]any{"bearerTokenFile": "/var/run/secrets/kubernetes.io/serviceaccount/token"}}}, "bearerTokenFile"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := render.Render(chartDir, release, namespace, tc.values)
			if err == nil {
				t.Fatalf("rendered")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %q", err, tc.want)
			}
		})
	}
}

// TestLint runs Helm's linter (Chart.yaml, values against the schema,
// templates) for every value set; warnings and errors fail.
func TestLint(t *testing.T) {
	kv, err := chartutil.ParseKubeVersion(render.KubeVersion)
	if err != nil {
		t.Fatal(err)
	}
	for name, values := range valueSets(t) {
		t.Run(name, func(t *testing.T) {
			linter := lint.AllWithKubeVersion(chartDir, values, namespace, kv)
			for _, m := range linter.Messages {
				if m.Severity >= support.WarningSev {
					t.Errorf("lint: %s", m)
				} else {
					t.Logf("lint: %s", m)
				}
			}
		})
	}
}

// TestRBACRulesSayWhy: every RBAC rule in the templates follows a comment.
func TestRBACRulesSayWhy(t *testing.T) {
	for _, name := range []string{"clusterrole.yaml", "role.yaml", "tests/test-ready.yaml"} {
		data, err := os.ReadFile(filepath.Join(chartDir, "templates", name))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(data), "\n")
		rules := 0
		for i, l := range lines {
			if strings.TrimSpace(l) != "- apiGroups:" && !strings.HasPrefix(strings.TrimSpace(l), "- apiGroups: [") {
				continue
			}
			rules++
			prev := ""
			for j := i - 1; j >= 0; j-- {
				if p := strings.TrimSpace(lines[j]); p != "" && !strings.HasPrefix(p, "{{") {
					prev = p
					break
				}
			}
			if !strings.HasPrefix(prev, "#") {
				t.Errorf("%s:%d: rule without a comment saying why", name, i+1)
			}
		}
		if rules == 0 {
			t.Errorf("%s: no rules found", name)
		}
	}
}

// TestPlainManifestsUpToDate: manifests/install holds what the chart
// renders, and the chart's CRD is manifests/crds' (run `make manifests`).
func TestPlainManifestsUpToDate(t *testing.T) {
	for _, v := range render.Variants {
		want, err := render.Plain(root, v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(root, v.File))
		if err != nil {
			t.Fatalf("%v (run make manifests)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run make manifests\n%s", v.File, cmp.Diff(string(want), string(got)))
		}
		// kubectl apply would run the test pod once, and leave it.
		if bytes.Contains(got, []byte("helm.sh/hook")) {
			t.Errorf("%s holds Helm hooks (the helm test objects)", v.File)
		}
	}
	crd, err := os.ReadFile(filepath.Join(root, render.CRDFile))
	if err != nil {
		t.Fatal(err)
	}
	chartCRD, err := os.ReadFile(filepath.Join(root, render.ChartCRDFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(crd, chartCRD) {
		t.Errorf("%s differs from %s: run make manifests", render.ChartCRDFile, render.CRDFile)
	}
}

// TestCredentialsInClearOptIn: with the opt-in, a secret over plain HTTP
// renders, and the scheduler's config carries the matching field (which
// the scheduler's validation requires); the Mesos-mode feature gate flag
// is there too, and mesos.nominateWhileWaiting removes it.
func TestCredentialsInClearOptIn(t *testing.T) {
	values := mesosMode(map[string]any{"master": "http://m1:5050", "principal": "p",
		"credentials": map[string]any{"existingSecret": "s", "insecureSendInClear": true}})
	manifest, _, err := render.Render(chartDir, release, namespace, values)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"insecureSendCredentialsInClear: true", "--feature-gates=NominatedNodeNameForExpectation=false"} {
		if !strings.Contains(manifest, want) {
			t.Errorf("manifest lacks %q", want)
		}
	}
	values["mesos"].(map[string]any)["nominateWhileWaiting"] = true
	manifest, _, err = render.Render(chartDir, release, namespace, values)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(manifest, "NominatedNodeNameForExpectation") {
		t.Error("nominateWhileWaiting: true still turns the feature gate off")
	}
}
