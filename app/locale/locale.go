// Package locale speaks to fans in their language: message catalogs (one
// TOML file per language in catalog/, read with go-i18n, plurals by CLDR's
// rules) and the way each language writes numbers, money and dates.
//
// A language is one file: catalog/<tag>.toml, named by its BCP 47 tag
// (es.toml, pt-BR.toml). Besides the messages it says its own name, the
// countries whose venues it is the default for, and its formats.
package locale

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed catalog/*.toml
var files embed.FS

// Fallback is the language every catalog is checked against and whose
// messages stand in for a missing one.
var Fallback = language.English

// Catalog is the set of languages Boxoffice speaks.
type Catalog struct {
	bundle    *i18n.Bundle
	langs     []*Lang // English first, then by code
	byCode    map[string]*Lang
	byCountry map[string]*Lang
	matcher   language.Matcher
	accepted  sync.Map // Accept-Language header → accepted
	acceptedN atomic.Int64
}

var (
	defaultOnce    sync.Once
	defaultCatalog *Catalog
)

// Default is the catalog built into the binary. It panics if a catalog
// file does not parse: the tests catch that before a release does.
func Default() *Catalog {
	defaultOnce.Do(func() {
		c, err := Load(files)
		if err != nil {
			panic(err)
		}
		defaultCatalog = c
	})
	return defaultCatalog
}

// Load reads every catalog/*.toml in fsys.
func Load(fsys fs.FS) (*Catalog, error) {
	bundle := i18n.NewBundle(Fallback)
	bundle.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	names, err := fs.Glob(fsys, "catalog/*.toml")
	if err != nil {
		return nil, err
	}
	raw := map[language.Tag]map[string]*i18n.Message{}
	for _, name := range names {
		buf, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		mf, err := bundle.ParseMessageFileBytes(buf, path.Base(name))
		if err != nil {
			return nil, fmt.Errorf("catalog %s: %w", name, err)
		}
		if raw[mf.Tag] == nil {
			raw[mf.Tag] = map[string]*i18n.Message{}
		}
		for _, m := range mf.Messages {
			raw[mf.Tag][m.ID] = m
		}
	}
	c := &Catalog{bundle: bundle, byCode: map[string]*Lang{}, byCountry: map[string]*Lang{}}

	tags := bundle.LanguageTags()
	sort.Slice(tags, func(i, j int) bool {
		if (tags[i] == Fallback) != (tags[j] == Fallback) {
			return tags[i] == Fallback
		}
		return tags[i].String() < tags[j].String()
	})
	if len(tags) == 0 || tags[0] != Fallback {
		return nil, fmt.Errorf("catalog: no %s catalog", Fallback)
	}
	for _, tag := range tags {
		msgs := maps.Clone(raw[Fallback])
		maps.Copy(msgs, raw[tag])
		l, err := newLang(bundle, tag, msgs)
		if err != nil {
			return nil, err
		}
		c.langs = append(c.langs, l)
		c.byCode[strings.ToLower(l.Code)] = l
		for _, cc := range strings.Fields(l.T("language.countries")) {
			c.byCountry[strings.ToUpper(cc)] = l
		}
	}
	c.matcher = language.NewMatcher(tags)
	return c, nil
}

// IDs lists every message ID of the English catalog, which every other
// has too.
func (c *Catalog) IDs() []string {
	ids := slices.Collect(maps.Keys(c.English().raw))
	slices.Sort(ids)
	return ids
}

// Langs lists the languages, English first.
func (c *Catalog) Langs() []*Lang { return c.langs }

// English is the fallback language.
func (c *Catalog) English() *Lang { return c.langs[0] }

// Get returns the language of a code a fan chose ("es", "pt-BR"; any case).
func (c *Catalog) Get(code string) (*Lang, bool) {
	l, ok := c.byCode[strings.ToLower(code)]
	return l, ok
}

// Accept picks a language from an Accept-Language header; ok is false
// when the header names none Boxoffice speaks. Browsers send a handful of
// different headers, so answers are kept (the first 4,096 headers seen).
func (c *Catalog) Accept(header string) (l *Lang, ok bool) {
	if v, found := c.accepted.Load(header); found {
		a := v.(accepted)
		return a.lang, a.ok
	}
	l, ok = c.accept(header)
	if c.acceptedN.Add(1) <= 4096 {
		c.accepted.Store(header, accepted{l, ok})
	}
	return l, ok
}

type accepted struct {
	lang *Lang
	ok   bool
}

func (c *Catalog) accept(header string) (l *Lang, ok bool) {
	tags, _, err := language.ParseAcceptLanguage(header)
	if err != nil || len(tags) == 0 {
		return c.English(), false
	}
	_, i, conf := c.matcher.Match(tags...)
	if conf == language.No {
		return c.English(), false
	}
	return c.langs[i], true
}

// ForCountry is the language for a venue in a country (ISO 3166 code), as
// the catalogs claim them; English for the rest.
func (c *Catalog) ForCountry(country string) *Lang {
	if l, ok := c.byCountry[strings.ToUpper(country)]; ok {
		return l
	}
	return c.English()
}

type langKey struct{}

// With returns ctx speaking l.
func With(ctx context.Context, l *Lang) context.Context {
	return context.WithValue(ctx, langKey{}, l)
}

// From is the language ctx speaks: English unless With said otherwise.
func From(ctx context.Context) *Lang {
	if l, ok := ctx.Value(langKey{}).(*Lang); ok {
		return l
	}
	return Default().English()
}
