package acl

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/hashicorp/hcl"
	"github.com/hashicorp/hcl/hcl/ast"
	hclparser "github.com/hashicorp/hcl/hcl/parser"
	"github.com/hashicorp/hcl/hcl/token"

	"github.com/consulcompat/consul/structs"
)

// Resource is a kind of named thing that block rules apply to.
type Resource int

// The resources that take block rules, in the order Consul's documentation
// lists them.
const (
	ResourceAgent   Resource = 1
	ResourceEvent   Resource = 2
	ResourceKey     Resource = 3
	ResourceNode    Resource = 4
	ResourceQuery   Resource = 5
	ResourceService Resource = 6
	ResourceSession Resource = 7
)

// String returns the resource's keyword in rules ("key", "query", ...).
func (r Resource) String() string {
	switch r {
	case ResourceAgent:
		return "agent"
	case ResourceEvent:
		return "event"
	case ResourceKey:
		return "key"
	case ResourceNode:
		return "node"
	case ResourceQuery:
		return "query"
	case ResourceService:
		return "service"
	case ResourceSession:
		return "session"
	default:
		return "unknown"
	}
}

// Rule is one block rule. `key_prefix "foo/" { policy = "read" }` is
// Rule{Resource: ResourceKey, Name: "foo/", Prefix: true, Access: AccessRead}.
type Rule struct {
	Resource Resource
	// Name is the rule's label: the exact name, or the prefix when Prefix
	// is set. The empty prefix matches every name.
	Name   string
	Prefix bool
	Access AccessLevel
	// Intentions is a service rule's `intentions` value. It is parsed and
	// checked, as Consul does, but nothing enforces it: this server has no
	// service mesh, so no intention endpoints.
	Intentions AccessLevel
}

// String names the rule as it is written: `key_prefix "foo/"`.
func (r Rule) String() string {
	return ruleKeyword(r.Resource, r.Prefix) + " " + strconv.Quote(r.Name)
}

func ruleKeyword(res Resource, prefix bool) string {
	if prefix {
		return res.String() + "_prefix"
	}
	return res.String()
}

// Policy is one parsed set of rules. A Policy is a plain value: it decides
// nothing until NewAuthorizer combines it with others and a default.
type Policy struct {
	// Rules holds the block rules in the order they were written,
	// duplicates included; NewAuthorizer resolves duplicates.
	Rules []Rule

	// The single-value rules; AccessUnknown where the rules are silent.
	ACL      AccessLevel
	Keyring  AccessLevel
	Operator AccessLevel
	// Mesh and Peering are accepted and checked, because Consul's own
	// global-management policy sets them, but nothing here enforces them:
	// this server has no mesh configuration or peering endpoints.
	Mesh    AccessLevel
	Peering AccessLevel
}

// ParseError is the error Parse returns for rules it does not accept. It
// matches structs.ErrBadRequest under errors.Is, because bad rules are
// the caller's to fix.
type ParseError struct {
	// Line is the 1-based line of the offending rule, or 0 where the
	// parser could not tell (some JSON syntax errors).
	Line int
	// Msg says what was wrong, naming the rule where there is one.
	Msg string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("acl: rules line %d: %s", e.Line, e.Msg)
	}
	return "acl: rules: " + e.Msg
}

// Unwrap makes errors.Is(err, structs.ErrBadRequest) true.
func (e *ParseError) Unwrap() error { return structs.ErrBadRequest }

type resourceKeyword struct {
	res    Resource
	prefix bool
}

// blockKeywords maps each block keyword to the rule it makes.
var blockKeywords = map[string]resourceKeyword{
	"agent":          {ResourceAgent, false},
	"agent_prefix":   {ResourceAgent, true},
	"event":          {ResourceEvent, false},
	"event_prefix":   {ResourceEvent, true},
	"key":            {ResourceKey, false},
	"key_prefix":     {ResourceKey, true},
	"node":           {ResourceNode, false},
	"node_prefix":    {ResourceNode, true},
	"query":          {ResourceQuery, false},
	"query_prefix":   {ResourceQuery, true},
	"service":        {ResourceService, false},
	"service_prefix": {ResourceService, true},
	"session":        {ResourceSession, false},
	"session_prefix": {ResourceSession, true},
}

