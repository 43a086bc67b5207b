package e2e

import (
	"testing"

	"github.com/consulcompat/consul/snapshot/snapshottest"
)

// stateOf extracts state.bin from an archive.
func stateOf(t *testing.T, archive []byte) []byte {
	t.Helper()
	state, ok := snapshottest.Unpack(t, archive)["state.bin"]
	if !ok {
		t.Fatal("archive has no state.bin")
	}
	return state
}
