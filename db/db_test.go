package db_test

import (
	"context"
	"testing"

	"github.com/boxoffice/boxoffice/db/dbtest"
)

// Every connection Boxoffice opens refuses parallel plans: its queries are
// short and many at once, and a parallel plan starts worker processes for
// each (under a crowd of fans, far slower than the plain plan).
func TestConnectionsPlanWithoutParallelWorkers(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	var workers string
	if err := pool.QueryRow(context.Background(), `SHOW max_parallel_workers_per_gather`).Scan(&workers); err != nil {
		t.Fatal(err)
	}
	if workers != "0" {
		t.Errorf("max_parallel_workers_per_gather = %s, want 0", workers)
	}
}
