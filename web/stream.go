package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/event"
	"github.com/boxoffice/boxoffice/app/live"
)

// streamPath is the route of the seat-map stream.
const streamPath = "/api/v1/events/:id/stream"

// Stream limits and pace (GET /api/v1/events/:id/stream).
const (
	// streamEvery is the shortest time between two messages of one
	// stream: changes in between go out together, so a sell-out does not
	// flood a phone.
	streamEvery = 250 * time.Millisecond
	// streamKeepAlive is how often a quiet stream sends a comment line,
	// so that proxies do not close it.
	streamKeepAlive = 15 * time.Second
	// streamWriteTimeout is how long one message may take to reach a
	// client; a slower one is dropped rather than buffered for.
	streamWriteTimeout = 10 * time.Second
)

// streams counts open streams, per process and per client address, and
// ends them all at shutdown.
type streams struct {
	max, perAddr int

	mu      sync.Mutex
	open    int
	byAddr  map[string]int
	closing chan struct{}
	closed  bool
}

func newStreams(max, perAddr int) *streams {
	return &streams{max: max, perAddr: perAddr, byAddr: map[string]int{}, closing: make(chan struct{})}
}

// enter admits one more stream from addr, or says why not.
func (st *streams) enter(addr string) (leave func(), err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	switch {
	case st.closed:
		return nil, app.Errorf(app.EUNAVAILABLE, "The server is restarting. Reconnect in a moment.")
	case st.byAddr[addr] >= st.perAddr:
		return nil, &app.Error{Code: app.ELIMITED, Reason: "rate_limited", Detail: map[string]any{"retry_after": 10},
			Message: fmt.Sprintf("Your address already has %d live seat maps open. Close some tabs and try again.", st.perAddr)}
	case st.open >= st.max:
		return nil, &app.Error{Code: app.ELIMITED, Reason: "rate_limited", Detail: map[string]any{"retry_after": 10},
			Message: "Too many fans are following seat maps right now. The page still works: reload it to see the seats."}
	}
	st.open++
	st.byAddr[addr]++
	return func() {
		st.mu.Lock()
		defer st.mu.Unlock()
		st.open--
		if st.byAddr[addr]--; st.byAddr[addr] == 0 {
			delete(st.byAddr, addr)
		}
	}, nil
}

// close ends every stream (at shutdown) and admits no more.
func (st *streams) close() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.closed {
		st.closed = true
		close(st.closing)
	}
}

// streamTicket is one ticket in a stream message.
type streamTicket struct {
	ID     int64  `json:"id"`
	Status string `json:"status"`
}

type streamMessage struct {
	Version int64          `json:"version"`
	Tickets []streamTicket `json:"tickets"`
}

// handleAPIStream follows an event's seats as Server-Sent Events: a
// snapshot first (or, with Last-Event-ID, what the client missed), then
// the changes, batched, with id = the event's version.
func (s *Server) handleAPIStream(c echo.Context) error {
	e, section, err := s.eventSection(c)
	if err != nil {
		return err
	}
	counts := false
	switch raw := c.QueryParam("counts"); raw {
	case "":
	case "1", "true":
		counts = true
		if section != 0 {
			return app.Errorf(app.EINVALID, "counts follows the whole event's sections: leave out section.")
		}
	default:
		return app.Errorf(app.EINVALID, "counts must be 1 (the sections' counts instead of seats), not %q", raw)
	}
	if !counts {
		if err := e.CheckListing(section); err != nil {
			return err
		}
	}
	ctx := c.Request().Context()
	leave, err := s.streams.enter(c.RealIP())
	if err != nil {
		return err
	}
	defer leave()
	model, unfollow, err := s.events.Follow(ctx, e.ID)
	if err != nil {
		return err
	}
	defer unfollow()

	w := c.Response()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: pass each message on at once
	w.WriteHeader(http.StatusOK)
	st := &stream{s: s, ctx: ctx, model: model, section: section, out: &streamWriter{c: c, rc: http.NewResponseController(w)}}
	defer st.stop()
	if counts {
		st.counts(e)
	} else {
		st.seats(c.Request().Header.Get("Last-Event-ID"))
	}
	return nil
}

// stream is one open stream of an event's model.
type stream struct {
	s       *Server
	ctx     context.Context
	model   *live.Event
	section int64
	out     *streamWriter

	keepAlive *time.Ticker
	expiry    *time.Timer
}

func (st *stream) stop() {
	if st.keepAlive != nil {
		st.keepAlive.Stop()
		st.expiry.Stop()
	}
}

// wait blocks until the model may show something new to a stream that
// sent version at sent (Unix ms): a change, or a hold that runs out; then
// lets more gather until every after the last message. It sends keep-alive
// comments meanwhile, and reports false when the stream is to end.
func (st *stream) wait(version, sent int64, every time.Duration) bool {
	if st.keepAlive == nil {
		st.keepAlive, st.expiry = time.NewTicker(streamKeepAlive), time.NewTimer(time.Hour)
	}
	for {
		wake := st.model.Changed()
		if st.model.Version() != version { // it changed while the last message went out
			wake = alreadyChanged
		}
		_, next := st.model.Expiring(st.section, sent, sent)
		st.expiry.Reset(untilMillis(next, st.s.now()))
		select {
		case <-st.ctx.Done():
			return false
		case <-st.s.streams.closing:
			return false
		case <-st.keepAlive.C:
			if err := st.out.comment("keep-alive"); err != nil {
				return false
			}
			continue
		case <-wake:
		case <-st.expiry.C:
		}
		select {
		case <-time.After(every - st.s.now().Sub(time.UnixMilli(sent))):
			return true
		case <-st.ctx.Done():
			return false
		case <-st.s.streams.closing:
			return false
		}
	}
}

