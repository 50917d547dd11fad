package workload

import "testing"

func TestSkewedPrefixKeepsTheTotalAndFavoursTheFirstGroups(t *testing.T) {
	c := SkewedPrefix().WithDefaults()
	counts := c.counts()
	total := 0
	for g, n := range counts {
		total += n
		if n < 1 || g > 0 && n > counts[g-1] {
			t.Fatalf("counts %v: want at least one each, non-increasing", counts)
		}
	}
	if total != c.Groups*c.PromptsPerGroup {
		t.Fatalf("total %d, want %d", total, c.Groups*c.PromptsPerGroup)
	}
	if share := float64(counts[0]) / float64(total); share < 0.15 || share > 0.3 {
		t.Errorf("first group has %.0f%% of the traffic, want about a fifth", share*100)
	}
	wl := SkewedPrefix().Generate()
	if wl.Name != NameSkewedPrefix || len(wl.Requests) != total {
		t.Errorf("workload %s with %d requests", wl.Name, len(wl.Requests))
	}
}
