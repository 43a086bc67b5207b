//go:build !linux

package agentproc

import "syscall"

// sysProcAttr leaves the agent in the caller's process group: a ^C at the
// terminal reaches it too. The tools read RSS from /proc and are meant
// for Linux.
func sysProcAttr() *syscall.SysProcAttr {
	return nil
}
