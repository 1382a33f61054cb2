package validation

import (
	"testing"
	"time"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config"
)

// TestValidateMasterURL covers the master forms: http(s) lists and
// ZooKeeper ensembles with a znode path.
func TestValidateMasterURL(t *testing.T) {
	for _, tc := range []struct {
		master string
		want   string // "" = valid
	}{
		{"http://m1:5050", ""},
		{"https://m1:5050", ""},
		{"http://m1:5050,m2:5050,10.0.0.3:5050", ""},
		{"http://[::1]:5050", ""},
		{"https://m1:5050/", ""},
		{"zk://z1:2181/mesos", ""},
		{"zk://z1:2181,z2:2181,z3:2181/mesos/prod", ""},
		{"", "must start with"},
		{"m1:5050", "must start with"},
		{"ftp://m1:5050", `unsupported scheme "ftp"`},
		{"HTTP://m1:5050", `unsupported scheme`},
		{"http://", "no host"},
		{"http://m1", `"m1" is not host:port`},
		{"http://m1:5050,m2", `"m2" is not host:port`},
		{"http://m1:5050,", `"" is not host:port`},
		{"http://:5050", `":5050" is not host:port`},
		{"zk://z1:2181", "needs the znode path"},
		{"zk://z1:2181/", "needs the znode path"},
		{"zk:///mesos", "no host"},
		{"zk://z1:2181,z2/mesos", `"z2" is not host:port`},
	} {
		t.Run(tc.master, func(t *testing.T) { check(t, ValidateMasterURL(tc.master), tc.want) })
	}
}

