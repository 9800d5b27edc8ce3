package ticket

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"

	qrcode "github.com/yeqown/go-qrcode/v2"
)

// QR is a QR code of text as a matrix of modules, true for dark, with a
// quiet zone of four modules around it, as scanners expect.
func QR(text string) ([][]bool, error) {
	q, err := qrcode.NewWith(text, qrcode.WithErrorCorrectionLevel(qrcode.ErrorCorrectionMedium))
	if err != nil {
		return nil, fmt.Errorf("QR code: %w", err)
	}
	var m matrixWriter
	if err := q.Save(&m); err != nil {
		return nil, fmt.Errorf("QR code: %w", err)
	}
	return m.modules, nil
}

// matrixWriter keeps the matrix the QR library draws.
type matrixWriter struct{ modules [][]bool }

const quiet = 4

func (w *matrixWriter) Write(mat qrcode.Matrix) error {
	size := mat.Width() + 2*quiet
	w.modules = make([][]bool, size)
	for y := range w.modules {
		w.modules[y] = make([]bool, size)
	}
	mat.Iterate(qrcode.IterDirection_ROW, func(x, y int, v qrcode.QRValue) {
		w.modules[y+quiet][x+quiet] = v.IsSet()
	})
	return nil
}

func (w *matrixWriter) Close() error { return nil }

// QRSVG draws text's QR code as an SVG: one path of dark modules on white,
// sharp at any size, labelled for screen readers.
func QRSVG(text, label string) (string, error) {
	m, err := QR(text)
	if err != nil {
		return "", err
	}
	var d strings.Builder
	for y, row := range m {
		for x := 0; x < len(row); x++ {
			if !row[x] {
				continue
			}
			run := 1 // dark modules side by side make one rectangle
			for x+run < len(row) && row[x+run] {
				run++
			}
			fmt.Fprintf(&d, "M%d %dh%dv1h-%dz", x, y, run, run)
			x += run - 1
		}
	}
	n := len(m)
	return fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges" role="img" aria-label="%s">`+
		`<rect width="%d" height="%d" fill="#fff"/><path d="%s" fill="#000"/></svg>`, n, n, htmlEscape(label), n, n, d.String()), nil
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

// QRPNG draws text's QR code as a PNG, scale pixels a module, for mail
// (where SVG is not shown).
func QRPNG(text string, scale int) ([]byte, error) {
	m, err := QR(text)
	if err != nil {
		return nil, err
	}
	img := image.NewGray(image.Rect(0, 0, len(m)*scale, len(m)*scale))
	for y, row := range m {
		for x, dark := range row {
			c := color.Gray{Y: 255}
			if dark {
				c.Y = 0
			}
			for dy := range scale {
				for dx := range scale {
					img.SetGray(x*scale+dx, y*scale+dy, c)
				}
			}
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
