package web

import (
	"bytes"
	"encoding/binary"
	"hash/fnv"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"

	"github.com/boxoffice/boxoffice/app/event"
	"github.com/boxoffice/boxoffice/app/locale"
	"github.com/boxoffice/boxoffice/templates"
)

// An event's picture for link previews (og:image): 1200×630, its name,
// date and venue on the left, the venue's map on the right with the
// sections that still have tickets in the brand's colour. It is drawn
// with the standard image packages and golang.org/x/image (fonts, and
// vector for anti-aliased polygons), in the Go fonts, which write Latin,
// Greek and Cyrillic: a name they cannot write (Japanese) is left out
// rather than drawn as boxes; the page's title and og:title carry it.

// ogVersion changes whenever the drawing does, so that ETags do too.
const ogVersion = 1

// ogMaxAge is how long caches may keep a picture: what it shows of the
// sections left may be that old.
const ogMaxAge = time.Hour

func (s *Server) handleOGImage(c echo.Context) error {
	id, err := pathID(c, "eventId", "event")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	e, err := s.events.FindEventByID(ctx, id)
	if err != nil {
		return err
	}
	a, err := s.events.Availability(ctx, id)
	if err != nil {
		return err
	}
	// The picture's language is in its address (the page's, hl=): it
	// varies by nothing else.
	l, ok := locale.Default().Get(c.QueryParam("hl"))
	if !ok {
		l = locale.Default().ForCountry(e.Venue.Country)
	}
	tag := ogETag(e, a, l)
	public(c, ogMaxAge)
	c.Response().Header().Set("ETag", tag)
	if etagMatches(c.Request().Header.Get("If-None-Match"), tag) {
		return c.NoContent(http.StatusNotModified)
	}
	b, ok := ogPictures.get(tag)
	if !ok {
		if b, err = drawOGImage(e, a, l); err != nil {
			return err
		}
		ogPictures.put(tag, b)
	}
	return c.Blob(http.StatusOK, "image/png", b)
}

// ogPictures keeps the pictures drawn lately, by ETag: a picture is the
// same for everyone who asks, and drawing one takes a core some 30 ms.
var ogPictures = &pictureCache{m: map[string][]byte{}}

// pictureCache holds at most 256 pictures (some 20 MB); when full, it
// starts again empty.
type pictureCache struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (p *pictureCache) get(tag string) ([]byte, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b, ok := p.m[tag]
	return b, ok
}

func (p *pictureCache) put(tag string, b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.m) >= 256 {
		clear(p.m)
	}
	p.m[tag] = b
}

// ogETag names what the picture shows: the event's words and map, which
// sections have tickets left, its lowest price, and the language.
func ogETag(e *event.Event, a *event.Availability, l *locale.Lang) string {
	h := fnv.New64a()
	var buf [8]byte
	num := func(v int64) {
		binary.LittleEndian.PutUint64(buf[:], uint64(v))
		h.Write(buf[:])
	}
	str := func(s string) {
		num(int64(len(s)))
		h.Write([]byte(s))
	}
	pts := func(p []event.Point) {
		num(int64(len(p)))
		for _, q := range p {
			num(int64(math.Float64bits(q.X)))
			num(int64(math.Float64bits(q.Y)))
		}
	}
	num(ogVersion)
	str(l.Code)
	num(e.ID)
	for _, s := range []string{e.Name, e.Type, e.Timezone, e.Status, e.Currency, e.Venue.Name, e.Venue.City} {
		str(s)
	}
	num(e.StartsAt.Unix())
	num(int64(e.Venue.MapWidth))
	num(int64(e.Venue.MapHeight))
	pts(e.Venue.Stage)
	for _, sec := range e.Sections {
		num(sec.ID)
		pts(sec.Outline)
		if a.Sections[sec.ID].Available > 0 {
			num(1)
		} else {
			num(0)
		}
	}
	num(int64(a.Available))
	num(a.MinPrice)
	return `"og` + strconv.Itoa(ogVersion) + "-" + strconv.FormatUint(h.Sum64(), 36) + `"`
}

// etagMatches reports whether an If-None-Match header names tag.
func etagMatches(header, tag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == tag || t == "*" {
			return true
		}
	}
	return false
}

