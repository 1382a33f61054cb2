package integration

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	"k8s.io/klog/v2/textlogger"

	emulator "github.com/kube-mesos/kube-mesos-scheduler/internal/mesosemulator"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/mesos"
	"github.com/kube-mesos/kube-mesos-scheduler/test/harness"
)

// logBuffer collects log output; safe for concurrent writers.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// since returns what was logged after offset.
func (b *logBuffer) since(offset int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()[min(offset, b.buf.Len()):]
}

func (b *logBuffer) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}

// captureLogs sends all klog output of the test — the schedulers' contextual
// loggers (through e.ctx) and klog's global functions — to a buffer at
// verbosity 10, until the test ends.
func captureLogs(t *testing.T, e *env) *logBuffer {
	t.Helper()
	buf := &logBuffer{}
	logger := textlogger.NewLogger(textlogger.NewConfig(textlogger.Output(buf), textlogger.Verbosity(10)))
	var fs flag.FlagSet
	klog.InitFlags(&fs)
	v := fs.Lookup("v")
	old := v.Value.String()
	if err := v.Value.Set("10"); err != nil {
		t.Fatal(err)
	}
	klog.SetLoggerWithOptions(logger, klog.ContextualLogger(true))
	t.Cleanup(func() {
		klog.ClearLogger()
		_ = v.Value.Set(old)
	})
	e.ctx = klog.NewContext(e.ctx, logger)
	return buf
}

// waitLogged waits until a line logged after offset contains all of wants
// and returns it.
func waitLogged(t *testing.T, e *env, logs *logBuffer, offset int, wants ...string) string {
	t.Helper()
	var line string
	if err := harness.Poll(e.ctx, settle, func(context.Context) (bool, error) {
	lines:
		for _, l := range strings.Split(logs.since(offset), "\n") {
			for _, w := range wants {
				if !strings.Contains(l, w) {
					continue lines
				}
			}
			line = l
			return true, nil
		}
		return false, nil
	}); err != nil {
		t.Fatalf("the scheduler never logged a line with %q: %v", wants, err)
	}
	return line
}

// randomSecret returns a fresh secret.
func randomSecret(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "s3cret-" + hex.EncodeToString(b)
}

// writeFile writes a file readable by its owner only and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestMesosCredentials: the principal's secret comes from a file. With a
// wrong secret the master refuses every subscription (401) and that is
// visible: the scheduler logs it, nothing is registered and the pod waits
// with a reason. With the right secret the framework subscribes and the pod
// binds. Neither secret, in clear or in its basic-auth base64 form, appears
// in the scheduler's args, in any klog output (verbosity 10), in any event
// or in the metrics.
func TestMesosCredentials(t *testing.T) {
	e := start(t, "")
	logs := captureLogs(t, e)
	metrics := metricsURL(t)
	secret, wrong := randomSecret(t), randomSecret(t)
	dir := t.TempDir()
	secretFile := writeFile(t, dir, "secret", secret+"\n")
	wrongFile := writeFile(t, dir, "wrong", wrong)
	m := startMesos(t, e, map[string][3]float64{"n1": {4, 8192, 0}}, emulator.Config{Credentials: map[string]string{"kms": secret}})
	namespaces(t, e, "auth")
	createPods(t, e, "auth", "p", 1, "1", "1Gi")
	auth := func(file string) string {
		// The emulator speaks plain HTTP: the secret travels in clear,
		// which validation refuses without the opt-in.
		cfg := mesosArgs(m.URL(), "kms-auth", "            principal: kms\n            secretFile: "+file+"\n            insecureSendCredentialsInClear: true\n")
		if strings.Contains(cfg, secret) || strings.Contains(cfg, wrong) {
			t.Fatal("a secret is in the scheduler's args")
		}
		return cfg
	}

	offset := logs.len()
	s, err := harness.StartScheduler(e.ctx, e.cp, auth(wrongFile))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("with a wrong secret the scheduler logs: %s", waitLogged(t, e, logs, offset, "Mesos", "401 Unauthorized"))
	msg, err := harness.WaitForUnschedulable(e.ctx, e.cp.Client, "auth", "p-00", settle)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("with a wrong secret the pod waits: %q", msg)
	// The master's body ends "401 Unauthorized." and the scheduler ends
	// the reason with a period: the pod's message must say why once, with
	// one period.
	if !strings.Contains(msg, "not subscribed to the Mesos master (unauthenticated)") || strings.Contains(msg, "..") {
		t.Errorf("with a wrong secret the pod says %q, want the unauthenticated reason ending in a single period", msg)
	}
	if st := m.CallStats(); st.Unauthorized == 0 || len(st.Handled) != 0 || len(m.Frameworks()) != 0 {
		t.Errorf("with a wrong secret the master saw %+v, frameworks %+v", st, m.Frameworks())
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}

	e.sched = e.startScheduler(t, auth(secretFile))
	if _, err := harness.WaitForPodBound(e.ctx, e.cp.Client, "auth", "p-00", settle); err != nil {
		t.Fatal(err)
	}
	if fw, ok := frameworkNamed(m, "kms-auth"); !ok || fw.Principal != "kms" {
		t.Errorf("framework %+v (registered %v), want principal kms", fw, ok)
	}
	// The opt-in to send the secret in clear is a Warning event on the
	// framework ID ConfigMap (default/kms-auth), not only a log line.
	if err := harness.Poll(e.ctx, settle, func(ctx context.Context) (bool, error) {
		evs, err := e.cp.Client.CoreV1().Events("default").List(ctx, metav1.ListOptions{
			FieldSelector: "involvedObject.kind=ConfigMap,involvedObject.name=kms-auth"})
		if err != nil {
			return false, err
		}
		for _, ev := range evs.Items {
			if ev.Type == v1.EventTypeWarning && ev.Reason == mesos.ReasonUnsafeConfiguration &&
				strings.Contains(ev.Message, "insecureSendCredentialsInClear") {
				return true, nil
			}
		}
		return false, nil
	}); err != nil {
		t.Errorf("no Warning %s event on ConfigMap default/kms-auth: %v", mesos.ReasonUnsafeConfiguration, err)
	}

	forms := map[string]string{}
	for name, s := range map[string]string{"secret": secret, "wrong secret": wrong} {
		forms[name] = s
		forms[name+" (basic auth)"] = base64.StdEncoding.EncodeToString([]byte("kms:" + s))
		forms[name+" (base64)"] = base64.StdEncoding.EncodeToString([]byte(s))
	}
	expectNoSecrets(t, e, logs.since(0), metrics, forms)
}

