package perf

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/engine"
	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/model"
	"github.com/gpuplan/gpuplan/stats"
)

// FitOptions tells the fitter how to resolve the names in points.
type FitOptions struct {
	// Model resolves a point's model id (e.g. a model.Catalog's Lookup).
	Model func(id string) (*model.Spec, error)
	// GPU resolves a point's GPU id (e.g. hardware.Catalog.LookupGPU).
	GPU func(id string) (hardware.GPU, error)
	// Exclude drops points for which it returns true (hold-out sets).
	Exclude func(Point) bool
}

// Residual is one point's prediction after a fit.
type Residual struct {
	Point     Point   `json:"point"`
	Predicted float64 `json:"predicted_output_tokens_per_s"`
	Measured  float64 `json:"measured_output_tokens_per_s"`
	// ErrorPct is (predicted − measured) / measured × 100.
	ErrorPct   float64    `json:"error_pct"`
	Bottleneck Bottleneck `json:"bottleneck"`
	Batch      float64    `json:"running_batch"`
}

// FitResult is what Fit returns.
type FitResult struct {
	GPUFactors    []GPUFactors    `json:"gpu_factors"`
	EngineFactors []EngineFactors `json:"engine_factors"`
	Residuals     []Residual      `json:"residuals"`
	// Skipped lists points that could not be used, with the reason.
	Skipped []string `json:"skipped,omitempty"`
	// NotKeptUp lists open-loop points whose server completed less than
	// 95% of the offered rate: they measure a collapsing queue, not a
	// steady state, so they are left out of the fit (a prediction should
	// call them saturated).
	NotKeptUp []string `json:"not_kept_up,omitempty"`
}

// Calibration returns the fitted factors with the points they came from.
func (r FitResult) Calibration(points []Point, description string) *Calibration {
	c := &Calibration{SchemaVersion: CalibrationSchemaVersion, Description: description,
		Points: append([]Point(nil), points...), GPUFactors: append([]GPUFactors(nil), r.GPUFactors...),
		EngineFactors: cloneEngineFactors(r.EngineFactors)}
	c.buildIndex()
	return c
}

// fitPoint is a prepared point.
type fitPoint struct {
	p   Point
	dep *resolvedRequest
	w   Workload
	// targets: log of measured output tokens/s, TPOT mean and TTFT mean
	// (NaN when absent).
	logX, logTPOT, logTTFT, logE2E float64
}

// The parameter vector of one engine version: per GPU a bandwidth and a
// compute efficiency; per engine the iteration overhead, the all-reduce
// latency and a link efficiency per link kind. Everything is optimised in
// log space within these bounds.
const (
	minEff, maxEff           = 0.05, 1.5
	minOverheadMS, maxOvhdMS = 0.01, 50
	minARLatUS, maxARLatUS   = 0.5, 200
	minSeqUS, maxSeqUS       = 0.01, 100
)

// Bounds and starting values of the online-only factors: the fixed cost
// per request (ms) and the all-reduce cost per peer GPU (µs). The starts
// are round values of the right order: a few milliseconds of HTTP,
// tokenization and streaming, a few microseconds per NVLink peer.
const (
	minReqMS, maxReqMS = 0.01, 1000
	fitStartRequestMS  = 5
	fitStartPeerUS     = 5
)

// allReduceLatencyUS is the fixed cost of one all-reduce call the fitter
// starts from and keeps: aiconfigurator's p2p_latency of 10 µs for H100 SXM
// and L40S systems (src/aiconfigurator/systems/*.yaml). The maximum-
// throughput tables cannot tell it apart from the per-iteration overhead
// (both are constant per iteration for a given model and TP), so it is
// taken from that source rather than fitted.
const allReduceLatencyUS = 10

