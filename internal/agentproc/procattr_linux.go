package agentproc

import "syscall"

// sysProcAttr puts the process in a group of its own and has the kernel
// kill it when the thread that started it ends.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
