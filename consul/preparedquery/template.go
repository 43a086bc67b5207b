// Package preparedquery compiles and renders prepared query templates:
// queries whose Service part is interpolated, for each executed name,
// with ${name.full}, ${name.prefix}, ${name.suffix}, ${agent.segment}
// and ${match(N)}, as Consul's templates are.
//
// As in Consul, only the strings of the query's Service part are
// interpolated, map values but not map keys; ID, Name, Session, Token,
// Template and DNS are copied as they are.
package preparedquery

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/consulcompat/consul/structs"
)

// Template is a compiled prepared query template. It is immutable, so
// one Template may be rendered from many goroutines at once.
type Template struct {
	// query is the template with the interpolated fields of its Service
	// left out; Render fills them from the parsed texts below.
	query structs.PreparedQuery
	re    *regexp.Regexp

	// The parsed strings of the Service part. A nil list or map stays
	// nil when rendered, an empty one empty: JSON tells null from [].
	service, near                   text
	datacenters, ignoreChecks, tags []text
	nodeMeta, serviceMeta           map[string]text
}

// Validate checks a query before it is stored: a template must compile,
// and any other query passes. Its errors wrap structs.ErrBadRequest.
func Validate(q *structs.PreparedQuery) error {
	if !q.IsTemplate() {
		return nil
	}
	_, err := Compile(q)
	return err
}

// Compile checks a template query (its Type, its Regexp and every
// interpolation in its Service part) and returns it compiled. A query
// that is not a template is an error, as is any other bad input; the
// errors wrap structs.ErrBadRequest. The Template shares no memory with
// q.
func Compile(q *structs.PreparedQuery) (*Template, error) {
	if q.Template.Type != structs.QueryTemplateTypeNamePrefixMatch {
		return nil, fmt.Errorf("%w: Bad Template.Type '%s'", structs.ErrBadRequest, q.Template.Type)
	}
	c := compiler{}
	sq := &q.Service
	t := &Template{
		query:        *q,
		service:      c.one(".Service", sq.Service),
		near:         c.one(".Near", sq.Near),
		datacenters:  c.list(".Failover.Datacenters", sq.Failover.Datacenters),
		ignoreChecks: c.list(".IgnoreCheckIDs", sq.IgnoreCheckIDs),
		tags:         c.list(".Tags", sq.Tags),
		nodeMeta:     c.dict(".NodeMeta", sq.NodeMeta),
		serviceMeta:  c.dict(".ServiceMeta", sq.ServiceMeta),
	}
	if c.err != nil {
		return nil, c.err
	}
	// Drop the caller's slices and maps: Render builds its own.
	t.query.Service.Failover.Datacenters = nil
	t.query.Service.IgnoreCheckIDs = nil
	t.query.Service.Tags = nil
	t.query.Service.NodeMeta = nil
	t.query.Service.ServiceMeta = nil

	if q.Template.Regexp != "" {
		re, err := regexp.Compile(q.Template.Regexp)
		if err != nil {
			return nil, fmt.Errorf("%w: Bad Regexp: %v", structs.ErrBadRequest, err)
		}
		t.re = re
	}
	return t, nil
}

// compiler parses the strings of a query's Service part and keeps the
// first error, which names the field and the string at fault.
type compiler struct {
	err error
}

func (c *compiler) one(path, s string) text {
	if c.err != nil {
		return nil
	}
	t, err := parseText(s)
	if err != nil {
		c.err = fmt.Errorf("%w: Bad format '%s' in Service%s: %v", structs.ErrBadRequest, s, path, err)
	}
	return t
}

func (c *compiler) list(path string, ss []string) []text {
	if ss == nil {
		return nil
	}
	ts := make([]text, 0, len(ss))
	for i, s := range ss {
		ts = append(ts, c.one(fmt.Sprintf("%s[%d]", path, i), s))
	}
	return ts
}

func (c *compiler) dict(path string, m map[string]string) map[string]text {
	if m == nil {
		return nil
	}
	// Sorted, so that of several bad values the same one is reported
	// every time.
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	ts := make(map[string]text, len(m))
	for _, k := range keys {
		ts[k] = c.one(fmt.Sprintf("%s[%s]", path, k), m[k])
	}
	return ts
}

// Render returns a deep copy of the template's query, interpolated for
// the name it was executed with and the source of the request. The
// Template is not changed. Its error is only for a nil Template.
func (t *Template) Render(name string, source structs.QuerySource) (*structs.PreparedQuery, error) {
	if t == nil {
		return nil, errors.New("cannot render an uncompiled template")
	}
	s := &scope{
		full:    name,
		prefix:  t.query.Name,
		suffix:  strings.TrimPrefix(name, t.query.Name),
		segment: source.Segment,
	}
	if t.re != nil {
		s.groups = t.re.FindStringSubmatch(name)
	}

	q := t.query
	sq := &q.Service
	sq.Service = t.service.render(s)
	sq.Near = t.near.render(s)
	sq.Failover.Datacenters = renderList(t.datacenters, s)
	sq.IgnoreCheckIDs = renderList(t.ignoreChecks, s)
	sq.Tags = renderList(t.tags, s)
	sq.NodeMeta = renderDict(t.nodeMeta, s)
	sq.ServiceMeta = renderDict(t.serviceMeta, s)

	if q.Template.RemoveEmptyTags && sq.Tags != nil {
		tags := make([]string, 0, len(sq.Tags))
		for _, tag := range sq.Tags {
			if tag != "" {
				tags = append(tags, tag)
			}
		}
		sq.Tags = tags
	}
	return &q, nil
}

func renderList(ts []text, s *scope) []string {
	if ts == nil {
		return nil
	}
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.render(s)
	}
	return out
}

func renderDict(ts map[string]text, s *scope) map[string]string {
	if ts == nil {
		return nil
	}
	out := make(map[string]string, len(ts))
	for k, t := range ts {
		out[k] = t.render(s)
	}
	return out
}
