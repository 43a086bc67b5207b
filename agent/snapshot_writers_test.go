package agent

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/consulcompat/consul/internal/testutil"
	"github.com/consulcompat/consul/snapshot"
	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/consul/api"
)

// ackedWrite is a write the server acknowledged, with the Raft index it
// was applied at.
type ackedWrite struct {
	value string
	index uint64
}

// TestSaveDuringWritesIsExactlyTheStateAtItsIndex saves while writers
// run. Every acknowledged write at or before the archive's index is in
// it, and none after: each key holds exactly the value of its last write
// at or before that index.
func TestSaveDuringWritesIsExactlyTheStateAtItsIndex(t *testing.T) {
	_, c := testAgent(t)
	const writers = 4
	var mu sync.Mutex
	acked := map[string][]ackedWrite{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key, value := fmt.Sprintf("w/%d/%d", w, i%50), fmt.Sprintf("%d-%d", w, i)
				ok, resp, _, err := c.Txn().Txn(api.TxnOps{{KV: &api.KVTxnOp{Verb: api.KVSet, Key: key, Value: []byte(value)}}}, nil)
				if err != nil || !ok {
					t.Errorf("write %s: %v", key, err)
					return
				}
				mu.Lock()
				acked[key] = append(acked[key], ackedWrite{value, resp.Results[0].KV.ModifyIndex})
				mu.Unlock()
			}
		}(w)
	}
	// Let the writers get going, then save in their midst.
	testutil.Until(t, 10*time.Second, "writes acked to a fifth of the keys", func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) >= writers*20 })
	archive := saveSnapshot(t, c)
	testutil.Until(t, 10*time.Second, "writes acked to every key", func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) == writers*50 })
	close(stop)
	wg.Wait()

	meta, state, err := snapshot.Read(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatal(err)
	}
	defer state.Close()
	saved := map[string]string{}
	if _, err := snapshot.ReadState(state, func(typ structs.MessageType, rec interface{}) error {
		if e, ok := rec.(*structs.DirEntry); ok && typ == structs.KVSRequestType {
			saved[e.Key] = string(e.Value)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	before, after := 0, 0
	for key, writes := range acked {
		want, present := "", false
		for _, w := range writes {
			if w.index <= meta.Index {
				want, present = w.value, true
				before++
			} else {
				after++
			}
		}
		got, inArchive := saved[key]
		if got != want || inArchive != present {
			t.Errorf("%s: archive holds %q (present %v), want %q (present %v) at index %d", key, got, inArchive, want, present, meta.Index)
		}
	}
	if before == 0 || after == 0 {
		t.Fatalf("the save did not fall among the writes: %d before, %d after", before, after)
	}
}
