package harness

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"k8s.io/component-base/metrics/legacyregistry"
)

// ServeMetrics serves the process's metrics registry (what the
// kube-scheduler serves on /metrics) on a loopback port and returns its URL
// and a stop function.
func ServeMetrics() (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", legacyregistry.Handler())
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(l) }()
	return "http://" + l.Addr().String() + "/metrics", func() { _ = srv.Close() }, nil
}

// ScrapeLines fetches a metrics URL and returns the lines that start with prefix.
func ScrapeLines(url, prefix string) ([]string, error) {
	resp, err := http.Get(url) //nolint:noctx // loopback test server
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out, nil
}
