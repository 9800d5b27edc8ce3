package app_test

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// TestImportRules enforces the dependency direction (main → web → templates
// → app → db) and keeps each outside library behind the one package that
// is allowed to use it (STYLE.md).
func TestImportRules(t *testing.T) {
	const module = "github.com/boxoffice/boxoffice"
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	type pkg struct {
		ImportPath string
		Imports    []string
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 5 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}

	rel := func(path string) string { return strings.TrimPrefix(strings.TrimPrefix(path, module), "/") }
	under := func(path, dir string) bool { return path == dir || strings.HasPrefix(path, dir+"/") }

	rules := []struct {
		name    string
		imports func(string) bool // the imported package the rule is about
		allowed func(string) bool // the importers allowed (module-relative; "" is main)
	}{
		{"only web imports Echo",
			func(p string) bool { return under(p, "github.com/labstack/echo/v4") },
			func(r string) bool { return under(r, "web") }},
		{"only app/payment imports stripe-go",
			func(p string) bool { return strings.HasPrefix(p, "github.com/stripe/") },
			func(r string) bool { return under(r, "app/payment") }},
		{"only templates and web import templ",
			func(p string) bool { return under(p, "github.com/a-h/templ") },
			func(r string) bool { return under(r, "templates") || under(r, "web") }},
		{"only main imports web",
			func(p string) bool { return under(p, module+"/web") },
			func(r string) bool { return r == "" }},
		{"app imports neither web nor templates",
			func(p string) bool { return under(p, module+"/web") || under(p, module+"/templates") },
			func(r string) bool { return !under(r, "app") }},
		{"db imports no app package",
			func(p string) bool { return under(p, module+"/app") },
			func(r string) bool { return !under(r, "db") }},
		{"only db runs the embedded server: modules import no process supervisor",
			func(p string) bool { return under(p, module+"/db/embedded") },
			func(r string) bool { return under(r, "db") }}, // db, its tests' cluster, and backups
		{"templates never query: no db, no pgx",
			func(p string) bool { return under(p, module+"/db") || under(p, "github.com/jackc/pgx/v5") },
			func(r string) bool { return !under(r, "templates") }},
	}
	for _, p := range pkgs {
		for _, imp := range p.Imports {
			for _, rule := range rules {
				if rule.imports(imp) && !rule.allowed(rel(p.ImportPath)) {
					t.Errorf("%s: %s imports %s", rule.name, p.ImportPath, imp)
				}
			}
		}
	}
}
