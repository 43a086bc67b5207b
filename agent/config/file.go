package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl"
	"github.com/hashicorp/hcl/hcl/ast"
	"github.com/hashicorp/hcl/hcl/token"
	jsonparser "github.com/hashicorp/hcl/json/parser"
)

// Config file formats.
const (
	formatJSON = "json"
	formatHCL  = "hcl"
)

// source is one config file to apply.
type source struct {
	path   string
	format string
}

// checkFormat validates -config-format.
func checkFormat(format string) error {
	switch format {
	case "", formatJSON, formatHCL:
		return nil
	}
	return &usageError{msg: fmt.Sprintf("-config-format must be %q or %q, got %q", formatJSON, formatHCL, format)}
}

// formatOf is a file's format from its extension, or "".
func formatOf(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		return formatJSON
	case ".hcl":
		return formatHCL
	}
	return ""
}

// collectSources expands the -config-file and -config-dir paths into the
// files to apply, in order. Either flag accepts a file or a directory, as
// Consul's do. A directory contributes its *.json and *.hcl files in
// lexical order and nothing else: no subdirectories, no other files, so
// that an editor's backup file or a README beside the configs is left out.
func collectSources(paths []string, format string) ([]source, error) {
	var out []source
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		if !fi.IsDir() {
			f := format
			if f == "" {
				f = formatOf(p)
			}
			if f == "" {
				return nil, fmt.Errorf("config: %s: unknown file extension: name it .json or .hcl, or set -config-format", p)
			}
			out = append(out, source{path: p, format: f})
			continue
		}

		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		var names []string
		for _, e := range entries {
			if formatOf(e.Name()) == "" {
				continue
			}
			full := filepath.Join(p, e.Name())
			// Stat, not the entry's own type, so that a symlink to a file
			// counts as the file (config management tools link configs in).
			efi, err := os.Stat(full)
			if err != nil {
				return nil, fmt.Errorf("config: %w", err)
			}
			if efi.IsDir() {
				continue
			}
			names = append(names, e.Name())
		}
		sort.Strings(names)
		for _, n := range names {
			f := format
			if f == "" {
				f = formatOf(n)
			}
			out = append(out, source{path: filepath.Join(p, n), format: f})
		}
	}
	return out, nil
}

