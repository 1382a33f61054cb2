package mesos

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mesos/mesos-go/api/v1/lib/httpcli"
)

// TestUpdateFrameworkOK: the master's empty "200 OK" to UPDATE_FRAMEWORK
// becomes a 202; a SUBSCRIBE's 200 (typed, with a stream id) and other
// answers are left alone.
func TestUpdateFrameworkOK(t *testing.T) {
	cases := []struct {
		name   string
		header map[string]string
		body   string
		status int
		want   int
	}{
		{name: "UPDATE_FRAMEWORK: empty 200", status: 200, want: 202},
		{name: "SUBSCRIBE", status: 200, header: map[string]string{"Content-Type": "application/recordio", "Mesos-Stream-Id": "s"}, body: "1\n{", want: 200},
		{name: "typed 200", status: 200, header: map[string]string{"Content-Type": "application/json"}, body: "{}", want: 200},
		{name: "202", status: 202, want: 202},
		{name: "400", status: 400, header: map[string]string{"Content-Type": "text/plain; charset=utf-8"}, body: "bad", want: 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			do := updateFrameworkOK(httpcli.DoFunc(http.DefaultClient.Do))
			req, _ := http.NewRequest(http.MethodPost, srv.URL, nil)
			res, err := do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			if res.StatusCode != tc.want {
				t.Errorf("status %d, want %d", res.StatusCode, tc.want)
			}
		})
	}
}
