package locale

import (
	"fmt"
	"strings"
	"sync"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Lang is one language: its messages and its formats.
type Lang struct {
	Tag  language.Tag
	Code string // BCP 47: "en", "pt-BR"
	Name string // in itself: "Español", "日本語"

	loc    *i18n.Localizer
	plain  sync.Map // message ID → text, for messages without arguments
	format format
	raw    map[string]*i18n.Message // by ID, with English's where this language has none
}

func newLang(bundle *i18n.Bundle, tag language.Tag, raw map[string]*i18n.Message) (*Lang, error) {
	l := &Lang{Tag: tag, Code: tag.String(), loc: i18n.NewLocalizer(bundle, tag.String()), raw: raw}
	l.Name = l.T("language.name")
	f, err := l.loadFormat()
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", l.Code, err)
	}
	l.format = f
	return l, nil
}

// T is the message id, with its {{.Name}} fields filled from args, given
// as name, value pairs. A message missing from this language is taken from
// English; one missing from English shows its ID, which tests catch.
func (l *Lang) T(id string, args ...any) string {
	if len(args) == 0 {
		if s, ok := l.plain.Load(id); ok {
			return s.(string)
		}
		s := l.localize(id, nil, nil)
		l.plain.Store(id, s)
		return s
	}
	return l.localize(id, data(args), nil)
}

// N is the plural message id for n things; its fields have {{.Count}}
// (n written this language's way) besides args.
func (l *Lang) N(id string, n int, args ...any) string {
	d := data(args)
	d["Count"] = l.Int(n)
	return l.localize(id, d, n)
}

func (l *Lang) localize(id string, d map[string]any, count any) string {
	s, err := l.loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: d, PluralCount: count})
	if s == "" && err != nil {
		return id
	}
	return s
}

func data(args []any) map[string]any {
	d := make(map[string]any, len(args)/2+1)
	for i := 0; i+1 < len(args); i += 2 {
		d[fmt.Sprint(args[i])] = args[i+1]
	}
	return d
}

// Script is the messages under prefix ("seatmap.js") for a page's
// scripts, by ID: a string, or for a plural message its forms by CLDR
// category ("one", "other"), which the script picks with Intl.PluralRules.
// Fields stay as {{.Name}} for the script to fill.
func (l *Lang) Script(prefix string) map[string]any {
	out := map[string]any{}
	for id, m := range l.raw {
		if strings.HasPrefix(id, prefix+".") {
			out[id] = scriptForm(m)
		}
	}
	return out
}

func scriptForm(m *i18n.Message) any {
	forms := map[string]string{}
	for cat, s := range map[string]string{"zero": m.Zero, "one": m.One, "two": m.Two, "few": m.Few, "many": m.Many, "other": m.Other} {
		if s != "" {
			forms[cat] = s
		}
	}
	if len(forms) == 1 && m.Other != "" {
		return m.Other
	}
	return forms
}

// Dir is the direction the language is written in, "ltr" or "rtl", as
// its catalog's language.dir says.
func (l *Lang) Dir() string {
	if d := l.T("language.dir"); d == "rtl" {
		return d
	}
	return "ltr"
}

func (l *Lang) String() string { return l.Code }

// fill replaces {name} fields of a format pattern.
func fill(pattern string, kv ...string) string {
	return strings.NewReplacer(braced(kv)...).Replace(pattern)
}

func braced(kv []string) []string {
	out := make([]string, len(kv))
	for i := range kv {
		if i%2 == 0 {
			out[i] = "{" + kv[i] + "}"
		} else {
			out[i] = kv[i]
		}
	}
	return out
}