// Fit fits efficiency factors to measured points: for every (engine,
// version) in the points, one bandwidth and one compute efficiency per GPU
// type, and per engine an iteration overhead, an all-reduce latency and a
// link efficiency per link kind seen. It minimises the sum of absolute log
// errors of output tokens per second (and of mean TPOT and TTFT where a
// point has them) by cyclic coordinate descent with golden-section line
// searches in log space, a deterministic procedure; parameters are then
// rounded to two significant digits. Factors that no point constrains
// (a link kind without multi-GPU points) keep their starting values.
func Fit(points []Point, opt FitOptions) (FitResult, error) {
	if opt.Model == nil || opt.GPU == nil {
		return FitResult{}, errors.New("perf.Fit needs FitOptions.Model and FitOptions.GPU resolvers")
	}
	var res FitResult
	groups := map[string][]fitPoint{}
	for _, p := range points {
		if opt.Exclude != nil && opt.Exclude(p) {
			continue
		}
		if err := p.validate(); err != nil {
			res.Skipped = append(res.Skipped, fmt.Sprintf("%s on %s: %v", p.Model, p.GPU, err))
			continue
		}
		if !p.KeptUp() {
			res.NotKeptUp = append(res.NotKeptUp, fmt.Sprintf("%s on %d × %s (tp %d) %d/%d at %g req/s: %.3g completed", p.Model, p.GPUCount, p.GPU, p.TP, p.InputTokens, p.OutputTokens, p.RPS, p.RequestsPerS))
			continue
		}
		fp, err := preparePoint(p, opt)
		if err != nil {
			res.Skipped = append(res.Skipped, fmt.Sprintf("%s on %d × %s (tp %d) %d/%d: %v", p.Model, p.GPUCount, p.GPU, p.TP, p.InputTokens, p.OutputTokens, err))
			continue
		}
		k := strings.ToLower(p.Engine) + "|" + p.EngineVersion
		groups[k] = append(groups[k], fp)
	}
	if len(groups) == 0 {
		return res, errors.New("no usable calibration points")
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		gf, ef, resid := fitEngine(groups[k])
		res.GPUFactors = append(res.GPUFactors, gf...)
		res.EngineFactors = append(res.EngineFactors, ef)
		res.Residuals = append(res.Residuals, resid...)
	}
	return res, nil
}

// preparePoint resolves a point into a deployment.
func preparePoint(p Point, opt FitOptions) (fitPoint, error) {
	spec, err := opt.Model(p.Model)
	if err != nil {
		return fitPoint{}, err
	}
	g, err := opt.GPU(p.GPU)
	if err != nil {
		return fitPoint{}, err
	}
	eng, err := engine.Lookup(p.Engine)
	if err != nil {
		return fitPoint{}, err
	}
	// The profile's rules stand for the point's engine version.
	req := Request{Model: spec, GPU: g, TP: p.TP, PP: p.PP, GPUCount: p.GPUCount, Engine: eng, Utilization: p.Utilization, calVersion: p.EngineVersion,
		MaxNumSeqs: p.MaxNumSeqs, MaxNumBatchedTokens: p.MaxNumBatchedTokens}
	if p.Precision != "" {
		pr, err := dtype.LookupPrecision(p.Precision)
		if err != nil {
			return fitPoint{}, err
		}
		req.Precision = &pr
	}
	if req.KVDType, err = dtype.ParseKVDType(p.KVDType); err != nil {
		return fitPoint{}, err
	}
	w := Workload{InputTokens: p.InputTokens, OutputTokens: p.OutputTokens, CacheRate: p.CacheRate}
	switch p.LoadKind() {
	case LoadMax:
		w.Max = true
	case LoadRPS:
		w.RPS = p.RPS
	default:
		w.Concurrency = p.Concurrency
	}
	req.Workload = w
	d, err := prepare(req)
	if err != nil {
		return fitPoint{}, err
	}
	fp := fitPoint{p: p, dep: d, w: w, logX: math.NaN(), logTPOT: math.NaN(), logTTFT: math.NaN(), logE2E: math.NaN()}
	if p.OutputTokensPerS > 0 {
		fp.logX = math.Log(p.OutputTokensPerS)
	}
	if p.TPOT != nil && p.TPOT.Mean > 0 {
		fp.logTPOT = math.Log(p.TPOT.Mean)
	}
	if p.TTFT != nil && p.TTFT.Mean > 0 {
		fp.logTTFT = math.Log(p.TTFT.Mean)
	}
	if p.E2E != nil && p.E2E.Mean > 0 && w.Load() != LoadMax {
		fp.logE2E = math.Log(p.E2E.Mean)
	}
	if math.IsNaN(fp.logX) && math.IsNaN(fp.logTPOT) && math.IsNaN(fp.logTTFT) {
		return fitPoint{}, errors.New("no measured output_tokens_per_s, tpot_ms or ttft_ms")
	}
	return fp, nil
}

// param is one optimised quantity, stored as its logarithm.
type param struct {
	name    string
	lo, hi  float64 // bounds of the log
	v       float64
	touches []int   // indices of points it affects
	fixed   bool    // not optimised
	v0      float64 // the starting value, centre of the prior
	apply   func(f *resolvedFactors, v float64)
}