// expectNoSecrets searches the logs, every event of the cluster and the
// metrics for the secrets.
func expectNoSecrets(t *testing.T, e *env, logs, metricsURL string, secrets map[string]string) {
	t.Helper()
	coreEvents, err := e.cp.Client.CoreV1().Events(metav1.NamespaceAll).List(e.ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	newEvents, err := e.cp.Client.EventsV1().Events(metav1.NamespaceAll).List(e.ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	events, err := json.Marshal([]any{coreEvents, newEvents})
	if err != nil {
		t.Fatal(err)
	}
	metricLines, err := harness.ScrapeLines(metricsURL, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(coreEvents.Items) == 0 || len(metricLines) == 0 || logs == "" {
		t.Fatalf("nothing to search: %d events, %d metric lines, %d bytes of logs", len(coreEvents.Items), len(metricLines), len(logs))
	}
	t.Logf("searched %d bytes of logs, %d events, %d metric lines", len(logs), len(coreEvents.Items)+len(newEvents.Items), len(metricLines))
	for where, text := range map[string]string{"logs": logs, "events": string(events), "metrics": strings.Join(metricLines, "\n")} {
		for name, s := range secrets {
			if i := strings.Index(text, s); i >= 0 {
				t.Errorf("the %s found in the %s: %q", name, where, text[max(0, i-200):min(len(text), i+len(s)+50)])
			}
		}
	}
}

// TestMesosTLS: against a master serving HTTPS with a test CA, the
// certificate is verified by default (no caFile: the subscription fails and
// the pod waits), a wrong caFile fails the same way, the right caFile
// works, and insecureSkipTLSVerify works only when set.
func TestMesosTLS(t *testing.T) {
	e := start(t, "")
	logs := captureLogs(t, e)
	serverTLS, ca, err := emulator.GenerateTLS("localhost", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	_, otherCA, err := emulator.GenerateTLS("localhost", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	caFile, otherCAFile := writeFile(t, dir, "ca.pem", string(ca)), writeFile(t, dir, "other-ca.pem", string(otherCA))
	m := startMesos(t, e, map[string][3]float64{"n1": {4, 8192, 0}}, emulator.Config{TLS: serverTLS})
	if !strings.HasPrefix(m.URL(), "https://") {
		t.Fatalf("master URL %s", m.URL())
	}
	namespaces(t, e, "tls")
	for i, tc := range []struct {
		name, extra string
		ok          bool
	}{
		{"verification on by default", "", false},
		{"wrong CA", "            caFile: " + otherCAFile + "\n", false},
		{"CA", "            caFile: " + caFile + "\n", true},
		{"insecureSkipTLSVerify", "            insecureSkipTLSVerify: true\n", true},
	} {
		pod := "p-" + string(rune('0'+i))
		createBatch(t, e, "tls", pod, 1, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req("cpu", "500m") })
		pod += "-00"
		offset := logs.len()
		s, err := harness.StartScheduler(e.ctx, e.cp, mesosArgs(m.URL(), "kms-tls", tc.extra))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if tc.ok {
			if _, err := harness.WaitForPodBound(e.ctx, e.cp.Client, "tls", pod, settle); err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
		} else {
			t.Logf("%s: the scheduler logs: %s", tc.name, waitLogged(t, e, logs, offset, "Mesos", "certificate signed by unknown authority"))
			msg, err := harness.WaitForUnschedulable(e.ctx, e.cp.Client, "tls", pod, settle)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if len(m.Frameworks()) != 0 || len(m.CallStats().Handled) != 0 {
				t.Errorf("%s: the master served calls: %+v", tc.name, m.CallStats())
			}
			t.Logf("%s: the pod waits: %q", tc.name, msg)
		}
		if err := s.Stop(); err != nil {
			t.Fatal(err)
		}
	}
	fw, ok := frameworkNamed(m, "kms-tls")
	if !ok {
		t.Fatalf("no framework after the TLS subscriptions: %+v", m.Frameworks())
	}
	if n := checkOneTaskPerPod(t, e.ctx, e.cp.Client, "tls", m, fw.ID, liveTasks(m)); n != 4 {
		t.Errorf("%d pods bound, want 4", n)
	}
}
