package live

import (
	"cmp"
	"slices"
	"sync"
	"time"
)

// Ticket is one ticket as the model knows it.
type Ticket struct {
	ID, SeatID, SectionID int64
	Price                 int64
	status                byte  // 'a', 'r' or 's', as stored
	until                 int64 // a hold's end, Unix milliseconds
}

// Status is the ticket's status as fans see it at now (Unix ms): a hold
// that has run out reads available, whether or not the sweeper has been.
func (t Ticket) Status(now int64) string {
	switch {
	case t.status == 's':
		return StatusSold
	case t.status == 'r' && t.until > now:
		return StatusReserved
	}
	return StatusAvailable
}

// Until is the end of the ticket's hold, Unix ms (0 when not held).
func (t Ticket) Until() int64 { return t.until }

// Held reports whether the ticket is held at now.
func (t Ticket) Held(now int64) bool { return t.status == 'r' && t.until > now }

// change is one step of an event's history: the tickets that changed when
// its version went from from to to (one notification, or a reload that
// covered several).
type change struct {
	from, to int64
	tickets  []int32 // positions in Event.tickets
}

// hold is a held ticket in Event.held: when its hold ends, and where it is.
type hold struct {
	until int64
	i     int32
}

// historyLength is how many steps an event remembers for streams that
// resume; a client further behind gets a fresh snapshot.
const historyLength = 512

// Event is the in-memory model of one event's tickets at a version.
type Event struct {
	id int64

	mu        sync.RWMutex
	version   int64
	tickets   []Ticket           // map order: section, then seat
	position  map[int64]int32    // ticket id → index in tickets
	sections  map[int64][2]int32 // section → its tickets' range [from, to)
	held      []hold             // held tickets, by the end of their hold
	history   []change           // oldest first, at most historyLength
	changed   chan struct{}      // closed (and replaced) at every change
	heard     time.Time          // last notification or load
	pending   []notice           // heard while a reload runs
	reload    bool               // a load runs or is wanted: notices wait in pending
	reloading chan struct{}      // closed when the reload that runs ends
	streams   int                // open streams, which keep the model loaded
	used      time.Time          // last read
}

func newEvent(id int64) *Event {
	return &Event{id: id, changed: make(chan struct{})}
}

// ID is the event's id.
func (e *Event) ID() int64 { return e.id }

// Read calls fn with the event's version and tickets, under a read lock:
// fn must not keep the slice or call into the model.
func (e *Event) Read(fn func(version int64, tickets []Ticket)) { e.ReadSection(0, fn) }

// ReadSection is Read for the tickets of one section (all when 0).
func (e *Event) ReadSection(section int64, fn func(version int64, tickets []Ticket)) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	fn(e.version, e.in(section))
}

// Version is the version the model is at.
func (e *Event) Version() int64 {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.version
}

// Changed returns a channel closed at the next change.
func (e *Event) Changed() <-chan struct{} {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.changed
}

// replace puts a freshly loaded state in place and records what differs
// from the state before as one step of history. It reports false when the
// load is older than what the model has already (nothing changes then).
func (e *Event) replace(version int64, tickets []Ticket, now time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.heard = now
	if e.position != nil && version < e.version {
		return false
	}
	position := make(map[int64]int32, len(tickets))
	for i, t := range tickets {
		position[t.ID] = int32(i)
	}
	if e.position == nil { // first load
		e.version, e.tickets, e.position = version, tickets, position
		e.index()
		return true
	}
	var diff []int32
	for i, t := range tickets {
		if old, ok := e.position[t.ID]; !ok || e.tickets[old] != t {
			diff = append(diff, int32(i))
		}
	}
	if version == e.version && diff == nil {
		return true
	}
	// Positions of earlier steps may mean other tickets now: forget them.
	e.history = append(e.history[:0], change{from: e.version, to: version, tickets: diff})
	e.version, e.tickets, e.position = version, tickets, position
	e.index()
	e.signal()
	return true
}

// index finds each section's range of tickets and orders the held ones by
// the end of their hold, after a load.
func (e *Event) index() {
	e.sections = map[int64][2]int32{}
	e.held = e.held[:0]
	for i, t := range e.tickets {
		r, ok := e.sections[t.SectionID]
		if !ok {
			r[0] = int32(i)
		}
		r[1] = int32(i) + 1
		e.sections[t.SectionID] = r
		if t.status == 'r' {
			e.held = append(e.held, hold{t.until, int32(i)})
		}
	}
	slices.SortFunc(e.held, func(a, b hold) int { return cmp.Compare(a.until, b.until) })
}