// fitStart is where every fit starts, so that the result depends on the
// points only: round numbers in the middle of each factor's plausible range.
var fitStart = struct {
	gpu    GPUFactors
	engine EngineFactors
	link   LinkFactors
}{
	gpu:    GPUFactors{BandwidthEfficiency: 0.8, ComputeEfficiency: 0.8},
	engine: EngineFactors{StepOverheadMS: 1, SeqOverheadUS: 1, MoEEfficiency: 1},
	link:   LinkFactors{Efficiency: 0.5, DecodeEfficiency: 0.2, AllReduceLatencyUS: allReduceLatencyUS},
}

// minMoEPrefillTokens is the fewest computed (uncached) prompt tokens per
// request for a MoE point's TTFT to say anything about the experts' prefill
// rate: 256 tokens × top-2 of 8 experts (Mixtral) gives each expert about 64
// rows, a grouped GEMM past the matrix-vector regime decode runs in.
const minMoEPrefillTokens = 256

func fitEngine(pts []fitPoint) ([]GPUFactors, EngineFactors, []Residual) {
	engine, version := pts[0].p.Engine, pts[0].p.EngineVersion
	ef := fitStart.engine
	ef.Engine, ef.EngineVersion = engine, version
	ef.Links = map[string]LinkFactors{}

	// Per-point factors, initialised from the start calibration.
	gpus := map[string][]int{}
	links := map[string][]int{}
	fs := make([]resolvedFactors, len(pts))
	for i, fp := range pts {
		fs[i] = resolvedFactors{gpu: fitStart.gpu, engine: ef}
		gpus[fp.dep.gpu.ID] = append(gpus[fp.dep.gpu.ID], i)
		if fp.dep.tp > 1 || fp.dep.pp > 1 {
			links[fp.dep.linkKind] = append(links[fp.dep.linkKind], i)
			if _, ok := ef.Links[fp.dep.linkKind]; !ok {
				ef.Links[fp.dep.linkKind] = fitStart.link
			}
		}
	}
	all := make([]int, len(pts))
	for i := range all {
		all[i] = i
	}
	gpuIDs := sortedKeys(gpus)
	var ps []*param
	for _, g := range gpuIDs {
		idx := gpus[g]
		f0 := fs[idx[0]].gpu
		// An engine cannot beat the datasheet: the efficiencies are
		// bounded by 1 / the hardware's achievable fraction.
		d0 := pts[idx[0]].dep
		bwMax, cMax := math.Min(maxEff, 1/d0.hwBW), math.Min(maxEff, 1/d0.hwCompute)
		ps = append(ps,
			&param{name: g + ".bandwidth", lo: math.Log(minEff), hi: math.Log(bwMax), v: math.Log(clamp(f0.BandwidthEfficiency, minEff, bwMax)), touches: idx,
				apply: func(f *resolvedFactors, v float64) { f.gpu.BandwidthEfficiency = v }},
			&param{name: g + ".compute", lo: math.Log(minEff), hi: math.Log(cMax), v: math.Log(clamp(f0.ComputeEfficiency, minEff, cMax)), touches: idx,
				apply: func(f *resolvedFactors, v float64) { f.gpu.ComputeEfficiency = v }})
	}
	var moePts []int
	for i, fp := range pts {
		if fp.dep.experts > 0 {
			moePts = append(moePts, i)
		}
	}
	if len(moePts) > 0 {
		ps = append(ps, &param{name: "moe", lo: math.Log(minEff), hi: math.Log(maxEff), v: math.Log(clamp(orOne(ef.MoEEfficiency), minEff, maxEff)), touches: moePts,
			apply: func(f *resolvedFactors, v float64) { f.engine.MoEEfficiency = v }})
	}
	// The prompt tokens' expert-math rate shows only in the TTFT of MoE
	// points whose prompts are computed, not served from the prefix cache:
	// engines without such points keep the neutral 1 (the TensorRT-LLM
	// tables carry throughput only, so its figures cannot move).
	var moePrePts []int
	for _, i := range moePts {
		fp := pts[i]
		if !math.IsNaN(fp.logTTFT) && float64(fp.dep.isl)*(1-fp.w.CacheRate) >= minMoEPrefillTokens {
			moePrePts = append(moePrePts, i)
		}
	}
	if len(moePrePts) > 0 {
		ps = append(ps, &param{name: "moe_prefill", lo: math.Log(minEff), hi: math.Log(maxEff), v: math.Log(clamp(orOne(ef.MoEPrefillEfficiency), minEff, maxEff)), touches: moePts,
			apply: func(f *resolvedFactors, v float64) { f.engine.MoEPrefillEfficiency = v }})
	}
	// The fixed per-request cost and the per-peer all-reduce cost show only
	// in online (open- or closed-loop) measurements; engines without any
	// keep 0.
	var online, onlineTP []int
	for i, fp := range pts {
		if fp.w.Load() != LoadMax && (!math.IsNaN(fp.logTTFT) || !math.IsNaN(fp.logE2E)) {
			online = append(online, i)
			if fp.dep.tp > 1 {
				onlineTP = append(onlineTP, i)
			}
		}
	}
	if len(online) > 0 {
		ps = append(ps, &param{name: "request_overhead", lo: math.Log(minReqMS), hi: math.Log(maxReqMS), v: math.Log(fitStartRequestMS), touches: online,
			apply: func(f *resolvedFactors, v float64) { f.engine.RequestOverheadMS = v }},
			&param{name: "first_token_iterations", lo: math.Log(0.05), hi: math.Log(10), v: math.Log(1), touches: online,
				apply: func(f *resolvedFactors, v float64) { f.engine.FirstTokenIterations = v }})
	}
	ps = append(ps, &param{name: "seq_overhead", lo: math.Log(minSeqUS), hi: math.Log(maxSeqUS), v: math.Log(clamp(ef.SeqOverheadUS, minSeqUS, maxSeqUS)), touches: all,
		apply: func(f *resolvedFactors, v float64) { f.engine.SeqOverheadUS = v }})
	ps = append(ps, &param{name: "overhead", lo: math.Log(minOverheadMS), hi: math.Log(maxOvhdMS), v: math.Log(clamp(ef.StepOverheadMS, minOverheadMS, maxOvhdMS)), touches: all,
		apply: func(f *resolvedFactors, v float64) { f.engine.StepOverheadMS = v }})
	setLink := func(f *resolvedFactors, kind string, edit func(*LinkFactors)) {
		m := make(map[string]LinkFactors, len(f.engine.Links))
		for kk, vv := range f.engine.Links {
			m[kk] = vv
		}
		l := m[kind]
		edit(&l)
		m[kind] = l
		f.engine.Links = m
	}
	for _, k := range sortedKeys(links) {
		kind := k
		l0 := ef.Links[kind]
		ps = append(ps,
			&param{name: "link." + kind + ".efficiency", lo: math.Log(0.01), hi: math.Log(maxEff), v: math.Log(clamp(l0.Efficiency, 0.01, maxEff)), touches: links[kind],
				apply: func(f *resolvedFactors, v float64) { setLink(f, kind, func(l *LinkFactors) { l.Efficiency = v }) }},
			&param{name: "link." + kind + ".decode", lo: math.Log(0.005), hi: math.Log(maxEff), v: math.Log(clamp(orOne(l0.DecodeEfficiency), 0.005, maxEff)), touches: links[kind],
				apply: func(f *resolvedFactors, v float64) { setLink(f, kind, func(l *LinkFactors) { l.DecodeEfficiency = v }) }},
			&param{name: "link." + kind + ".latency", fixed: true, lo: math.Log(minARLatUS), hi: math.Log(maxARLatUS), v: math.Log(clamp(l0.AllReduceLatencyUS, minARLatUS, maxARLatUS)), touches: links[kind],
				apply: func(f *resolvedFactors, v float64) {
					setLink(f, kind, func(l *LinkFactors) { l.AllReduceLatencyUS = v })
				}})
		var peerPts []int
		for _, i := range onlineTP {
			if pts[i].dep.linkKind == kind {
				peerPts = append(peerPts, i)
			}
		}
		if len(peerPts) > 0 {
			ps = append(ps, &param{name: "link." + kind + ".peer", lo: math.Log(minARLatUS), hi: math.Log(maxARLatUS), v: math.Log(fitStartPeerUS), touches: links[kind],
				apply: func(f *resolvedFactors, v float64) { setLink(f, kind, func(l *LinkFactors) { l.PeerLatencyUS = v }) }})
		}
	}
	for _, p := range ps {
		for _, i := range p.touches {
			p.apply(&fs[i], math.Exp(p.v))
		}
	}

	loss := func(idx []int) float64 {
		var sum float64
		for _, i := range idx {
			sum += pointLoss(pts[i], fs[i])
		}
		return sum
	}
	prior := func() float64 {
		var sum float64
		for _, p := range ps {
			d := p.v - p.v0
			sum += priorWeight * d * d
		}
		return sum
	}
	set := func(p *param, v float64) {
		p.v = v
		for _, i := range p.touches {
			p.apply(&fs[i], math.Exp(v))
		}
	}
	for _, p := range ps {
		p.v0 = p.v
	}
	prev := loss(all) + prior()
	for sweep := 0; sweep < 100; sweep++ {
		for _, p := range ps {
			if p.fixed {
				continue
			}
			best := goldenMin(func(v float64) float64 { set(p, v); return loss(p.touches) + prior() }, p.lo, p.hi, p.v)
			set(p, best)
		}
		cur := loss(all) + prior()
		if prev-cur < 1e-7*math.Max(1e-3, prev) {
			break
		}
		prev = cur
	}
	// Round to two significant digits, the precision the factors are
	// quoted with.
	for _, p := range ps {
		set(p, math.Log(round2(math.Exp(p.v))))
	}
	for _, p := range ps {
		v := math.Exp(p.v)
		switch {
		case p.name == "overhead":
			ef.StepOverheadMS = v
		case p.name == "seq_overhead":
			ef.SeqOverheadUS = v
		case p.name == "moe":
			ef.MoEEfficiency = v
		case p.name == "moe_prefill":
			ef.MoEPrefillEfficiency = v
		case p.name == "request_overhead":
			ef.RequestOverheadMS = v
		case p.name == "first_token_iterations":
			ef.FirstTokenIterations = v
		case strings.HasPrefix(p.name, "link."):
			parts := strings.Split(p.name, ".")
			l := ef.Links[parts[1]]
			switch parts[2] {
			case "efficiency":
				l.Efficiency = v
			case "decode":
				l.DecodeEfficiency = v
			case "peer":
				l.PeerLatencyUS = v
			default:
				l.AllReduceLatencyUS = v
			}
			ef.Links[parts[1]] = l
		}
	}
	// Residuals and bands.
	var resid []Residual
	ratiosByGPU := map[string][]float64{}
	var allRatios []float64
	for i, fp := range pts {
		e := fp.dep.solve(fs[i], fp.w)
		if fp.p.OutputTokensPerS <= 0 {
			continue
		}
		ratio := fp.p.OutputTokensPerS / e.OutputTokensPerS
		if lr := latencyRatios(fp.p, e); len(lr) > 0 {
			// At an open-loop rate the throughput is the offered rate and
			// says nothing: the band comes from the latencies (predicted
			// ÷ measured, the way Estimate applies the band to them).
			ratiosByGPU[fp.dep.gpu.ID] = append(ratiosByGPU[fp.dep.gpu.ID], lr...)
			allRatios = append(allRatios, lr...)
		} else {
			ratiosByGPU[fp.dep.gpu.ID] = append(ratiosByGPU[fp.dep.gpu.ID], ratio)
			allRatios = append(allRatios, ratio)
		}
		resid = append(resid, Residual{Point: fp.p, Predicted: e.OutputTokensPerS, Measured: fp.p.OutputTokensPerS,
			ErrorPct: (e.OutputTokensPerS - fp.p.OutputTokensPerS) / fp.p.OutputTokensPerS * 100, Bottleneck: e.Bottleneck, Batch: e.RunningBatch})
	}
	var gfs []GPUFactors
	for _, g := range gpuIDs {
		f := fs[gpus[g][0]].gpu
		f.GPU, f.Engine, f.EngineVersion = g, engine, version
		rs := ratiosByGPU[g]
		f.Points = len(gpus[g])
		if len(rs) > 0 {
			f.BandLow = round2(stats.Percentile(rs, 10))
			f.BandHigh = round2(stats.Percentile(rs, 90))
			abs := make([]float64, len(rs))
			for i, r := range rs {
				abs[i] = math.Abs(1/r-1) * 100
			}
			f.MedianAbsErrorPct = math.Round(stats.Median(abs)*10) / 10
		}
		f.BandLow, f.BandHigh = math.Min(f.BandLow, 1-minBandHalfWidth), math.Max(f.BandHigh, 1+minBandHalfWidth)
		gfs = append(gfs, f)
	}
	ef.Engine, ef.EngineVersion = engine, version
	ef.Points = len(pts)
	if len(allRatios) > 0 {
		ef.BandLow = math.Min(round2(stats.Percentile(allRatios, 5)), 1-minBandHalfWidth)
		ef.BandHigh = math.Max(round2(stats.Percentile(allRatios, 95)), 1+minBandHalfWidth)
	}
	return gfs, ef, resid
}

