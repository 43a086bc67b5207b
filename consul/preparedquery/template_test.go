package preparedquery

import (
	"errors"
	"reflect"
	"sync"
	"testing"

	"github.com/consulcompat/consul/structs"
)

// template is a template query named prefix whose Service is service.
func template(prefix, re, service string) *structs.PreparedQuery {
	return &structs.PreparedQuery{
		Name: prefix,
		Template: structs.QueryTemplateOptions{
			Type:   structs.QueryTemplateTypeNamePrefixMatch,
			Regexp: re,
		},
		Service: structs.ServiceQuery{Service: service},
	}
}

func TestRenderService(t *testing.T) {
	const re = `^hello-(.*?)-(.*)$`
	cases := []struct {
		name    string
		re      string
		service string
		exec    string
		want    string
	}{
		{"literal", re, "web", "hello-a-b", "web"},
		{"empty", re, "", "hello-a-b", ""},
		{"name.full", re, "${name.full}", "hello-a-b", "hello-a-b"},
		{"name.prefix", re, "${name.prefix}", "hello-a-b", "hello-"},
		{"name.suffix", re, "${name.suffix}", "hello-a-b", "a-b"},
		{"suffix of the prefix itself", re, "${name.suffix}", "hello-", ""},
		{"agent.segment", re, "${agent.segment}", "hello-a-b", "seg1"},
		{"mixed", re, "${name.prefix} xxx ${name.full} xxx ${name.suffix} xxx ${agent.segment}",
			"hello-a-b", "hello- xxx hello-a-b xxx a-b xxx seg1"},
		{"whitespace inside", re, "${ name.full\t}-${ match ( 1 ) }", "hello-a-b", "hello-a-b-a"},
		{"match(0) is the whole match", re, "${match(0)}", "hello-a-b", "hello-a-b"},
		{"match(1)", re, "${match(1)}", "hello-a-b-c", "a"},
		{"match(2)", re, "${match(2)}", "hello-a-b-c", "b-c"},
		{"match out of range", re, "${match(3)}", "hello-a-b", ""},
		{"match negative", re, "${match(-1)}", "hello-a-b", ""},
		{"match huge", re, "${match(9999999999)}", "hello-a-b", ""},
		{"no match", re, "x${match(0)}y${match(1)}z", "hello-nope", "xyz"},
		{"no regexp", "", "x${match(0)}y", "hello-a-b", "xy"},
		{"lone dollar", re, "$", "hello-a-b", "$"},
		{"dollar inside", re, "a$b $ c$", "hello-a-b", "a$b $ c$"},
		{"dollar before expression", re, "$${name.full}", "hello-a-b", "${name.full}"},
		{"escaped dollar", re, "$$", "hello-a-b", "$"},
		{"three dollars", re, "$$$", "hello-a-b", "$$"},
		{"escaped dollar then expression", re, "$$${name.suffix}", "hello-a-b", "$a-b"},
		{"closing brace alone", re, "}${name.suffix}}", "hello-a-b", "}a-b}"},
		{"unicode", re, "é${name.suffix}ü", "hello-ä-ö", "éä-öü"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tmpl, err := Compile(template("hello-", c.re, c.service))
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			q, err := tmpl.Render(c.exec, structs.QuerySource{Segment: "seg1"})
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if q.Service.Service != c.want {
				t.Fatalf("rendered %q, want %q", q.Service.Service, c.want)
			}
		})
	}
}

// full is a template that uses every field.
func full() *structs.PreparedQuery {
	return &structs.PreparedQuery{
		ID:      "${name.full}-id",
		Name:    "geo-",
		Session: "${name.full}-session",
		Token:   "${name.full}-token",
		Template: structs.QueryTemplateOptions{
			Type:            structs.QueryTemplateTypeNamePrefixMatch,
			Regexp:          `^geo-(\w+)-(\w+)$`,
			RemoveEmptyTags: false,
		},
		Service: structs.ServiceQuery{
			Service: "${match(1)}",
			Failover: structs.QueryFailoverOptions{
				NearestN:    3,
				Datacenters: []string{"${match(2)}", "dc9"},
			},
			OnlyPassing:    true,
			IgnoreCheckIDs: []string{"${name.suffix}-check"},
			Near:           "${agent.segment}",
			Tags:           []string{"${match(2)}", "${match(3)}", "static"},
			NodeMeta:       map[string]string{"${name.full}": "${match(1)}", "rack": "r1"},
			ServiceMeta:    map[string]string{"env": "${match(2)}"},
		},
		DNS:       structs.QueryDNSOptions{TTL: "${name.full}"},
		RaftIndex: structs.RaftIndex{CreateIndex: 7, ModifyIndex: 9},
	}
}

