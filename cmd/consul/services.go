package main

import (
	"time"

	"github.com/consulcompat/consul/agent/config"
	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/consul/api"
)

const servicesRegisterHelp = `
Usage: consul services register [options] [FILE...]

  Registers services with the local agent, from definition files (HCL or
  JSON holding service blocks, as in config files) or from the flags for a
  single service. The agent keeps them in the catalog (anti-entropy).

      $ consul services register web.hcl
      $ consul services register -name=web -port=8080 -tag=v1
`

const servicesDeregisterHelp = `
Usage: consul services deregister [options] [FILE...]

  Deregisters services from the local agent: those of the definition
  files, or the one named by -id.

      $ consul services deregister web.hcl
      $ consul services deregister -id=web-1
`

// serviceFlags describe a single service on the command line.
type serviceFlags struct {
	name, id, address string
	port              int
	tags              stringsFlag
	meta              metaFlag
}

// runServicesRegister is `consul services register`.
func runServicesRegister(u *ui, args []string) int {
	c := newHTTPCommand("services register", servicesRegisterHelp, false)
	f := serviceFlags{meta: metaFlag{}}
	c.fs.StringVar(&f.name, "name", "", "The service `name`, for a service given by flags.")
	c.fs.StringVar(&f.id, "id", "", "The service `ID`; the name by default.")
	c.fs.StringVar(&f.address, "address", "", "The service `address`; the node's by default.")
	c.fs.IntVar(&f.port, "port", 0, "The service `port`.")
	c.fs.Var(&f.tags, "tag", "A `tag`; repeatable.")
	c.fs.Var(f.meta, "meta", "A `key=value` metadata pair; repeatable.")
	defs, client, code, ok := servicesStart(u, c, args, func() *structs.ServiceDefinition {
		if f.name == "" {
			return nil
		}
		return &structs.ServiceDefinition{Name: f.name, ID: f.id, Address: f.address, Port: f.port, Tags: f.tags, Meta: f.meta}
	})
	if !ok {
		return code
	}
	for _, d := range defs {
		if err := client.Agent().ServiceRegister(toRegistration(d)); err != nil {
			u.error("Error registering service %q: %v", d.Name, err)
			return 1
		}
		u.info("Registered service: %s", d.Name)
	}
	return 0
}

// runServicesDeregister is `consul services deregister`.
func runServicesDeregister(u *ui, args []string) int {
	c := newHTTPCommand("services deregister", servicesDeregisterHelp, false)
	var id string
	c.fs.StringVar(&id, "id", "", "The `ID` of the service to deregister.")
	defs, client, code, ok := servicesStart(u, c, args, func() *structs.ServiceDefinition {
		if id == "" {
			return nil
		}
		return &structs.ServiceDefinition{ID: id, Name: id}
	})
	if !ok {
		return code
	}
	for _, d := range defs {
		sid := d.ID
		if sid == "" {
			sid = d.Name
		}
		if err := client.Agent().ServiceDeregister(sid); err != nil {
			u.error("Error deregistering service %q: %v", sid, err)
			return 1
		}
		u.info("Deregistered service: %s", sid)
	}
	return 0
}

// servicesStart parses the command, then reads the definitions from the
// files named, or from the flags (fromFlags) when no file is; exactly one
// of the two must be given.
// When it reports false, the command ends with the exit code it returns.
func servicesStart(u *ui, c *httpCommand, args []string, fromFlags func() *structs.ServiceDefinition) ([]*structs.ServiceDefinition, *api.Client, int, bool) {
	if code, done := c.parse(u, args); done {
		return nil, nil, code, false
	}
	flagDef := fromFlags()
	files := c.fs.Args()
	if (flagDef == nil) == (len(files) == 0) {
		u.error("Error! Give either definition files or the flags of one service")
		return nil, nil, 1, false
	}
	defs := []*structs.ServiceDefinition{flagDef}
	if flagDef == nil {
		defs = nil
		for _, f := range files {
			loaded, err := config.LoadServiceFile(f)
			if err != nil {
				u.error("Error loading %s: %v", f, err)
				return nil, nil, 1, false
			}
			defs = append(defs, loaded...)
		}
	}
	client, ok := c.client(u)
	return defs, client, 1, ok
}

// toRegistration turns a definition into the official client's form.
func toRegistration(d *structs.ServiceDefinition) *api.AgentServiceRegistration {
	r := &api.AgentServiceRegistration{ID: d.ID, Name: d.Name, Tags: d.Tags, Port: d.Port, Address: d.Address,
		Meta: d.Meta, EnableTagOverride: d.EnableTagOverride}
	if d.Weights != nil {
		r.Weights = &api.AgentWeights{Passing: d.Weights.Passing, Warning: d.Weights.Warning}
	}
	if d.Check != nil {
		r.Check = toServiceCheck(d.Check)
	}
	for _, ck := range d.Checks {
		r.Checks = append(r.Checks, toServiceCheck(ck))
	}
	return r
}

func toServiceCheck(c *structs.CheckType) *api.AgentServiceCheck {
	dur := func(d time.Duration) string {
		if d == 0 {
			return ""
		}
		return d.String()
	}
	return &api.AgentServiceCheck{CheckID: c.CheckID, Name: c.Name, Status: c.Status, Notes: c.Notes,
		TTL: dur(c.TTL), HTTP: c.HTTP, Header: c.Header, Method: c.Method, Body: c.Body, TLSSkipVerify: c.TLSSkipVerify,
		TCP: c.TCP, Interval: dur(c.Interval), Timeout: dur(c.Timeout),
		DeregisterCriticalServiceAfter: dur(c.DeregisterCriticalServiceAfter)}
}
