package config

import (
	"fmt"

	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/hcl/hcl/ast"
)

// Service and check definitions, Consul's keys:
//
//	service {
//	  name = "web"           # required
//	  id   = "web-1"         # the name by default
//	  tags = ["v1"]
//	  address = "10.0.0.5"
//	  port = 8080
//	  meta { version = "1" }
//	  enable_tag_override = false
//	  weights { passing = 1, warning = 1 }
//	  check { http = "http://localhost:8080/health", interval = "10s" }
//	  checks = [{ ttl = "30s" }, { tcp = "localhost:8080", interval = "5s" }]
//	}
//	check { id = "mem", name = "Memory", ttl = "1m", service_id = "web-1" }
//
// service and services, check and checks are the same key: each takes
// one object or a list of them, may be repeated, and adds up across
// files, as Consul merges them.

// nextPath names the next object of a list-like key: key[0], key[1], ...
func (d *fileDecoder) nextPath(key string) string {
	n := d.counts[key]
	d.counts[key] = n + 1
	return fmt.Sprintf("%s[%d]", key, n)
}

// objects calls fn for each object a list-like key holds: its value when
// that is an object, or each element of a list of objects. rest holds
// the keys written after key on the same item, as for block.
func (d *fileDecoder) objects(key string, item *ast.ObjectItem, rest []string, fn func(path string, item *ast.ObjectItem, rest []string) error) error {
	if list, ok := item.Val.(*ast.ListType); ok && len(rest) == 0 {
		for i, elem := range list.List {
			if _, ok := elem.(*ast.ObjectType); !ok {
				return d.errorf(item.Pos(), "key %q: element %d: expected an object, got %s", key, i, describe(elem))
			}
			if err := fn(d.nextPath(key), &ast.ObjectItem{Keys: item.Keys, Val: elem}, nil); err != nil {
				return err
			}
		}
		return nil
	}
	return fn(d.nextPath(key), item, rest)
}

// services applies a service or services key.
func (d *fileDecoder) services(cfg *Config, key string, item *ast.ObjectItem, rest []string) error {
	return d.objects(key, item, rest, func(path string, item *ast.ObjectItem, rest []string) error {
		s := &structs.ServiceDefinition{}
		err := d.block(path, item, rest, func(key string, rest []string, item *ast.ObjectItem) error {
			return d.serviceKey(s, path, key, rest, item)
		})
		if err != nil {
			return err
		}
		if err := s.Validate(); err != nil {
			return d.errorf(item.Pos(), "%s: %v", path, err)
		}
		cfg.Services = append(cfg.Services, s)
		return nil
	})
}

// serviceKey applies one key of a service.
func (d *fileDecoder) serviceKey(s *structs.ServiceDefinition, path, key string, rest []string, item *ast.ObjectItem) error {
	p := path + "." + key
	switch key {
	case "name":
		return d.set(&s.Name, p, rest, item)
	case "id":
		return d.set(&s.ID, p, rest, item)
	case "tags":
		return d.set(&s.Tags, p, rest, item)
	case "address":
		return d.set(&s.Address, p, rest, item)
	case "port":
		return d.set(&s.Port, p, rest, item)
	case "enable_tag_override":
		return d.set(&s.EnableTagOverride, p, rest, item)
	case "meta":
		if s.Meta == nil {
			s.Meta = map[string]string{}
		}
		return d.block(p, item, rest, func(k string, rest []string, item *ast.ObjectItem) error {
			var v string
			if err := d.set(&v, p+"."+k, rest, item); err != nil {
				return err
			}
			s.Meta[k] = v
			return nil
		})
	case "weights":
		if s.Weights == nil {
			s.Weights = &structs.Weights{Passing: 1, Warning: 1}
		}
		return d.block(p, item, rest, func(k string, rest []string, item *ast.ObjectItem) error {
			switch k {
			case "passing":
				return d.set(&s.Weights.Passing, p+"."+k, rest, item)
			case "warning":
				return d.set(&s.Weights.Warning, p+"."+k, rest, item)
			}
			return d.errorf(item.Pos(), "unknown key %q", p+"."+k)
		})
	case "check", "checks":
		return d.objects(p, item, rest, func(cp string, item *ast.ObjectItem, rest []string) error {
			def, err := d.check(cp, item, rest, false)
			if err != nil {
				return err
			}
			if key == "check" && s.Check == nil {
				s.Check = &def.CheckType
			} else {
				s.Checks = append(s.Checks, &def.CheckType)
			}
			return nil
		})
	}
	return d.errorf(item.Pos(), "unknown key %q", p)
}

