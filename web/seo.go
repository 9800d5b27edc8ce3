package web

import (
	"encoding/xml"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/event"
	"github.com/boxoffice/boxoffice/templates"
)

// What search engines read besides the pages: robots.txt, the sitemap,
// and (for event pages) the absolute address their links are written
// with. The event pages' own tags are templates.EventHead; their picture
// is ogimage.go's.

// base is the site's address for links that leave the page: the base URL
// configured, else the scheme and host this request came to.
func (s *Server) base(c echo.Context) string {
	if s.publicURL != "" {
		return s.publicURL
	}
	return c.Scheme() + "://" + c.Request().Host
}

// withBaseURL hands the page's templates the site's address
// (templates.WithBaseURL), for the absolute links of an event page's head.
func (s *Server) withBaseURL(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		c.SetRequest(r.WithContext(templates.WithBaseURL(r.Context(), s.base(c))))
		return next(c)
	}
}

// public marks a response that is the same for everyone as cacheable by
// shared caches for maxAge: without the cookies the middleware set (a
// cached Set-Cookie would hand one visitor's token to the next) and
// without varying by language or cookie.
func public(c echo.Context, maxAge time.Duration) {
	h := c.Response().Header()
	h.Del("Set-Cookie")
	h.Del("Vary")
	h.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(maxAge.Seconds())))
}

// publicLinks is public for a response that writes the site's address:
// shared caches may keep it only when that address is configured, not
// taken from a Host header that anyone can forge.
func (s *Server) publicLinks(c echo.Context, maxAge time.Duration) {
	public(c, maxAge)
	if s.publicURL == "" {
		c.Response().Header().Set("Cache-Control", "private, max-age="+strconv.Itoa(int(maxAge.Seconds())))
	}
}

// robotsTxt lets crawlers read the catalogue (events, venues, performers,
// search) and keeps them out of what is a fan's own or changes something:
// checkout and bookings, accounts, signing in, the box office, the API,
// waiting rooms. {{sitemap}} is the sitemap's address.
const robotsTxt = `User-agent: *
Allow: /
Disallow: /bookings
Disallow: /checkout
Disallow: /account
Disallow: /login
Disallow: /logout
Disallow: /signup
Disallow: /password/
Disallow: /manage
Disallow: /api/
Disallow: /webhooks/
Disallow: /event/*/queue
Disallow: /healthz
Disallow: /readyz

Sitemap: {{sitemap}}
`

func (s *Server) handleRobots(c echo.Context) error {
	s.publicLinks(c, 24*time.Hour)
	body := strings.Replace(robotsTxt, "{{sitemap}}", s.base(c)+"/sitemap.xml", 1)
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", []byte(body))
}

// sitemapLimit is the most addresses one sitemap file may list (the
// protocol's 50,000; a listing of that many is about 5 MB, under its
// 50 MB). A site with more answers /sitemap.xml with a sitemap index
// that names files of at most this many each: /sitemap/pages-1.xml (the
// front page), /sitemap/events-1.xml, /sitemap/events-2.xml, …,
// /sitemap/venues-1.xml, /sitemap/performers-1.xml.
var sitemapLimit = 50_000

// sitemapKinds are the pages the sitemap lists, in its order.
var sitemapKinds = []struct {
	kind string
	path func(id int64) string
}{
	{event.ListedEvents, func(id int64) string { return "/event/" + strconv.FormatInt(id, 10) }},
	{event.ListedVenues, func(id int64) string { return "/venue/" + strconv.FormatInt(id, 10) }},
	{event.ListedPerformers, func(id int64) string { return "/performer/" + strconv.FormatInt(id, 10) }},
}

const sitemapNS = "http://www.sitemaps.org/schemas/sitemap/0.9"

type sitemapURLSet struct {
	XMLName xml.Name     `xml:"urlset"`
	NS      string       `xml:"xmlns,attr"`
	URLs    []sitemapURL `xml:"url"`
}

type sitemapURL struct {
	Loc     string `xml:"loc"`
	LastMod string `xml:"lastmod,omitempty"`
}