// latencyRatios returns predicted ÷ measured mean TTFT, TPOT and E2E of an
// online point (a throughput-like ratio: a latency band is the inverse of a
// throughput band), or nothing for max-throughput points.
func latencyRatios(p Point, e Estimate) []float64 {
	if p.LoadKind() == LoadMax || e.Saturated {
		return nil
	}
	var out []float64
	for _, pair := range [][2]*Latency{{p.TTFT, &e.TTFT}, {p.TPOT, &e.TPOT}, {p.E2E, &e.E2E}} {
		if pair[0] != nil && pair[0].Mean > 0 && pair[1].Mean > 0 {
			out = append(out, pair[1].Mean/pair[0].Mean)
		}
	}
	return out
}

// pointLoss is the absolute log error of one point (summed over the
// measured quantities it has).
func pointLoss(fp fitPoint, f resolvedFactors) float64 {
	st := fp.dep.load(fp.dep.rates(f), fp.w)
	var l float64
	if x := st.reqPerS * float64(fp.dep.osl); !math.IsNaN(fp.logX) && x > 0 {
		l += lossOf(math.Log(x) - fp.logX)
	}
	if t := st.s.itl * 1e3; !math.IsNaN(fp.logTPOT) && t > 0 && !st.saturated {
		l += lossOf(math.Log(t) - fp.logTPOT)
	}
	if t := st.ttftMean() * 1e3; !math.IsNaN(fp.logTTFT) && t > 0 && !st.saturated {
		l += lossOf(math.Log(t) - fp.logTTFT)
	}
	if t := (st.ttftMean() + float64(fp.dep.osl-1)*st.s.itl) * 1e3; !math.IsNaN(fp.logE2E) && t > 0 && !st.saturated {
		l += lossOf(math.Log(t) - fp.logE2E)
	}
	if st.saturated && fp.w.Load() == LoadRPS {
		// A stage the server kept up with predicted as saturated: the
		// latencies are undefined, so charge each latency as if it were
		// off by a factor e (more than any unsaturated answer costs), plus
		// how far the offered rate is above the predicted maximum.
		l += lossOf(math.Log(fp.w.RPS/st.maxState.xReq)) + 3*lossOf(1)
	}
	return l
}

