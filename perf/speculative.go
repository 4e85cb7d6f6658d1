package perf

import (
	"fmt"
	"math"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/memory"
	"github.com/gpuplan/gpuplan/model"
)

// Speculative decoding methods.
const (
	// SpecDraft: a separate, smaller model proposes the tokens (vLLM
	// "draft_model", SGLang --speculative-algorithm STANDALONE).
	SpecDraft = "draft"
	// SpecEAGLE: an EAGLE head (one decoder layer on the target's hidden
	// states, sharing its output head) proposes them.
	SpecEAGLE = "eagle"
	// SpecMTP: the model's own multi-token-prediction modules (DeepSeek V3
	// and R1) propose them (vLLM "deepseek_mtp", SGLang NEXTN).
	SpecMTP = "mtp"
)

// Speculative is a speculative-decoding setting: each decode iteration the
// proposer drafts Tokens tokens per sequence one after another, the target
// verifies them and its own next token in one forward pass of Tokens + 1
// positions, and keeps the accepted prefix plus one token of its own.
type Speculative struct {
	// Method is SpecDraft, SpecEAGLE or SpecMTP.
	Method string `json:"method"`
	// Draft is the proposer model for SpecDraft (required) and SpecEAGLE
	// (nil: one decoder layer of the target plus its output head).
	Draft *model.Spec `json:"-"`
	// Tokens is K, the tokens proposed per step (1 … 16).
	Tokens int `json:"tokens"`
	// AcceptanceRate is A, the probability that each proposed token is
	// accepted given the previous ones were (0 … 1).
	AcceptanceRate float64 `json:"acceptance_rate"`
}

// maxSpecTokens bounds K: engines propose a handful (vLLM's examples use
// up to 5, SGLang's EAGLE up to 16 draft tokens).
const maxSpecTokens = 16

// ExpectedTokens is the mean number of tokens a sequence advances per
// verification step: 1 + A + A² + … + A^K = (1 − A^(K+1)) ÷ (1 − A), and K + 1
// when every proposal is accepted (the geometric series of the speculative
// decoding papers: Leviathan et al. 2023, Chen et al. 2023).
func (s Speculative) ExpectedTokens() float64 {
	k, a := float64(s.Tokens), s.AcceptanceRate
	if a >= 1 {
		return k + 1
	}
	return (1 - math.Pow(a, k+1)) / (1 - a)
}

func (s Speculative) validate(target *model.Spec) error {
	switch s.Method {
	case SpecDraft:
		if s.Draft == nil {
			return fmt.Errorf("%w: --speculative draft:MODEL needs the draft model", ErrInvalid)
		}
	case SpecEAGLE:
	case SpecMTP:
		if target.MTPLayers <= 0 {
			return fmt.Errorf("%w: --speculative mtp needs a model with multi-token-prediction layers (DeepSeek V3/R1); %s has none", ErrInvalid, target.ID)
		}
	default:
		return fmt.Errorf("%w: --speculative must be draft:MODEL, eagle[:MODEL] or mtp, got %q", ErrInvalid, s.Method)
	}
	if s.Tokens < 1 || s.Tokens > maxSpecTokens {
		return fmt.Errorf("%w: --spec-tokens must be between 1 and %d", ErrInvalid, maxSpecTokens)
	}
	if !(s.AcceptanceRate >= 0 && s.AcceptanceRate <= 1) {
		return fmt.Errorf("%w: --acceptance-rate must be between 0 and 1", ErrInvalid)
	}
	return nil
}

// speculation is a resolved Speculative on one deployment.
type speculation struct {
	on       bool
	k, e     float64 // proposed tokens per step, expected tokens per step
	method   string
	weights  float64 // the proposer's weights on one GPU, bytes
	params   float64 // the proposer's parameters on one GPU (2 FLOPs each per token)
	kvPerTok float64 // the proposer's KV bytes per token on one GPU
}

// verifyTokens is how many positions each decoding sequence runs through
// the target per iteration.
func (s speculation) verifyTokens() float64 {
	if !s.on {
		return 1
	}
	return s.k + 1
}