// The picture's colours: the site's (static/app.css).
var (
	ogInk      = color.RGBA{0x16, 0x14, 0x1f, 0xff}
	ogWash     = color.RGBA{0xf6, 0xf5, 0xfa, 0xff}
	ogBrand    = color.RGBA{0x5b, 0x2b, 0xe0, 0xff}
	ogBrandLit = color.RGBA{0xb9, 0xa8, 0xff, 0xff}
	ogStage    = color.RGBA{0x2b, 0x28, 0x38, 0xff}
	ogGone     = color.RGBA{0xdc, 0xd9, 0xe5, 0xff}
	ogSoft     = color.RGBA{0x5c, 0x59, 0x70, 0xff}
	ogPale     = color.RGBA{0xc9, 0xc5, 0xd8, 0xff}
	ogBad      = color.RGBA{0xb3, 0x26, 0x1e, 0xff}
	ogWhite    = color.RGBA{0xff, 0xff, 0xff, 0xff}
)

// The layout: a dark panel of words on the left, the map on the right.
const (
	ogPanel   = 600 // the words' panel's width
	ogPad     = 60
	ogTextW   = ogPanel - 2*ogPad
	ogMapPad  = 44
	ogLegendY = 590 // the legend's baseline
)

// ogFonts are the Go fonts, parsed once. A parsed font is safe to share;
// the faces drawn with are not, and are made for each picture.
var ogFonts = sync.OnceValues(func() (fonts [2]*opentype.Font, err error) {
	if fonts[0], err = opentype.Parse(goregular.TTF); err != nil {
		return fonts, err
	}
	fonts[1], err = opentype.Parse(gobold.TTF)
	return fonts, err
})

// ogPainter draws one picture.
type ogPainter struct {
	img   *image.RGBA
	fonts [2]*opentype.Font
	faces map[[2]int]font.Face // by bold, size
	buf   sfnt.Buffer
	z     vector.Rasterizer
}

func (p *ogPainter) face(bold bool, size int) font.Face {
	b := 0
	if bold {
		b = 1
	}
	key := [2]int{b, size}
	if f, ok := p.faces[key]; ok {
		return f
	}
	f, err := opentype.NewFace(p.fonts[b], &opentype.FaceOptions{Size: float64(size), DPI: 72, Hinting: font.HintingFull})
	if err != nil { // only for options out of range
		panic(err)
	}
	p.faces[key] = f
	return f
}

func (p *ogPainter) close() {
	for _, f := range p.faces {
		f.Close()
	}
}

// writable reports whether the font has a glyph for every letter of s.
func (p *ogPainter) writable(s string) bool {
	for _, r := range s {
		if unicode.IsSpace(r) {
			continue
		}
		if i, err := p.fonts[0].GlyphIndex(&p.buf, r); err != nil || i == 0 {
			return false
		}
	}
	return true
}

// either is s when the font writes it, else the English en, else "".
func (p *ogPainter) either(s, en string) string {
	switch {
	case p.writable(s):
		return s
	case p.writable(en):
		return en
	}
	return ""
}

