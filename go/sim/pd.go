package sim

import (
	"context"
	"encoding/json"
)

// roomsFor reads the bootstrap fields of a request into one roomRef per
// sequence. A regular server ignores them; a prefill server needs
// bootstrap_room; a decode server needs all three. A batch (several
// sequences) needs a list of rooms, one per sequence; host and port may be
// single values shared by all.
func (s *Server) roomsFor(r *request) ([]*roomRef, error) {
	role := s.cfg.Role
	if role == RoleRegular {
		return nil, nil
	}
	n := r.sequences()
	rooms, err := pdList[uint64](r.pd.BootstrapRoom, "bootstrap_room", "a non-negative integer", role, n, false)
	if err != nil {
		return nil, err
	}
	refs := make([]*roomRef, n)
	for i := range refs {
		refs[i] = &roomRef{room: rooms[i]}
	}
	if role == RolePrefill {
		return refs, nil
	}
	hosts, err := pdList[string](r.pd.BootstrapHost, "bootstrap_host", "a string", role, n, true)
	if err != nil {
		return nil, err
	}
	ports, err := s.bootstrapPorts(r.pd.BootstrapPort, role, n)
	if err != nil {
		return nil, err
	}
	for i, ref := range refs {
		if hosts[i] == "" || ports[i] <= 0 || ports[i] > 65535 {
			return nil, badRequest("bootstrap_host %q / bootstrap_port %d of sequence %d do not name a prefill bootstrap server", hosts[i], ports[i], i)
		}
		ref.host, ref.port = hosts[i], ports[i]
	}
	return refs, nil
}

// bootstrapPorts reads bootstrap_port as n ports. A null port (the whole
// field or an entry) means the server's default bootstrap port, as SGLang's
// scheduler does with a request whose bootstrap_port is None.
func (s *Server) bootstrapPorts(raw json.RawMessage, role string, n int) ([]int, error) {
	def := s.cfg.DisaggregationBootstrapPort
	if isNull(raw) {
		ports := make([]int, n)
		for i := range ports {
			ports[i] = def
		}
		return ports, nil
	}
	given, err := pdList[*int](raw, "bootstrap_port", "an integer or null", role, n, true)
	if err != nil {
		return nil, err
	}
	ports := make([]int, n)
	for i, p := range given {
		ports[i] = def
		if p != nil {
			ports[i] = *p
		}
	}
	return ports, nil
}

// pdList reads one bootstrap field as n values; a single value is spread
// over the batch only when shared is true.
func pdList[T any](raw json.RawMessage, name, what, role string, n int, shared bool) ([]T, error) {
	if isNull(raw) {
		return nil, badRequest("%s is required on a %s server (PD mode: the router must send bootstrap_host, bootstrap_port and bootstrap_room)", name, role)
	}
	vals, list, err := oneOrMany[T](raw)
	if err != nil {
		return nil, badRequest("%s must be %s or a list of them, got %.100s", name, what, raw)
	}
	switch {
	case list && len(vals) != n:
		return nil, badRequest("%s has %d entries but the request has %d sequences", name, len(vals), n)
	case !list && n > 1 && !shared:
		return nil, badRequest("%s must be a list of %d values, one per sequence of the batch, got a single value", name, n)
	case !list:
		for len(vals) < n {
			vals = append(vals, vals[0])
		}
	}
	return vals, nil
}

// awaitRooms waits, concurrently, for every decode job's room to be
// prefilled and takes its cached token count; the first failure wins.
func (s *Server) awaitRooms(ctx context.Context, jobs []*job) error {
	return eachJob(ctx, jobs, func(ctx context.Context, j *job) error {
		info, err := s.roomc.await(ctx, j.room, j.prompt)
		if err == nil {
			j.cached = info.CachedTokens
		}
		return err
	})
}
