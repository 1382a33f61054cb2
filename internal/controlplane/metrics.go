package controlplane

import (
	"net"
	"net/http"
	"time"

	"k8s.io/component-base/metrics/legacyregistry"
)

// ServeMetrics serves the process's metrics registry (what the
// kube-scheduler serves on /metrics) on a loopback port, without
// authentication, and returns its URL and a stop function.
func ServeMetrics() (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", legacyregistry.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }() // ends with the stop function's Close
	return "http://" + l.Addr().String() + "/metrics", func() { _ = srv.Close() }, nil
}
