//go:build !linux

package runner

import "os"

// redirectStderr leaves stderr alone where descriptors cannot be swapped
// portably: the etcd client's shutdown warnings may show.
func redirectStderr(*os.File) (*os.File, func(), error) {
	return os.Stderr, func() {}, nil
}
