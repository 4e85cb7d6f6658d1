package dtype

import (
	"fmt"
	"sort"
	"strings"
)

// Checkpoint is how a quantized model reaches the engine: quantized at load
// time from a bf16 checkpoint, or a pre-quantized checkpoint of a given kind.
type Checkpoint string

// Checkpoint kinds, as Hugging Face quantization_config.quant_method and vLLM
// --quantization name them.
const (
	CheckpointNone              Checkpoint = ""                   // unquantized (fp32/fp16/bf16)
	CheckpointRuntime           Checkpoint = "runtime"            // engine quantizes at load (vLLM --quantization fp8)
	CheckpointFP8               Checkpoint = "fp8"                // HF quant_method "fp8" (e.g. DeepSeek-V3 block FP8)
	CheckpointCompressedTensors Checkpoint = "compressed-tensors" // llm-compressor: FP8-dynamic, W8A8, W4A16
	CheckpointAWQ               Checkpoint = "awq"
	CheckpointGPTQ              Checkpoint = "gptq"
	CheckpointMXFP4             Checkpoint = "mxfp4"    // gpt-oss release format
	CheckpointModelOpt          Checkpoint = "modelopt" // NVIDIA ModelOpt (FP8/NVFP4)
	CheckpointGGUF              Checkpoint = "gguf"
	CheckpointBitsAndBytes      Checkpoint = "bitsandbytes"
)

// Precision is a deployable form of a whole model: the format its weights are
// stored in, the format its matrix multiplies run in, and how an engine gets
// there. Embeddings, norms and routers usually stay in the compute dtype; the
// memory package accounts for that.
type Precision struct {
	// Name is the canonical flag value (--precision).
	Name string `json:"name"`
	// Weight is the storage format of the quantized linear-layer weights.
	Weight DType `json:"weight_dtype"`
	// Compute is the format the GEMMs run in. Weight-only forms (W8A16,
	// W4A16) dequantize to bf16/fp16 and multiply there.
	Compute DType `json:"compute_dtype"`
	// WeightOnly is true when only the weights are quantized.
	WeightOnly bool `json:"weight_only"`
	// GroupSize is the number of weights sharing one scale for group-wise
	// formats (AWQ/GPTQ default 128, per their documentation); 0 means
	// per-channel or per-tensor scales, whose size is negligible.
	GroupSize int `json:"group_size,omitempty"`
	// Checkpoints lists how this form is deployed, preferred first.
	Checkpoints []Checkpoint `json:"checkpoints,omitempty"`
	// Summary is one line for help text.
	Summary string `json:"summary"`
	// GGUF is true for llama.cpp GGUF tensor types.
	GGUF bool `json:"gguf,omitempty"`
	// BitsPerWeight overrides Weight.Bits() for GGUF block types, whose bit
	// widths include block scales (ggml-common.h block layouts); for a GGUF
	// file it is the file's real bytes × 8 ÷ elements.
	BitsPerWeight float64 `json:"bits_per_weight,omitempty"`
	// TensorTypes is a GGUF file's mix of storage types ("Q4_K/Q6_K");
	// empty when the precision was named rather than read from a file.
	TensorTypes string `json:"tensor_types,omitempty"`
}

// Describe is the precision for humans: "weights bf16, compute bf16", or
// for GGUF "weights Q4_K/Q6_K, 4.85 bits per weight, compute fp16".
func (p Precision) Describe() string {
	if !p.GGUF {
		return fmt.Sprintf("weights %s, compute %s", p.Weight, p.Compute)
	}
	types := p.TensorTypes
	if types == "" {
		types = strings.ToUpper(string(p.Weight))
		return fmt.Sprintf("weights %s, %.4g bits per weight (the type's block layout; a GGUF file gives its exact mix), compute %s", types, p.WeightBits(), p.Compute)
	}
	return fmt.Sprintf("weights %s, %.4g bits per weight (from the file), compute %s", types, p.WeightBits(), p.Compute)
}

// WeightBits is the stored size of one quantized weight in bits, including
// its share of the group scales: AWQ/GPTQ keep an fp16 scale and a 4-bit
// zero point per group of GroupSize weights (AutoAWQ/AutoGPTQ layouts), so
// int4 at group 128 costs 4 + (16+4)/128 = 4.156 bits.
func (p Precision) WeightBits() float64 {
	if p.BitsPerWeight > 0 {
		return p.BitsPerWeight
	}
	b := p.Weight.Bits()
	if p.GroupSize > 0 {
		zero := b // zero points are stored at the weight width
		b += (16 + zero) / float64(p.GroupSize)
	}
	return b
}

// Quantized reports whether the weights are stored below 16 bits.
func (p Precision) Quantized() bool { return p.WeightBits() < 16 }

