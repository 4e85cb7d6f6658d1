package perf

import "testing"

// TestClosedLoopFixed: the waves note is for closed loops of identical
// requests only: not for open loops, length spreads or traces.
func TestClosedLoopFixed(t *testing.T) {
	closed, open := Workload{Concurrency: 4}, Workload{RPS: 2}
	for _, tc := range []struct {
		name  string
		loads []Workload
		cfg   SimConfig
		want  bool
	}{
		{"closed, fixed", []Workload{closed}, SimConfig{}, true},
		{"closed, fixed by name", []Workload{open, closed}, SimConfig{Lengths: LengthFixed}, true},
		{"open only", []Workload{open}, SimConfig{}, false},
		{"closed, uniform lengths", []Workload{closed}, SimConfig{Lengths: LengthUniform}, false},
		{"closed, trace", []Workload{closed}, SimConfig{Trace: []TraceRequest{{InputTokens: 1, OutputTokens: 1}}}, false},
	} {
		if got := closedLoopFixed(tc.loads, tc.cfg); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestNewReportNeedsRows: an empty prediction is an error, not a report
// with an empty header.
func TestNewReportNeedsRows(t *testing.T) {
	if _, err := NewReport(Request{}, nil, nil); err == nil {
		t.Error("NewReport with no rows: no error")
	}
}
