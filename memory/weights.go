package memory

import (
	"fmt"
	"math"
	"strings"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/model"
	"github.com/gpuplan/gpuplan/units"
)

// vocabPadding is vLLM's DEFAULT_VOCAB_PADDING_SIZE: VocabParallelEmbedding
// and ParallelLMHead pad the vocabulary to a multiple of 64 before splitting
// it across tensor-parallel ranks (vllm/model_executor/layers/
// vocab_parallel_embedding.py).
const vocabPadding = 64

// Weights is the weight memory of one model at one precision.
type Weights struct {
	// Total is the whole model's weights (all GPUs together, no padding).
	Total units.Bytes `json:"total_bytes"`
	// PerGPU is the largest per-GPU share under TP/PP, with vLLM's
	// vocabulary padding and replicated tensors (norms, routers, KV heads
	// when there are fewer KV heads than TP ranks, MLA's down-projections).
	PerGPU units.Bytes `json:"per_gpu_bytes"`
	// RotaryCache is the cos/sin table vLLM keeps on every GPU:
	// max_position_embeddings × rotary dim in the model dtype (RotaryEmbedding
	// cos_sin_cache); it shows up in vLLM's "model weights" figure.
	RotaryCache units.Bytes `json:"rotary_cache_bytes"`
	// FromHeaders is true when Total comes from the checkpoint's tensor
	// headers rather than from parameter counts × precision.
	FromHeaders bool `json:"from_headers"`
	// ByGroup is the whole-model weight bytes per parameter group.
	ByGroup map[string]units.Bytes `json:"by_group_bytes"`
}

// quantizedGroups are the parameter groups whose linear layers a
// quantization method converts. Embeddings, the output head, norms and
// routers stay in the compute dtype in vLLM's FP8, INT8, AWQ, GPTQ and
// compressed-tensors paths (they are built without a quant_config or listed
// in the checkpoints' ignore lists); vision towers are kept unquantized here
// too, which is what released FP8/W8A8 checkpoints of multimodal models do.
var quantizedGroups = map[string]bool{
	model.GroupAttn: true, model.GroupMLP: true, model.GroupRoutedExperts: true, model.GroupMTP: true,
}

// CheckpointPrecision maps a checkpoint's quantization_config to the
// deployable precision it implies. ok is false for unquantized checkpoints
// and for methods whose weight format is unknown.
func CheckpointPrecision(q *model.Quantization) (dtype.Precision, bool) {
	return q.Precision()
}

// unquantizedDType is the dtype of tensors a precision leaves alone.
func unquantizedDType(s *model.Spec, p dtype.Precision) dtype.DType {
	if !p.Quantized() {
		return p.Weight
	}
	if s.ComputeDType() == dtype.FP32 {
		return dtype.BF16
	}
	return s.ComputeDType()
}

// groupBits returns the stored bits per parameter of a group.
func groupBits(s *model.Spec, p dtype.Precision, group string) float64 {
	if !quantizedGroups[group] || !p.Quantized() {
		return unquantizedDType(s, p).Bits()
	}
	if s.Quant != nil && group == model.GroupAttn && notConverted(s.Quant, "attn") {
		return unquantizedDType(s, p).Bits()
	}
	bits := p.WeightBits()
	if s.Quant != nil && len(s.Quant.BlockSize) == 2 && s.Quant.BlockSize[0] > 0 && s.Quant.BlockSize[1] > 0 {
		// Block-wise scales: one fp32 scale per block (DeepSeek-V3's
		// weight_scale_inv, [128, 128] blocks).
		bits += 32 / float64(s.Quant.BlockSize[0]*s.Quant.BlockSize[1])
	}
	return bits
}

// notConverted reports whether the checkpoint keeps modules matching part
// (e.g. "attn") unquantized.
func notConverted(q *model.Quantization, part string) bool {
	for _, m := range q.NotConverted {
		if strings.Contains(strings.ToLower(m), part) {
			return true
		}
	}
	return false
}

