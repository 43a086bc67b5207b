package main

import (
	"github.com/hashicorp/consul/api"
)

const kvDeleteHelp = `
Usage: consul kv delete [options] KEY_OR_PREFIX

  Deletes KEY from the key-value store; deleting a key that does not exist
  succeeds and changes nothing.

      $ consul kv delete redis/config/connections

  With -recurse, deletes every key that starts with the prefix ("foo"
  matches "foo", "food" and "foo/bar"):

      $ consul kv delete -recurse redis/

  With -cas, deletes only if the key's ModifyIndex is still -modify-index.
`

// runKVDelete is `consul kv delete`.
func runKVDelete(u *ui, args []string) int {
	var (
		cas, recurse bool
		modifyIndex  uint64
	)
	c := newHTTPCommand("kv delete", kvDeleteHelp, false)
	fs := c.fs
	fs.BoolVar(&cas, "cas", false, "Delete only if the key's ModifyIndex equals -modify-index (Check-And-Set).")
	fs.Uint64Var(&modifyIndex, "modify-index", 0, "The ModifyIndex `index` -cas compares against.")
	fs.BoolVar(&recurse, "recurse", false, "Delete every key under the prefix.")
	if code, done := c.parse(u, args); done {
		return code
	}

	key, ok := optionalKey(u, fs.Args())
	if !ok {
		return 1
	}
	modifyIndexSet := isSet(fs, "modify-index")
	switch {
	case key == "" && !recurse:
		u.error("Error! Missing KEY argument")
		return 1
	case cas && recurse:
		u.error("Cannot specify both -cas and -recurse!")
		return 1
	case cas && modifyIndex == 0:
		// Index 0 asks that the key not exist, and there is nothing to
		// delete then.
		u.error("Cannot delete a key that does not exist. Provide a -modify-index greater than 0.")
		return 1
	case modifyIndexSet && !cas:
		u.error("Cannot specify -modify-index without -cas!")
		return 1
	}

	client, ok := c.client(u)
	if !ok {
		return 1
	}
	kv := client.KV()

	switch {
	case recurse:
		if _, err := kv.DeleteTree(key, nil); err != nil {
			u.error("Error! Did not delete prefix %s: %v", key, err)
			return 1
		}
		u.info("Success! Deleted keys with prefix: %s", key)
	case cas:
		ok, _, err := kv.DeleteCAS(&api.KVPair{Key: key, ModifyIndex: modifyIndex}, nil)
		if err != nil {
			u.error("Error! Did not delete key %s: %v", key, err)
			return 1
		}
		if !ok {
			u.error("Error! Did not delete key %s: CAS failed", key)
			return 1
		}
		u.info("Success! Deleted key: %s", key)
	default:
		if _, err := kv.Delete(key, nil); err != nil {
			u.error("Error deleting key %s: %v", key, err)
			return 1
		}
		u.info("Success! Deleted key: %s", key)
	}
	return 0
}