// iterations is how many decode iterations a request of O output tokens
// spends (O − 1 tokens after the first, E per iteration), plus one.
func (s speculation) iterations(O float64) float64 {
	if !s.on {
		return O
	}
	return 1 + (O-1)/s.e
}

// speculate resolves r.Speculative on d: the proposer's weights, parameters
// and cache per GPU (split by TP like the target's), and shrinks the KV
// capacity by the room they take.
func (d *resolvedRequest) speculate(r Request, b memory.Budget) error {
	sp := r.Speculative
	if sp == nil {
		return nil
	}
	if err := sp.validate(d.spec); err != nil {
		return err
	}
	tp := float64(d.tp)
	bytesPerParam := b.Precision.WeightBits() / 8
	s := speculation{on: true, k: float64(sp.Tokens), e: sp.ExpectedTokens(), method: sp.Method}
	kvBytes := float64(b.KVDType.Bits()) / 8
	perLayerKV := func(m *model.Spec) float64 {
		var sum float64
		n := 0
		for _, l := range m.KVLayers() {
			if l.Kind == model.KVNone {
				continue
			}
			sum += float64(l.KVHeads) * float64(l.KeyDim+l.ValueDim) * kvBytes
			n++
		}
		if n == 0 {
			return 0
		}
		return sum / float64(n)
	}
	switch {
	case sp.Method == SpecMTP:
		p := float64(d.spec.Params().Groups[model.GroupMTP])
		s.params = p / tp
		s.kvPerTok = perLayerKV(d.spec) * float64(d.spec.MTPLayers) / tp
	case sp.Draft != nil:
		p := float64(sp.Draft.Params().Total)
		s.params = p / tp
		s.kvPerTok = float64(sp.Draft.KVBytesPerToken(dtype.KVDType(b.KVDType))) / tp
	default: // EAGLE without a head model: one target layer and its head
		p := d.spec.Params()
		layer := float64(p.Groups[model.GroupAttn]+p.Groups[model.GroupMLP]) / float64(d.spec.Layers)
		s.params = (layer + float64(d.spec.Vocab)*float64(d.spec.Hidden)) / tp
		s.kvPerTok = perLayerKV(d.spec) / tp
	}
	s.weights = s.params * bytesPerParam
	d.spec2 = s
	// The proposer's weights and cache come out of the KV pool: the pool
	// holds fewer sequences of (target + proposer) cache.
	pool := float64(b.KVPool)
	perSeq := pool / math.Max(d.kvCapacity, 1e-9)
	seqTokens := float64(d.isl + d.osl)
	newCap := (pool - s.weights) / (perSeq + s.kvPerTok*seqTokens)
	if newCap < 1 {
		return fmt.Errorf("%w: the %s proposer (%.1f GB per GPU) leaves no room for one sequence's cache", ErrDoesNotFit, sp.Method, s.weights/1e9)
	}
	d.kvCapacity = newCap
	if math.Floor(newCap) < d.capacity {
		d.capacity = math.Floor(newCap)
		d.capacityByPool = true
	}
	d.notes = append(d.notes, fmt.Sprintf("speculative decoding (%s): %d tokens proposed per step, acceptance %.2f per token, %.2f tokens per step expected ((1 − A^(K+1)) ÷ (1 − A)); the proposer takes %.2f GB per GPU and %.0f bytes of cache per token",
		sp.Method, sp.Tokens, sp.AcceptanceRate, s.e, s.weights/1e9, s.kvPerTok))
	return nil
}

// draftTime is the proposer's work in one iteration for dec decoding
// sequences at mean context ctx: K passes one after another, each reading
// the proposer's weights and the sequences' proposer cache and doing 2
// FLOPs per parameter per sequence, at the target's achievable rates.
func (d *resolvedRequest) draftTime(r rates, dec, ctx float64) float64 {
	s := d.spec2
	if !s.on || dec <= 0 {
		return 0
	}
	bytes := s.weights + dec*s.kvPerTok*ctx
	flops := 2 * s.params * dec
	return s.k * math.Max(bytes/r.bw, flops/r.flops)
}
