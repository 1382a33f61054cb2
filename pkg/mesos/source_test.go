package mesos

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"testing"
)

func TestErrorClass(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("Post \"https://m:5050/api/v1/scheduler\": %w", x509.UnknownAuthorityError{}), "tls"},
		{errors.New("Post \"https://m:5050\": tls: failed to verify certificate"), "tls"},
		{errors.New("call not authenticated: 401 Unauthorized."), "unauthenticated"},
		{errors.New("call forbidden: 403 Forbidden"), "unauthorized"},
		{errors.New("dial tcp 127.0.0.1:5050: connect: connection refused"), "unreachable"},
		{errors.New("no master named a leader: ..."), "unreachable"},
		{fmt.Errorf("stream: %w", context.Canceled), "ended"},
		{errors.New("unexpected EOF"), "other"},
	}
	for _, tc := range cases {
		if got := errorClass(tc.err); got != tc.want {
			t.Errorf("errorClass(%q) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
