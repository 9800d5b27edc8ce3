package web

import (
	"fmt"
	"strings"

	"github.com/boxoffice/boxoffice/app/event"
	"github.com/boxoffice/boxoffice/templates"
)

// seatNames names the seats of tickets ids that the page shows, as a fan
// reads them on the map: "Stalls, row C, seat 12 and Stalls, row C, seat
// 13". It gives "" when the page shows none of them (a section overview).
func seatNames(p templates.EventPage, ids []int64) string {
	want := make(map[int64]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	var names []string
	for _, s := range p.Seats {
		if want[s.TicketID] {
			name := fmt.Sprintf("row %s, seat %d", s.Row, s.Number)
			if sec := p.Event.Section(s.SectionID); sec != nil {
				name = templates.SectionName(sec.Name) + ", " + name
			}
			names = append(names, name)
		}
	}
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], "; ") + " and " + names[len(names)-1]
}

// reselect ticks the seats of ids that are still free on the page, as a
// fan comes back to the map (from signing in, or a hold that ran out), and
// says which are not.
func reselect(p *templates.EventPage, ids map[int64]bool) {
	if len(ids) == 0 {
		return
	}
	var gone []int64
	p.Selected = map[int64]bool{}
	for _, s := range p.Seats {
		if !ids[s.TicketID] {
			continue
		}
		if s.Status == event.StatusAvailable {
			p.Selected[s.TicketID] = true
		} else {
			gone = append(gone, s.TicketID)
		}
	}
	if names := seatNames(*p, gone); names != "" && p.Message == "" {
		p.Message = fmt.Sprintf("Someone else has taken %s since you chose %s.", names, them(len(gone)))
		if len(p.Selected) > 0 {
			p.Message += " Your other seats are ticked again."
		}
	}
}

func them(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}
