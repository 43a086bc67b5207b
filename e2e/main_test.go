// Package e2e drives the real consul binary as a user would: it builds
// it once, starts agents as processes on random loopback ports, and talks
// to them with the official API client, plain HTTP and the CLI.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// consulBin is the binary under test, built once by TestMain.
var consulBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "consul-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	consulBin = filepath.Join(dir, "consul")
	build := exec.Command("go", "build", "-o", consulBin, "../cmd/consul")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build consul:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
