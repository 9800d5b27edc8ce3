// Package static holds the stylesheet, scripts and icons, embedded in the
// binary so that Boxoffice is one file to deploy.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
)

//go:embed *.css *.svg *.js
var files embed.FS

// FS is the static files, served under /static/.
var FS fs.FS = files

var versions = hashFiles()

func hashFiles() map[string]string {
	v := map[string]string{}
	_ = fs.WalkDir(files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		v[path] = hex.EncodeToString(sum[:4])
		return nil
	})
	return v
}

// URL is the address of a static file, carrying a hash of its content so
// that browsers may cache it for good and still see every change.
func URL(name string) string {
	if v, ok := versions[name]; ok {
		return "/static/" + name + "?v=" + v
	}
	return "/static/" + name
}

// Version is the content hash URL puts in the address of name.
func Version(name string) string { return versions[name] }
