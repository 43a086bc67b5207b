package agentproc

import "syscall"

// sysProcAttr puts the agent in its own process group and has the kernel
// kill it when the thread that started it ends, so that an agent never
// outlives a tool that crashed or was killed.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
