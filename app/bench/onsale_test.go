package bench

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestPickSeats(t *testing.T) {
	free := []ticket{
		{ID: 1, Section: 1, Row: "A", Seat: 1}, {ID: 2, Section: 1, Row: "A", Seat: 2},
		{ID: 4, Section: 1, Row: "A", Seat: 4}, {ID: 5, Section: 1, Row: "A", Seat: 5}, {ID: 6, Section: 1, Row: "A", Seat: 6},
		{ID: 7, Section: 1, Row: "B", Seat: 7}, {ID: 9, Section: 2, Row: "A", Seat: 1},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		got := pickSeats(slices.Clone(free), 3, rng)
		if !slices.Equal(got, []int64{4, 5, 6}) {
			t.Fatalf("three side by side: %v, want the only block of three", got)
		}
	}
	for range 20 {
		got := pickSeats(slices.Clone(free), 2, rng)
		if len(got) != 2 || got[1] != got[0]+1 {
			t.Fatalf("two side by side: %v", got)
		}
	}
	if got := pickSeats(slices.Clone(free), 4, rng); !slices.Equal(got, []int64{4, 5, 6}) {
		t.Errorf("four when no four are free: %v, want the longest block", got)
	}
}
