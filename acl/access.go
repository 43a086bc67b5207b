// Package acl parses Consul ACL policy rules (HCL or JSON) and answers
// permission questions about them through an Authorizer.
//
// The rule language, the precedence between rules and the way several
// policies combine follow Consul's acl package, so that a policy written for
// Consul means the same thing here.
package acl

// AccessLevel is the disposition a rule grants: the value of its `policy`
// (or of a single-value rule such as `operator = "read"`).
type AccessLevel int

// The access levels, weakest to strongest as grants. AccessUnknown is the
// zero value and means "no rule said anything".
const (
	AccessUnknown AccessLevel = 0
	AccessDeny    AccessLevel = 1
	AccessRead    AccessLevel = 2
	AccessList    AccessLevel = 3
	AccessWrite   AccessLevel = 4
)

// String returns the level as it is written in rules.
func (l AccessLevel) String() string {
	switch l {
	case AccessDeny:
		return "deny"
	case AccessRead:
		return "read"
	case AccessList:
		return "list"
	case AccessWrite:
		return "write"
	default:
		return "unknown"
	}
}

// parseAccessLevel maps a rule's text to its level. The match is exact, as in
// Consul: "Read" is not a level.
func parseAccessLevel(s string) (AccessLevel, bool) {
	switch s {
	case "deny":
		return AccessDeny, true
	case "read":
		return AccessRead, true
	case "list":
		return AccessList, true
	case "write":
		return AccessWrite, true
	default:
		return AccessUnknown, false
	}
}

// overrides reports whether level a wins over level b when two rules for the
// same resource meet while policies are merged. Consul's order
// (takesPrecedenceOver in acl/policy.go) is deny, then write, then list, then
// read: a deny anywhere cannot be granted away by another policy.
func (a AccessLevel) overrides(b AccessLevel) bool {
	return mergeRank(a) > mergeRank(b)
}

func mergeRank(l AccessLevel) int {
	switch l {
	case AccessDeny:
		return 4
	case AccessWrite:
		return 3
	case AccessList:
		return 2
	case AccessRead:
		return 1
	default:
		return 0
	}
}

// grants reports whether a rule of level l permits an operation that needs
// level want. write grants list and read, list grants read, deny grants
// nothing (Consul's enforce in acl/policy_authorizer.go).
func (l AccessLevel) grants(want AccessLevel) bool {
	switch l {
	case AccessWrite:
		return true
	case AccessList:
		return want == AccessList || want == AccessRead
	case AccessRead:
		return want == AccessRead
	default:
		return false
	}
}
