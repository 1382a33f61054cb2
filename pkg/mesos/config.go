package mesos

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config/validation"
)

// Config is the validated configuration of the Mesos source. The secret is
// read from its file here and never logged or put in events or metrics.
type Config struct {
	// Name names the source among several (metrics, events, logs); "" for
	// the only one.
	Name string
	// Serves, when set, picks the nodes whose agents this master's offers
	// may use (offer.Claims): with several sources, the nodes its
	// selector picks. Pods bound elsewhere are not this master's concern.
	Serves        func(*v1.Node) bool
	Master        string
	FrameworkName string
	User          string
	Principal     string
	secret        string
	// Warnings are about the configuration's safety, for the log (the
	// secret file readable by others, credentials sent in clear).
	Warnings           []string
	TLS                *tls.Config
	FailoverTimeout    time.Duration
	GPUResources       bool
	JSON               bool
	PlaceholderCommand string
	WaitForTaskRunning bool
	AgentNodeLabel     string
	FrameworkIDStore   string // namespace/name of the ConfigMap
	ReconcileInterval  time.Duration
	MissedHeartbeats   int
	OrphanPodPolicy    config.OrphanPodPolicy
	TaskGonePolicy     config.TaskGonePolicy
	DrainOnMaintenance bool
	// Refuse is the refuse_seconds of declines the source makes itself
	// (offers on agents that map to no node).
	Refuse time.Duration
}

// secretFileExposed says why a secret file can be read by users other than
// its owner and the process's own groups, or "". A Secret volume mounted
// 0440 with the pod's fsGroup (as the chart does) is readable by that
// group, the scheduler's own: that is not exposed.
func secretFileExposed(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return ""
	}
	mode := fi.Mode().Perm()
	if mode&0o007 != 0 {
		return fmt.Sprintf("mesos.secretFile: %s is accessible to every user (mode %04o): make it 0400 or 0440", path, mode)
	}
	if mode&0o070 == 0 {
		return ""
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	groups, _ := os.Getgroups()
	if int(st.Gid) == os.Getgid() || slices.Contains(groups, int(st.Gid)) {
		return ""
	}
	return fmt.Sprintf("mesos.secretFile: %s is accessible to group %d, not one of the scheduler's (mode %04o): make it 0400", path, st.Gid, mode)
}

// String renders the configuration without the secret.
func (c Config) String() string {
	auth := "none"
	if c.Principal != "" {
		auth = "principal " + c.Principal
		if c.secret != "" {
			auth += " (secret set)"
		}
	}
	return fmt.Sprintf("master=%s framework=%q user=%q auth=%s encoding=%s", c.Master, c.FrameworkName, c.User, auth, map[bool]string{true: "JSON", false: "Protobuf"}[c.JSON])
}

// NewConfig builds the source's configuration from validated args, reading
// the secret and CA files. Errors name the field.
func NewConfig(m *config.MesosMasterConfig, refuse time.Duration) (Config, error) {
	c := Config{
		Master: m.Master, FrameworkName: m.FrameworkName, User: m.User, Principal: m.Principal,
		FailoverTimeout: m.FailoverTimeout.Duration, GPUResources: m.GPUResources,
		JSON: m.Encoding == config.MesosEncodingJSON, PlaceholderCommand: m.PlaceholderCommand,
		WaitForTaskRunning: m.WaitForTaskRunning, AgentNodeLabel: m.AgentNodeLabel,
		FrameworkIDStore: m.FrameworkIDConfigMap, ReconcileInterval: m.ReconcileInterval.Duration,
		MissedHeartbeats: int(m.MissedHeartbeats), OrphanPodPolicy: m.OrphanPodPolicy,
		TaskGonePolicy: m.TaskGonePolicy, DrainOnMaintenance: m.DrainOnMaintenance, Refuse: refuse,
	}
	if m.SecretFile != "" {
		b, err := os.ReadFile(m.SecretFile)
		if err != nil {
			return c, fmt.Errorf("mesos.secretFile: %w", err)
		}
		if w := secretFileExposed(m.SecretFile); w != "" {
			c.Warnings = append(c.Warnings, w)
		}
		if validation.PlainHTTP(m) {
			// Validation refuses this unless insecureSendCredentialsInClear.
			c.Warnings = append(c.Warnings, fmt.Sprintf("mesos.insecureSendCredentialsInClear: the principal's secret is sent in clear (HTTP basic auth) to %s", m.Master))
		}
		c.secret = strings.TrimSpace(string(b))
		if c.secret == "" {
			return c, fmt.Errorf("mesos.secretFile: %s is empty", m.SecretFile)
		}
	}
	// TLS is on for https:// masters, and for masters found in ZooKeeper
	// when caFile or insecureSkipTLSVerify asks for it. With http:// those
	// would be silently ignored and the secret sent in clear: refuse.
	if strings.HasPrefix(m.Master, "http://") && (m.CAFile != "" || m.InsecureSkipTLSVerify) {
		return c, fmt.Errorf("mesos.master: %s is plain HTTP but caFile or insecureSkipTLSVerify is set: use https://", m.Master)
	}
	if strings.HasPrefix(m.Master, "https://") || m.CAFile != "" || m.InsecureSkipTLSVerify {
		c.TLS = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: m.InsecureSkipTLSVerify} //nolint:gosec // off only when asked for
		if m.CAFile != "" {
			pem, err := os.ReadFile(m.CAFile)
			if err != nil {
				return c, fmt.Errorf("mesos.caFile: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return c, fmt.Errorf("mesos.caFile: %s holds no PEM certificate", m.CAFile)
			}
			c.TLS.RootCAs = pool
		}
	}
	return c, nil
}