// rehold moves ticket i in the held order after its status or hold changed.
func (e *Event) rehold(i int32, was Ticket) {
	if was.status == 'r' {
		at, _ := slices.BinarySearchFunc(e.held, was.until, func(h hold, until int64) int { return cmp.Compare(h.until, until) })
		for j := at; j < len(e.held) && e.held[j].until == was.until; j++ {
			if e.held[j].i == i {
				e.held = slices.Delete(e.held, j, j+1)
				break
			}
		}
	}
	if t := e.tickets[i]; t.status == 'r' {
		at, _ := slices.BinarySearchFunc(e.held, t.until, func(h hold, until int64) int { return cmp.Compare(h.until, until) })
		e.held = slices.Insert(e.held, at, hold{t.until, i})
	}
}

// in returns the tickets of section (all when 0).
func (e *Event) in(section int64) []Ticket {
	if section == 0 {
		return e.tickets
	}
	r := e.sections[section]
	return e.tickets[r[0]:r[1]]
}

// apply applies notice n if it is the next version. It reports false on a
// gap (a notification was missed: the caller reloads); an old notice is
// ignored.
func (e *Event) apply(n notice, now time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.heard = now
	if e.reload {
		e.pending = append(e.pending, n)
		return true
	}
	return e.applyLocked(n)
}

func (e *Event) applyLocked(n notice) bool {
	switch {
	case n.Version <= e.version:
		return true
	case n.Version != e.version+1:
		e.reload = true
		return false
	}
	step := change{from: e.version, to: n.Version, tickets: make([]int32, 0, len(n.Tickets))}
	for _, c := range n.Tickets {
		i, ok := e.position[c.ID]
		if !ok { // a ticket the load did not see: only a reload can place it
			e.reload = true
			return false
		}
		t := &e.tickets[i]
		was := *t
		t.status, t.until = c.Status, c.Until
		e.rehold(i, was)
		step.tickets = append(step.tickets, i)
	}
	if len(e.history) == historyLength {
		e.history = append(e.history[:0], e.history[1:]...)
	}
	e.history = append(e.history, step)
	e.version = n.Version
	e.signal()
	return true
}

// reloaded ends a reload: notices heard meanwhile that are newer than the
// load are applied. It reports false when they leave a gap.
func (e *Event) reloaded() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	pending := e.pending
	e.pending, e.reload = nil, false
	for _, n := range pending {
		if !e.applyLocked(n) {
			return false
		}
	}
	return true
}

func (e *Event) signal() {
	close(e.changed)
	e.changed = make(chan struct{})
}

// Since returns the tickets (of section, or all when 0) that changed after
// version since, as of the model's version, which it also returns. ok is
// false when the history no longer reaches back to since.
func (e *Event) Since(since, section int64) (version int64, tickets []Ticket, ok bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if since == e.version {
		return e.version, nil, true
	}
	if since > e.version {
		return e.version, nil, false
	}
	start := len(e.history)
	for start > 0 && e.history[start-1].to > since {
		start--
	}
	// since must be where a step begins: a reload's step covers several
	// versions, and what changed within it and back is not known.
	if start == len(e.history) || e.history[start].from != since {
		return e.version, nil, false
	}
	seen := map[int32]bool{}
	for _, step := range e.history[start:] {
		for _, i := range step.tickets {
			if !seen[i] && (section == 0 || e.tickets[i].SectionID == section) {
				seen[i] = true
				tickets = append(tickets, e.tickets[i])
			}
		}
	}
	return e.version, tickets, true
}

// Snapshot returns the version and every ticket (of section, or all when
// 0), copied.
func (e *Event) Snapshot(section int64) (int64, []Ticket) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.version, slices.Clone(e.in(section))
}

// Expiring returns the tickets (of section, or all when 0) whose hold runs
// out in (after, upTo], Unix ms, and the end of the next hold after upTo
// (0 when none).
func (e *Event) Expiring(section, after, upTo int64) (expired []Ticket, next int64) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	at, _ := slices.BinarySearchFunc(e.held, after+1, func(h hold, until int64) int { return cmp.Compare(h.until, until) })
	for _, h := range e.held[at:] {
		t := e.tickets[h.i]
		if section != 0 && t.SectionID != section {
			continue
		}
		if h.until > upTo {
			return expired, h.until
		}
		expired = append(expired, t)
	}
	return expired, 0
}

// watch keeps the model loaded while a stream follows it (Feed.Watch);
// call the returned func when the stream ends.
func (e *Event) watch() (unwatch func()) {
	e.mu.Lock()
	e.streams++
	e.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			e.mu.Lock()
			e.streams--
			e.mu.Unlock()
		})
	}
}
