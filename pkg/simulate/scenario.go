// Package simulate describes a scheduling scenario (nodes, namespaces with
// their Mesos roles, weights and quotas, and workloads), turns it into the
// Kubernetes objects and scheduler configuration that reproduce it, and
// reports what the scheduler did with it: per namespace, per node and per
// pod, plus a chart of the dominant shares over time.
//
// Nothing here starts a control plane: pkg/simulate/runner does that, so
// this package and its tests stay free of etcd and the kube-apiserver.
package simulate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

// Scenario is what a simulation runs: a cluster, its tenants and their
// workloads. Decode reads one from YAML (or JSON) strictly.
type Scenario struct {
	// Nodes of the cluster.
	Nodes []NodeSpec `json:"nodes"`
	// Namespaces are the tenants; each maps to a Mesos role.
	Namespaces []NamespaceSpec `json:"namespaces"`
	// Workloads are groups of identical pods.
	Workloads []WorkloadSpec `json:"workloads"`
	// DRF selects the resources that count for the dominant share and the
	// preemption policy (the DRF plugin's args of the same names).
	DRF *DRFSpec `json:"drf,omitempty"`
	// Mesos, when present, runs the scenario against the Mesos master
	// emulator instead of the embedded allocator.
	Mesos *MesosSpec `json:"mesos,omitempty"`
}

// NodeSpec is one node, or Count identical nodes named Name-1 … Name-Count.
type NodeSpec struct {
	Name string `json:"name"`
	// Count of identical nodes; 0 or 1 is one node named Name.
	Count int `json:"count,omitempty"`
	// Capacity is both capacity and allocatable: cpu, memory,
	// nvidia.com/gpu, ... ("pods" defaults to 110).
	Capacity map[string]Amount `json:"capacity"`
	// Labels, e.g. kubernetes.io/arch (default amd64) and the GPU Feature
	// Discovery labels nvidia.com/gpu.product and nvidia.com/gpu.memory.
	Labels map[string]string `json:"labels,omitempty"`
	// Taints of the node.
	Taints []v1.Taint `json:"taints,omitempty"`
}

// NamespaceSpec is a tenant.
type NamespaceSpec struct {
	Name string `json:"name"`
	// Role is the Mesos role (annotation kube-mesos.io/role); default: the name.
	Role string `json:"role,omitempty"`
	// Weight of the role (annotation kube-mesos.io/weight); default 1.
	Weight Amount `json:"weight,omitempty"`
	// Quota of the namespace: min is a guarantee, max a limit. Quotas of
	// namespaces that share a role are summed into the role's.
	Quota *QuotaSpec `json:"quota,omitempty"`
}

// QuotaSpec is a guarantee (Min) and a limit (Max) per resource.
type QuotaSpec struct {
	Min map[string]Amount `json:"min,omitempty"`
	Max map[string]Amount `json:"max,omitempty"`
}

// WorkloadSpec is Replicas identical pods named Name-0, Name-1, ….
type WorkloadSpec struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Replicas is the number of pods; default 1.
	Replicas int `json:"replicas,omitempty"`
	// Requests of the pod's one container; extended resources get an equal limit.
	Requests map[string]Amount `json:"requests"`
	// Priority is spec.priority; default 0.
	Priority *int32 `json:"priority,omitempty"`
	// Annotations of the pods, e.g. kube-mesos.io/gpu-models and
	// kube-mesos.io/architectures.
	Annotations  map[string]string `json:"annotations,omitempty"`
	Labels       map[string]string `json:"labels,omitempty"`
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	Tolerations  []v1.Toleration   `json:"tolerations,omitempty"`
	// SchedulerName defaults to kube-mesos-scheduler. Pods of another
	// scheduler are created but nothing schedules them.
	SchedulerName string `json:"schedulerName,omitempty"`
}

// DRFSpec is the part of the DRF plugin's args a scenario may set.
type DRFSpec struct {
	Resources             []string `json:"resources,omitempty"`
	ExcludedResourceNames []string `json:"excludedResourceNames,omitempty"`
	Preemption            string   `json:"preemption,omitempty"`
}

// MesosSpec runs the scenario against the in-process Mesos master emulator.
type MesosSpec struct {
	// Agents of the master; empty: one agent per node, named after it, with
	// the node's cpu, memory (MiB), nvidia.com/gpu and ephemeral-storage
	// (MiB, default 100000) and ports 31000-32000.
	Agents []AgentSpec `json:"agents,omitempty"`
	// Masters runs several masters at once instead (docs/federation.md),
	// each with its agents; the nodes no master lists are served by the
	// embedded allocator. Not with agents.
	Masters []MasterSpec `json:"masters,omitempty"`
}