func TestRenderEveryField(t *testing.T) {
	tmpl, err := Compile(full())
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	got, err := tmpl.Render("geo-web-dc2", structs.QuerySource{Datacenter: "dc1", Segment: "alpha", Node: "n1"})
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	// ID, Name, Session, Token, Template, DNS and map keys are not
	// interpolated, as in Consul.
	want := full()
	want.Service = structs.ServiceQuery{
		Service: "web",
		Failover: structs.QueryFailoverOptions{
			NearestN:    3,
			Datacenters: []string{"dc2", "dc9"},
		},
		OnlyPassing:    true,
		IgnoreCheckIDs: []string{"web-dc2-check"},
		Near:           "alpha",
		Tags:           []string{"dc2", "", "static"},
		NodeMeta:       map[string]string{"${name.full}": "web", "rack": "r1"},
		ServiceMeta:    map[string]string{"env": "dc2"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("rendered\n%#v\nwant\n%#v", got, want)
	}
}

func TestRemoveEmptyTags(t *testing.T) {
	cases := []struct {
		name   string
		remove bool
		tags   []string
		want   []string
	}{
		{"kept", false, []string{"${match(1)}", "${match(5)}", "b"}, []string{"a", "", "b"}},
		{"removed", true, []string{"${match(1)}", "${match(5)}", "b", ""}, []string{"a", "b"}},
		{"all removed", true, []string{"${match(5)}"}, []string{}},
		{"nil stays nil", true, nil, nil},
		{"empty stays empty", false, []string{}, []string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := template("", `^(a)$`, "web")
			q.Template.RemoveEmptyTags = c.remove
			q.Service.Tags = c.tags
			tmpl, err := Compile(q)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			got, err := tmpl.Render("a", structs.QuerySource{})
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if !reflect.DeepEqual(got.Service.Tags, c.want) {
				t.Fatalf("tags %#v, want %#v", got.Service.Tags, c.want)
			}
		})
	}
}

func TestRenderIsADeepCopy(t *testing.T) {
	q := full()
	tmpl, err := Compile(q)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	// Changing the compiled query afterwards changes no rendering.
	q.Name = "changed"
	q.Service.Tags[0] = "changed"
	q.Service.NodeMeta["rack"] = "changed"

	a, err := tmpl.Render("geo-web-dc2", structs.QuerySource{})
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	a.Service.Tags[2] = "scribbled"
	a.Service.Failover.Datacenters[1] = "scribbled"
	a.Service.IgnoreCheckIDs[0] = "scribbled"
	a.Service.NodeMeta["rack"] = "scribbled"
	a.Service.ServiceMeta["env"] = "scribbled"

	b, err := tmpl.Render("geo-db-dc3", structs.QuerySource{})
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	if b.Name != "geo-" || b.Service.Service != "db" ||
		!reflect.DeepEqual(b.Service.Tags, []string{"dc3", "", "static"}) ||
		!reflect.DeepEqual(b.Service.Failover.Datacenters, []string{"dc3", "dc9"}) ||
		!reflect.DeepEqual(b.Service.IgnoreCheckIDs, []string{"db-dc3-check"}) ||
		!reflect.DeepEqual(b.Service.NodeMeta, map[string]string{"${name.full}": "db", "rack": "r1"}) ||
		!reflect.DeepEqual(b.Service.ServiceMeta, map[string]string{"env": "dc3"}) {
		t.Fatalf("second render saw the first one's changes: %#v", b)
	}
	if a.Service.Service != "web" {
		t.Fatalf("first render changed by the second: %q", a.Service.Service)
	}
}

