package search

import (
	"sync"
	"testing"
)

// Fans search at once: reading their words shares nothing that changes.
func TestUnderstandingIsSafeAtOnce(t *testing.T) {
	t.Parallel()
	v := &vocabulary{phrases: map[string]meaning{}}
	for _, p := range []struct {
		phrase string
		m      meaning
	}{{"sao paulo", meaning{kindCity, "São Paulo"}}, {"concert", meaning{kindType, "concert"}}} {
		v.phrases[p.phrase] = p.m
		v.maxWords = 2
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 300 {
				q, ok := v.understand(Query{Text: "Concert in SÃO Paulo tonight"})
				if !ok || q.Location != "São Paulo" || q.Type != "concert" || q.Text != "tonight" {
					t.Errorf("read as %+v", q)
					return
				}
			}
		})
	}
	wg.Wait()
}
