package perf

import (
	"fmt"
	"math"
	"strings"

	"github.com/gpuplan/gpuplan/hardware"
)

// defaultCopyFraction is the achievable fraction of datasheet memory
// bandwidth for chips without a measured copy rate: the only measured copy
// in the hardware catalog, gpuplan's H200 run (4,211.68 GB/s read plus
// write against 4.8 TB/s, docs/sources.md#h200-groundtruth). TestHardwareDefaults
// recomputes it from the catalog.
const defaultCopyFraction = 0.88

// defaultMatmulFraction is the achievable fraction of datasheet dense
// TFLOPS for chips without a measured matmul rate for the compute type: the
// median of every measured (chip, math type) fraction in the hardware
// catalog (MAMF runs from stas00/ml-engineering and the H200 run).
// TestHardwareDefaults recomputes it from the catalog.
const defaultMatmulFraction = 0.78

// hardwareFractions returns the achievable fractions of peak bandwidth and
// of peak dense compute for math m on g, and whether each was measured on
// this chip. FP16 and BF16 run at the same rate (hardware.GPU.TFLOPS), so a
// measurement of one stands for the other.
func hardwareFractions(g hardware.GPU, m hardware.Math) (bw, compute float64, bwMeasured, computeMeasured bool) {
	bw, bwMeasured = g.AchievableFraction("copy", "")
	if !bwMeasured {
		bw = defaultCopyFraction
	}
	compute, computeMeasured = g.AchievableFraction("matmul", m)
	if !computeMeasured && (m == hardware.MathFP16 || m == hardware.MathBF16) {
		other := hardware.MathBF16
		if m == hardware.MathBF16 {
			other = hardware.MathFP16
		}
		compute, computeMeasured = g.AchievableFraction("matmul", other)
	}
	if !computeMeasured {
		compute = defaultMatmulFraction
	}
	return bw, compute, bwMeasured, computeMeasured
}

// resolvedFactors are the factors one prediction uses.
type resolvedFactors struct {
	gpu    GPUFactors
	engine EngineFactors
	// gpuCalibrated: fitted on this GPU with this engine version.
	// engineCalibrated: the engine version has fitted engine factors.
	gpuCalibrated, engineCalibrated bool
	source                          string
	band                            Band
}

// defaultEngine is the engine whose factors stand in for engines without
// any (TensorRT-LLM v0.17, the only engine with published tables here).
const defaultEngine, defaultEngineVersion = "trtllm", "0.17"

// resolve picks the factors for a GPU id and an engine version:
//   - GPU factors fitted for exactly this (GPU, engine, version);
//   - else the same GPU and engine at another version;
//   - else the default engine's factors on the same GPU;
//   - else the median of the engine's fitted factors on other GPUs (they
//     are fractions of each chip's own achievable rates, so they transfer);
//   - else the median over every fitted pair.
//
// Engine factors: exact version, else another version of the engine, else
// the default engine's. Anything but the first choice is uncalibrated.
func (c *Calibration) resolve(gpuID, engine, version string) (resolvedFactors, error) {
	ix := c.ensureIndex()
	key := strings.ToLower(gpuID) + "|" + strings.ToLower(engine) + "|" + version
	if v, ok := ix.resolved.Load(key); ok {
		return v.(resolvedFactors), nil
	}
	r, err := c.resolveUncached(gpuID, engine, version)
	if err == nil {
		ix.resolved.Store(key, r)
	}
	return r, err
}

func (c *Calibration) resolveUncached(gpuID, engine, version string) (resolvedFactors, error) {
	ix := c.ensureIndex()
	e := strings.ToLower(engine)
	var r resolvedFactors
	var notes []string
	if f, ok := ix.gpu[strings.ToLower(gpuID)+"|"+e+"|"+version]; ok {
		r.gpu, r.gpuCalibrated = f, true
		notes = append(notes, fmt.Sprintf("%s on %s fitted on %d measured points", engineLabel(engine, version), gpuID, f.Points))
	} else if f, ok := c.otherVersion(gpuID, e); ok {
		r.gpu = f
		notes = append(notes, fmt.Sprintf("no %s points on %s: factors of %s@%s on the same GPU", engineLabel(engine, version), gpuID, f.Engine, f.EngineVersion))
	} else if f, ok := c.otherEngine(gpuID); ok {
		r.gpu = f
		r.gpu.Engine, r.gpu.EngineVersion = engine, version
		notes = append(notes, fmt.Sprintf("no %s points on %s: the %s@%s factors of the same GPU", engineLabel(engine, version), gpuID, f.Engine, f.EngineVersion))
	} else if m, ok := ix.medianByEngine[e]; ok {
		r.gpu = GPUFactors{GPU: gpuID, Engine: engine, EngineVersion: version, BandwidthEfficiency: m[0], ComputeEfficiency: m[1]}
		notes = append(notes, fmt.Sprintf("no %s points on %s: median %s factors of the calibrated GPUs, applied to %s's own achievable rates", engine, gpuID, engine, gpuID))
	} else if len(c.GPUFactors) > 0 {
		m := ix.medianAll
		r.gpu = GPUFactors{GPU: gpuID, Engine: engine, EngineVersion: version, BandwidthEfficiency: m[0], ComputeEfficiency: m[1]}
		notes = append(notes, fmt.Sprintf("no points on %s for any engine: median factors of every calibrated (GPU, engine) pair, applied to %s's own achievable rates", gpuID, gpuID))
	} else {
		return r, fmt.Errorf("%w: the calibration has no GPU factors; fit one (perf.Fit) or drop --calibration", ErrInvalid)
	}
	if f, ok := ix.engine[e+"|"+version]; ok {
		r.engine, r.engineCalibrated = f, true
	} else if f, ok := c.otherEngineVersion(e); ok {
		r.engine = f
		notes = append(notes, fmt.Sprintf("engine overheads of %s@%s", f.Engine, f.EngineVersion))
	} else if f, ok := ix.engine[defaultEngine+"|"+defaultEngineVersion]; ok {
		r.engine = f
		notes = append(notes, fmt.Sprintf("no %s measurements: engine overheads of %s@%s", engine, defaultEngine, defaultEngineVersion))
	} else if len(c.EngineFactors) > 0 {
		r.engine = c.EngineFactors[0]
		notes = append(notes, fmt.Sprintf("no %s measurements: engine overheads of %s@%s", engine, r.engine.Engine, r.engine.EngineVersion))
	} else {
		return r, fmt.Errorf("%w: the calibration has no engine factors; fit one (perf.Fit) or drop --calibration", ErrInvalid)
	}
	r.source = strings.Join(notes, "; ")
	r.band = bandFor(r, ix.engine[defaultEngine+"|"+defaultEngineVersion])
	return r, nil
}