// EstimateWeights computes weight memory for a model at a precision under
// TP×PP. When the Spec carries a tensor inventory from checkpoint headers,
// the whole-model total is the headers' exact stored size and the per-GPU
// share follows the same split as the computed figure.
func EstimateWeights(s *model.Spec, p dtype.Precision, tp, pp int) (Weights, error) {
	if tp < 1 || pp < 1 {
		return Weights{}, fmt.Errorf("tensor- and pipeline-parallel sizes must be at least 1 (got tp=%d, pp=%d)", tp, pp)
	}
	if s.Layers > 0 && pp > s.Layers {
		return Weights{}, fmt.Errorf("pipeline-parallel size %d exceeds the model's %d layers", pp, s.Layers)
	}
	params := s.Params()
	w := Weights{ByGroup: map[string]units.Bytes{}}
	bytesOf := func(n int64, group string) float64 { return float64(n) * groupBits(s, p, group) / 8 }

	pad := mxfp4ExpertPadding(s, p, tp)
	var total float64
	for g, n := range params.Groups {
		if g == model.GroupMTP {
			continue // not loaded without speculative decoding
		}
		b := bytesOf(n, g)
		if g == model.GroupRoutedExperts {
			b *= pad
		}
		w.ByGroup[g] = units.Bytes(math.Round(b))
		total += b
	}

	// Per-GPU share: split what vLLM shards, replicate what it replicates.
	ftp := float64(tp)
	vocabRows := func() float64 {
		padded := math.Ceil(float64(s.Vocab)/vocabPadding) * vocabPadding
		return math.Ceil(padded / ftp)
	}
	embedPerGPU, headPerGPU := 0.0, 0.0
	if n := params.Groups[model.GroupEmbed]; n > 0 && s.Vocab > 0 {
		embedPerGPU = bytesOf(n, model.GroupEmbed) / float64(s.Vocab) * vocabRows()
	}
	if n := params.Groups[model.GroupLMHead]; n > 0 && s.Vocab > 0 {
		headPerGPU = bytesOf(n, model.GroupLMHead) / float64(s.Vocab) * vocabRows()
	}
	attn := bytesOf(params.Groups[model.GroupAttn], model.GroupAttn)
	replicatedAttn := bytesOf(replicatedAttentionParams(s, tp), model.GroupAttn)
	layerShare := (attn-replicatedAttn)/ftp + replicatedAttn +
		bytesOf(params.Groups[model.GroupMLP], model.GroupMLP)/ftp +
		bytesOf(params.Groups[model.GroupRoutedExperts], model.GroupRoutedExperts)*pad/ftp +
		bytesOf(params.Groups[model.GroupRouter], model.GroupRouter) +
		bytesOf(params.Groups[model.GroupNorm], model.GroupNorm)
	vision := bytesOf(params.Groups[model.GroupVision], model.GroupVision) / ftp

	perGPU := layerShare + embedPerGPU + headPerGPU + vision
	if pp > 1 && s.Layers > 0 {
		// vLLM splits decoder layers evenly across stages (get_pp_indices),
		// the first stage also holding the embedding (and vision tower), the
		// last the output head. Report the heaviest stage.
		perLayer := layerShare / float64(s.Layers)
		stageLayers := math.Ceil(float64(s.Layers) / float64(pp))
		first := perLayer*stageLayers + embedPerGPU + vision
		last := perLayer*stageLayers + headPerGPU
		if s.TiedEmbeddings {
			last += embedPerGPU // the last stage needs the tied matrix as its head
		}
		perGPU = math.Max(first, last)
	}

	w.RotaryCache = rotaryCache(s, p)
	if s.Inventory != nil && s.Inventory.Bytes > 0 && total > 0 {
		scale := float64(s.Inventory.Bytes) / total
		total = float64(s.Inventory.Bytes)
		perGPU *= scale
		w.FromHeaders = true
	}
	w.Total = units.Bytes(math.Round(total))
	w.PerGPU = units.Bytes(math.Round(perGPU)) + w.RotaryCache
	return w, nil
}

