package consul

import (
	"fmt"
	"time"

	"github.com/consulcompat/consul/acl"
	"github.com/consulcompat/consul/consul/state"
	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-memdb"
	"github.com/hashicorp/go-uuid"
)

// Session is the session endpoint.
type Session struct {
	srv *Server
}

// Apply creates or destroys a session through Raft; reply is the
// session's ID. A new TTL session's timer starts on this, the leader.
func (e *Session) Apply(args *structs.SessionRequest, reply *string) error {
	if done, err := e.srv.forward("Session.Apply", args.Datacenter, false, args, reply); done {
		return err
	}
	st := e.srv.fsm.State()
	sess := &args.Session
	switch args.Op {
	case structs.SessionCreate:
		if err := validateSession(sess, e.srv.config.SessionTTLMin); err != nil {
			return err
		}
	case structs.SessionDestroy:
		if sess.ID == "" {
			return fmt.Errorf("%w: Must provide ID", structs.ErrBadRequest)
		}
		_, existing, err := st.SessionGet(nil, sess.ID)
		if err != nil {
			return err
		}
		if existing == nil {
			*reply = sess.ID
			return nil
		}
		sess.Node = existing.Node
	default:
		return fmt.Errorf("%w: Invalid session operation %q", structs.ErrBadRequest, args.Op)
	}
	if err := e.srv.authorize(args.Token, func(z acl.Authorizer) bool { return z.SessionWrite(sess.Node) }); err != nil {
		return err
	}
	if args.Op == structs.SessionCreate {
		id, err := newSessionID(st)
		if err != nil {
			return err
		}
		sess.ID = id
	}
	if _, err := e.srv.raftApply(structs.SessionRequestType, args); err != nil {
		return err
	}
	if args.Op == structs.SessionCreate {
		e.srv.resetSessionTimer(sess)
	} else {
		e.srv.sessionTimers.stop(sess.ID)
	}
	*reply = sess.ID
	return nil
}

// validateSession checks a new session and fills in Consul's defaults.
func validateSession(sess *structs.Session, ttlMin time.Duration) error {
	if sess.Node == "" {
		return fmt.Errorf("%w: Must provide Node", structs.ErrBadRequest)
	}
	switch sess.Behavior {
	case "":
		sess.Behavior = structs.SessionKeysRelease
	case structs.SessionKeysRelease, structs.SessionKeysDelete:
	default:
		return fmt.Errorf("%w: Invalid Behavior setting '%s'", structs.ErrBadRequest, sess.Behavior)
	}
	if sess.TTL != "" {
		ttl, err := time.ParseDuration(sess.TTL)
		if err != nil {
			return fmt.Errorf("%w: Session TTL '%s' invalid: %v", structs.ErrBadRequest, sess.TTL, err)
		}
		if ttl != 0 && (ttl < ttlMin || ttl > structs.SessionTTLMax) {
			return fmt.Errorf("%w: Invalid Session TTL '%d', must be between [%v=%v]",
				structs.ErrBadRequest, ttl, ttlMin, structs.SessionTTLMax)
		}
	}
	return nil
}

// newSessionID picks a random ID no session has.
func newSessionID(st *state.Store) (string, error) {
	for {
		id, err := uuid.GenerateUUID()
		if err != nil {
			return "", err
		}
		if _, existing, err := st.SessionGet(nil, id); err != nil || existing == nil {
			return id, err
		}
	}
}

// Get reads one session: an empty list if it does not exist or the
// token may not read it.
func (e *Session) Get(args *structs.SessionSpecificRequest, reply *structs.IndexedSessions) error {
	return e.srv.readQuery("Session.Get", args.Datacenter, &args.QueryOptions, args, reply, &reply.QueryMeta,
		func(ws memdb.WatchSet, s *state.Store, z acl.Authorizer) error {
			idx, sess, err := s.SessionGet(ws, args.SessionID)
			reply.Index, reply.Sessions = idx, structs.Sessions{}
			if sess != nil {
				reply.Sessions = filterSessions(z, structs.Sessions{sess}, &reply.QueryMeta)
			}
			return err
		})
}

// List reads every session the token may read.
func (e *Session) List(args *structs.DCSpecificRequest, reply *structs.IndexedSessions) error {
	return e.srv.readQuery("Session.List", args.Datacenter, &args.QueryOptions, args, reply, &reply.QueryMeta,
		func(ws memdb.WatchSet, s *state.Store, z acl.Authorizer) error {
			idx, sessions, err := s.SessionList(ws, "")
			reply.Index, reply.Sessions = idx, filterSessions(z, sessions, &reply.QueryMeta)
			return err
		})
}

// NodeSessions reads the sessions of one node that the token may read.
func (e *Session) NodeSessions(args *structs.NodeSpecificRequest, reply *structs.IndexedSessions) error {
	return e.srv.readQuery("Session.NodeSessions", args.Datacenter, &args.QueryOptions, args, reply, &reply.QueryMeta,
		func(ws memdb.WatchSet, s *state.Store, z acl.Authorizer) error {
			idx, sessions, err := s.SessionList(ws, args.Node)
			reply.Index, reply.Sessions = idx, filterSessions(z, sessions, &reply.QueryMeta)
			return err
		})
}

// filterSessions keeps the sessions whose node the token may read
// sessions of.
func filterSessions(z acl.Authorizer, sessions structs.Sessions, meta *structs.QueryMeta) structs.Sessions {
	kept := structs.Sessions{}
	for _, sess := range sessions {
		if z.SessionRead(sess.Node) {
			kept = append(kept, sess)
		} else {
			meta.ResultsFilteredByACLs = true
		}
	}
	return kept
}

// Renew restarts a session's TTL. It runs on the leader, which holds the
// timers; reply holds the session, or nothing if it does not exist.
func (e *Session) Renew(args *structs.SessionSpecificRequest, reply *structs.IndexedSessions) error {
	if done, err := e.srv.forward("Session.Renew", args.Datacenter, false, args, reply); done {
		return err
	}
	idx, sess, err := e.srv.fsm.State().SessionGet(nil, args.SessionID)
	if err != nil {
		return err
	}
	reply.Index, reply.Sessions = idx, structs.Sessions{}
	if sess == nil {
		return nil
	}
	if err := e.srv.authorize(args.Token, func(z acl.Authorizer) bool { return z.SessionWrite(sess.Node) }); err != nil {
		return err
	}
	e.srv.resetSessionTimer(sess)
	reply.Sessions = structs.Sessions{sess}
	return nil
}
