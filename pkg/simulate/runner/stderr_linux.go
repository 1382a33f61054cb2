package runner

import (
	"os"
	"syscall"
)

// redirectStderr points the process's file descriptor 2 at file while the
// control plane runs: the kube-apiserver's etcd client logs through its own
// zap logger straight to stderr (warnings when requests are cancelled at
// shutdown), bypassing klog. It returns a stderr for the simulator's own
// messages and a function that puts descriptor 2 back.
func redirectStderr(file *os.File) (*os.File, func(), error) {
	saved, err := syscall.Dup(2)
	if err != nil {
		return nil, nil, err
	}
	if err := syscall.Dup3(int(file.Fd()), 2, 0); err != nil {
		syscall.Close(saved)
		return nil, nil, err
	}
	original := os.NewFile(uintptr(saved), "stderr")
	return original, func() {
		_ = syscall.Dup3(saved, 2, 0)
		original.Close()
	}, nil
}