func TestRenderConcurrently(t *testing.T) {
	tmpl, err := Compile(full())
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	var wg sync.WaitGroup
	for _, svc := range []string{"a", "b", "c", "d"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				q, err := tmpl.Render("geo-"+svc+"-dc1", structs.QuerySource{})
				if err != nil || q.Service.Service != svc {
					t.Errorf("Render = %v, %v", q, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestCompileErrors(t *testing.T) {
	cases := []struct {
		name   string
		change func(q *structs.PreparedQuery)
		want   string
	}{
		{"not a template", func(q *structs.PreparedQuery) { q.Template.Type = "" },
			"Bad Template.Type ''"},
		{"bad type", func(q *structs.PreparedQuery) { q.Template.Type = "prefix" },
			"Bad Template.Type 'prefix'"},
		{"bad regexp", func(q *structs.PreparedQuery) { q.Template.Regexp = "^(nope$" },
			"Bad Regexp: error parsing regexp: missing closing ): `^(nope$`"},
		{"unknown variable", func(q *structs.PreparedQuery) { q.Service.Tags = []string{"ok", "${name.middle}"} },
			"Bad format '${name.middle}' in Service.Tags[1]: unknown variable accessed: name.middle"},
		{"unknown function", func(q *structs.PreparedQuery) { q.Service.Service = "${upper(name.full)}" },
			"Bad format '${upper(name.full)}' in Service.Service: unknown function called: upper"},
		{"unterminated", func(q *structs.PreparedQuery) { q.Service.Service = "x-${name.full" },
			`Bad format 'x-${name.full' in Service.Service: unterminated "${" at column 3: expected "}" but found end of string`},
		{"empty expression", func(q *structs.PreparedQuery) { q.Service.Near = "${ }" },
			`Bad format '${ }' in Service.Near: empty "${}" at column 1`},
		{"match of a name", func(q *structs.PreparedQuery) { q.Service.Failover.Datacenters = []string{"${match(x)}"} },
			`Bad format '${match(x)}' in Service.Failover.Datacenters[0]: match: argument must be an integer, got "x"`},
		{"match of nothing", func(q *structs.PreparedQuery) { q.Service.IgnoreCheckIDs = []string{"${match()}"} },
			"Bad format '${match()}' in Service.IgnoreCheckIDs[0]: match: expected 1 argument, got 0"},
		{"match of two", func(q *structs.PreparedQuery) { q.Service.Service = "${match(1, 2)}" },
			"Bad format '${match(1, 2)}' in Service.Service: match: expected 1 argument, got 2"},
		{"arithmetic", func(q *structs.PreparedQuery) { q.Service.Service = "${40 + 2}" },
			`Bad format '${40 + 2}' in Service.Service: unsupported expression "40 + 2" at column 1: use name.full, name.prefix, name.suffix, agent.segment or match(N)`},
		{"map value", func(q *structs.PreparedQuery) { q.Service.NodeMeta = map[string]string{"a": "ok", "b": "${nope}"} },
			"Bad format '${nope}' in Service.NodeMeta[b]: unknown variable accessed: nope"},
		{"first of two bad map values", func(q *structs.PreparedQuery) {
			q.Service.ServiceMeta = map[string]string{"z": "${zz}", "a": "${aa}"}
		}, "Bad format '${aa}' in Service.ServiceMeta[a]: unknown variable accessed: aa"},
		{"format before regexp, as in Consul", func(q *structs.PreparedQuery) {
			q.Template.Regexp = "("
			q.Service.Service = "${x}"
		}, "Bad format '${x}' in Service.Service: unknown variable accessed: x"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := template("p-", "", "web")
			c.change(q)
			tmpl, err := Compile(q)
			if err == nil {
				t.Fatalf("Compile = %v, want an error", tmpl)
			}
			if !errors.Is(err, structs.ErrBadRequest) {
				t.Errorf("error %v does not wrap ErrBadRequest", err)
			}
			if want := "bad request: " + c.want; err.Error() != want {
				t.Fatalf("error\n%s\nwant\n%s", err, want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	plain := &structs.PreparedQuery{Name: "web", Service: structs.ServiceQuery{Service: "${not.checked}"}}
	if err := Validate(plain); err != nil {
		t.Fatalf("Validate(plain query) = %v", err)
	}
	if err := Validate(full()); err != nil {
		t.Fatalf("Validate(good template) = %v", err)
	}
	if err := Validate(template("", "", "${nope}")); !errors.Is(err, structs.ErrBadRequest) {
		t.Fatalf("Validate(bad template) = %v, want a bad request", err)
	}
}

func TestRenderNil(t *testing.T) {
	var tmpl *Template
	if _, err := tmpl.Render("x", structs.QuerySource{}); err == nil {
		t.Fatal("rendering a nil Template succeeded")
	}
}

// TestEveryServiceStringIsInterpolated fills every string of a
// ServiceQuery, found by reflection, with ${name.full}, so that a string
// field added to ServiceQuery and forgotten here fails.
func TestEveryServiceStringIsInterpolated(t *testing.T) {
	q := template("", "", "")
	fill(t, reflect.ValueOf(&q.Service).Elem(), "Service")
	tmpl, err := Compile(q)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	got, err := tmpl.Render("x", structs.QuerySource{})
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	check(t, reflect.ValueOf(got.Service), "Service")
}

func fill(t *testing.T, v reflect.Value, path string) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("${name.full}")
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			fill(t, v.Field(i), path+"."+v.Type().Field(i).Name)
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(t, v.Index(0), path+"[0]")
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		m.SetMapIndex(reflect.ValueOf("k"), reflect.ValueOf("${name.full}"))
		v.Set(m)
	case reflect.Bool, reflect.Int:
	default:
		t.Fatalf("%s: kind %s is new to this test", path, v.Kind())
	}
}

func check(t *testing.T, v reflect.Value, path string) {
	switch v.Kind() {
	case reflect.String:
		if v.String() != "x" {
			t.Errorf("%s = %q, not interpolated", path, v.String())
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			check(t, v.Field(i), path+"."+v.Type().Field(i).Name)
		}
	case reflect.Slice:
		if v.Len() != 1 {
			t.Errorf("%s has %d elements, want 1", path, v.Len())
		}
		for i := 0; i < v.Len(); i++ {
			check(t, v.Index(i), path+"[0]")
		}
	case reflect.Map:
		if v.Len() != 1 {
			t.Errorf("%s has %d entries, want 1", path, v.Len())
		}
		for _, k := range v.MapKeys() {
			check(t, v.MapIndex(k), path+"["+k.String()+"]")
		}
	}
}
