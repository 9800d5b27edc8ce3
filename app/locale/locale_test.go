package locale

import (
	"io/fs"
	"maps"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
)

// messages reads one catalog file as go-i18n does: message ID → message.
func messages(t *testing.T, name string) map[string]*i18n.Message {
	t.Helper()
	buf, err := fs.ReadFile(files, name)
	if err != nil {
		t.Fatal(err)
	}
	mf, err := i18n.ParseMessageFileBytes(buf, path.Base(name), map[string]i18n.UnmarshalFunc{"toml": toml.Unmarshal})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	out := map[string]*i18n.Message{}
	for _, m := range mf.Messages {
		out[m.ID] = m
	}
	return out
}

var field = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

// fields lists the {{.Name}} fields of every form of m.
func fields(m *i18n.Message) []string {
	seen := map[string]bool{}
	for _, s := range []string{m.Zero, m.One, m.Two, m.Few, m.Many, m.Other} {
		for _, f := range field.FindAllStringSubmatch(s, -1) {
			seen[f[1]] = true
		}
	}
	out := make([]string, 0, len(seen))
	for f := range seen {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

func plural(m *i18n.Message) bool { return m.One != "" || m.Few != "" || m.Many != "" }

// TestCatalogsAreComplete fails when a catalog misses a message English
// has, has one English has not (a typo in an ID, or a message left behind),
// drops or invents a {{.Field}}, or lacks a plural form its language needs.
func TestCatalogsAreComplete(t *testing.T) {
	names, _ := fs.Glob(files, "catalog/*.toml")
	if len(names) < 5 || len(Default().Langs()) < 5 {
		t.Fatalf("catalogs: %v; want English, Spanish, German, Brazilian Portuguese and Japanese", names)
	}
	// A language may be one file (es.toml) or several (event.es.toml).
	byLang := map[string]map[string]*i18n.Message{}
	for _, name := range names {
		base := strings.TrimSuffix(path.Base(name), ".toml")
		code := base[strings.LastIndex(base, ".")+1:]
		if byLang[code] == nil {
			byLang[code] = map[string]*i18n.Message{}
		}
		maps.Copy(byLang[code], messages(t, name))
	}
	english := byLang["en"]
	cat := Default()
	for code, msgs := range byLang {
		name := code
		l, ok := cat.Get(code)
		if !ok {
			t.Fatalf("language %s not loaded", code)
		}
		for id, en := range english {
			m, ok := msgs[id]
			if !ok {
				t.Errorf("%s: %q is missing (English: %q)", name, id, en.Other)
				continue
			}
			if got, want := fields(m), fields(en); !slices.Equal(got, want) {
				t.Errorf("%s: %q has fields %v, English has %v", name, id, got, want)
			}
			if plural(en) {
				// Every count must find its form in this language's rules.
				for _, n := range []int{0, 1, 2, 3, 5, 11, 21, 101, 1_000_000} {
					if _, err := l.loc.Localize(&i18n.LocalizeConfig{MessageID: id, PluralCount: n, TemplateData: map[string]any{"Count": n}}); err != nil {
						t.Errorf("%s: %q for %d: %v", name, id, n, err)
						break
					}
				}
			}
		}
		for id := range msgs {
			if _, ok := english[id]; !ok {
				t.Errorf("%s: %q is not in English: a typo, or left behind", name, id)
			}
		}
	}
}

func TestLanguagesWriteTheirOwnWay(t *testing.T) {
	cat := Default()
	madrid, _ := time.LoadLocation("Europe/Madrid")
	at := time.Date(2026, 12, 12, 19, 0, 0, 0, time.UTC) // 20:00 in Madrid, a Saturday
	for _, c := range []struct {
		code, money, yen, when, count string
	}{
		{"en", "€1,234.50", "¥12,000", "Sat 12 Dec 2026 · 20:00 CET", "1,500 events"},
		{"es", "1.234,50 €", "12.000 ¥", "sáb 12 dic 2026 · 20:00 CET", "1.500 eventos"},
		{"de", "1.234,50 €", "12.000 ¥", "Sa., 12. Dez. 2026 · 20:00 CET", "1.500 Veranstaltungen"},
		{"pt-BR", "€ 1.234,50", "¥ 12.000", "sáb., 12 dez. 2026 · 20:00 CET", "1.500 eventos"},
		{"ja", "€1,234.50", "¥12,000", "2026年12月12日(土) 20:00 CET", "1,500件のイベント"},
	} {
		l, ok := cat.Get(c.code)
		if !ok {
			t.Fatalf("no %s", c.code)
		}
		if got := l.Money(123450, "EUR"); got != c.money {
			t.Errorf("%s: Money(123450 EUR) = %q, want %q", c.code, got, c.money)
		}
		if got := l.Money(12000, "JPY"); got != c.yen {
			t.Errorf("%s: Money(12000 JPY) = %q, want %q", c.code, got, c.yen)
		}
		if got := l.DateTime(at, madrid); got != c.when {
			t.Errorf("%s: DateTime = %q, want %q", c.code, got, c.when)
		}
		if got := l.N("count.events", 1500); got != c.count {
			t.Errorf("%s: 1500 events = %q, want %q", c.code, got, c.count)
		}
	}
	if got := cat.English().N("count.events", 1); got != "1 event" {
		t.Errorf("one event: %q", got)
	}
}

// Every page writes a time one way, in the venue's zone, named.
func TestZonesAreNamed(t *testing.T) {
	at := time.Date(2026, 12, 1, 19, 45, 0, 0, time.UTC)
	en := Default().English()
	for zone, want := range map[string]string{
		"Europe/London":     "Tue 1 Dec 2026 · 19:45 GMT",
		"Asia/Tokyo":        "Wed 2 Dec 2026 · 04:45 JST",
		"America/Sao_Paulo": "Tue 1 Dec 2026 · 16:45 UTC−3",
		"Asia/Kolkata":      "Wed 2 Dec 2026 · 01:15 IST",
		"Asia/Kathmandu":    "Wed 2 Dec 2026 · 01:30 UTC+5:45",
	} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		if got := en.DateTime(at, loc); got != want {
			t.Errorf("%s: %q, want %q", zone, got, want)
		}
	}
}

func TestChoosingALanguage(t *testing.T) {
	cat := Default()
	for header, want := range map[string]string{
		"ja,en;q=0.5":             "ja",
		"pt-BR,pt;q=0.9":          "pt-BR",
		"pt":                      "pt-BR",
		"es-MX,es;q=0.9":          "es",
		"de-AT":                   "de",
		"fr-FR,fr;q=0.9,de;q=0.5": "de",
		"en-GB":                   "en",
	} {
		l, ok := cat.Accept(header)
		if !ok || l.Code != want {
			t.Errorf("Accept-Language %q: %s (%v), want %s", header, l.Code, ok, want)
		}
	}
	if l, ok := cat.Accept("fr-FR"); ok {
		t.Errorf("French is not spoken, yet got %s", l.Code)
	}
	for country, want := range map[string]string{"ES": "es", "MX": "es", "JP": "ja", "BR": "pt-BR", "DE": "de", "GB": "en", "FR": "en"} {
		if got := cat.ForCountry(country).Code; got != want {
			t.Errorf("a venue in %s: %s, want %s", country, got, want)
		}
	}
	if _, ok := cat.Get("PT-br"); !ok {
		t.Error("a chosen code is read in any case")
	}
}
