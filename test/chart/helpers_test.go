package chart

import (
	"bufio"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	schedv1 "k8s.io/kube-scheduler/config/v1"
	"sigs.k8s.io/yaml"

	"github.com/kube-mesos/kube-mesos-scheduler/test/chart/render"
)

// object is one rendered object.
type object struct {
	Kind, Name, Namespace string
	raw                   []byte
}

// rendered is the chart rendered with one value set.
type rendered struct {
	objects []object
	notes   string
}

func renderChart(t *testing.T, values map[string]any) *rendered {
	t.Helper()
	manifest, notes, err := render.Render(chartDir, release, namespace, values)
	if err != nil {
		t.Fatalf("rendering: %v", err)
	}
	return &rendered{objects: splitObjects(t, manifest), notes: notes}
}

func splitObjects(t *testing.T, manifest string) []object {
	t.Helper()
	var objs []object
	reader := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(manifest)))
	for {
		doc, err := reader.Read()
		if err != nil {
			break
		}
		var meta struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			t.Fatalf("rendered YAML does not parse: %v\n%s", err, doc)
		}
		if meta.Kind == "" {
			continue // an empty document
		}
		objs = append(objs, object{Kind: meta.Kind, Name: meta.Metadata.Name, Namespace: meta.Metadata.Namespace, raw: doc})
	}
	return objs
}

// ids lists "Kind namespace/name" of every object, sorted.
func (r *rendered) ids() []string {
	var out []string
	for _, o := range r.objects {
		out = append(out, o.Kind+" "+o.Namespace+"/"+o.Name)
	}
	slices.Sort(out)
	return out
}

// get decodes the object of a kind and name strictly into obj.
func (r *rendered) get(t *testing.T, kind, name string, obj any) {
	t.Helper()
	if !r.find(t, kind, name, obj) {
		t.Fatalf("no %s %q among %v", kind, name, r.ids())
	}
}

// find decodes the object of a kind and name into obj and says if it exists.
func (r *rendered) find(t *testing.T, kind, name string, obj any) bool {
	t.Helper()
	for _, o := range r.objects {
		if o.Kind == kind && o.Name == name {
			if err := yaml.UnmarshalStrict(o.raw, obj); err != nil {
				t.Fatalf("%s %s: %v", kind, name, err)
			}
			return true
		}
	}
	return false
}

func (r *rendered) deployment(t *testing.T) *appsv1.Deployment {
	t.Helper()
	d := &appsv1.Deployment{}
	r.get(t, "Deployment", fullname, d)
	return d
}

// schedulerConfig decodes the KubeSchedulerConfiguration of the ConfigMap
// strictly and returns it with each plugin's args as a map.
func (r *rendered) schedulerConfig(t *testing.T) (*schedv1.KubeSchedulerConfiguration, map[string]map[string]any) {
	t.Helper()
	cm := &corev1.ConfigMap{}
	r.get(t, "ConfigMap", fullname+"-config", cm)
	data, ok := cm.Data["config.yaml"]
	if !ok {
		t.Fatalf("ConfigMap has no config.yaml: %v", cm.Data)
	}
	cfg := &schedv1.KubeSchedulerConfiguration{}
	if err := yaml.UnmarshalStrict([]byte(data), cfg); err != nil {
		t.Fatalf("config.yaml: %v\n%s", err, data)
	}
	if cfg.APIVersion != "kubescheduler.config.k8s.io/v1" || cfg.Kind != "KubeSchedulerConfiguration" {
		t.Errorf("config is %s %s", cfg.APIVersion, cfg.Kind)
	}
	if len(cfg.Profiles) != 1 {
		t.Fatalf("%d profiles, want 1", len(cfg.Profiles))
	}
	args := map[string]map[string]any{}
	for _, pc := range cfg.Profiles[0].PluginConfig {
		m := map[string]any{}
		if err := yaml.Unmarshal(pc.Args.Raw, &m); err != nil {
			t.Fatalf("args of %s: %v", pc.Name, err)
		}
		args[pc.Name] = m
	}
	return cfg, args
}

