package mesos

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	emulator "github.com/kube-mesos/kube-mesos-scheduler/internal/mesosemulator"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config"
)

// TestNewConfig: the secret is read from its file (trimmed) and never
// rendered; TLS is on for https:// (verifying against the system roots
// unless caFile is given) and for zk:// when asked; broken files and TLS
// options with a plain-HTTP master are refused naming the field.
func TestNewConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	_, caPEM, err := emulator.GenerateTLS("localhost")
	if err != nil {
		t.Fatal(err)
	}
	secret, empty, ca, notPEM := write("secret", " s3cret \n"), write("empty", "\n"), write("ca.pem", string(caPEM)), write("bad.pem", "not a certificate")
	for _, tc := range []struct {
		name    string
		cfg     config.MesosMasterConfig
		err     string // "" = valid
		tls     bool
		verify  bool // certificate verification on
		rootCAs bool // a CA pool from caFile
	}{
		{name: "http", cfg: config.MesosMasterConfig{Master: "http://m1:5050,m2:5050"}},
		{name: "https verifies by default", cfg: config.MesosMasterConfig{Master: "https://m1:5050"}, tls: true, verify: true},
		{name: "https with CA", cfg: config.MesosMasterConfig{Master: "https://m1:5050", CAFile: ca}, tls: true, verify: true, rootCAs: true},
		{name: "https insecure", cfg: config.MesosMasterConfig{Master: "https://m1:5050", InsecureSkipTLSVerify: true}, tls: true},
		{name: "zk with CA", cfg: config.MesosMasterConfig{Master: "zk://z1:2181/mesos", CAFile: ca}, tls: true, verify: true, rootCAs: true},
		{name: "zk plain", cfg: config.MesosMasterConfig{Master: "zk://z1:2181/mesos"}},
		{name: "secret", cfg: config.MesosMasterConfig{Master: "http://m1:5050", Principal: "kms", SecretFile: secret}},
		{name: "missing secret file", cfg: config.MesosMasterConfig{Master: "http://m1:5050", Principal: "kms", SecretFile: filepath.Join(dir, "nope")}, err: "mesos.secretFile"},
		{name: "empty secret file", cfg: config.MesosMasterConfig{Master: "http://m1:5050", Principal: "kms", SecretFile: empty}, err: "mesos.secretFile"},
		{name: "missing CA file", cfg: config.MesosMasterConfig{Master: "https://m1:5050", CAFile: filepath.Join(dir, "nope")}, err: "mesos.caFile"},
		{name: "CA file without PEM", cfg: config.MesosMasterConfig{Master: "https://m1:5050", CAFile: notPEM}, err: "mesos.caFile"},
		{name: "CA with http", cfg: config.MesosMasterConfig{Master: "http://m1:5050", CAFile: ca}, err: "mesos.master"},
		{name: "insecure with http", cfg: config.MesosMasterConfig{Master: "http://m1:5050", InsecureSkipTLSVerify: true}, err: "mesos.master"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewConfig(&tc.cfg, 0)
			if tc.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.err) {
					t.Fatalf("error %v, want one about %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (c.TLS != nil) != tc.tls {
				t.Fatalf("TLS %v, want %v", c.TLS != nil, tc.tls)
			}
			if c.TLS != nil && (c.TLS.InsecureSkipVerify == tc.verify || (c.TLS.RootCAs != nil) != tc.rootCAs) {
				t.Errorf("TLS verify %v root CAs %v, want %v %v", !c.TLS.InsecureSkipVerify, c.TLS.RootCAs != nil, tc.verify, tc.rootCAs)
			}
			if tc.cfg.SecretFile != "" && c.secret != "s3cret" {
				t.Errorf("secret %q, want the trimmed file content", c.secret)
			}
			if s := c.String(); strings.Contains(s, "s3cret") {
				t.Errorf("String() shows the secret: %s", s)
			}
		})
	}
}

// TestConfigWarnings: a secret file others can read, and a secret sent
// over plain HTTP (allowed only with insecureSendCredentialsInClear), are
// warned about; an owner-only file over TLS is not.
func TestConfigWarnings(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("s3cret"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // past the umask
			t.Fatal(err)
		}
		return p
	}
	private, world := write("private", 0o600), write("world", 0o644)
	for _, tc := range []struct {
		name string
		cfg  config.MesosMasterConfig
		want []string // substrings, one per warning
	}{
		{"owner only, TLS", config.MesosMasterConfig{Master: "https://m1:5050", Principal: "p", SecretFile: private}, nil},
		{"world-readable", config.MesosMasterConfig{Master: "https://m1:5050", Principal: "p", SecretFile: world}, []string{"accessible to every user (mode 0644)"}},
		{"in clear", config.MesosMasterConfig{Master: "http://m1:5050", Principal: "p", SecretFile: private, InsecureSendCredentialsInClear: true}, []string{"sent in clear"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewConfig(&tc.cfg, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Warnings) != len(tc.want) {
				t.Fatalf("warnings %q, want %d", c.Warnings, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(c.Warnings[i], w) {
					t.Errorf("warning %q does not say %q", c.Warnings[i], w)
				}
				if strings.Contains(c.Warnings[i], "s3cret") {
					t.Errorf("warning shows the secret: %s", c.Warnings[i])
				}
			}
		})
	}
}