// checks applies a top-level check or checks key.
func (d *fileDecoder) checks(cfg *Config, key string, item *ast.ObjectItem, rest []string) error {
	return d.objects(key, item, rest, func(path string, item *ast.ObjectItem, rest []string) error {
		def, err := d.check(path, item, rest, true)
		if err != nil {
			return err
		}
		if def.Name == "" {
			return d.errorf(item.Pos(), "%s: Missing check name", path)
		}
		cfg.Checks = append(cfg.Checks, def)
		return nil
	})
}

// unsupportedChecks are Consul's keys for kinds of check this agent
// cannot run; a file that sets them is refused rather than half-read.
var unsupportedChecks = map[string]string{
	"args":                "script",
	"script":              "script",
	"docker_container_id": "Docker",
	"shell":               "Docker",
	"grpc":                "gRPC",
	"grpc_use_tls":        "gRPC",
	"h2ping":              "H2PING",
	"udp":                 "UDP",
	"alias_node":          "alias",
	"alias_service":       "alias",
	"os_service":          "OS service",
}

// check reads one check definition; top allows service_id, which only a
// check outside a service has.
func (d *fileDecoder) check(path string, item *ast.ObjectItem, rest []string, top bool) (*structs.CheckDefinition, error) {
	def := &structs.CheckDefinition{}
	c := &def.CheckType
	err := d.block(path, item, rest, func(key string, rest []string, item *ast.ObjectItem) error {
		p := path + "." + key
		switch key {
		case "id", "check_id":
			return d.set(&c.CheckID, p, rest, item)
		case "name":
			return d.set(&c.Name, p, rest, item)
		case "notes":
			return d.set(&c.Notes, p, rest, item)
		case "status":
			return d.set(&c.Status, p, rest, item)
		case "ttl":
			return d.set(&c.TTL, p, rest, item)
		case "http":
			return d.set(&c.HTTP, p, rest, item)
		case "method":
			return d.set(&c.Method, p, rest, item)
		case "body":
			return d.set(&c.Body, p, rest, item)
		case "tls_skip_verify":
			return d.set(&c.TLSSkipVerify, p, rest, item)
		case "header":
			if c.Header == nil {
				c.Header = map[string][]string{}
			}
			return d.block(p, item, rest, func(k string, rest []string, item *ast.ObjectItem) error {
				var vs []string
				if err := d.set(&vs, p+"."+k, rest, item); err != nil {
					return err
				}
				c.Header[k] = vs
				return nil
			})
		case "tcp":
			return d.set(&c.TCP, p, rest, item)
		case "interval":
			return d.set(&c.Interval, p, rest, item)
		case "timeout":
			return d.set(&c.Timeout, p, rest, item)
		case "deregister_critical_service_after":
			return d.set(&c.DeregisterCriticalServiceAfter, p, rest, item)
		case "service_id":
			if top {
				return d.set(&def.ServiceID, p, rest, item)
			}
		}
		if kind, ok := unsupportedChecks[key]; ok {
			return d.errorf(item.Pos(), "key %q: %s checks are not supported by this agent", p, kind)
		}
		return d.errorf(item.Pos(), "unknown key %q", p)
	})
	if err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, d.errorf(item.Pos(), "%s: invalid check: %v", path, err)
	}
	return def, nil
}