// MasterSpec is one of several Mesos masters.
type MasterSpec struct {
	// Name names the master's offer source (a DNS label, not "embedded").
	Name string `json:"name"`
	// Agents of the master, one per node it serves: an agent without cpus
	// and mem has its node's resources.
	Agents []AgentSpec `json:"agents"`
}

// AgentSpec is one Mesos agent, in Mesos' units.
type AgentSpec struct {
	// Hostname is the agent's hostname: the node it maps to.
	Hostname string  `json:"hostname"`
	CPUs     float64 `json:"cpus"`
	Mem      float64 `json:"mem"` // MiB
	Disk     float64 `json:"disk,omitempty"`
	GPUs     float64 `json:"gpus,omitempty"`
	// Ports is a Mesos ranges value, e.g. "[31000-32000]" (the default).
	Ports      string            `json:"ports,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

// Amount is a quantity or a decimal written as a YAML string or number
// (cpu: 4, cpu: "500m", memory: 16Gi, weight: 2.5).
type Amount string

// UnmarshalJSON accepts a JSON string or number.
func (a *Amount) UnmarshalJSON(data []byte) error {
	s, err := resources.NumberOrString(data)
	if err != nil {
		return fmt.Errorf("want a quantity or a number, got %s", bytes.TrimSpace(data))
	}
	*a = Amount(s)
	return nil
}

// oneDocument checks that data is one YAML (or JSON) document and nothing
// after it: a second document or trailing text is an error, not ignored.
func oneDocument(data []byte) error {
	dec := yamlv3.NewDecoder(bytes.NewReader(data))
	var doc yamlv3.Node
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("scenario is not valid YAML: %w", err)
	}
	for n := 2; ; n++ {
		var next yamlv3.Node
		err := dec.Decode(&next)
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return fmt.Errorf("scenario is not valid YAML after the scenario: %w", err)
		case len(next.Content) > 0:
			return fmt.Errorf("scenario: YAML document %d follows the scenario: a file holds one scenario", n)
		}
	}
}

// explicitZeros refuses count: 0 and replicas: 0, which decode like an
// omitted field (one node, one pod) but say something else.
func explicitZeros(js []byte) error {
	var raw struct {
		Nodes     []struct{ Count *int }    `json:"nodes"`
		Workloads []struct{ Replicas *int } `json:"workloads"`
	}
	if json.Unmarshal(js, &raw) != nil {
		return nil // the strict decoding says what is wrong
	}
	var errs field.ErrorList
	for i, n := range raw.Nodes {
		if n.Count != nil && *n.Count == 0 {
			errs = append(errs, field.Invalid(field.NewPath("nodes").Index(i).Child("count"), 0, "must be at least 1 (omit it for one node)"))
		}
	}
	for i, w := range raw.Workloads {
		if w.Replicas != nil && *w.Replicas == 0 {
			errs = append(errs, field.Invalid(field.NewPath("workloads").Index(i).Child("replicas"), 0, "must be at least 1 (omit it for one pod)"))
		}
	}
	return errs.ToAggregate()
}

// LoadFile reads and decodes a scenario file; errors start with the path.
func LoadFile(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sc, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return sc, nil
}

// Decode reads a scenario from YAML or JSON strictly: unknown and duplicate
// fields are errors naming the field (e.g. unknown field
// "workloads[0].replica"), a second YAML document is an error (one scenario
// per file), an explicit count or replicas of 0 is an error (omitted means
// 1), and the result is validated (Validate).
func Decode(data []byte) (*Scenario, error) {
	if err := oneDocument(data); err != nil {
		return nil, err
	}
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, fmt.Errorf("scenario is not valid YAML: %w", err)
	}
	if err := explicitZeros(js); err != nil {
		return nil, err
	}
	sc := &Scenario{}
	strict, err := sigsjson.UnmarshalStrict(js, sc)
	if err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	if len(strict) > 0 {
		msgs := make([]string, len(strict))
		for i, e := range strict {
			msgs[i] = e.Error()
		}
		return nil, fmt.Errorf("scenario: %s", strings.Join(msgs, "; "))
	}
	if err := Validate(sc); err != nil {
		return nil, err
	}
	return sc, nil
}
