package router

import (
	"testing"

	"github.com/sgl-project/sglang-router-go/go/worker"
)

func TestAlignRoomsNamesThePrefillRank(t *testing.T) {
	for _, tc := range []struct {
		name        string
		rank, size  int
		rooms, want []uint64
	}{
		{"rounded down to the rank", 2, 4, []uint64{17, 40}, []uint64{18, 42}},
		{"already aligned", 1, 3, []uint64{7}, []uint64{7}},
		{"top of the range stays in range", 3, 4, []uint64{maxRoom}, []uint64{maxRoom}},
		{"would pass the top: one step down", 2, 3, []uint64{maxRoom}, []uint64{maxRoom - 2}}, // maxRoom % 3 == 1
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := alignRooms(append([]uint64{}, tc.rooms...), worker.NewRank("http://p:1", tc.rank, tc.size, worker.Prefill, nil))
			for i, r := range got {
				if r != tc.want[i] || r%uint64(tc.size) != uint64(tc.rank) || r > maxRoom {
					t.Fatalf("rooms %v -> %v, want %v", tc.rooms, got, tc.want)
				}
			}
		})
	}
	whole := worker.New("http://p:1", worker.Prefill, nil)
	if got := alignRooms([]uint64{17}, whole); got[0] != 17 {
		t.Fatalf("a whole server's room changed to %d", got[0])
	}
}