var precisions = []Precision{
	{Name: "fp32", Weight: FP32, Compute: FP32, Summary: "full precision (vLLM --dtype float32)"},
	{Name: "fp16", Weight: FP16, Compute: FP16, Summary: "half precision (vLLM --dtype float16); the only 16-bit form on T4 and V100"},
	{Name: "bf16", Weight: BF16, Compute: BF16, Summary: "bfloat16 (vLLM --dtype bfloat16), the usual release format"},
	{Name: "fp8", Weight: FP8, Compute: FP8, Checkpoints: []Checkpoint{CheckpointRuntime, CheckpointCompressedTensors, CheckpointFP8, CheckpointModelOpt},
		Summary: "native FP8 W8A8: FP8 weights and activations on FP8 tensor cores (Ada, Hopper, Blackwell, MI300X); runtime --quantization fp8 or an FP8-dynamic checkpoint"},
	{Name: "fp8-w8a16", Weight: FP8, Compute: BF16, WeightOnly: true, Checkpoints: []Checkpoint{CheckpointRuntime, CheckpointCompressedTensors, CheckpointFP8},
		Summary: "FP8 weights, 16-bit compute (vLLM's Marlin W8A16 path on Ampere, which has no FP8 tensor cores)"},
	{Name: "int8", Weight: INT8, Compute: INT8, Checkpoints: []Checkpoint{CheckpointCompressedTensors},
		Summary: "INT8 W8A8 (SmoothQuant-style compressed-tensors checkpoint, e.g. *-quantized.w8a8)"},
	{Name: "int8-w8a16", Weight: INT8, Compute: BF16, WeightOnly: true, GroupSize: 128, Checkpoints: []Checkpoint{CheckpointGPTQ, CheckpointCompressedTensors},
		Summary: "INT8 weight-only (8-bit GPTQ or compressed-tensors W8A16 checkpoint)"},
	{Name: "int4", Weight: INT4, Compute: BF16, WeightOnly: true, GroupSize: 128, Checkpoints: []Checkpoint{CheckpointAWQ, CheckpointGPTQ, CheckpointCompressedTensors},
		Summary: "INT4 weight-only W4A16, group size 128 (AWQ, GPTQ or compressed-tensors W4A16 checkpoint)"},
	{Name: "mxfp4", Weight: MXFP4, Compute: BF16, WeightOnly: true, Checkpoints: []Checkpoint{CheckpointMXFP4},
		Summary: "OCP MXFP4 weights (gpt-oss release format); native on Blackwell, weight-only kernels elsewhere"},
	{Name: "nvfp4", Weight: NVFP4, Compute: NVFP4, Checkpoints: []Checkpoint{CheckpointModelOpt, CheckpointCompressedTensors},
		Summary: "NVIDIA NVFP4 W4A4 (Blackwell only; ModelOpt or compressed-tensors checkpoint)"},
}

// ggufTypes lists llama.cpp tensor types by their bits per weight, derived
// from the block layouts in ggml-common.h: e.g. block_q4_0 is 32 weights in
// 16 bytes of nibbles + one fp16 scale = 18 bytes → 4.5 bits; block_q4_K is
// 256 weights in 144 bytes → 4.5 bits; block_q6_K is 256 in 210 → 6.5625.
// The "_M"/"_S" file types mix tensor types; without the file, their main
// type is used and the result is labelled approximate by callers.
var ggufTypes = []struct {
	name string
	bpw  float64
}{
	{"q8_0", 8.5}, {"q6_k", 6.5625}, {"q5_k", 5.5}, {"q5_0", 5.5}, {"q5_1", 6},
	{"q4_k", 4.5}, {"q4_0", 4.5}, {"q4_1", 5}, {"q3_k", 3.4375}, {"q2_k", 2.625},
}

func init() {
	for _, g := range ggufTypes {
		precisions = append(precisions, Precision{
			Name: g.name, Weight: DType(g.name), Compute: FP16, WeightOnly: true, GGUF: true, BitsPerWeight: g.bpw,
			Checkpoints: []Checkpoint{CheckpointGGUF},
			Summary:     fmt.Sprintf("llama.cpp GGUF %s, %.4g bits per weight", strings.ToUpper(g.name), g.bpw),
		})
	}
}

// precisionAliases maps other spellings to canonical names.
var precisionAliases = map[string]string{
	"float32": "fp32", "float16": "fp16", "half": "fp16", "bfloat16": "bf16",
	"w8a8-fp8": "fp8", "fp8-dynamic": "fp8", "fp8-w8a8": "fp8",
	"w8a16-fp8": "fp8-w8a16",
	"w8a8":      "int8", "int8-w8a8": "int8", "w8a8-int8": "int8",
	"w8a16": "int8-w8a16",
	"w4a16": "int4", "awq": "int4", "gptq": "int4", "int4-w4a16": "int4",
	"fp4":    "nvfp4",
	"q4_k_m": "q4_k", "q4_k_s": "q4_k", "q5_k_m": "q5_k", "q5_k_s": "q5_k", "q3_k_m": "q3_k", "q3_k_s": "q3_k", "q3_k_l": "q3_k",
}

// LookupPrecision resolves a --precision value (canonical name or alias,
// case-insensitive).
func LookupPrecision(name string) (Precision, error) {
	k := strings.ToLower(strings.TrimSpace(name))
	if a, ok := precisionAliases[k]; ok {
		k = a
	}
	for _, p := range precisions {
		if p.Name == k {
			return p, nil
		}
	}
	return Precision{}, fmt.Errorf("unknown precision %q (known: %s)", name, strings.Join(PrecisionNames(), ", "))
}

// Precisions returns every known precision, canonical order.
func Precisions() []Precision { return append([]Precision(nil), precisions...) }

// PrecisionNames returns the canonical precision names.
func PrecisionNames() []string {
	out := make([]string, len(precisions))
	for i, p := range precisions {
		out[i] = p.Name
	}
	return out
}

// PrecisionAliases returns alias → canonical name, sorted by alias, for docs.
func PrecisionAliases() [][2]string {
	out := make([][2]string, 0, len(precisionAliases))
	for a, c := range precisionAliases {
		out = append(out, [2]string{a, c})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}
