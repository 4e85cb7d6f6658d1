package bench

import (
	"context"
	"testing"
	"time"

	"github.com/gpuplan/gpuplan/bench/benchtest"
)

func TestSmoke(t *testing.T) {
	srv := benchtest.New(benchtest.Options{TTFT: 2 * time.Millisecond, ITL: time.Millisecond, RecordSends: true})
	defer srv.Close()
	cl, err := NewClient(Target{URL: srv.BaseURL(), Model: "m", API: APIChat, Stream: true}, nil, time.Now, 8)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), RunConfig{Client: cl, Prompts: SyntheticPrompts(10, 20, 1), OutputTokens: 8, Force: ForceAuto,
		Levels: []Level{{Concurrency: 1}, {Concurrency: 4}, {RPS: 50}}, Requests: 40, Duration: 10 * time.Second, Warmup: -1, Timeout: 5 * time.Second, KeepRecords: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range res.Levels {
		t.Logf("%+v ttft=%+v tpot=%+v", l.LevelMetrics, l.TTFT, l.TPOT)
	}
}
