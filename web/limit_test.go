package web_test

import (
	"testing"

	"github.com/boxoffice/boxoffice/web"
)

func TestParseRate(t *testing.T) {
	for in, want := range map[string]web.Rate{
		"30/min,10": {PerMinute: 30, Burst: 10},
		"120/min":   {PerMinute: 120, Burst: 40},
		"1/min":     {PerMinute: 1, Burst: 1},
		"0.5/min,2": {PerMinute: 0.5, Burst: 2},
		"off":       {},
		"0":         {},
	} {
		if got, err := web.ParseRate(in); err != nil || got != want {
			t.Errorf("ParseRate(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "30", "30/s", "-5/min", "NaN/min", "Inf/min", "30/min,0", "30/min,x", "fast"} {
		if got, err := web.ParseRate(in); err == nil {
			t.Errorf("ParseRate(%q) = %+v, want an error", in, got)
		}
	}
}
