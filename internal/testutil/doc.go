// Package testutil is the test support that every package's tests share:
// a retry for conditions that become true eventually, a check that a
// test leaves no goroutine behind, a buffer that goroutines may write
// while the test reads it, and a way to damage a file.
//
// It imports nothing of this module, so that the in-package tests of any
// package, consul's and agent's included, can use it without an import
// cycle.
package testutil