// seats sends a snapshot (or, after lastEventID, what the client missed),
// then the seats that change, until the stream ends.
func (st *stream) seats(lastEventID string) {
	model, section, out := st.model, st.section, st.out
	now := st.s.now().UnixMilli()
	version, sent := int64(-1), now
	if last, err := strconv.ParseInt(lastEventID, 10, 64); err == nil && last >= 0 {
		if v, changed, ok := model.Since(last, section); ok {
			// What changed since, and every hold that has run out (the
			// client may have seen it held).
			expired, _ := model.Expiring(section, 0, now)
			if err := out.send("seats", v, append(changed, expired...), now); err != nil {
				return
			}
			version = v
		}
	}
	if version < 0 {
		v, tickets := model.Snapshot(section)
		if err := out.send("snapshot", v, tickets, now); err != nil {
			return
		}
		version = v
	}
	for st.wait(version, sent, streamEvery) {
		now := st.s.now().UnixMilli()
		v, changed, ok := model.Since(version, section)
		if !ok {
			v, snapshot := model.Snapshot(section)
			if err := out.send("snapshot", v, snapshot, now); err != nil {
				return
			}
			version, sent = v, now
			continue
		}
		expired, _ := model.Expiring(section, sent, now)
		if len(changed)+len(expired) > 0 {
			if err := out.send("seats", v, append(changed, expired...), now); err != nil {
				return
			}
		}
		version, sent = v, now
	}
}

// countsEvery is the pace of a counts stream: a section overview needs no
// more than a message a second.
const countsEvery = time.Second

// sectionCount is one section in a counts message.
type sectionCount struct {
	ID        int64 `json:"id"`
	Available int   `json:"available"`
	Total     int   `json:"total"`
}

// counts sends every section's seats left, then the sections whose count
// changes, until the stream ends (?counts=1: a large venue's overview).
func (st *stream) counts(e *event.Event) {
	last := map[int64]int{}
	version, sent := int64(-1), st.s.now().UnixMilli()
	for first := true; first || st.wait(version, sent, countsEvery); first = false {
		version = st.model.Version()
		sent = st.s.now().UnixMilli()
		a, err := st.s.events.Availability(st.ctx, e.ID)
		if err != nil {
			return
		}
		msg := struct {
			Version   int64          `json:"version"`
			Available int            `json:"available"`
			Sections  []sectionCount `json:"sections"`
		}{Version: version, Available: a.Available, Sections: []sectionCount{}}
		for _, sec := range e.Sections {
			n := a.Sections[sec.ID]
			if was, ok := last[sec.ID]; !ok || was != n.Available {
				last[sec.ID] = n.Available
				msg.Sections = append(msg.Sections, sectionCount{ID: sec.ID, Available: n.Available, Total: n.Total})
			}
		}
		if !first && len(msg.Sections) == 0 {
			continue
		}
		data, err := json.Marshal(msg)
		if err != nil || st.out.write(fmt.Sprintf("id: %d\nevent: counts\ndata: %s\n\n", version, data)) != nil {
			return
		}
	}
}

// alreadyChanged is a closed channel: a change the stream has not sent.
var alreadyChanged = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// untilMillis is how long from now until the Unix-ms time at (an hour when
// at is 0: nothing to wait for).
func untilMillis(at int64, now time.Time) time.Duration {
	if at == 0 {
		return time.Hour
	}
	return max(time.UnixMilli(at).Sub(now)+time.Millisecond, time.Millisecond)
}

// streamWriter writes Server-Sent Events, each within streamWriteTimeout.
type streamWriter struct {
	c  echo.Context
	rc *http.ResponseController
}

func (w *streamWriter) send(name string, version int64, tickets []live.Ticket, now int64) error {
	msg := streamMessage{Version: version, Tickets: make([]streamTicket, 0, len(tickets))}
	seen := make(map[int64]bool, len(tickets))
	for _, t := range tickets {
		if !seen[t.ID] {
			seen[t.ID] = true
			msg.Tickets = append(msg.Tickets, streamTicket{ID: t.ID, Status: t.Status(now)})
		}
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	return w.write(fmt.Sprintf("id: %d\nevent: %s\ndata: %s\n\n", version, name, data))
}

func (w *streamWriter) comment(text string) error { return w.write(": " + text + "\n\n") }

func (w *streamWriter) write(s string) error {
	_ = w.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	if _, err := w.c.Response().Write([]byte(s)); err != nil {
		return err
	}
	return w.rc.Flush()
}

// closeStreams ends every open stream; the HTTP server calls it when it
// shuts down, so that Shutdown does not wait for them.
func (s *Server) closeStreams() { s.streams.close() }