// unsupportedKeywords are rule keywords that Consul knows (Enterprise
// namespaces and partitions, workload identities) and this server does not;
// they get their own error rather than "unknown rule".
var unsupportedKeywords = map[string]bool{
	"namespace":        true,
	"namespace_prefix": true,
	"partition":        true,
	"partition_prefix": true,
	"identity":         true,
	"identity_prefix":  true,
}

// Parse reads ACL rules written in HCL or JSON (JSON when the text starts
// with "{"), in Consul's rule language:
//
//	key_prefix "" { policy = "read" }
//	key "foo/secret" { policy = "deny" }
//	service "web" { policy = "write" intentions = "read" }
//	operator = "read"
//
// Block rules are agent, event, key, node, query, service and session,
// each also with a _prefix form; single-value rules are acl, keyring,
// operator, mesh and peering. Levels are read, write and deny, and list for
// key and key_prefix only. Keywords and field names match case-insensitively
// (as Consul's HCL decoding does); levels must be lower case.
//
// Parse is stricter than Consul in two ways: a field other than policy or
// intentions inside a block, or a keyword it does not know, is an error
// rather than silently ignored, so that a typo cannot weaken a policy
// unnoticed; and JSON must be well-formed, where hcl's JSON parser lets an
// object left open at the end pass. A single-value rule or a block's field given twice is an error,
// as in current Consul; the same block rule given twice is allowed and
// resolved as NewAuthorizer describes.
//
// Empty rules (or only whitespace and comments) are an empty Policy.
// Errors are *ParseError.
func Parse(rules string) (*Policy, error) {
	p := &Policy{}
	if strings.TrimSpace(rules) == "" {
		return p, nil
	}
	file, err := parseSyntax(rules)
	if err != nil {
		return nil, err
	}
	list, ok := file.Node.(*ast.ObjectList)
	if !ok {
		return nil, &ParseError{Msg: "rules must be a set of rules"}
	}
	for _, item := range list.Items {
		if err := parseTopItem(p, item); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// parseSyntax runs hcl's parser and turns its errors into ParseErrors that
// carry a line where one can be found.
func parseSyntax(rules string) (*ast.File, error) {
	// hcl picks JSON when the text starts with "{". Its JSON parser accepts
	// some broken documents (an object left open at the end) and reports
	// most mistakes without a position, so the standard library checks
	// JSON first and says on which line it broke.
	if strings.HasPrefix(strings.TrimLeftFunc(rules, unicode.IsSpace), "{") {
		if err := checkJSON(rules); err != nil {
			return nil, err
		}
	}
	file, err := hcl.ParseString(rules)
	if err == nil {
		return file, nil
	}
	var pe *hclparser.PosError
	if errors.As(err, &pe) {
		return nil, &ParseError{Line: pe.Pos.Line, Msg: pe.Err.Error()}
	}
	return nil, &ParseError{Msg: err.Error()}
}

// checkJSON returns a ParseError naming the line of the first JSON syntax
// error in s, or nil.
func checkJSON(s string) error {
	var v any
	err := json.Unmarshal([]byte(s), &v)
	if err == nil {
		return nil
	}
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return &ParseError{Msg: "invalid JSON: " + err.Error()}
	}
	// Offset counts the bytes read, the bad one included; at the end of
	// the input there is no bad byte and the mistake is on the last line.
	off := min(max(int(se.Offset)-1, 0), len(s))
	if se.Error() == "unexpected end of JSON input" {
		off = len(s)
	}
	return &ParseError{Line: 1 + strings.Count(s[:off], "\n"), Msg: "invalid JSON: " + se.Error()}
}

func parseTopItem(p *Policy, item *ast.ObjectItem) error {
	pos := itemPos(item)
	if len(item.Keys) == 0 {
		return errAt(pos, "expected a rule")
	}
	word, err := keyText(item.Keys[0])
	if err != nil {
		return errAt(pos, "rule keyword: %v", err)
	}
	switch kw := strings.ToLower(word); kw {
	case "acl":
		return parseSingle(&p.ACL, kw, item)
	case "keyring":
		return parseSingle(&p.Keyring, kw, item)
	case "operator":
		return parseSingle(&p.Operator, kw, item)
	case "mesh":
		return parseSingle(&p.Mesh, kw, item)
	case "peering":
		return parseSingle(&p.Peering, kw, item)
	default:
		if rk, ok := blockKeywords[kw]; ok {
			return parseBlockItem(p, rk, item)
		}
		if unsupportedKeywords[kw] {
			return errAt(pos, "%s rules are not supported by this server", kw)
		}
		return errAt(pos, "unknown rule %q", word)
	}
}

// parseSingle reads `kw = "level"` into dst.
func parseSingle(dst *AccessLevel, kw string, item *ast.ObjectItem) error {
	pos := itemPos(item)
	if len(item.Keys) > 1 {
		return errAt(pos, "%s takes no name: write %s = \"read\"", kw, kw)
	}
	if *dst != AccessUnknown {
		return errAt(pos, "%s is set more than once", kw)
	}
	level, err := parseLevel(item.Val, pos, "policy", kw, false)
	if err != nil {
		return err
	}
	*dst = level
	return nil
}

// parseBlockItem reads one item whose keyword is a block rule. HCL writes
// `key "foo" { ... }`; HCL objects and JSON may also nest the names inside,
// `key = { foo = { ... } }`, or give a list of such objects.
func parseBlockItem(p *Policy, rk resourceKeyword, item *ast.ObjectItem) error {
	pos := itemPos(item)
	kw := ruleKeyword(rk.res, rk.prefix)
	switch len(item.Keys) {
	case 1:
		return parseNamedBlocks(p, rk, item.Val, pos)
	case 2:
		name, err := keyText(item.Keys[1])
		if err != nil {
			return errAt(pos, "%s name: %v", kw, err)
		}
		return parseBlock(p, rk, name, item.Val, pos)
	default:
		return errAt(pos, "%s takes one name: write %s \"name\" { policy = \"read\" }", kw, kw)
	}
}

// parseNamedBlocks reads the value of a block keyword given without a name:
// an object whose fields are the names, or a list of such objects.
func parseNamedBlocks(p *Policy, rk resourceKeyword, val ast.Node, pos token.Pos) error {
	kw := ruleKeyword(rk.res, rk.prefix)
	needName := func(at token.Pos) error {
		return errAt(at, "%s rules need a name: write %s \"name\" { policy = \"read\" }", kw, kw)
	}
	switch v := val.(type) {
	case *ast.ObjectType:
		if v.List == nil {
			return nil
		}
		for _, sub := range v.List.Items {
			at := firstValid(itemPos(sub), pos)
			if len(sub.Keys) != 1 {
				return needName(at)
			}
			if _, ok := sub.Val.(*ast.ObjectType); !ok {
				return needName(at)
			}
			name, err := keyText(sub.Keys[0])
			if err != nil {
				return errAt(at, "%s name: %v", kw, err)
			}
			if err := parseBlock(p, rk, name, sub.Val, at); err != nil {
				return err
			}
		}
		return nil
	case *ast.ListType:
		for _, elem := range v.List {
			if _, ok := elem.(*ast.ObjectType); !ok {
				return needName(firstValid(nodePos(elem), pos))
			}
			if err := parseNamedBlocks(p, rk, elem, pos); err != nil {
				return err
			}
		}
		return nil
	default:
		return needName(firstValid(nodePos(val), pos))
	}
}

// parseBlock reads the body of one named block rule and appends the rule.
func parseBlock(p *Policy, rk resourceKeyword, name string, val ast.Node, pos token.Pos) error {
	rule := Rule{Resource: rk.res, Name: name, Prefix: rk.prefix}
	obj, ok := val.(*ast.ObjectType)
	if !ok {
		return errAt(firstValid(nodePos(val), pos), "%s must be a block: write %s { policy = \"read\" }", rule, rule)
	}
	if obj.List != nil {
		for _, field := range obj.List.Items {
			at := firstValid(itemPos(field), pos)
			if len(field.Keys) != 1 {
				return errAt(at, "unexpected block inside %s", rule)
			}
			fname, err := keyText(field.Keys[0])
			if err != nil {
				return errAt(at, "field name in %s: %v", rule, err)
			}
			switch strings.ToLower(fname) {
			case "policy":
				if rule.Access != AccessUnknown {
					return errAt(at, "policy is set more than once in %s", rule)
				}
				rule.Access, err = parseLevel(field.Val, at, "policy", rule.String(), rk.res == ResourceKey)
				if err != nil {
					return err
				}
			case "intentions":
				if rk.res != ResourceService {
					return errAt(at, "intentions is only valid in service and service_prefix rules, not in %s", rule)
				}
				if rule.Intentions != AccessUnknown {
					return errAt(at, "intentions is set more than once in %s", rule)
				}
				rule.Intentions, err = parseLevel(field.Val, at, "intentions", rule.String(), false)
				if err != nil {
					return err
				}
			default:
				return errAt(at, "unknown field %q in %s", fname, rule)
			}
		}
	}
	if rule.Access == AccessUnknown {
		return errAt(pos, "missing policy in %s", rule)
	}
	p.Rules = append(p.Rules, rule)
	return nil
}

// parseLevel reads a level from a string literal. field is what the value
// sets ("policy", "intentions") and owner the rule it belongs to, for the
// error message.
func parseLevel(val ast.Node, pos token.Pos, field, owner string, allowList bool) (AccessLevel, error) {
	at := firstValid(nodePos(val), pos)
	lit, ok := val.(*ast.LiteralType)
	if !ok || (lit.Token.Type != token.STRING && lit.Token.Type != token.HEREDOC) {
		return AccessUnknown, errAt(at, "%s for %s must be a string", field, owner)
	}
	s, ok := tokenString(lit.Token)
	if !ok {
		return AccessUnknown, errAt(at, "%s for %s is not a valid string", field, owner)
	}
	level, ok := parseAccessLevel(s)
	if !ok {
		return AccessUnknown, errAt(at, "invalid %s %q for %s", field, s, owner)
	}
	if level == AccessList && !allowList {
		return AccessUnknown, errAt(at, "invalid %s \"list\" for %s: list is only valid in key and key_prefix rules", field, owner)
	}
	return level, nil
}

// keyText returns the text of an object key: a bare identifier or a quoted
// string.
func keyText(k *ast.ObjectKey) (string, error) {
	switch k.Token.Type {
	case token.IDENT:
		return k.Token.Text, nil
	case token.STRING:
		if s, ok := tokenString(k.Token); ok {
			return s, nil
		}
		return "", errors.New("not a valid string")
	default:
		return "", fmt.Errorf("expected a name, got %s", k.Token.Type)
	}
}

// tokenString returns a string token's value. hcl's Token.Value panics on
// text it cannot unquote or unindent instead of returning an error, so such
// a panic becomes ok == false here.
func tokenString(t token.Token) (s string, ok bool) {
	defer func() {
		if recover() != nil {
			s, ok = "", false
		}
	}()
	s, ok = t.Value().(string)
	return s, ok
}

// itemPos is where an item starts. JSON items carry no key positions, only
// the position of their colon, so that is the fallback.
func itemPos(item *ast.ObjectItem) token.Pos {
	var keyPos token.Pos
	if len(item.Keys) > 0 {
		keyPos = item.Keys[0].Pos()
	}
	return firstValid(keyPos, item.Assign, nodePos(item.Val))
}

// nodePos is n's position, or the zero Pos for a nil node or an empty list
// (whose Pos method would panic).
func nodePos(n ast.Node) token.Pos {
	switch v := n.(type) {
	case nil:
		return token.Pos{}
	case *ast.ObjectList:
		if len(v.Items) == 0 {
			return token.Pos{}
		}
		return itemPos(v.Items[0])
	default:
		return n.Pos()
	}
}

func firstValid(ps ...token.Pos) token.Pos {
	for _, p := range ps {
		if p.IsValid() {
			return p
		}
	}
	return token.Pos{}
}

func errAt(pos token.Pos, format string, args ...any) error {
	return &ParseError{Line: pos.Line, Msg: fmt.Sprintf(format, args...)}
}
