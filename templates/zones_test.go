package templates

import (
	"slices"
	"testing"
)

func TestPriceZones(t *testing.T) {
	four := priceZones([]int64{3000, 4500, 6000, 8500})
	if len(four) != 4 || four[0] != (zone{1, 8500, 8500}) || four[3] != (zone{4, 3000, 3000}) {
		t.Errorf("four prices: %v", four)
	}
	many := []int64{1000, 1500, 2000, 2500, 3000, 3500, 4000, 4500, 5000, 5500, 6000, 6500}
	zones := priceZones(many)
	if len(zones) != maxZones || zones[0].High != 6500 || zones[maxZones-1].Low != 1000 {
		t.Fatalf("twelve prices: %v", zones)
	}
	// Every price is in exactly one zone, and zones go down in price.
	for _, p := range many {
		n := 0
		for _, z := range zones {
			if p >= z.Low && p <= z.High {
				n++
			}
		}
		if n != 1 {
			t.Errorf("price %d in %d zones: %v", p, n, zones)
		}
	}
	if !slices.IsSortedFunc(zones, func(a, b zone) int { return int(b.Low - a.High) }) {
		t.Errorf("zones overlap or are out of order: %v", zones)
	}
	if zoneOf(zones, 6500) != 1 || zoneOf(zones, 1000) != maxZones || zoneOf(zones, 99) != 0 {
		t.Error("zoneOf")
	}
	if len(priceZones(nil)) != 0 {
		t.Error("an event without prices has zones")
	}
}
