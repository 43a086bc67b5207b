package main

import (
	"encoding/base64"
	"fmt"
	"io"
	"os"

	"github.com/hashicorp/consul/api"
)

const kvPutHelp = `
Usage: consul kv put [options] KEY [DATA]

  Writes DATA to KEY in the key-value store.

      $ consul kv put redis/config/connections 5

  DATA may be "@FILE" to write a file's contents, or "-" to write what is
  read from standard input; without DATA the key is written empty.

      $ consul kv put app/license @license.lic
      $ echo abcd | consul kv put app/license -

  With -cas, the write happens only if the key's ModifyIndex is still
  -modify-index (0: only if the key does not exist yet):

      $ consul kv put -cas -modify-index=844 redis/config/connections 6
`

// runKVPut is `consul kv put`.
func runKVPut(u *ui, args []string) int {
	var (
		cas, b64, acquire, release bool
		modifyIndex, kvFlags       uint64
		session                    string
	)
	c := newHTTPCommand("kv put", kvPutHelp, false)
	fs := c.fs
	fs.BoolVar(&cas, "cas", false, "Write only if the key's ModifyIndex equals -modify-index (Check-And-Set).")
	fs.Uint64Var(&modifyIndex, "modify-index", 0, "The ModifyIndex `index` -cas compares against; 0 means the key must not exist.")
	fs.Uint64Var(&kvFlags, "flags", 0, "An unsigned integer (`flags`) stored with the key, for the application's own use.")
	fs.BoolVar(&b64, "base64", false, "DATA is base64-encoded; store it decoded.")
	fs.StringVar(&session, "session", "", "The `session` ID to lock the key with (-acquire) or unlock it from (-release).")
	fs.BoolVar(&acquire, "acquire", false, "Write the key and lock it with -session, if no other session holds it.")
	fs.BoolVar(&release, "release", false, "Write the key and unlock it, if -session holds it.")
	if code, done := c.parse(u, args); done {
		return code
	}

	key, data, err := kvPutData(u.in, fs.Args())
	if err != nil {
		u.error("Error! %v", err)
		return 1
	}
	if b64 {
		if data, err = base64.StdEncoding.DecodeString(string(data)); err != nil {
			u.error("Error! Cannot base 64 decode data: %v", err)
			return 1
		}
	}

	modifyIndexSet := isSet(fs, "modify-index")
	switch {
	case (acquire || release) && session == "":
		u.error("Error! Missing -session (required with -acquire and -release)")
		return 1
	case countTrue(cas, acquire, release) > 1:
		u.error("Error! Only one of -cas, -acquire and -release may be given")
		return 1
	case cas && !modifyIndexSet:
		u.error("Must specify -modify-index with -cas!")
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
	pair := &api.KVPair{Key: key, Flags: kvFlags, Value: data, Session: session, ModifyIndex: modifyIndex}

	switch {
	case cas:
		ok, _, err := kv.CAS(pair, nil)
		if err != nil {
			u.error("Error! Did not write to %s: %v", key, err)
			return 1
		}
		if !ok {
			u.error("Error! Did not write to %s: CAS failed", key)
			return 1
		}
		u.info("Success! Data written to: %s", key)
	case acquire:
		ok, _, err := kv.Acquire(pair, nil)
		if err != nil {
			u.error("Error! Failed writing data: %v", err)
			return 1
		}
		if !ok {
			u.error("Error! Did not acquire lock")
			return 1
		}
		u.info("Success! Lock acquired on: %s", key)
	case release:
		ok, _, err := kv.Release(pair, nil)
		if err != nil {
			u.error("Error! Failed writing data: %v", err)
			return 1
		}
		if !ok {
			u.error("Error! Did not release lock")
			return 1
		}
		u.info("Success! Lock released on: %s", key)
	default:
		if _, err := kv.Put(pair, nil); err != nil {
			u.error("Error! Failed writing data: %v", err)
			return 1
		}
		u.info("Success! Data written to: %s", key)
	}
	return 0
}

// kvPutData reads kv put's KEY [DATA] arguments: DATA as given, "@FILE"
// for a file's contents, "-" for standard input (stdin), or empty.
func kvPutData(stdin io.Reader, args []string) (key string, data []byte, err error) {
	switch len(args) {
	case 0:
		return "", nil, fmt.Errorf("Missing KEY argument")
	case 1:
		return args[0], nil, nil
	case 2:
	default:
		return "", nil, fmt.Errorf("Too many arguments (expected 1 or 2, got %d)", len(args))
	}
	key, arg := args[0], args[1]
	switch {
	case len(arg) > 0 && arg[0] == '@':
		data, err := os.ReadFile(arg[1:])
		if err != nil {
			return "", nil, fmt.Errorf("Failed to read file: %v", err)
		}
		return key, data, nil
	case arg == "-":
		data, err := io.ReadAll(stdin)
		if err != nil {
			return "", nil, fmt.Errorf("Failed to read stdin: %v", err)
		}
		return key, data, nil
	}
	return key, []byte(arg), nil
}

func countTrue(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}
