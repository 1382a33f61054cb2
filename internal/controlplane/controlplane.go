// Package controlplane runs a real Kubernetes control plane (etcd and
// kube-apiserver) and our scheduler in one process: the simulator
// (cmd/simulate, the demo) is built on it, and so are the integration
// tests and benchmarks (through test/harness, which adds the test helpers).
// The production scheduler (cmd/scheduler) never links it.
package controlplane

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	kubeapiservertesting "k8s.io/kubernetes/cmd/kube-apiserver/app/testing"
	"k8s.io/kubernetes/test/utils/ktesting"
)

// ControlPlane is a real etcd and kube-apiserver running in this process.
type ControlPlane struct {
	// Config is an admin client configuration; Client uses it.
	Config *rest.Config
	Client kubernetes.Interface
	// Kubeconfig is the path of a kubeconfig file for Config.
	Kubeconfig string
	// EtcdEndpoints are the client URLs of etcd.
	EtcdEndpoints []string
	Dir           string

	stop func()
}

// apiserverFlags are the kube-apiserver flags for a control plane without
// controllers: no endpoint reconciler, and no admission plugins that need
// a controller to make progress (without TaintNodesByCondition disabled new
// nodes carry a not-ready taint that nothing removes).
var apiserverFlags = []string{
	"--endpoint-reconciler-type=none",
	"--disable-admission-plugins=ServiceAccount,TaintNodesByCondition,Priority",
}

// EnvEmulatedVersion, when set (e.g. "1.35"), makes Start run the
// kube-apiserver with --emulated-version: it serves the APIs and feature
// gates of that Kubernetes version (KEP-4330 compatibility versions, at most
// three minor versions back). The process's feature gates, which the
// in-process scheduler reads too, follow it for the test's duration, as a
// scheduler started with the same --emulated-version would have them.
// make test-compat runs the core integration tests so (docs/compatibility.md).
const EnvEmulatedVersion = "KMS_EMULATED_VERSION"

// Option changes how Start starts the control plane.
type Option func(*startOptions)

type startOptions struct {
	flags []string
}

// WithAPIServerFlags adds kube-apiserver flags, e.g.
// "--authorization-mode=RBAC" (the default authorizes every request).
func WithAPIServerFlags(flags ...string) Option {
	return func(o *startOptions) { o.flags = append(o.flags, flags...) }
}

// Start starts etcd and kube-apiserver. tb may be a *testing.T
// or a ProcessTB; Stop tears both down.
func Start(tb ktesting.TB, options ...Option) (cp *ControlPlane, err error) {
	defer recoverFatal(&err)
	o := startOptions{flags: append([]string(nil), apiserverFlags...)}
	if v := os.Getenv(EnvEmulatedVersion); v != "" {
		o.flags = append(o.flags, "--emulated-version="+v)
	}
	for _, opt := range options {
		opt(&o)
	}
	dir, err := os.MkdirTemp("", "kms-controlplane-")
	if err != nil {
		return nil, err
	}
	etcd, endpoints, err := startEtcd(filepath.Join(dir, "etcd"))
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("starting etcd: %w", err)
	}
	storage := storagebackend.NewDefaultConfig("/registry-"+strconv.FormatInt(time.Now().UnixNano(), 36), nil)
	storage.Transport.ServerList = endpoints
	opts := kubeapiservertesting.NewDefaultTestServerOptions()
	opts.DisableInvariantChecks = true
	server, err := kubeapiservertesting.StartTestServer(tb, opts, o.flags, storage)
	if err != nil {
		etcd.Close()
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("starting kube-apiserver: %w", err)
	}
	cfg := rest.CopyConfig(server.ClientConfig)
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		server.TearDownFn()
		etcd.Close()
		return nil, err
	}
	cp = &ControlPlane{Config: cfg, Client: client, EtcdEndpoints: endpoints, Dir: dir}
	cp.stop = func() {
		server.TearDownFn()
		etcd.Close()
		_ = os.RemoveAll(dir)
	}
	if cp.Kubeconfig, err = WriteKubeconfig(cfg, filepath.Join(dir, "kubeconfig")); err != nil {
		cp.Stop()
		return nil, err
	}
	return cp, nil
}

// Stop tears the control plane down.
func (cp *ControlPlane) Stop() {
	if cp.stop != nil {
		cp.stop()
		cp.stop = nil
	}
}

// startEtcd starts an embedded etcd on two free loopback ports.
func startEtcd(dir string) (*embed.Etcd, []string, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, nil, err
	}
	cfg := embed.NewConfig()
	cfg.Dir = dir
	cfg.UnsafeNoFsync = true
	client := url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))}
	peer := url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1]))}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop().WithOptions(zap.IncreaseLevel(zapcore.ErrorLevel)))
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, nil, err
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(60 * time.Second):
		e.Close()
		return nil, nil, fmt.Errorf("etcd took more than a minute to start")
	}
	return e, []string{client.String()}, nil
}

func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// WriteKubeconfig writes a kubeconfig file for a rest.Config, including
// its impersonation settings, and returns the path.
func WriteKubeconfig(cfg *rest.Config, path string) (string, error) {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["local"] = &clientcmdapi.Cluster{
		Server:                   cfg.Host,
		CertificateAuthorityData: cfg.TLSClientConfig.CAData,
		TLSServerName:            cfg.TLSClientConfig.ServerName,
		InsecureSkipTLSVerify:    cfg.TLSClientConfig.Insecure,
	}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{
		Token:                 cfg.BearerToken,
		ClientCertificateData: cfg.TLSClientConfig.CertData,
		ClientKeyData:         cfg.TLSClientConfig.KeyData,
		Impersonate:           cfg.Impersonate.UserName,
		ImpersonateUID:        cfg.Impersonate.UID,
		ImpersonateGroups:     cfg.Impersonate.Groups,
		ImpersonateUserExtra:  cfg.Impersonate.Extra,
	}
	kc.Contexts["local"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: "admin"}
	kc.CurrentContext = "local"
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		return "", err
	}
	return path, nil
}
