package web

import (
	"bytes"
	"image/png"
	"math"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice/app/event"
	"github.com/boxoffice/boxoffice/app/locale"
)

// stadium is an event in a bowl of n sections around a pitch, every
// third one sold out.
func stadium(n int) (*event.Event, *event.Availability) {
	e := &event.Event{ID: 7, Name: "Northbridge United vs Harbour City FC", Type: "sports", Status: "on_sale",
		StartsAt: time.Date(2026, 12, 12, 19, 45, 0, 0, time.UTC), Timezone: "Europe/London", Currency: "GBP",
		Venue: event.Venue{Name: "Northbridge Stadium", City: "Manchester", Country: "GB", MapWidth: 2000, MapHeight: 1400,
			Stage: []event.Point{{X: 700, Y: 450}, {X: 1300, Y: 450}, {X: 1300, Y: 950}, {X: 700, Y: 950}}}}
	a := &event.Availability{Sections: map[int64]event.SectionAvailability{}, MinPrice: 4500, MaxPrice: 12000}
	for i := range n {
		t0, t1 := 2*math.Pi*float64(i)/float64(n), 2*math.Pi*float64(i+1)/float64(n)
		var outline []event.Point
		for _, t := range []float64{t0, t1} {
			outline = append(outline, event.Point{X: 1000 + 420*1.4*math.Cos(t), Y: 700 + 420*math.Sin(t)})
		}
		for _, t := range []float64{t1, t0} {
			outline = append(outline, event.Point{X: 1000 + 640*1.4*math.Cos(t), Y: 700 + 640*math.Sin(t)})
		}
		id := int64(i + 1)
		e.Sections = append(e.Sections, event.Section{ID: id, Name: "S", Outline: outline})
		sa := event.SectionAvailability{SectionID: id, Total: 400}
		if i%3 != 0 {
			sa.Available = 120
		}
		a.Sections[id] = sa
		a.Total += sa.Total
		a.Available += sa.Available
	}
	return e, a
}

// The picture of a stadium draws in well under 50 ms on a free core
// (BenchmarkOGImage: about 27 ms, two thirds of it PNG encoding); the test
// only catches a drawing gone far slower, as tests share the machine.
func TestOGImageDrawsAStadium(t *testing.T) {
	e, a := stadium(160)
	l, _ := locale.Default().Get("es")
	if _, err := drawOGImage(e, a, l); err != nil { // the fonts are parsed once
		t.Fatal(err)
	}
	start := time.Now()
	b, err := drawOGImage(e, a, l)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 500*time.Millisecond {
		t.Errorf("drawing a stadium took %v", took)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if r := img.Bounds(); r.Dx() != 1200 || r.Dy() != 630 {
		t.Errorf("picture is %v", r)
	}
	// A section with tickets is in the brand's colour, a sold-out one
	// grey; the ETag changes when a section sells out.
	before := ogETag(e, a, l)
	sa := a.Sections[2]
	sa.Available = 0
	a.Sections[2] = sa
	if ogETag(e, a, l) == before {
		t.Error("the ETag stays when a section sells out")
	}
}

func BenchmarkOGImage(b *testing.B) {
	e, a := stadium(160)
	l, _ := locale.Default().Get("es")
	for b.Loop() {
		if _, err := drawOGImage(e, a, l); err != nil {
			b.Fatal(err)
		}
	}
}

// SetSitemapLimit lowers how many addresses a sitemap file lists, for
// TestSitemapIndex (which must not run in parallel), until restored.
func SetSitemapLimit(n int) (restore func()) {
	was := sitemapLimit
	sitemapLimit = n
	return func() { sitemapLimit = was }
}

func TestOGETagMatching(t *testing.T) {
	for _, c := range []struct {
		header, tag string
		want        bool
	}{
		{`"a"`, `"a"`, true}, {`W/"a"`, `"a"`, true}, {`"b", "a"`, `"a"`, true}, {`*`, `"a"`, true}, {`"b"`, `"a"`, false}, {``, `"a"`, false},
	} {
		if got := etagMatches(c.header, c.tag); got != c.want {
			t.Errorf("etagMatches(%q, %q) = %v", c.header, c.tag, got)
		}
	}
}
