package zkserver

import "syscall"

// sysProcAttr kills the server with the test process, should the test
// process die before its cleanups run.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
