package templates

import (
	"bytes"
	"context"
	"maps"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"

	"github.com/boxoffice/boxoffice/app/event"
	"github.com/boxoffice/boxoffice/app/locale"
	"github.com/boxoffice/boxoffice/static"
)

// Every word a page shows comes from the catalogs in app/locale, in the
// language the request was given (locale.With): tr for a message, trn for a
// plural one. TestNoTextOutsideCatalogs fails on a word written into a
// template.

func tr(ctx context.Context, id string, args ...any) string { return locale.From(ctx).T(id, args...) }

func trn(ctx context.Context, id string, n int, args ...any) string {
	return locale.From(ctx).N(id, n, args...)
}

func lang(ctx context.Context) *locale.Lang { return locale.From(ctx) }

// money writes an amount in minor units the page's language's way.
func money(ctx context.Context, amount int64, currency string) string {
	return locale.From(ctx).Money(amount, currency)
}

// dateTime writes when something happens, in loc (the venue's zone),
// which it names: "Sat 12 Dec 2026 · 20:00 CET".
func dateTime(ctx context.Context, at time.Time, loc *time.Location) string {
	return locale.From(ctx).DateTime(at, loc)
}

// eventDateTime is dateTime of an event card.
func eventDateTime(ctx context.Context, e event.Summary) string {
	return dateTime(ctx, e.StartsAt, e.LocalStart().Location())
}

// number writes a count with the language's thousands separator.
func number(ctx context.Context, n int) string { return locale.From(ctx).Int(n) }

// typeLabel names an event type: "Concert"; typeTitle as a heading:
// "Concerts".
func typeLabel(ctx context.Context, typ string) string {
	if typ == "" {
		return ""
	}
	return tr(ctx, "type."+typ)
}

func typeTitle(ctx context.Context, typ string) string { return tr(ctx, "type_title."+typ) }

// eventCount is "1 event", "12 events", or "about 1,200 events" for an
// estimate.
func eventCount(ctx context.Context, n int, estimate bool) string {
	if estimate {
		return trn(ctx, "count.events_about", n)
	}
	return trn(ctx, "count.events", n)
}

// inLanguage is the page at path (a request URI) in another language: the
// same address with lang set, which also remembers the choice.
func inLanguage(path, code string) string {
	u, err := url.Parse(path)
	if err != nil {
		return "/?lang=" + url.QueryEscape(code)
	}
	q := u.Query()
	q.Set("lang", code)
	u.RawQuery = q.Encode()
	return u.RequestURI()
}

// languages lists the languages a fan can switch to.
func languages() []*locale.Lang { return locale.Default().Langs() }

// scriptMessages hands the page's scripts their words: the messages under
// each prefix ("seatmap.js"), read by static/messages.js, which must come
// before the scripts that use msg and msgN. One per page.
func scriptMessages(ctx context.Context, prefixes ...string) templ.Component {
	l := locale.From(ctx)
	key := l.Code + "|" + strings.Join(prefixes, "|")
	if c, ok := scriptComponents.Load(key); ok {
		return c.(templ.Component)
	}
	all := map[string]any{}
	for _, p := range prefixes {
		maps.Copy(all, l.Script(p))
	}
	// Built once per language and page: the catalogs do not change while
	// the process runs.
	c := templ.Join(scriptJSON(all), scriptTag(static.URL("messages.js")))
	scriptComponents.Store(key, c)
	return c
}

// scriptComponents holds scriptMessages' components, by language and prefixes.
var scriptComponents sync.Map

// scriptJSON is the messages as the page's JSON script, encoded once.
func scriptJSON(messages map[string]any) templ.Component {
	var buf bytes.Buffer
	if err := templ.JSONScript("messages", messages).Render(context.Background(), &buf); err != nil {
		return templ.JSONScript("messages", messages)
	}
	return templ.Raw(buf.String())
}
