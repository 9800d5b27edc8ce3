package templates

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/a-h/templ/parser/v2"
	"github.com/a-h/templ/parser/v2/visitor"
)

// Attributes a person reads or hears; their words come from the catalogs.
var readAttributes = map[string]bool{"title": true, "alt": true, "placeholder": true, "aria-label": true, "aria-description": true, "aria-roledescription": true, "label": true}

// TestNoTextOutsideCatalogs fails on words written into a template, in its
// text or in an attribute a person reads: every word must come from the
// catalogs (tr, trn), or a fan reading another language meets English.
func TestNoTextOutsideCatalogs(t *testing.T) {
	files, err := filepath.Glob("*.templ")
	if err != nil || len(files) == 0 {
		t.Fatal("no templates found", err)
	}
	for _, name := range files {
		tf, err := parser.Parse(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var found []string
		v := visitor.New()
		v.Text = func(n *parser.Text) error {
			if hasWords(n.Value) {
				found = append(found, fmt.Sprintf("%s:%d: text %q", name, n.Range.From.Line+1, strings.TrimSpace(n.Value)))
			}
			return nil
		}
		v.StringExpression = func(n *parser.StringExpression) error {
			// { "words" }: a Go string written into the page.
			if lit, err := strconv.Unquote(strings.TrimSpace(n.Expression.Value)); err == nil && hasWords(lit) {
				found = append(found, fmt.Sprintf("%s:%d: { %s }", name, n.Range.From.Line+1, n.Expression.Value))
			}
			return nil
		}
		v.ConstantAttribute = func(n *parser.ConstantAttribute) error {
			if readAttributes[n.Key.String()] && hasWords(n.Value) {
				found = append(found, fmt.Sprintf("%s:%d: %s=%q", name, n.Range.From.Line+1, n.Key, n.Value))
			}
			return nil
		}
		if err := tf.Visit(v); err != nil {
			t.Fatal(err)
		}
		for _, f := range found {
			t.Error(f + " is not in the catalogs (app/locale/catalog)")
		}
	}
}

// hasWords reports whether s has a letter outside the brand's name; "·",
// "×" and digits are not words.
func hasWords(s string) bool {
	s = strings.ReplaceAll(s, "Boxoffice", "")
	return strings.IndexFunc(s, unicode.IsLetter) >= 0
}