type sitemapIndex struct {
	XMLName  xml.Name     `xml:"sitemapindex"`
	NS       string       `xml:"xmlns,attr"`
	Sitemaps []sitemapURL `xml:"sitemap"`
}

// lastMod is t as a sitemap writes it (W3C datetime), or "" when unknown.
func lastMod(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// handleSitemap lists the front page and the upcoming events on sale,
// with their venues and performers, in one sitemap; a catalogue with
// more than sitemapLimit of them gets a sitemap index instead.
func (s *Server) handleSitemap(c echo.Context) error {
	ctx := c.Request().Context()
	base := s.base(c)
	counts, err := s.events.ListedCounts(ctx)
	if err != nil {
		return err
	}
	total := 1 // the front page
	for _, k := range sitemapKinds {
		total += counts[k.kind].Count
	}
	if total > sitemapLimit {
		// The front page has a file of its own, so that each kind's
		// pages are whole multiples of the limit.
		index := sitemapIndex{NS: sitemapNS, Sitemaps: []sitemapURL{{Loc: base + "/sitemap/pages-1.xml"}}}
		for _, k := range sitemapKinds {
			n := counts[k.kind]
			for page := 1; (page-1)*sitemapLimit < n.Count; page++ {
				index.Sitemaps = append(index.Sitemaps, sitemapURL{
					Loc: base + "/sitemap/" + k.kind + "-" + strconv.Itoa(page) + ".xml", LastMod: lastMod(n.Latest)})
			}
		}
		return s.writeSitemap(c, index)
	}
	set := sitemapURLSet{NS: sitemapNS, URLs: make([]sitemapURL, 0, total)}
	set.URLs = append(set.URLs, sitemapURL{Loc: base + "/"})
	for _, k := range sitemapKinds {
		listed, err := s.events.Listed(ctx, k.kind, 0, sitemapLimit)
		if err != nil {
			return err
		}
		for _, l := range listed {
			set.URLs = append(set.URLs, sitemapURL{Loc: base + k.path(l.ID), LastMod: lastMod(l.Modified)})
		}
	}
	return s.writeSitemap(c, set)
}

var sitemapPart = regexp.MustCompile(`^([a-z]+)-([1-9][0-9]{0,5})\.xml$`)

// handleSitemapPart is one file of a sitemap index: page n of a kind.
func (s *Server) handleSitemapPart(c echo.Context) error {
	m := sitemapPart.FindStringSubmatch(c.Param("file"))
	if m == nil {
		return app.Errorf(app.ENOTFOUND, "There is no sitemap %q.", c.Param("file"))
	}
	page, _ := strconv.Atoi(m[2])
	if m[1] == "pages" && page == 1 {
		return s.writeSitemap(c, sitemapURLSet{NS: sitemapNS, URLs: []sitemapURL{{Loc: s.base(c) + "/"}}})
	}
	for _, k := range sitemapKinds {
		if k.kind != m[1] {
			continue
		}
		listed, err := s.events.Listed(c.Request().Context(), k.kind, (page-1)*sitemapLimit, sitemapLimit)
		if err != nil {
			return err
		}
		if len(listed) == 0 && page > 1 {
			break
		}
		base := s.base(c)
		set := sitemapURLSet{NS: sitemapNS, URLs: make([]sitemapURL, 0, len(listed))}
		for _, l := range listed {
			set.URLs = append(set.URLs, sitemapURL{Loc: base + k.path(l.ID), LastMod: lastMod(l.Modified)})
		}
		return s.writeSitemap(c, set)
	}
	return app.Errorf(app.ENOTFOUND, "There is no sitemap %q.", c.Param("file"))
}

func (s *Server) writeSitemap(c echo.Context, v any) error {
	body, err := xml.Marshal(v)
	if err != nil {
		return err
	}
	s.publicLinks(c, time.Hour)
	return c.Blob(http.StatusOK, "application/xml; charset=utf-8", append([]byte(xml.Header), body...))
}