// rules returns the rules of every ClusterRole and Role.
func (r *rendered) rules(t *testing.T) map[string][]rbacv1.PolicyRule {
	t.Helper()
	out := map[string][]rbacv1.PolicyRule{}
	for _, o := range r.objects {
		switch o.Kind {
		case "ClusterRole":
			cr := &rbacv1.ClusterRole{}
			r.get(t, o.Kind, o.Name, cr)
			out["ClusterRole "+o.Name] = cr.Rules
		case "Role":
			role := &rbacv1.Role{}
			r.get(t, o.Kind, o.Name, role)
			out["Role "+o.Namespace+"/"+o.Name] = role.Rules
		}
	}
	return out
}

// allows says if a rule grants verb on group/resource (and name, if any).
func allows(rules []rbacv1.PolicyRule, verb, group, resource, name string) bool {
	for _, r := range rules {
		if slices.Contains(r.Verbs, verb) && slices.Contains(r.APIGroups, group) && slices.Contains(r.Resources, resource) &&
			(len(r.ResourceNames) == 0 || slices.Contains(r.ResourceNames, name)) {
			return true
		}
	}
	return false
}

func mountOf(t *testing.T, pod corev1.PodSpec, path string) corev1.VolumeSource {
	t.Helper()
	for _, m := range pod.Containers[0].VolumeMounts {
		if m.MountPath == path {
			if !m.ReadOnly {
				t.Errorf("mount %s is writable", path)
			}
			for _, v := range pod.Volumes {
				if v.Name == m.Name {
					return v.VolumeSource
				}
			}
			t.Fatalf("mount %s names no volume", path)
		}
	}
	t.Fatalf("nothing mounted at %s: %v", path, pod.Containers[0].VolumeMounts)
	return corev1.VolumeSource{}
}

func selects(t *testing.T, what string, selector, labels map[string]string) {
	t.Helper()
	if len(selector) == 0 {
		t.Errorf("%s selects everything", what)
	}
	for k, v := range selector {
		if labels[k] != v {
			t.Errorf("%s selector %v does not select the pods (labels %v)", what, selector, labels)
		}
	}
}

func itemsOf(v corev1.VolumeSource) []corev1.KeyToPath {
	switch {
	case v.Secret != nil:
		return v.Secret.Items
	case v.ConfigMap != nil:
		return v.ConfigMap.Items
	}
	return nil
}

// valueSets are the value sets the chart is linted with and checked for
// broad RBAC.
func valueSets(t *testing.T) map[string]map[string]any {
	t.Helper()
	sets := map[string]map[string]any{
		"defaults":           nil,
		"mesos zk":           mesosMode(map[string]any{"master": "zk://zk:2181/mesos"}),
		"one replica":        {"replicaCount": 1},
		"no leader election": {"replicaCount": 1, "leaderElection": map[string]any{"enabled": false}},
		"servicemonitor": {"metrics": map[string]any{"serviceMonitor": map[string]any{"enabled": true,
			"authorization": map[string]any{"credentials": map[string]any{"name": "metrics-token"}}}}},
	}
	files, err := filepath.Glob(filepath.Join(chartDir, "ci", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no ci/*.yaml value sets: %v", err)
	}
	for _, f := range files {
		sets["ci/"+filepath.Base(f)] = ciValues(t, filepath.Base(f))
	}
	return sets
}

func ciValues(t *testing.T, name string) map[string]any {
	t.Helper()
	v, err := render.ReadValues(filepath.Join(chartDir, "ci", name))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// mesosMode is the values of Mesos mode with these mesos values.
func mesosMode(mesos map[string]any) map[string]any {
	return map[string]any{"mode": "mesos", "mesos": mesos}
}

// drfArgs is the values setting plugins.drf.args.
func drfArgs(args map[string]any) map[string]any {
	return map[string]any{"plugins": map[string]any{"drf": map[string]any{"args": args}}}
}

// findKey returns the path of the first key named key in a decoded YAML
// document (under path), or "".
func findKey(v any, key, path string) string {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			if k == key {
				return path + "." + k
			}
			if p := findKey(child, key, path+"."+k); p != "" {
				return p
			}
		}
	case []any:
		for i, child := range v {
			if p := findKey(child, key, fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	}
	return ""
}
