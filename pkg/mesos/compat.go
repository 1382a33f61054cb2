package mesos

import (
	"net/http"

	"github.com/mesos/mesos-go/api/v1/lib/httpcli"
)

// updateFrameworkOK adapts mesos-go v0.0.11 to the master's answer to
// UPDATE_FRAMEWORK: "200 OK" with no body and no Content-Type (recorded from
// Mesos 1.12; every other accepted call answers "202 Accepted"). mesos-go
// expects a 200 to carry a body of the call's media type and fails the call
// ("unexpected content type"); an empty 200 is turned into the 202 it means.
// A SUBSCRIBE's 200 always carries a Content-Type and a Mesos-Stream-Id, so
// it is never touched.
func updateFrameworkOK(do httpcli.DoFunc) httpcli.DoFunc {
	return func(req *http.Request) (*http.Response, error) {
		res, err := do(req)
		if err == nil && res.StatusCode == http.StatusOK && res.ContentLength == 0 &&
			res.Header.Get("Content-Type") == "" && res.Header.Get("Mesos-Stream-Id") == "" {
			res.StatusCode, res.Status = http.StatusAccepted, "202 Accepted"
		}
		return res, err
	}
}
