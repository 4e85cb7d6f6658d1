package stats

// Latency is gpuplan's one latency object, in milliseconds, shared by
// predictions (perf, plan) and measurements (bench) so that the two can be
// compared field by field: the mean and percentiles, plus, on
// predictions only, Low and High, the edges of the error band on the mean.
// Zero Low/High mean absent (a latency band never legitimately reaches
// 0 ms) and are left out of JSON.
type Latency struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	Low  float64 `json:"low,omitempty"`
	High float64 `json:"high,omitempty"`
}
