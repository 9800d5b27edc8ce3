package templates

import (
	"context"
	"io"
	"strconv"
	"time"

	"github.com/a-h/templ"

	"github.com/boxoffice/boxoffice/app/locale"
)

// What search engines and link previews read of an event page: a summary
// for the meta description, Open Graph and Twitter card tags with the
// event's picture (web's /event/:id/og.png), a canonical link, and the
// event as schema.org data (JSON-LD) for Google's event results. The
// event page puts them in its head:
//
//	@Layout(Page{Title: p.Event.Name, Description: EventDescription(ctx, p), Head: EventHead(ctx, p)})

type baseURLKey struct{}

// WithBaseURL returns ctx carrying the site's address as fans reach it
// ("https://tickets.example.com", no trailing slash), which the links that
// leave the page (canonical, og:url, og:image, JSON-LD) need whole.
func WithBaseURL(ctx context.Context, base string) context.Context {
	return context.WithValue(ctx, baseURLKey{}, base)
}

// absolute is path on the site, with its address when ctx has one.
func absolute(ctx context.Context, path string) string {
	base, _ := ctx.Value(baseURLKey{}).(string)
	return base + path
}

// OGImagePath is the address of event id's picture for link previews in
// language code (which its words and date are written in).
func OGImagePath(id int64, code string) string {
	return eventURL(id) + "/og.png?hl=" + code
}

// OGImageWidth and OGImageHeight are the size of an event's picture: the
// 1.91:1 that link previews show whole.
const (
	OGImageWidth  = 1200
	OGImageHeight = 630
)

// EventDescription is an event page's summary for search results and link
// previews: "Tickets for X at Venue, City, on Sat 12 Dec 2026. From €85.00."
func EventDescription(ctx context.Context, p EventPage) string {
	e := p.Event
	args := []any{"Event", e.Name, "Venue", e.Venue.Name, "City", e.Venue.City,
		"Date", lang(ctx).Date(e.StartsAt, e.Location())}
	switch a := p.Availability; {
	case e.Status == "cancelled":
		return tr(ctx, "seo.summary_cancelled", args...)
	case a == nil || a.Total == 0:
		return tr(ctx, "seo.summary_no_price", args...)
	case a.Available == 0:
		return tr(ctx, "seo.summary_sold_out", args...)
	default:
		return tr(ctx, "seo.summary", append(args, "Price", money(ctx, a.MinPrice, e.Currency))...)
	}
}

// EventHead is what an event page adds to its head: the canonical link,
// Open Graph and Twitter card tags, and the event as JSON-LD. A section's
// page is a view of its event: it names the event page as canonical.
func EventHead(ctx context.Context, p EventPage) templ.Component {
	e := p.Event
	page := absolute(ctx, eventURL(e.ID))
	image := absolute(ctx, OGImagePath(e.ID, lang(ctx).Code))
	title := tr(ctx, "seo.title", "Event", e.Name, "Venue", e.Venue.Name, "City", e.Venue.City,
		"Date", lang(ctx).Date(e.StartsAt, e.Location()))
	summary := EventDescription(ctx, p)
	alt := tr(ctx, "seo.image_alt", "Event", e.Name, "Venue", e.Venue.Name)
	tags := templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		var b []byte
		b = append(b, `<link rel="canonical" href="`...)
		b = append(b, templ.EscapeString(page)...)
		b = append(b, `"/>`...)
		for _, m := range [][3]string{
			{"property", "og:type", "website"},
			{"property", "og:site_name", "Boxoffice"},
			{"property", "og:title", title},
			{"property", "og:description", summary},
			{"property", "og:url", page},
			{"property", "og:locale", ogLocale(lang(ctx))},
			{"property", "og:image", image},
			{"property", "og:image:type", "image/png"},
			{"property", "og:image:width", strconv.Itoa(OGImageWidth)},
			{"property", "og:image:height", strconv.Itoa(OGImageHeight)},
			{"property", "og:image:alt", alt},
			{"name", "twitter:card", "summary_large_image"},
			{"name", "twitter:title", title},
			{"name", "twitter:description", summary},
			{"name", "twitter:image", image},
			{"name", "twitter:image:alt", alt},
		} {
			b = append(b, "<meta "+m[0]+`="`...)
			b = append(b, m[1]...)
			b = append(b, `" content="`...)
			b = append(b, templ.EscapeString(m[2])...)
			b = append(b, `"/>`...)
		}
		_, err := w.Write(b)
		return err
	})
	// encoding/json writes <, > and & as \u003c…, so that no name can
	// close the script element.
	data := templ.JSONScript("event-jsonld", EventJSONLD(ctx, p)).WithType("application/ld+json")
	return templ.Join(tags, data)
}

// ogLocale is a language as Open Graph writes it: en_US, pt_BR, ja_JP.
func ogLocale(l *locale.Lang) string {
	base, _ := l.Tag.Base()
	region, _ := l.Tag.Region()
	return base.String() + "_" + region.String()
}

// schema.org's Event as Google reads it for event results:
// https://developers.google.com/search/docs/appearance/structured-data/event

// JSONLDEvent is an event as schema.org data.
type JSONLDEvent struct {
	Context             string            `json:"@context"`
	Type                string            `json:"@type"`
	Name                string            `json:"name"`
	URL                 string            `json:"url"`
	StartDate           string            `json:"startDate"`
	EndDate             string            `json:"endDate,omitempty"`
	DoorTime            string            `json:"doorTime,omitempty"`
	EventStatus         string            `json:"eventStatus"`
	EventAttendanceMode string            `json:"eventAttendanceMode"`
	Location            JSONLDPlace       `json:"location"`
	Performer           []JSONLDAgent     `json:"performer,omitempty"`
	Image               string            `json:"image"`
	Description         string            `json:"description"`
	Organizer           *JSONLDAgent      `json:"organizer,omitempty"`
	Offers              *JSONLDAggregated `json:"offers,omitempty"`
}