// apply reads the file and sets in cfg every key it holds.
func (s source) apply(cfg *Config) error {
	data, err := os.ReadFile(s.path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return decodeFile(s.path, s.format, data, cfg)
}

// decodeFile parses data as format and sets in cfg every key it holds. The
// file is walked as a syntax tree rather than decoded into a struct so that
// an unknown key, a duplicated key or a value of the wrong type is an error
// that names the key, where struct decoding would silently drop or coerce
// it.
func decodeFile(name, format string, data []byte, cfg *Config) error {
	var (
		file *ast.File
		err  error
	)
	switch format {
	case formatJSON:
		// hcl's JSON parser lets some malformed JSON through ({"a": }),
		// so the file is first checked as JSON proper, as Consul reads
		// .json files with encoding/json.
		if err := checkJSON(data); err != nil {
			return fmt.Errorf("config: %s: %v", name, err)
		}
		file, err = jsonparser.Parse(data)
	case formatHCL:
		// hcl.ParseBytes reads JSON too, as Consul's HCL loader does.
		file, err = hcl.ParseBytes(data)
	default:
		return fmt.Errorf("config: %s: unknown format %q", name, format)
	}
	if err != nil {
		return fmt.Errorf("config: %s: %v", name, err)
	}
	list, ok := file.Node.(*ast.ObjectList)
	if !ok {
		return fmt.Errorf("config: %s: the file must hold an object of keys", name)
	}
	d := &fileDecoder{name: name, seen: make(map[string]int), legacy: make(map[string]string), counts: make(map[string]int)}
	if err := d.object(cfg, list); err != nil {
		return err
	}
	return d.applyLegacyACL(&cfg.ACL)
}

// fileDecoder applies one file's syntax tree to a Config.
type fileDecoder struct {
	name string
	// seen maps each key set so far, as "ports.http", to its line (0 when
	// the parser kept no position, as for JSON).
	seen map[string]int
	// legacy holds the values of the ACL keys set under a former name
	// (acl_master_token, acl.tokens.master, ...), by that name. They are
	// applied once the whole file is read, so that each can be checked
	// against the current name set anywhere in the same file.
	legacy map[string]string
	// counts numbers the objects of each list-like key (service,
	// services[0].checks, ...) in the order the file gives them, to name
	// them in errors.
	counts map[string]int
}

// errorf returns an error naming the file, and the line when known.
func (d *fileDecoder) errorf(pos token.Pos, format string, args ...interface{}) error {
	msg := fmt.Sprintf(format, args...)
	if pos.Line > 0 {
		return fmt.Errorf("config: %s: %s (line %d)", d.name, msg, pos.Line)
	}
	return fmt.Errorf("config: %s: %s", d.name, msg)
}

// object applies the top-level keys.
func (d *fileDecoder) object(cfg *Config, list *ast.ObjectList) error {
	for _, item := range list.Items {
		keys, err := d.keys(item)
		if err != nil {
			return err
		}
		switch keys[0] {
		case "ports":
			if err := d.ports(&cfg.Ports, item, keys[1:]); err != nil {
				return err
			}
			continue
		case "acl":
			if err := d.acl(&cfg.ACL, item, keys[1:]); err != nil {
				return err
			}
			continue
		case "limits":
			if err := d.limits(&cfg.Limits, item, keys[1:]); err != nil {
				return err
			}
			continue
		case "service", "services":
			if err := d.services(cfg, keys[0], item, keys[1:]); err != nil {
				return err
			}
			continue
		case "check", "checks":
			if err := d.checks(cfg, keys[0], item, keys[1:]); err != nil {
				return err
			}
			continue
		}
		if legacy, ok := legacyACLKey(keys[0]); ok {
			if err := d.legacyACL(legacy, item, keys[1:]); err != nil {
				return err
			}
			continue
		}
		dst, ok := topLevelField(cfg, keys[0])
		if !ok {
			return d.errorf(item.Pos(), "unknown key %q", keys[0])
		}
		if err := d.set(dst, keys[0], keys[1:], item); err != nil {
			return err
		}
	}
	return nil
}

// ports applies a ports block.
func (d *fileDecoder) ports(p *Ports, item *ast.ObjectItem, rest []string) error {
	return d.block("ports", item, rest, func(key string, rest []string, item *ast.ObjectItem) error {
		return d.port(p, key, rest, item)
	})
}

// block calls fn for each key of the block that item holds under path
// ("ports", "acl.tokens"). rest holds the keys written after path on the
// same item (`ports "http" { ... }` in HCL, or what the JSON parser makes
// of an object of objects); they name a key of the block directly, and fn
// is called for that one only.
func (d *fileDecoder) block(path string, item *ast.ObjectItem, rest []string, fn func(key string, rest []string, item *ast.ObjectItem) error) error {
	if len(rest) > 0 {
		return fn(rest[0], rest[1:], item)
	}
	obj, ok := item.Val.(*ast.ObjectType)
	if !ok {
		return d.errorf(item.Pos(), "key %q: expected an object, got %s", path, describe(item.Val))
	}
	for _, sub := range obj.List.Items {
		keys, err := d.keys(sub)
		if err != nil {
			return err
		}
		if err := fn(keys[0], keys[1:], sub); err != nil {
			return err
		}
	}
	return nil
}

// port applies one key of the ports block.
func (d *fileDecoder) port(p *Ports, key string, rest []string, item *ast.ObjectItem) error {
	path := "ports." + key
	dst, used := portField(p, key)
	if dst == nil {
		return d.errorf(item.Pos(), "unknown key %q", path)
	}
	if err := d.set(dst, path, rest, item); err != nil {
		return err
	}
	// Consul's -1 disables a listener; it is meaningful only for the ports
	// this agent ignores, which have no listener to disable.
	low := 0
	if !used {
		low = -1
	}
	if n := *dst.(*int); n < low || n > maxPort {
		return d.errorf(item.Pos(), "key %q: port %d is out of range %d..%d", path, n, low, maxPort)
	}
	return nil
}

// topLevelField returns a pointer to the Config field a top-level key sets.
func topLevelField(cfg *Config, key string) (interface{}, bool) {
	switch key {
	case "node_name":
		return &cfg.NodeName, true
	case "datacenter":
		return &cfg.Datacenter, true
	case "data_dir":
		return &cfg.DataDir, true
	case "server":
		return &cfg.Server, true
	case "bootstrap":
		return &cfg.Bootstrap, true
	case "bootstrap_expect":
		return &cfg.BootstrapExpect, true
	case "bind_addr":
		return &cfg.BindAddr, true
	case "client_addr":
		return &cfg.ClientAddr, true
	case "log_level":
		return &cfg.LogLevel, true
	case "advertise_addr":
		return &cfg.AdvertiseAddr, true
	case "start_join":
		return &cfg.StartJoin, true
	case "retry_join":
		return &cfg.RetryJoin, true
	case "retry_interval":
		return &cfg.RetryInterval, true
	case "retry_max":
		return &cfg.RetryMax, true
	case "session_ttl_min":
		return &cfg.SessionTTLMin, true
	case "enable_debug":
		return &cfg.EnableDebug, true
	case "raft_snapshot_threshold":
		return &cfg.RaftSnapshotThreshold, true
	case "raft_snapshot_interval":
		return &cfg.RaftSnapshotInterval, true
	case "raft_trailing_logs":
		return &cfg.RaftTrailingLogs, true
	}
	return nil, false
}

// portField returns a pointer to the Ports field a ports key sets, and
// whether the agent uses that port; nil for an unknown key.
func portField(p *Ports, key string) (dst interface{}, used bool) {
	switch key {
	case "http":
		return &p.HTTP, true
	case "server":
		return &p.Server, true
	case "serf_lan":
		return &p.SerfLAN, true
	case "serf_wan":
		return &p.SerfWAN, true
	case "dns", "grpc", "grpc_tls", "https":
		// Consul users' files set these for listeners this agent does not
		// have (DNS, gRPC, HTTPS). Accepting them, type-checked but unused,
		// lets those files load unchanged.
		return new(int), false
	}
	return nil, false
}

// keys returns an item's key path, unquoted.
func (d *fileDecoder) keys(item *ast.ObjectItem) ([]string, error) {
	if len(item.Keys) == 0 {
		return nil, d.errorf(item.Pos(), "a value without a key")
	}
	out := make([]string, len(item.Keys))
	for i, k := range item.Keys {
		s, err := keyText(k.Token)
		if err != nil {
			return nil, d.errorf(k.Pos(), "bad key %s: %v", k.Token.Text, err)
		}
		out[i] = s
	}
	return out, nil
}

// keyText unquotes a key token.
func keyText(t token.Token) (string, error) {
	if t.Type != token.STRING {
		return t.Text, nil
	}
	if t.JSON {
		return strconv.Unquote(t.Text)
	}
	s, ok := literalString(t)
	if !ok {
		return "", fmt.Errorf("not a valid quoted string")
	}
	return s, nil
}

// set stores the value of item in dst (a *string, *bool, *int,
// *time.Duration, or *[]string, which a list is appended to), once per key
// and file. rest holds keys written after key on the same
// item: they make the value an object, which no scalar key accepts.
func (d *fileDecoder) set(dst interface{}, key string, rest []string, item *ast.ObjectItem) error {
	if line, dup := d.seen[key]; dup {
		if line > 0 {
			return d.errorf(item.Pos(), "key %q is set twice (first on line %d)", key, line)
		}
		return d.errorf(item.Pos(), "key %q is set twice", key)
	}
	d.seen[key] = item.Pos().Line

	if len(rest) > 0 {
		return d.errorf(item.Pos(), "key %q: expected %s, got an object", key, kindName(dst))
	}
	if list, isList := dst.(*[]string); isList {
		return d.appendList(list, key, item)
	}
	lit, ok := item.Val.(*ast.LiteralType)
	if !ok {
		return d.errorf(item.Pos(), "key %q: expected %s, got %s", key, kindName(dst), describe(item.Val))
	}
	tok := lit.Token
	wrongType := func() error {
		return d.errorf(item.Pos(), "key %q: expected %s, got %s", key, kindName(dst), describe(item.Val))
	}

	switch dst := dst.(type) {
	case *string:
		if tok.Type != token.STRING && tok.Type != token.HEREDOC || isJSONNull(tok) {
			return wrongType()
		}
		s, ok := literalString(tok)
		if !ok {
			return d.errorf(item.Pos(), "key %q: malformed string %s", key, tok.Text)
		}
		*dst = s
	case *bool:
		if tok.Type != token.BOOL {
			return wrongType()
		}
		*dst = tok.Text == "true"
	case *int:
		if tok.Type != token.NUMBER {
			return wrongType()
		}
		n, err := strconv.ParseInt(tok.Text, 0, 0)
		if err != nil {
			return d.errorf(item.Pos(), "key %q: %s is not an integer this agent can hold", key, tok.Text)
		}
		*dst = int(n)
	case *time.Duration:
		if tok.Type != token.STRING && tok.Type != token.HEREDOC || isJSONNull(tok) {
			return wrongType()
		}
		text, ok := literalString(tok)
		if !ok {
			return d.errorf(item.Pos(), "key %q: malformed string %s", key, tok.Text)
		}
		v, err := time.ParseDuration(text)
		if err != nil {
			return d.errorf(item.Pos(), "key %q: %q is not a duration such as \"30s\"", key, text)
		}
		*dst = v
	default:
		panic(fmt.Sprintf("config: no decoder for %T", dst))
	}
	return nil
}

// appendList appends a list of strings to *dst: lists add up across
// files, as Consul merges them.
func (d *fileDecoder) appendList(dst *[]string, key string, item *ast.ObjectItem) error {
	list, ok := item.Val.(*ast.ListType)
	if !ok {
		return d.errorf(item.Pos(), "key %q: expected %s, got %s", key, kindName(dst), describe(item.Val))
	}
	for i, n := range list.List {
		lit, ok := n.(*ast.LiteralType)
		if !ok || lit.Token.Type != token.STRING && lit.Token.Type != token.HEREDOC || isJSONNull(lit.Token) {
			return d.errorf(item.Pos(), "key %q: element %d: expected a string, got %s", key, i, describe(n))
		}
		v, ok := literalString(lit.Token)
		if !ok {
			return d.errorf(item.Pos(), "key %q: element %d: malformed string %s", key, i, lit.Token.Text)
		}
		*dst = append(*dst, v)
	}
	return nil
}

// literalString returns a string token's value. hcl's Token.Value panics
// on text it cannot unquote rather than returning an error, so the panic
// is turned into ok == false.
func literalString(t token.Token) (s string, ok bool) {
	defer func() {
		if recover() != nil {
			s, ok = "", false
		}
	}()
	v, isString := t.Value().(string)
	return v, isString
}

// isJSONNull tells whether a token is JSON's null, which the JSON parser
// turns into a STRING token with no text at all (a real string has its
// quotes).
func isJSONNull(t token.Token) bool {
	return t.Type == token.STRING && t.Text == ""
}

// kindName names the type of value a field takes, for error messages.
func kindName(dst interface{}) string {
	switch dst.(type) {
	case *string:
		return "a string"
	case *bool:
		return "a boolean"
	case *int:
		return "an integer"
	case *time.Duration:
		return "a duration string"
	case *[]string:
		return "a list of strings"
	}
	return "a value"
}

// describe names the type of value found in a file, for error messages.
func describe(n ast.Node) string {
	switch n := n.(type) {
	case *ast.ObjectType:
		return "an object"
	case *ast.ListType:
		return "a list"
	case *ast.LiteralType:
		switch n.Token.Type {
		case token.NUMBER:
			return "an integer"
		case token.FLOAT:
			return "a decimal number"
		case token.BOOL:
			return "a boolean"
		case token.STRING, token.HEREDOC:
			if isJSONNull(n.Token) {
				return "null"
			}
			return "a string"
		}
	}
	return "something else"
}

// checkJSON reports the first syntax error in data, with its line.
func checkJSON(data []byte) error {
	var v interface{}
	err := json.Unmarshal(data, &v)
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		line := 1 + bytes.Count(data[:syn.Offset], []byte("\n"))
		return fmt.Errorf("invalid JSON on line %d: %v", line, syn)
	}
	if err != nil {
		return fmt.Errorf("invalid JSON: %v", err)
	}
	return nil
}
