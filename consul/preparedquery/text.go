package preparedquery

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// scope is what a template's expressions see while it is rendered for
// one executed name.
type scope struct {
	full, prefix, suffix, segment string
	// groups is the template Regexp's submatches of the executed name;
	// nil when there is no Regexp or it did not match.
	groups []string
}

// variables are the names a template may interpolate with ${...}.
var variables = map[string]func(*scope) string{
	"name.full":     func(s *scope) string { return s.full },
	"name.prefix":   func(s *scope) string { return s.prefix },
	"name.suffix":   func(s *scope) string { return s.suffix },
	"agent.segment": func(s *scope) string { return s.segment },
}

// piece is a run of literal text or, when value is set, one ${...}
// expression.
type piece struct {
	lit   string
	value func(*scope) string
}

// text is a parsed template string.
type text []piece

// render interpolates t. It cannot fail: every expression was checked
// when t was parsed, and match() of a missing group is "".
func (t text) render(s *scope) string {
	if len(t) == 1 && t[0].value == nil {
		return t[0].lit
	}
	var b strings.Builder
	for _, p := range t {
		if p.value != nil {
			b.WriteString(p.value(s))
		} else {
			b.WriteString(p.lit)
		}
	}
	return b.String()
}

// parseText parses s with the syntax of HashiCorp's HIL, as far as
// templates use it: "${expr}" interpolates, "$$" is a literal "$", and
// any other "$" is itself. An expression is one of the variables or
// match(N) for an integer N; whitespace around its parts is allowed.
func parseText(s string) (text, error) {
	var t text
	var lit strings.Builder
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$$"):
			lit.WriteByte('$')
			i += 2
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return nil, fmt.Errorf("unterminated \"${\" at column %d: expected \"}\" but found end of string", column(s, i))
			}
			value, err := parseExpr(s[i+2:i+2+end], column(s, i))
			if err != nil {
				return nil, err
			}
			if lit.Len() > 0 {
				t = append(t, piece{lit: lit.String()})
				lit.Reset()
			}
			t = append(t, piece{value: value})
			i += 2 + end + 1
		default:
			lit.WriteByte(s[i])
			i++
		}
	}
	if lit.Len() > 0 || len(t) == 0 {
		t = append(t, piece{lit: lit.String()})
	}
	return t, nil
}

// parseExpr parses the inside of "${...}" that starts at column col.
func parseExpr(e string, col int) (func(*scope) string, error) {
	e = trimSpace(e)
	if e == "" {
		return nil, fmt.Errorf("empty \"${}\" at column %d", col)
	}
	name := identifier(e)
	rest := trimSpace(e[len(name):])
	switch {
	case name != "" && rest == "":
		value, ok := variables[name]
		if !ok {
			return nil, fmt.Errorf("unknown variable accessed: %s", name)
		}
		return value, nil
	case name != "" && strings.HasPrefix(rest, "(") && strings.HasSuffix(rest, ")"):
		if name != "match" {
			return nil, fmt.Errorf("unknown function called: %s", name)
		}
		return parseMatch(rest[1 : len(rest)-1])
	}
	return nil, fmt.Errorf("unsupported expression %q at column %d: use name.full, name.prefix, name.suffix, agent.segment or match(N)", e, col)
}

// parseMatch parses the argument list of match(N).
func parseMatch(args string) (func(*scope) string, error) {
	args = trimSpace(args)
	if args == "" {
		return nil, fmt.Errorf("match: expected 1 argument, got 0")
	}
	if n := strings.Count(args, ",") + 1; n != 1 {
		return nil, fmt.Errorf("match: expected 1 argument, got %d", n)
	}
	n, err := strconv.Atoi(args)
	if err != nil {
		return nil, fmt.Errorf("match: argument must be an integer, got %q", args)
	}
	return func(s *scope) string {
		if n >= 0 && n < len(s.groups) {
			return s.groups[n]
		}
		return ""
	}, nil
}

// identifier returns the identifier that e starts with, or "". As in
// HIL, it starts with a letter or "_" and goes on with letters, digits,
// "_", "-" and ".", so "name.full" is one identifier.
func identifier(e string) string {
	for i, r := range e {
		ok := r == '_' || unicode.IsLetter(r)
		if i > 0 {
			ok = ok || r == '-' || r == '.' || unicode.IsNumber(r) || unicode.IsMark(r)
		}
		if !ok {
			return e[:i]
		}
	}
	return e
}

// trimSpace trims the whitespace HIL allows inside "${...}".
func trimSpace(s string) string {
	return strings.Trim(s, " \t\r\n")
}

// column is the 1-based column, in runes, of byte offset i in s.
func column(s string, i int) int {
	return utf8.RuneCountInString(s[:i]) + 1
}