// JSONLDPlace is a venue.
type JSONLDPlace struct {
	Type    string        `json:"@type"`
	Name    string        `json:"name"`
	URL     string        `json:"url,omitempty"`
	Address JSONLDAddress `json:"address"`
}

// JSONLDAddress is a venue's postal address.
type JSONLDAddress struct {
	Type            string `json:"@type"`
	StreetAddress   string `json:"streetAddress,omitempty"`
	AddressLocality string `json:"addressLocality"`
	AddressRegion   string `json:"addressRegion,omitempty"`
	AddressCountry  string `json:"addressCountry"` // ISO 3166-1 alpha-2
}

// JSONLDAgent is a performer or an organiser: a Person, PerformingGroup,
// SportsTeam or Organization.
type JSONLDAgent struct {
	Type string `json:"@type"`
	Name string `json:"name"`
	URL  string `json:"url,omitempty"`
}

// JSONLDAggregated is what tickets cost, from the cheapest to the dearest
// left, and whether any are left.
type JSONLDAggregated struct {
	Type          string `json:"@type"`
	LowPrice      string `json:"lowPrice"`
	HighPrice     string `json:"highPrice"`
	PriceCurrency string `json:"priceCurrency"`
	OfferCount    int    `json:"offerCount"`
	Availability  string `json:"availability"`
	URL           string `json:"url"`
	ValidFrom     string `json:"validFrom,omitempty"`
}

const schema = "https://schema.org/"

// performerTypes is the schema.org type of each kind of performer.
var performerTypes = map[string]string{
	"artist": "Person", "comedian": "Person",
	"band": "PerformingGroup", "company": "PerformingGroup",
	"team": "SportsTeam",
}

// limitedShare is the share of its tickets below which an event reads as
// having few left (LimitedAvailability).
const limitedShare = 0.1

// EventJSONLD is page p's event as schema.org data. A cancelled event
// keeps its date (as Google asks) and offers nothing; the organiser is
// left out while events do not say who organises them.
func EventJSONLD(ctx context.Context, p EventPage) JSONLDEvent {
	e := p.Event
	page := absolute(ctx, eventURL(e.ID))
	out := JSONLDEvent{
		Context:             "https://schema.org",
		Type:                "Event",
		Name:                e.Name,
		URL:                 page,
		StartDate:           isoLocal(e.StartsAt, e.Location()),
		EventStatus:         schema + "EventScheduled",
		EventAttendanceMode: schema + "OfflineEventAttendanceMode",
		Location: JSONLDPlace{Type: "Place", Name: e.Venue.Name, URL: absolute(ctx, venueURL(e.Venue.ID)),
			Address: JSONLDAddress{Type: "PostalAddress", StreetAddress: e.Venue.Address, AddressLocality: e.Venue.City,
				AddressRegion: e.Venue.Region, AddressCountry: e.Venue.Country}},
		Image:       absolute(ctx, OGImagePath(e.ID, lang(ctx).Code)),
		Description: e.Description,
	}
	if out.Description == "" {
		out.Description = EventDescription(ctx, p)
	}
	if e.EndsAt != nil {
		out.EndDate = isoLocal(*e.EndsAt, e.Location())
	}
	if e.DoorsAt != nil {
		out.DoorTime = isoLocal(*e.DoorsAt, e.Location())
	}
	for _, perf := range e.Performers {
		typ := performerTypes[perf.Kind]
		if typ == "" {
			typ = "PerformingGroup"
		}
		out.Performer = append(out.Performer, JSONLDAgent{Type: typ, Name: perf.Name, URL: absolute(ctx, performerURL(perf.ID))})
	}
	if e.Status == "cancelled" {
		out.EventStatus = schema + "EventCancelled"
		return out
	}
	if a := p.Availability; a != nil && a.Total > 0 {
		o := &JSONLDAggregated{Type: "AggregateOffer", LowPrice: decimal(a.MinPrice, e.Currency), HighPrice: decimal(a.MaxPrice, e.Currency),
			PriceCurrency: e.Currency, OfferCount: a.Available, Availability: schema + "InStock", URL: page}
		switch {
		case a.Available == 0:
			o.Availability = schema + "SoldOut"
		case float64(a.Available) < limitedShare*float64(a.Total):
			o.Availability = schema + "LimitedAvailability"
		}
		if e.OnSaleAt != nil {
			o.ValidFrom = isoLocal(*e.OnSaleAt, e.Location())
		}
		out.Offers = o
	}
	return out
}

// isoLocal is t in ISO 8601 with the offset of loc (the venue's zone),
// as schema.org dates are written: 2026-12-12T20:00:00+01:00.
func isoLocal(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02T15:04:05-07:00")
}

// decimal is an amount in minor units as a price in major units, without
// grouping: "85.00", "12000" for JPY.
func decimal(amount int64, currency string) string {
	exp := locale.Exponent(currency)
	if exp == 0 {
		return strconv.FormatInt(amount, 10)
	}
	scale := int64(1)
	for range exp {
		scale *= 10
	}
	neg := ""
	if amount < 0 {
		neg, amount = "-", -amount
	}
	frac := strconv.FormatInt(amount%scale, 10)
	for len(frac) < exp {
		frac = "0" + frac
	}
	return neg + strconv.FormatInt(amount/scale, 10) + "." + frac
}
