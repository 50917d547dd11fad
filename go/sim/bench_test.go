package sim

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

const benchBody = `{"text": "The quick brown fox jumps over the lazy dog again and again", "sampling_params": {"max_new_tokens": 8}}`

// BenchmarkGenerateLoopback measures one simulated server on a real
// loopback socket with TimeScale 0: the ceiling a router benchmark can
// reach before the simulator becomes the bottleneck.
func BenchmarkGenerateLoopback(b *testing.B) {
	c, err := StartCluster(context.Background(), Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Shutdown(context.Background())
	tr := &http.Transport{MaxIdleConnsPerHost: 256, MaxIdleConns: 256}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	url := c.URLs()[0] + "/generate"
	body := []byte(benchBody)
	b.SetParallelism(4)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Post(url, "application/json", bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}

// BenchmarkGenerateHandler is the same request without the network.
func BenchmarkGenerateHandler(b *testing.B) {
	s, err := NewServer(Config{}, 0)
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	body := []byte(benchBody)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/generate", bytes.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// BenchmarkPrefixCacheAdmit looks up and inserts a 1000-token prompt that
// shares half its blocks with the previous one.
func BenchmarkPrefixCacheAdmit(b *testing.B) {
	c := newPrefixCache(1<<18, 16)
	prompts := make([][]int, 64)
	for i := range prompts {
		prompts[i] = concat(seq(0, 500), seq(10000*(i+1), 500))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.admit(prompts[i%len(prompts)])
		i++
	}
}

func ExampleStartCluster() {
	c, err := StartCluster(context.Background(), Config{Workers: 2, TimeScale: 0})
	if err != nil {
		panic(err)
	}
	defer c.Shutdown(context.Background())
	resp, err := http.Post(c.URLs()[0]+"/generate", "application/json",
		bytes.NewReader([]byte(`{"text": "hello world", "sampling_params": {"max_new_tokens": 3}}`)))
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	fmt.Println(resp.StatusCode, len(c.URLs()))
	// Output: 200 2
}
