package mesosemulator

import (
	"crypto/tls"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Defaults applied by Start to zero-valued Config fields.
const (
	DefaultHostname           = "localhost"
	DefaultListen             = "127.0.0.1:0"
	DefaultAllocationInterval = time.Second
	DefaultHeartbeatInterval  = 15 * time.Second
	DefaultRefuseSeconds      = 5 * time.Second
	DefaultUpdateRetry        = 10 * time.Second
	DefaultZKSessionTimeout   = 10 * time.Second
	DefaultAgentPort          = 5051
	DefaultAgentIP            = "127.0.0.1"
	// Version is the Mesos version the emulator reports.
	Version = "1.12.0"
)

// PortRange is an inclusive range of ports, as in Mesos' RANGES values.
type PortRange struct {
	Begin, End uint64
}

// Resources are the unreserved resources of an agent (or of a task or offer).
// Zero-valued scalars are never listed in offers.
type Resources struct {
	CPUs  float64
	Mem   float64
	Disk  float64
	GPUs  float64
	Ports []PortRange
}

// Agent describes one simulated agent (mesos-agent).
type Agent struct {
	// Hostname is the agent's hostname, e.g. "node-1".
	Hostname string
	// Resources are the agent's total unreserved resources.
	Resources Resources
	// Attributes become TEXT attributes (SCALAR when the value is a number),
	// listed in name order.
	Attributes map[string]string
	// IP and Port are advertised in the offer URL and /master/state pid
	// (defaults 127.0.0.1 and 5051).
	IP   string
	Port int
}

// Config configures a Master. The zero value of every field means "default".
type Config struct {
	// Hostname is the advertised master hostname (default "localhost").
	Hostname string
	// Listen is the TCP address to listen on (default "127.0.0.1:0").
	Listen string
	// MasterID fixes the master id (default: a random UUID).
	MasterID string
	// Agents are registered at start, in order (ids <master-id>-S0, -S1, ...).
	Agents []Agent
	// AllocationInterval is the batch allocation period (default 1s).
	AllocationInterval time.Duration
	// OfferTimeout rescinds offers not answered in time (0 = never).
	OfferTimeout time.Duration
	// HeartbeatInterval is the HEARTBEAT period (default 15s).
	HeartbeatInterval time.Duration
	// Credentials maps principal to secret; non-empty enables HTTP basic
	// authentication on every scheduler call.
	Credentials map[string]string
	// TLS, when set, serves HTTPS only (libprocess with SSL enabled and no
	// downgrade) with this configuration's certificates; URL then starts
	// with "https://".
	TLS *tls.Config
	// FilterGPUResources withholds agents that have GPUs from frameworks
	// without the GPU_RESOURCES capability (nil = true, like the master's
	// --filter_gpu_resources default).
	FilterGPUResources *bool
	// Leader makes this master the leading master (nil = true). A
	// non-leading master answers 307 pointing at LeaderHostPort.
	Leader *bool
	// LeaderHostPort is "<host>:<port>" of the leading master, used in the
	// 307 Location of a non-leader (default: this master itself).
	LeaderHostPort string
	// DefaultRefuse is the filter applied on DECLINE without filters and on
	// the unused part of an ACCEPT (default 5s).
	DefaultRefuse time.Duration
	// RoleWeights are DRF weights (default 1 for every role).
	RoleWeights map[string]float64
	// StatusUpdateRetry is the agent's first retry interval for
	// unacknowledged status updates; it doubles up to 10 minutes
	// (default 10s, negative disables retries).
	StatusUpdateRetry time.Duration
	// ZKSessionTimeout is how long the ZooKeeper entry of a leader that
	// failed over (TakeOver) lingers before the election names the next
	// master: a real master's process dies without closing its session, so
	// its ephemeral znode stays until the session times out (the masters'
	// --zk_session_timeout, 10 s by default: what a real Mesos 1.12 master
	// showed). 0 means that default; negative, at once.
	ZKSessionTimeout time.Duration
	// Logf, when set, receives one line per call and per event.
	Logf func(format string, args ...any)
}

// Bool returns a pointer to b, for the *bool fields of Config.
func Bool(b bool) *bool { return &b }

// withDefaults returns a copy of c with defaults filled in.
func (c Config) withDefaults() Config {
	if c.Hostname == "" {
		c.Hostname = DefaultHostname
	}
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.AllocationInterval <= 0 {
		c.AllocationInterval = DefaultAllocationInterval
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if c.DefaultRefuse <= 0 {
		c.DefaultRefuse = DefaultRefuseSeconds
	}
	if c.StatusUpdateRetry == 0 {
		c.StatusUpdateRetry = DefaultUpdateRetry
	}
	if c.ZKSessionTimeout == 0 {
		c.ZKSessionTimeout = DefaultZKSessionTimeout
	}
	if c.FilterGPUResources == nil {
		c.FilterGPUResources = Bool(true)
	}
	if c.Leader == nil {
		c.Leader = Bool(true)
	}
	return c
}

// ParseAgent parses "hostname=cpus:4;mem:8192;disk:10000;gpus:0;ports:[31000-32000]"
// (the mesos-agent --resources syntax after "hostname=").
func ParseAgent(spec string) (Agent, error) {
	host, res, ok := strings.Cut(spec, "=")
	host = strings.TrimSpace(host)
	if !ok || host == "" {
		return Agent{}, fmt.Errorf("agent %q: expected hostname=resources", spec)
	}
	r, err := ParseResources(res)
	if err != nil {
		return Agent{}, fmt.Errorf("agent %q: %w", host, err)
	}
	return Agent{Hostname: host, Resources: r}, nil
}

// ParseResources parses "cpus:4;mem:8192;disk:10000;gpus:0;ports:[31000-32000,33000-33100]".
func ParseResources(s string) (Resources, error) {
	var r Resources
	for _, item := range strings.Split(s, ";") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, val, ok := strings.Cut(item, ":")
		if !ok {
			return r, fmt.Errorf("resource %q: expected name:value", item)
		}
		if err := r.set(strings.TrimSpace(name), strings.TrimSpace(val)); err != nil {
			return r, err
		}
	}
	return r, nil
}

// set assigns one parsed resource value to r.
func (r *Resources) set(name, val string) error {
	if name == "ports" {
		ranges, err := ParseRanges(val)
		r.Ports = ranges
		return err
	}
	f, err := strconv.ParseFloat(val, 64)
	if err != nil {
		return fmt.Errorf("resource %s: %v", name, err)
	}
	switch name {
	case "cpus":
		r.CPUs = f
	case "mem":
		r.Mem = f
	case "disk":
		r.Disk = f
	case "gpus":
		r.GPUs = f
	default:
		return fmt.Errorf("unsupported resource %q", name)
	}
	return nil
}

// ParseRanges parses "[31000-32000,33000-33100]".
func ParseRanges(s string) ([]PortRange, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
		return nil, fmt.Errorf("ranges %q: expected [begin-end,...]", s)
	}
	var out []PortRange
	for _, part := range strings.Split(s[1:len(s)-1], ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		b, e, ok := strings.Cut(part, "-")
		begin, err1 := strconv.ParseUint(strings.TrimSpace(b), 10, 64)
		end, err2 := strconv.ParseUint(strings.TrimSpace(e), 10, 64)
		if !ok || err1 != nil || err2 != nil || end < begin {
			return nil, fmt.Errorf("ranges %q: bad range %q", s, part)
		}
		out = append(out, PortRange{begin, end})
	}
	return normalizeRanges(out), nil
}

// ParseAttributes parses "hostname=rack:r1;zone:a" into a hostname and an
// attribute map.
func ParseAttributes(spec string) (string, map[string]string, error) {
	host, attrs, ok := strings.Cut(spec, "=")
	host = strings.TrimSpace(host)
	if !ok || host == "" {
		return "", nil, fmt.Errorf("attributes %q: expected hostname=name:value;...", spec)
	}
	m := map[string]string{}
	for _, item := range strings.Split(attrs, ";") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		k, v, ok := strings.Cut(item, ":")
		if !ok {
			return "", nil, fmt.Errorf("attribute %q: expected name:value", item)
		}
		m[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return host, m, nil
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
