package structs

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"
)

// Check types, as Consul reports them in a check's Type.
const (
	CheckTypeTTL         = "ttl"
	CheckTypeHTTP        = "http"
	CheckTypeTCP         = "tcp"
	CheckTypeMaintenance = "maintenance"
)

// ConsulServiceID is the service every server carries in the catalog; the
// leader owns it, so an agent's anti-entropy leaves it alone, as it leaves
// SerfCheckID.
const ConsulServiceID = "consul"

// ValidCheckStatus tells whether s is a status a check can be set to.
func ValidCheckStatus(s string) bool {
	return s == HealthPassing || s == HealthWarning || s == HealthCritical
}

// CheckType says how the local agent runs a check: by TTL (the
// application reports), by HTTP request or by TCP connect, every
// Interval. The zero Status means critical until the first result.
type CheckType struct {
	CheckID string
	Name    string
	Status  string
	Notes   string

	// TTL is how long a TTL check stays as reported before it turns
	// critical by itself.
	TTL time.Duration

	// HTTP is the URL an HTTP check requests with Method (GET when
	// empty), Header and Body.
	HTTP          string
	Header        map[string][]string
	Method        string
	Body          string
	TLSSkipVerify bool

	// TCP is the host:port a TCP check connects to.
	TCP string

	// Interval is how often an HTTP or TCP check runs; Timeout bounds
	// one run (10 s when zero).
	Interval time.Duration
	Timeout  time.Duration

	// DeregisterCriticalServiceAfter, on a service's check, deregisters
	// the service once the check has been critical that long.
	DeregisterCriticalServiceAfter time.Duration
}

// Type names the kind of check, Consul's words.
func (c *CheckType) Type() string {
	switch {
	case c.HTTP != "":
		return CheckTypeHTTP
	case c.TCP != "":
		return CheckTypeTCP
	case c.TTL > 0:
		return CheckTypeTTL
	}
	return ""
}

// Validate checks that the definition describes one runnable check. The
// texts are Consul's.
func (c *CheckType) Validate() error {
	intervalCheck := c.HTTP != "" || c.TCP != ""
	switch {
	case c.Interval > 0 && c.TTL > 0:
		return errors.New("Interval and TTL cannot be set simultaneously")
	case intervalCheck && c.Interval <= 0:
		return errors.New("Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or GRPC checks")
	case !intervalCheck && c.TTL <= 0:
		return errors.New("TTL must be > 0 for TTL checks")
	case c.HTTP != "" && c.TCP != "":
		return errors.New("HTTP and TCP cannot be set simultaneously")
	case c.Timeout < 0:
		return errors.New("Timeout must not be negative")
	case c.Status != "" && !ValidCheckStatus(c.Status):
		return errors.New("Status for checks must 'passing', 'warning', 'critical'")
	}
	return nil
}

// ServiceDefinition is a service registered with the local agent, from
// PUT /v1/agent/service/register or a config file's service block, with
// the checks it carries.
type ServiceDefinition struct {
	ID                string
	Name              string
	Tags              []string
	Address           string
	Port              int
	Meta              map[string]string
	Weights           *Weights
	EnableTagOverride bool
	Check             *CheckType
	Checks            []*CheckType
}

// Validate checks the definition before anything is registered. The
// texts are Consul's.
func (s *ServiceDefinition) Validate() error {
	if s.Name == "" {
		return errors.New("Missing service name")
	}
	if ip := net.ParseIP(s.Address); ip != nil && ip.IsUnspecified() {
		return errors.New("Invalid service address")
	}
	if w := s.Weights; w != nil {
		if w.Passing <= 0 {
			return errors.New("Invalid Weights: Passing must be greater than 0")
		}
		if w.Warning < 0 {
			return errors.New("Invalid Weights: Warning must be greater or equal than 0")
		}
	}
	if err := ValidateMeta(s.Meta); err != nil {
		return fmt.Errorf("Invalid Service Meta: %w", err)
	}
	for _, c := range s.CheckTypes() {
		if err := c.Validate(); err != nil {
			return fmt.Errorf("Invalid check: %w", err)
		}
	}
	return nil
}

// NodeService is the service as the catalog holds it: the ID defaults to
// the name and the weights to 1 and 1, as in Consul.
func (s *ServiceDefinition) NodeService() *NodeService {
	ns := &NodeService{
		ID: s.ID, Service: s.Name, Tags: s.Tags, Address: s.Address, Port: s.Port,
		Meta: s.Meta, EnableTagOverride: s.EnableTagOverride,
		Weights: &Weights{Passing: 1, Warning: 1},
	}
	if ns.ID == "" {
		ns.ID = ns.Service
	}
	if s.Weights != nil {
		w := *s.Weights
		ns.Weights = &w
	}
	return ns
}

// CheckTypes lists Check and Checks together.
func (s *ServiceDefinition) CheckTypes() []*CheckType {
	var out []*CheckType
	if s.Check != nil {
		out = append(out, s.Check)
	}
	for _, c := range s.Checks {
		if c != nil {
			out = append(out, c)
		}
	}
	return out
}

// CheckDefinition is a check registered with the local agent on its own,
// from PUT /v1/agent/check/register or a config file's check block: on
// the node, or with ServiceID on one of the agent's services. Its
// CheckID defaults to its Name.
type CheckDefinition struct {
	ServiceID string
	CheckType
}

// Limits of service metadata, Consul's.
const (
	metaMaxPairs       = 64
	metaKeyMaxLength   = 128
	metaValueMaxLength = 512
	metaReservedPrefix = "consul-"
)

var metaKeyFormat = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// ValidateMeta checks service metadata against Consul's limits.
func ValidateMeta(meta map[string]string) error {
	if len(meta) > metaMaxPairs {
		return fmt.Errorf("Service metadata cannot contain more than %d key/value pairs", metaMaxPairs)
	}
	for k, v := range meta {
		switch {
		case k == "":
			return errors.New("Key cannot be blank")
		case !metaKeyFormat.MatchString(k):
			return fmt.Errorf("Key %q contains invalid characters", k)
		case len(k) > metaKeyMaxLength:
			return fmt.Errorf("Key %q is too long (limit: %d characters)", k, metaKeyMaxLength)
		case strings.HasPrefix(k, metaReservedPrefix):
			return fmt.Errorf("Key prefix %q is reserved for internal use", metaReservedPrefix)
		case len(v) > metaValueMaxLength:
			return fmt.Errorf("Value for key %q is too long (limit: %d characters)", k, metaValueMaxLength)
		}
	}
	return nil
}
