//go:build unix && !linux

package agentproc

import "syscall"

// sysProcAttr puts the process in a group of its own. Only Linux kills
// it when its caller dies; elsewhere a process outlives a caller that
// crashed. The /proc readers are Linux's alone too.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
