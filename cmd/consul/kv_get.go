package main

import (
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/hashicorp/consul/api"
)

const kvGetHelp = `
Usage: consul kv get [options] [KEY_OR_PREFIX]

  Prints the value stored at KEY; fails if there is no such key. With
  -detailed, also prints its metadata (indexes, flags, session).

      $ consul kv get redis/config/connections

  With -recurse, prints every key under the prefix as KEY:VALUE; with -keys,
  only the key names, up to the next -separator.

      $ consul kv get -recurse redis/
      $ consul kv get -keys redis/
`

// runKVGet is `consul kv get`.
func runKVGet(u *ui, args []string) int {
	var (
		b64, detailed, keysOnly, recurse bool
		separator                        string
	)
	c := newHTTPCommand("kv get", kvGetHelp, true)
	fs := c.fs
	fs.BoolVar(&b64, "base64", false, "Print values base64-encoded.")
	fs.BoolVar(&detailed, "detailed", false, "Print each key's metadata (CreateIndex, ModifyIndex, Flags, ...) with its value.")
	fs.BoolVar(&keysOnly, "keys", false, "List the keys under the prefix, without their values.")
	fs.BoolVar(&recurse, "recurse", false, "Print every key under the prefix, with its value.")
	fs.StringVar(&separator, "separator", "/", "With -keys, list keys only up to the next occurrence of this `string`.")
	if code, done := c.parse(u, args); done {
		return code
	}

	key, ok := optionalKey(u, fs.Args())
	if !ok {
		return 1
	}
	if key == "" && !recurse && !keysOnly {
		u.error("Error! Missing KEY argument")
		return 1
	}

	client, ok := c.client(u)
	if !ok {
		return 1
	}
	kv := client.KV()

	switch {
	case keysOnly:
		keys, _, err := kv.Keys(key, separator, c.http.queryOptions())
		if err != nil {
			u.error("Error querying Consul agent: %v", err)
			return 1
		}
		for _, k := range keys {
			u.info("%s", k)
		}
	case recurse:
		pairs, _, err := kv.List(key, c.http.queryOptions())
		if err != nil {
			u.error("Error querying Consul agent: %v", err)
			return 1
		}
		for i, p := range pairs {
			if detailed {
				if i > 0 {
					u.info("")
				}
				writeKVDetails(u.out, p, b64)
				continue
			}
			u.info("%s:%s", p.Key, formatValue(p.Value, b64))
		}
	default:
		p, _, err := kv.Get(key, c.http.queryOptions())
		if err != nil {
			u.error("Error querying Consul agent: %v", err)
			return 1
		}
		if p == nil {
			u.error("Error! No key exists at: %s", key)
			return 1
		}
		if detailed {
			writeKVDetails(u.out, p, b64)
			return 0
		}
		u.info("%s", formatValue(p.Value, b64))
	}
	return 0
}

// optionalKey returns the KEY_OR_PREFIX argument of kv get and kv delete,
// "" when absent. Keys never start with "/", but users type one, so a
// leading "/" is dropped as Consul's CLI does.
func optionalKey(u *ui, args []string) (string, bool) {
	switch len(args) {
	case 0:
		return "", true
	case 1:
		return strings.TrimPrefix(args[0], "/"), true
	}
	u.error("Too many arguments (expected 1, got %d)", len(args))
	return "", false
}

// formatValue renders a value as stored, or in base64.
func formatValue(v []byte, b64 bool) string {
	if b64 {
		return base64.StdEncoding.EncodeToString(v)
	}
	return string(v)
}

// writeKVDetails prints a pair's fields as an aligned two-column block,
// in the layout of Consul's `kv get -detailed`.
func writeKVDetails(w io.Writer, p *api.KVPair, b64 bool) {
	session := p.Session
	if session == "" {
		session = "-"
	}
	tw := tabwriter.NewWriter(w, 0, 2, 6, ' ', 0)
	fmt.Fprintf(tw, "CreateIndex\t%d\n", p.CreateIndex)
	fmt.Fprintf(tw, "Flags\t%d\n", p.Flags)
	fmt.Fprintf(tw, "Key\t%s\n", p.Key)
	fmt.Fprintf(tw, "LockIndex\t%d\n", p.LockIndex)
	fmt.Fprintf(tw, "ModifyIndex\t%d\n", p.ModifyIndex)
	fmt.Fprintf(tw, "Session\t%s\n", session)
	fmt.Fprintf(tw, "Value\t%s\n", formatValue(p.Value, b64))
	// A write to the command's output stream failing leaves nothing to
	// report it to.
	_ = tw.Flush()
}