// replicatedAttentionParams counts attention parameters every TP rank holds
// in full: K/V projections when there are fewer KV heads than ranks (vLLM
// replicates KV heads, QKVParallelLinear), and MLA's compression
// projections (q_a_proj and kv_a_proj_with_mqa are ReplicatedLinear in
// vLLM's DeepSeek models).
func replicatedAttentionParams(s *model.Spec, tp int) int64 {
	if tp <= 1 {
		return 0
	}
	h := int64(s.Hidden)
	if s.MLA != nil {
		m := s.MLA
		perLayer := h * int64(m.KVLoRARank+m.QKRopeHeadDim)
		if m.QLoRARank > 0 {
			perLayer += h * int64(m.QLoRARank)
		}
		return perLayer * int64(s.Layers)
	}
	if s.KVHeads <= 0 || s.KVHeads >= tp {
		return 0
	}
	// Each rank holds one KV head (1/KVHeads of the K/V weights) instead of
	// KVHeads/tp; count the excess as replicated so that
	// (attn − replicated)/tp + replicated gives the per-rank size.
	kv := 2 * h * int64(s.KVHeads*s.HeadDim) * int64(s.Layers)
	perRank := kv / int64(s.KVHeads)
	// (attn − r)/tp + r = attn/tp + r(1 − 1/tp) must add perRank − kv/tp.
	excess := float64(perRank) - float64(kv)/float64(tp)
	return int64(excess / (1 - 1/float64(tp)))
}

// rotaryCache sizes vLLM's rotary cos/sin cache: one [max_position,
// rotary_dim] table in the model dtype (vllm/model_executor/layers/
// rotary_embedding: cos_sin_cache). It is why vLLM's "model weights"
// figure for Llama-3.1-8B is 14.99 GiB rather than 14.96 GiB:
// 131,072 × 128 × 2 bytes = 32 MiB.
func rotaryCache(s *model.Spec, p dtype.Precision) units.Bytes {
	dim := s.HeadDim
	if s.MLA != nil {
		dim = s.MLA.QKRopeHeadDim
	}
	if s.MaxPositionEmbeddings <= 0 || dim <= 0 {
		return 0
	}
	bytes := unquantizedDType(s, p).Bits() / 8
	return units.Bytes(float64(s.MaxPositionEmbeddings) * float64(dim) * bytes)
}

// mxfp4ExpertPadding is the growth of MXFP4 expert weights when vLLM pads
// them for its MoE kernels: on Hopper and Ampere (Marlin and Triton
// backends) the hidden size is rounded up to a multiple of 256 and each
// TP partition's intermediate size to a multiple of 128
// (vllm/model_executor/layers/quantization/mxfp4.py,
// mxfp4_round_up_hidden_size_and_intermediate_size). For gpt-oss (hidden
// and intermediate 2880) that is 3072 × 2944 / 2880² = 1.0904, which is
// why vLLM loads gpt-oss-120b as 65.97 GiB on an H100 (vllm#23278) rather
// than the 60.9 GiB its tensors take on disk.
func mxfp4ExpertPadding(s *model.Spec, p dtype.Precision, tp int) float64 {
	if p.Weight != dtype.MXFP4 || s.MoE == nil || s.Hidden <= 0 || s.MoE.ExpertIntermediate <= 0 || tp < 1 {
		return 1
	}
	roundUp := func(x, m int) int { return (x + m - 1) / m * m }
	inter := s.MoE.ExpertIntermediate / tp
	if inter <= 0 {
		return 1
	}
	return float64(roundUp(s.Hidden, 256)*roundUp(inter, 128)) / float64(s.Hidden*inter)
}
