package web

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// drain is what a server going away behind a proxy needs to know: whether
// it is going, and how many connections are still open.
//
// A proxy keeps idle connections to each instance and may send a request
// on one at the very moment the instance closes it; a POST lost so is not
// resent (it may have arrived) and the fan gets a 502. So an instance that
// stops closes none itself while it can help it: it stops accepting (a
// refused connection is safely tried on another instance), answers what
// still comes with "Connection: close", and waits for the proxy to close
// its idle connections, which it does after its keepalive_timeout.
type drain struct {
	going atomic.Bool
	conns atomic.Int64
}

// track counts a server's connections (http.Server.ConnState).
func (d *drain) track(_ net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew:
		d.conns.Add(1)
	case http.StateClosed, http.StateHijacked:
		d.conns.Add(-1)
	}
}

// closing asks HTTP/1 clients to drop their connection after this answer
// once the server is going (HTTP/2 has no such header; its clients get
// GOAWAY from Shutdown).
func (d *drain) closing(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.going.Load() && r.ProtoMajor == 1 {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

// Drain readies the server to stop behind a proxy: /readyz fails, seat-map
// streams end (browsers reopen them on another instance), ln stops
// accepting, and every answer from now on closes its connection. It
// returns when no connection is left or ctx ends; http.Server.Shutdown
// then closes what remains.
func (s *Server) Drain(ctx context.Context, ln net.Listener) {
	s.drain.going.Store(true)
	s.closeStreams()
	ln.Close()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for s.drain.conns.Load() > 0 {
		select {
		case <-ctx.Done():
			s.log.Info("connections still open after draining; closing them", "open", s.drain.conns.Load())
			return
		case <-tick.C:
		}
	}
}