// priorWeight is the weight of a weak log-normal prior that pulls every
// factor towards its starting value (fitStart). The maximum-throughput
// tables run large batches, where a fixed per-iteration overhead and a
// per-sequence overhead or a higher bandwidth are nearly interchangeable;
// the prior settles such directions at the round starting values instead
// of wherever the line searches stop, and costs the fit of well-determined
// factors nothing measurable.
var priorWeight = 0.01

// huberDelta is where the loss turns from squared to absolute log error:
// 2%, well below the errors that matter.
const huberDelta = 0.02

// lossOf is the per-quantity loss: the pseudo-Huber loss of the log error,
// quadratic below huberDelta and linear above it, so the fit behaves like a
// median (least absolute deviations) fit in log space that a few odd
// points cannot drag, while staying smooth for the line searches.
func lossOf(d float64) float64 {
	x := d / huberDelta
	return huberDelta * huberDelta * (math.Sqrt(1+x*x) - 1)
}

// goldenMin minimises f on [lo, hi] by golden-section search, starting
// from a bracket around x0 when it improves on the interval ends.
func goldenMin(f func(float64) float64, lo, hi, x0 float64) float64 {
	const invPhi = 0.6180339887498949
	a, b := lo, hi
	c := b - invPhi*(b-a)
	d := a + invPhi*(b-a)
	fc, fd := f(c), f(d)
	for i := 0; i < 60 && b-a > 1e-4; i++ {
		if fc < fd {
			b, d, fd = d, c, fc
			c = b - invPhi*(b-a)
			fc = f(c)
		} else {
			a, c, fc = c, d, fd
			d = a + invPhi*(b-a)
			fd = f(d)
		}
	}
	best := (a + b) / 2
	if f0 := f(x0); f0 < f(best) {
		return x0
	}
	return best
}

func orOne(v float64) float64 {
	if v <= 0 {
		return 1
	}
	return v
}

func clamp(v, lo, hi float64) float64 { return math.Min(math.Max(v, lo), hi) }

// round2 rounds to two significant digits.
func round2(v float64) float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	e := math.Floor(math.Log10(math.Abs(v)))
	s := math.Pow(10, e-1)
	return math.Round(v/s) * s
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
