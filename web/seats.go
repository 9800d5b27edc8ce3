package web

import (
	"strings"

	"github.com/boxoffice/boxoffice/app/event"
	"github.com/boxoffice/boxoffice/app/locale"
	"github.com/boxoffice/boxoffice/templates"
)

// seatNames names the seats of tickets ids that the page shows, as a fan
// reads them on the map, in the page's language (p.Lang): "Stalls, row C,
// seat 12 and Stalls, row C, seat 13". It gives "" when the page shows
// none of them (a section overview).
func seatNames(p templates.EventPage, ids []int64) string {
	l := pageLang(&p)
	want := make(map[int64]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	var names []string
	for _, s := range p.Seats {
		if want[s.TicketID] {
			section := ""
			if sec := p.Event.Section(s.SectionID); sec != nil {
				section = sec.Name
			}
			names = append(names, seatName(l, section, s))
		}
	}
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return l.T("seatmap.seat_list", "Seats", strings.Join(names[:len(names)-1], l.T("seatmap.js.separator")), "Last", names[len(names)-1])
}

// seatName is a seat's name; one whose section the event lacks (it does
// not happen) goes without.
func seatName(l *locale.Lang, section string, s event.Seat) string {
	if section == "" {
		return l.T("seatmap.seat_no_section", "Row", s.Row, "Number", s.Number)
	}
	return templates.SeatName(l, section, s.Row, s.Number)
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
		id := "seatmap.taken_since"
		if len(p.Selected) > 0 {
			id = "seatmap.taken_since_others_ticked"
		}
		p.Message = pageLang(p).N(id, len(gone), "Seats", names)
	}
}

// pageLang is the language p speaks.
func pageLang(p *templates.EventPage) *locale.Lang {
	if p.Lang == nil {
		return locale.Default().English()
	}
	return p.Lang
}