func engineLabel(engine, version string) string {
	if version == "" {
		return engine
	}
	return engine + "@" + version
}

func (c *Calibration) otherVersion(gpuID, engine string) (GPUFactors, bool) {
	var best GPUFactors
	found := false
	for _, f := range c.GPUFactors {
		if strings.EqualFold(f.GPU, gpuID) && strings.EqualFold(f.Engine, engine) {
			if !found || f.EngineVersion > best.EngineVersion {
				best, found = f, true
			}
		}
	}
	return best, found
}

// otherEngine returns the default engine's factors on the same GPU. Only
// the default engine stands in for others: its tables cover every GPU it
// was fitted on at every load, while another engine's factors come from a
// few runs of its own (SGLang's H200 compute efficiency reflects SGLang's
// scheduler at large batches) and would move a third engine's predictions
// on that GPU for no reason of physics.
func (c *Calibration) otherEngine(gpuID string) (GPUFactors, bool) {
	for _, f := range c.GPUFactors {
		if strings.EqualFold(f.GPU, gpuID) && strings.EqualFold(f.Engine, defaultEngine) && f.EngineVersion == defaultEngineVersion {
			return f, true
		}
	}
	return GPUFactors{}, false
}

func (c *Calibration) otherEngineVersion(engine string) (EngineFactors, bool) {
	var best EngineFactors
	found := false
	for _, f := range c.EngineFactors {
		if strings.EqualFold(f.Engine, engine) {
			if !found || f.EngineVersion > best.EngineVersion {
				best, found = f, true
			}
		}
	}
	return best, found
}

// uncalibratedWidening is how much wider, in log space, the band of an
// uncalibrated prediction is than the engine's 5–95% band: twice, so a
// prediction for a GPU or engine without measurements claims half the
// confidence (docs/perf.md, "Error band").
const uncalibratedWidening = 2.0

// minBandHalfWidth keeps a band from claiming more than ±5% even where the
// fit happens to be tight on few points.
const minBandHalfWidth = 0.05

// bandFor returns the throughput error band of a prediction. An
// uncalibrated prediction starts from the wider of its engine's band and
// the default engine's (an engine fitted on few GPUs and models has a
// narrow band that says nothing about the GPUs it was not measured on).
func bandFor(r resolvedFactors, def EngineFactors) Band {
	if r.gpuCalibrated && r.engineCalibrated && r.gpu.BandLow > 0 {
		return Band{Low: min(r.gpu.BandLow, 1-minBandHalfWidth), High: max(r.gpu.BandHigh, 1+minBandHalfWidth), Calibrated: true,
			Source: fmt.Sprintf("10th–90th percentile of measured ÷ predicted on the %d fitted points of %s@%s on %s", r.gpu.Points, r.gpu.Engine, r.gpu.EngineVersion, r.gpu.GPU)}
	}
	lo, hi := r.engine.BandLow, r.engine.BandHigh
	if lo <= 0 || hi <= 0 {
		lo, hi = 0.7, 1.3
	}
	if def.BandLow > 0 && def.BandHigh > 0 {
		lo, hi = min(lo, def.BandLow), max(hi, def.BandHigh)
	}
	return Band{Low: min(math.Pow(lo, uncalibratedWidening), 1-minBandHalfWidth), High: max(math.Pow(hi, uncalibratedWidening), 1+minBandHalfWidth), Calibrated: false,
		Source: fmt.Sprintf("uncalibrated: the 5th–95th percentile band of %s@%s (at least that of %s@%s) widened %g× in log space", r.engine.Engine, r.engine.EngineVersion, defaultEngine, defaultEngineVersion, uncalibratedWidening)}
}
