package templates

import (
	"context"
	"strconv"

	"github.com/boxoffice/boxoffice/app/event"
)

// A zone is a band of prices that the maps show in one colour and one
// pattern, so that fans who do not tell the colours apart still can: zone
// 1 is the dearest.
type zone struct {
	N         int
	Low, High int64
}

// maxZones is as many as a fan can tell apart at a glance (and the
// palette has).
const maxZones = 5

// priceZones bands an event's prices (lowest first, distinct), dearest
// first: one zone per price when there are few, else bands of about as
// many prices each.
func priceZones(prices []int64) []zone {
	n := min(len(prices), maxZones)
	zones := make([]zone, n)
	for i := range n {
		// Band i of n from the top, over the prices from the dearest down.
		hi := len(prices) - 1 - i*len(prices)/n
		lo := len(prices) - (i+1)*len(prices)/n
		zones[i] = zone{N: i + 1, Low: prices[lo], High: prices[hi]}
	}
	return zones
}

// zoneOf is the zone of a price, 0 when none holds it.
func zoneOf(zones []zone, price int64) int {
	for _, z := range zones {
		if price >= z.Low && price <= z.High {
			return z.N
		}
	}
	return 0
}

// zonesOf is the zones of page p's event.
func zonesOf(p EventPage) []zone {
	if p.Availability == nil {
		return nil
	}
	return priceZones(p.Availability.Prices)
}

func zoneClass(n int) string { return "z" + strconv.Itoa(n) }

// zoneLabel is a zone as the legend writes it, in the page's language:
// "£85.00" or "£30.00 – £45.00".
func zoneLabel(ctx context.Context, z zone, currency string) string {
	return priceRange(ctx, z.Low, z.High, currency)
}

// sectionZone is the zone a section is coloured by on the overview: what
// its cheapest seat costs.
func sectionZone(zones []zone, a event.SectionAvailability) int { return zoneOf(zones, a.Lowest) }

// tile is the side of a zone pattern's tile on a venue map width wide.
func tile(width int) float64 { return max(float64(width)/70, 8) }