func (p *ogPainter) text(s string, face font.Face, col color.Color, x, y int) {
	d := font.Drawer{Dst: p.img, Src: image.NewUniform(col), Face: face, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// wrap breaks s into lines of at most width, at most max of them; ok is
// false when s did not fit and the last line ends in an ellipsis.
func wrap(face font.Face, s string, width, max int) (lines []string, ok bool) {
	w := fixed.I(width)
	fits := func(t string) bool { return font.MeasureString(face, t) <= w }
	line := ""
	for _, word := range strings.Fields(s) {
		if line != "" && fits(line+" "+word) {
			line += " " + word
			continue
		}
		if line != "" {
			lines = append(lines, line)
		}
		line = word
		for !fits(line) { // a word longer than a line: break it
			cut := len(line)
			for cut > 0 && !fits(line[:cut]) {
				_, n := utf8.DecodeLastRuneInString(line[:cut])
				cut -= n
			}
			if cut == 0 {
				_, cut = utf8.DecodeRuneInString(line)
			}
			lines = append(lines, line[:cut])
			line = line[cut:]
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	if len(lines) <= max {
		return lines, true
	}
	lines = lines[:max]
	last := lines[max-1]
	for last != "" && !fits(last+"…") {
		_, n := utf8.DecodeLastRuneInString(last)
		last = last[:len(last)-n]
	}
	lines[max-1] = strings.TrimRight(last, " ,.;:·–-") + "…"
	return lines, false
}

// drawOGImage draws event e's picture, with what is left of it (a), in
// language l.
func drawOGImage(e *event.Event, a *event.Availability, l *locale.Lang) ([]byte, error) {
	fonts, err := ogFonts()
	if err != nil {
		return nil, err
	}
	en := locale.Default().English()
	p := &ogPainter{img: image.NewRGBA(image.Rect(0, 0, templates.OGImageWidth, templates.OGImageHeight)),
		fonts: fonts, faces: map[[2]int]font.Face{}}
	defer p.close()
	draw.Draw(p.img, p.img.Bounds(), image.NewUniform(ogWash), image.Point{}, draw.Src)
	draw.Draw(p.img, image.Rect(0, 0, ogPanel, templates.OGImageHeight), image.NewUniform(ogInk), image.Point{}, draw.Src)

	cancelled := e.Status == "cancelled"
	p.drawMap(e, a, cancelled)
	if !cancelled {
		p.legend(l, en)
	}

	// The words, top down: brand and type; name; date; venue and city.
	y := ogPad + 28
	eyebrow := "Boxoffice"
	if t := p.either(l.T("type."+e.Type), en.T("type."+e.Type)); t != "" && e.Type != "" {
		eyebrow += "  ·  " + t
	}
	p.text(eyebrow, p.face(true, 26), ogBrandLit, ogPad, y)
	y += 36

	when := p.either(l.DateTime(e.StartsAt, e.Location()), en.DateTime(e.StartsAt, e.Location()))
	venue := ""
	if p.writable(e.Venue.Name) {
		venue = e.Venue.Name
	}
	city := ""
	if p.writable(e.Venue.City) {
		city = e.Venue.City
	}
	venueLines, _ := wrap(p.face(true, 30), venue, ogTextW, 2)
	// The room the name has: what the date, venue, city and badge leave.
	const dateGap, venueGap, line = 64, 16, 40
	badgeTop := templates.OGImageHeight - ogPad - 56
	room := badgeTop - 28 - dateGap - venueGap - line*len(venueLines) - y
	if city != "" {
		room -= line
	}
	if p.writable(e.Name) {
		var lines []string
		var size int
		for _, size = range []int{64, 56, 48, 42} {
			fitted, ok := wrap(p.face(true, size), e.Name, ogTextW, 3)
			lines = fitted
			if ok && len(fitted)*size*115/100 <= room {
				break
			}
		}
		lead := size * 115 / 100
		for len(lines) > 1 && len(lines)*lead > room {
			lines, _ = wrap(p.face(true, size), e.Name, ogTextW, len(lines)-1)
		}
		for _, line := range lines {
			y += lead
			p.text(line, p.face(true, size), ogWhite, ogPad, y)
		}
	}
	y += dateGap
	p.text(when, p.face(false, 28), ogPale, ogPad, y)
	y += venueGap
	for _, l := range venueLines {
		y += line
		p.text(l, p.face(true, 30), ogWhite, ogPad, y)
	}
	if city != "" {
		y += line
		p.text(city, p.face(false, 28), ogPale, ogPad, y)
	}

	// The badge: what tickets cost, or that there are none.
	badge, col := p.either(l.T("seo.image_from", "Price", l.Money(a.MinPrice, e.Currency)),
		en.T("seo.image_from", "Price", en.Money(a.MinPrice, e.Currency))), ogBrand
	switch {
	case cancelled:
		badge, col = p.either(l.T("seo.image_cancelled"), en.T("seo.image_cancelled")), ogBad
	case a.Total == 0:
		badge = ""
	case a.Available == 0:
		badge, col = p.either(l.T("seo.image_sold_out"), en.T("seo.image_sold_out")), ogBad
	}
	if badge != "" {
		f := p.face(true, 28)
		w := font.MeasureString(f, badge).Ceil()
		p.fillRoundRect(image.Rect(ogPad, badgeTop, ogPad+w+48, badgeTop+56), 28, col)
		p.text(badge, f, ogWhite, ogPad+24, badgeTop+38)
	}

	var out bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&out, p.img); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// legend says what the map's colours mean, under it.
func (p *ogPainter) legend(l, en *locale.Lang) {
	x := ogPanel + ogMapPad
	f := p.face(false, 22)
	for _, k := range []struct {
		col color.RGBA
		id  string
	}{{ogBrand, "seo.image_available"}, {ogGone, "seo.image_sold_out"}} {
		text := p.either(l.T(k.id), en.T(k.id))
		draw.Draw(p.img, image.Rect(x, ogLegendY-18, x+22, ogLegendY+4), image.NewUniform(k.col), image.Point{}, draw.Src)
		p.text(text, f, ogSoft, x+32, ogLegendY)
		x += 32 + font.MeasureString(f, text).Ceil() + 36
	}
}

// drawMap draws the venue's stage and sections into the right of the
// picture, those with tickets left in the brand's colour.
func (p *ogPainter) drawMap(e *event.Event, a *event.Availability, cancelled bool) {
	box := image.Rect(ogPanel+ogMapPad, ogMapPad, templates.OGImageWidth-ogMapPad, ogLegendY-44)
	w, h := float64(max(e.Venue.MapWidth, 1)), float64(max(e.Venue.MapHeight, 1))
	scale := math.Min(float64(box.Dx())/w, float64(box.Dy())/h)
	ox := float64(box.Min.X) + (float64(box.Dx())-w*scale)/2
	oy := float64(box.Min.Y) + (float64(box.Dy())-h*scale)/2
	at := func(pts []event.Point) [][2]float32 {
		out := make([][2]float32, len(pts))
		for i, q := range pts {
			out[i] = [2]float32{float32(ox + q.X*scale), float32(oy + q.Y*scale)}
		}
		return out
	}
	if len(e.Venue.Stage) > 2 {
		p.fillPolygon(at(e.Venue.Stage), ogStage, 0)
	}
	// The outlines between sections: thin, but at least a pixel.
	stroke := float32(math.Max(1, math.Min(2, 3*scale)))
	for _, sec := range e.Sections {
		if len(sec.Outline) < 3 {
			continue
		}
		col := ogGone
		if !cancelled && a.Sections[sec.ID].Available > 0 {
			col = ogBrand
		}
		p.fillPolygon(at(sec.Outline), col, stroke)
	}
}

// fillPolygon fills a polygon with col, anti-aliased, and outlines it in
// the background's colour stroke pixels wide (0: none), so that sections
// side by side stay apart.
func (p *ogPainter) fillPolygon(pts [][2]float32, col color.RGBA, stroke float32) {
	minX, minY, maxX, maxY := pts[0][0], pts[0][1], pts[0][0], pts[0][1]
	for _, q := range pts {
		minX, minY, maxX, maxY = min(minX, q[0]), min(minY, q[1]), max(maxX, q[0]), max(maxY, q[1])
	}
	r := image.Rect(int(minX-stroke)-1, int(minY-stroke)-1, int(maxX+stroke)+2, int(maxY+stroke)+2).Intersect(p.img.Bounds())
	if r.Empty() {
		return
	}
	off := [2]float32{float32(r.Min.X), float32(r.Min.Y)}
	p.z.Reset(r.Dx(), r.Dy())
	p.z.DrawOp = draw.Over
	p.z.MoveTo(pts[0][0]-off[0], pts[0][1]-off[1])
	for _, q := range pts[1:] {
		p.z.LineTo(q[0]-off[0], q[1]-off[1])
	}
	p.z.ClosePath()
	p.z.Draw(p.img, r, image.NewUniform(col), image.Point{})
	if stroke <= 0 {
		return
	}
	// Each edge as a thin quad, all wound the same way.
	p.z.Reset(r.Dx(), r.Dy())
	p.z.DrawOp = draw.Over
	half := stroke / 2
	for i, a := range pts {
		b := pts[(i+1)%len(pts)]
		dx, dy := b[0]-a[0], b[1]-a[1]
		n := float32(math.Hypot(float64(dx), float64(dy)))
		if n == 0 {
			continue
		}
		// Along the edge, and across it, half a stroke each way; the
		// ends reach half a stroke past the corners to close the joins.
		ux, uy := dx/n*half, dy/n*half
		nx, ny := -uy, ux
		ax, ay, bx, by := a[0]-ux-off[0], a[1]-uy-off[1], b[0]+ux-off[0], b[1]+uy-off[1]
		p.z.MoveTo(ax+nx, ay+ny)
		p.z.LineTo(bx+nx, by+ny)
		p.z.LineTo(bx-nx, by-ny)
		p.z.LineTo(ax-nx, ay-ny)
		p.z.ClosePath()
	}
	p.z.Draw(p.img, r, image.NewUniform(ogWash), image.Point{})
}

// fillRoundRect fills r with corners of radius rad.
func (p *ogPainter) fillRoundRect(r image.Rectangle, rad float32, col color.RGBA) {
	p.z.Reset(r.Dx(), r.Dy())
	p.z.DrawOp = draw.Over
	w, h := float32(r.Dx()), float32(r.Dy())
	rad = min(rad, w/2, h/2)
	// Quarter circles as cubic Béziers (k: their control points' reach).
	const k = 0.5523
	p.z.MoveTo(rad, 0)
	p.z.LineTo(w-rad, 0)
	p.z.CubeTo(w-rad+k*rad, 0, w, rad-k*rad, w, rad)
	p.z.LineTo(w, h-rad)
	p.z.CubeTo(w, h-rad+k*rad, w-rad+k*rad, h, w-rad, h)
	p.z.LineTo(rad, h)
	p.z.CubeTo(rad-k*rad, h, 0, h-rad+k*rad, 0, h-rad)
	p.z.LineTo(0, rad)
	p.z.CubeTo(0, rad-k*rad, rad-k*rad, 0, rad, 0)
	p.z.ClosePath()
	p.z.Draw(p.img, r, image.NewUniform(col), image.Point{})
}