// TestValidateMesosMasterConfig covers every field of the mesos: block
// with its field path, and the offer timing fields the Mesos source uses
// (refuseSeconds, acceptBatchWindow).
func TestValidateMesosMasterConfig(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*config.MesosOffersArgs)
		want   string
	}{
		{"https with caFile", func(a *config.MesosOffersArgs) {
			a.Mesos.Master, a.Mesos.CAFile = "https://m1:5050", "/etc/kms/ca.pem"
		}, ""},
		{"insecureSkipTLSVerify", func(a *config.MesosOffersArgs) {
			a.Mesos.Master, a.Mesos.InsecureSkipTLSVerify = "https://m1:5050", true
		}, ""},
		{"principal and secretFile over https", func(a *config.MesosOffersArgs) {
			a.Mesos.Master, a.Mesos.Principal, a.Mesos.SecretFile = "https://m1:5050", "kms", "/etc/kms/secret"
		}, ""},
		{"principal and secretFile over zk:// with a CA", func(a *config.MesosOffersArgs) {
			a.Mesos.Master, a.Mesos.CAFile, a.Mesos.Principal, a.Mesos.SecretFile = "zk://z1:2181/mesos", "/etc/kms/ca.pem", "kms", "/etc/kms/secret"
		}, ""},
		// Basic auth over plain HTTP sends the secret in clear: refused
		// unless the loud opt-in is set.
		{"secretFile over http://", func(a *config.MesosOffersArgs) {
			a.Mesos.Principal, a.Mesos.SecretFile = "kms", "/etc/kms/secret"
		}, "mesos.secretFile: Forbidden: the master http://m1:5050,m2:5050 is reached over plain HTTP"},
		{"secretFile over zk:// without TLS", func(a *config.MesosOffersArgs) {
			a.Mesos.Master, a.Mesos.Principal, a.Mesos.SecretFile = "zk://z1:2181/mesos", "kms", "/etc/kms/secret"
		}, "mesos.secretFile: Forbidden"},
		{"secretFile over http:// with insecureSendCredentialsInClear", func(a *config.MesosOffersArgs) {
			a.Mesos.Principal, a.Mesos.SecretFile, a.Mesos.InsecureSendCredentialsInClear = "kms", "/etc/kms/secret", true
		}, ""},
		{"refuse seconds at the cap", func(a *config.MesosOffersArgs) { a.RefuseSeconds = 3600 }, ""},
		{"refuse seconds 68 years", func(a *config.MesosOffersArgs) { a.RefuseSeconds = 2147483647 }, "refuseSeconds: Invalid value: 2147483647: must be from 0 to 3600"},
		{"principal without secretFile (no authentication)", func(a *config.MesosOffersArgs) { a.Mesos.Principal = "kms" }, ""},
		{"secretFile without principal", func(a *config.MesosOffersArgs) { a.Mesos.SecretFile = "/etc/kms/secret" }, "mesos.principal: Required value: required with secretFile"},
		{"bad master", func(a *config.MesosOffersArgs) { a.Mesos.Master = "mesos://m1:5050" }, `mesos.master: Invalid value: "mesos://m1:5050"`},
		{"no master", func(a *config.MesosOffersArgs) { a.Mesos.Master = "" }, "mesos.master"},
		{"no framework name", func(a *config.MesosOffersArgs) { a.Mesos.FrameworkName = "" }, "mesos.frameworkName: Required"},
		{"no user", func(a *config.MesosOffersArgs) { a.Mesos.User = "" }, "mesos.user: Required"},
		{"zero failover timeout", func(a *config.MesosOffersArgs) { a.Mesos.FailoverTimeout.Duration = 0 }, "mesos.failoverTimeout"},
		{"negative failover timeout", func(a *config.MesosOffersArgs) { a.Mesos.FailoverTimeout.Duration = -time.Second }, "mesos.failoverTimeout"},
		{"blank placeholder command", func(a *config.MesosOffersArgs) { a.Mesos.PlaceholderCommand = "  " }, "mesos.placeholderCommand: Required"},
		{"configmap without name", func(a *config.MesosOffersArgs) { a.Mesos.FrameworkIDConfigMap = "kube-system/" }, "mesos.frameworkIDConfigMap"},
		{"configmap without namespace", func(a *config.MesosOffersArgs) { a.Mesos.FrameworkIDConfigMap = "/fw" }, "mesos.frameworkIDConfigMap"},
		{"zero reconcile interval", func(a *config.MesosOffersArgs) { a.Mesos.ReconcileInterval.Duration = 0 }, "mesos.reconcileInterval"},
		{"negative heartbeats", func(a *config.MesosOffersArgs) { a.Mesos.MissedHeartbeats = -1 }, "mesos.missedHeartbeats"},
		{"bad orphan policy", func(a *config.MesosOffersArgs) { a.Mesos.OrphanPodPolicy = "Ignore" }, "mesos.orphanPodPolicy: Unsupported value"},
		{"bad task-gone policy", func(a *config.MesosOffersArgs) { a.Mesos.TaskGonePolicy = "Keep" }, "mesos.taskGonePolicy: Unsupported value"},
		{"refuse seconds zero (re-offer at the next allocation)", func(a *config.MesosOffersArgs) { a.RefuseSeconds = 0 }, ""},
		{"negative refuse seconds", func(a *config.MesosOffersArgs) { a.RefuseSeconds = -5 }, "refuseSeconds: Invalid value: -5"},
		{"batch window zero", func(a *config.MesosOffersArgs) { a.AcceptBatchWindow.Duration = 0 }, ""},
		{"batch window equal to the interval", func(a *config.MesosOffersArgs) { a.AcceptBatchWindow.Duration = a.AllocationInterval.Duration }, ""},
		{"negative batch window", func(a *config.MesosOffersArgs) { a.AcceptBatchWindow.Duration = -time.Millisecond }, "acceptBatchWindow"},
		{"batch window above the interval", func(a *config.MesosOffersArgs) {
			a.AcceptBatchWindow.Duration = a.AllocationInterval.Duration + time.Millisecond
		}, "acceptBatchWindow"},
		{"offer timeout equal to the batch window", func(a *config.MesosOffersArgs) { a.OfferTimeout.Duration = a.AcceptBatchWindow.Duration }, "offerTimeout"},
		{"offer timeout zero (never)", func(a *config.MesosOffersArgs) { a.OfferTimeout.Duration = 0 }, ""},
		{"several errors at once", func(a *config.MesosOffersArgs) {
			a.Mesos.User, a.Mesos.Master = "", "zk://z1:2181"
		}, "[mesos.master: Invalid value: \"zk://z1:2181\": a zk:// URL needs the znode path, e.g. zk://h1:2181/mesos, mesos.user: Required value]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := validOffers()
			a.Source, a.Mesos = config.OfferSourceMesos, validMesos()
			tc.mutate(a)
			check(t, ValidateMesosOffersArgs(nil, a), tc.want)
		})
	}
}
