package model

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/gpuplan/gpuplan/dtype"
)

// Quantization is a checkpoint's quantization_config: how its linear-layer
// weights are stored and which modules were left unquantized.
type Quantization struct {
	// Method is the checkpoint kind (HF quant_method, normalized). Methods
	// gpuplan has no constant for keep their spelling
	// (dtype.Checkpoint("fbgemm_fp8")).
	Method dtype.Checkpoint `json:"method"`
	// Weight is the storage format of the quantized weights; empty when the
	// config does not let gpuplan tell (an unknown method), in which case
	// weight memory must come from the checkpoint's tensor headers.
	Weight dtype.DType `json:"weight_dtype,omitempty"`
	// Bits is the weight width in bits (4, 8), when stated or implied.
	Bits int `json:"bits,omitempty"`
	// GroupSize is the number of weights sharing one scale along the input
	// dimension (AWQ/GPTQ group_size, NVFP4's 16, MXFP4's 32); 0 means
	// per-channel or per-tensor scales.
	GroupSize int `json:"group_size,omitempty"`
	// BlockSize is the 2-D weight block sharing one scale (DeepSeek-V3's
	// [128, 128] FP8 blocks); nil when scales are not block-wise.
	BlockSize []int `json:"block_size,omitempty"`
	// Activation is the format activations are quantized to for the
	// matrix multiplies; empty for weight-only schemes (W4A16, W8A16, the
	// gpt-oss MXFP4 release), which compute in the model's dtype.
	Activation dtype.DType `json:"activation_dtype,omitempty"`
	// ActivationDynamic is true when activation scales are computed per
	// token at run time rather than stored.
	ActivationDynamic bool `json:"activation_dynamic,omitempty"`
	// Format is the stored-format tag: fp8 "fmt" ("e4m3"), compressed-tensors
	// "format" ("float-quantized", "pack-quantized"), ModelOpt "quant_algo",
	// AWQ "version", bitsandbytes 4-bit type ("nf4").
	Format string `json:"format,omitempty"`
	// NotConverted lists the module patterns kept in the compute dtype
	// (modules_to_not_convert, compressed-tensors "ignore", ModelOpt
	// "exclude_modules", bitsandbytes llm_int8_skip_modules), as written.
	NotConverted []string `json:"not_converted,omitempty"`
	// KVCache is the KV-cache format the checkpoint was calibrated for
	// (compressed-tensors kv_cache_scheme, ModelOpt kv_cache_quant_algo);
	// empty when it says nothing.
	KVCache dtype.DType `json:"kv_cache_dtype,omitempty"`
	// TensorTypes are a GGUF file's storage types holding at least 1% of
	// its bytes, most bytes first, F32 vectors left out ("Q4_K", "Q6_K"
	// for a Q4_K_M file); BitsPerWeight is the file's bytes × 8 ÷ its
	// elements. Both come from the tensor table.
	TensorTypes   []string `json:"tensor_types,omitempty"`
	BitsPerWeight float64  `json:"bits_per_weight,omitempty"`
}

// Quantized kinds that gpuplan has no dtype.Checkpoint constant for.
const (
	checkpointFBGEMMFP8 dtype.Checkpoint = "fbgemm_fp8"
)

// parseQuantization reads a quantization_config object. Unknown methods are
// kept with an empty Weight (unknown is better than invented); malformed
// values are errors.
func parseQuantization(data json.RawMessage) (*Quantization, error) {
	o, err := parseObject(data)
	if err != nil {
		return nil, fmt.Errorf("quantization_config: %w", err)
	}
	if o == nil {
		return nil, nil
	}
	method, err := o.str("quant_method", "")
	if err != nil {
		return nil, fmt.Errorf("quantization_config: %w", err)
	}
	// bitsandbytes configs saved by older transformers omit quant_method.
	if method == "" {
		if o.has("load_in_4bit") || o.has("load_in_8bit") {
			method = "bitsandbytes"
		} else {
			return nil, fmt.Errorf("quantization_config has no quant_method; supply the checkpoint's config.json as published")
		}
	}
	q := &Quantization{Method: dtype.Checkpoint(strings.ToLower(method))}
	fail := func(err error) (*Quantization, error) {
		return nil, fmt.Errorf("quantization_config (%s): %w", method, err)
	}
	if q.NotConverted, err = o.strList("modules_to_not_convert"); err != nil {
		return fail(err)
	}

	switch q.Method {
	case dtype.CheckpointFP8:
		// transformers FineGrainedFP8Config / DeepSeek-V3 README_WEIGHTS.md:
		// e4m3 weights, 128×128 block scales, dynamic activation scales.
		q.Weight, q.Bits, q.Activation = dtype.FP8, 8, dtype.FP8
		scheme, err := o.str("activation_scheme", "dynamic")
		if err != nil {
			return fail(err)
		}
		q.ActivationDynamic = scheme == "dynamic"
		if q.Format, err = o.str("fmt", ""); err != nil {
			return fail(err)
		}
		if q.BlockSize, err = o.intList("weight_block_size", maxWidth); err != nil {
			return fail(err)
		}
	case checkpointFBGEMMFP8:
		// FbgemmFp8Config: fp8 weights, per-token dynamic fp8 activations.
		q.Weight, q.Bits, q.Activation, q.ActivationDynamic = dtype.FP8, 8, dtype.FP8, true
	case dtype.CheckpointMXFP4:
		// gpt-oss: MXFP4 experts (blocks of 32 sharing an e8m0 scale, OCP MX
		// v1.0); activations stay in the compute dtype on GPUs without FP4
		// tensor cores, so the scheme is weight-only here.
		q.Weight, q.Bits, q.GroupSize = dtype.MXFP4, 4, 32
	case dtype.CheckpointAWQ:
		// AwqConfig: bits (w_bit in AutoAWQ's own files), group_size
		// (q_group_size), version ("gemm", "gemv", ...).
		if q.Bits, err = o.intAlt([]string{"bits", "w_bit"}, 4, 1, 16); err != nil {
			return fail(err)
		}
		if q.GroupSize, err = o.intAlt([]string{"group_size", "q_group_size"}, 128, -1, maxWidth); err != nil {
			return fail(err)
		}
		q.Weight = intDType(q.Bits)
		if q.Format, err = o.str("version", ""); err != nil {
			return fail(err)
		}
	case dtype.CheckpointGPTQ:
		// GPTQConfig: group_size -1 means per-channel scales.
		if q.Bits, err = o.intAlt([]string{"bits"}, 4, 1, 16); err != nil {
			return fail(err)
		}
		if q.GroupSize, err = o.intAlt([]string{"group_size"}, 128, -1, maxWidth); err != nil {
			return fail(err)
		}
		q.Weight = intDType(q.Bits)
	case dtype.CheckpointCompressedTensors:
		if err := parseCompressedTensors(o, q); err != nil {
			return fail(err)
		}
	case dtype.CheckpointModelOpt:
		if err := parseModelOpt(o, q); err != nil {
			return fail(err)
		}
	case dtype.CheckpointBitsAndBytes:
		in4, err := o.boolean("load_in_4bit", false)
		if err != nil {
			return fail(err)
		}
		in8, err := o.boolean("load_in_8bit", false)
		if err != nil {
			return fail(err)
		}
		switch {
		case in4:
			// NF4/FP4 with one absmax per 64 weights (bitsandbytes default
			// blocksize); the absmax storage is left to the headers.
			q.Weight, q.Bits, q.GroupSize = dtype.INT4, 4, 64
			if q.Format, err = o.str("bnb_4bit_quant_type", "fp4"); err != nil {
				return fail(err)
			}
		case in8:
			q.Weight, q.Bits = dtype.INT8, 8
		}
		skip, err := o.strList("llm_int8_skip_modules")
		if err != nil {
			return fail(err)
		}
		q.NotConverted = append(q.NotConverted, skip...)
	}
	if q.GroupSize < 0 {
		q.GroupSize = 0
	}
	return q, nil
}

// intDType maps an integer weight width to its element format.
func intDType(bits int) dtype.DType {
	switch bits {
	case 4:
		return dtype.INT4
	case 8:
		return dtype.INT8
	}
	return ""
}

// parseCompressedTensors reads llm-compressor's format: config_groups each
// give a weights scheme and an input_activations scheme for a set of
// targets. The first group (in key order) that has weights decides.
func parseCompressedTensors(o jsonObject, q *Quantization) error {
	var err error
	if q.Format, err = o.str("format", ""); err != nil {
		return err
	}
	if q.NotConverted, err = o.strList("ignore"); err != nil {
		return err
	}
	groups, err := o.child("config_groups")
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		g, err := parseObject(groups[k])
		if err != nil {
			return fmt.Errorf("config_groups.%s: %w", k, err)
		}
		w, err := g.child("weights")
		if err != nil {
			return fmt.Errorf("config_groups.%s: %w", k, err)
		}
		if w == nil {
			continue
		}
		wd, bits, err := ctScheme(w)
		if err != nil {
			return fmt.Errorf("config_groups.%s.weights: %w", k, err)
		}
		q.Weight, q.Bits = wd, bits
		if q.GroupSize, err = w.int("group_size", 0, -1, maxWidth); err != nil {
			return fmt.Errorf("config_groups.%s.weights: %w", k, err)
		}
		if q.BlockSize, err = blockStructure(w); err != nil {
			return fmt.Errorf("config_groups.%s.weights: %w", k, err)
		}
		// NVFP4 in compressed-tensors: 4-bit floats in groups of 16.
		if q.Weight == dtype.NVFP4 && q.GroupSize == 0 {
			q.GroupSize = 16
		}
		in, err := g.child("input_activations")
		if err != nil {
			return fmt.Errorf("config_groups.%s: %w", k, err)
		}
		if in != nil {
			if q.Activation, _, err = ctScheme(in); err != nil {
				return fmt.Errorf("config_groups.%s.input_activations: %w", k, err)
			}
			// dynamic is a boolean, or "local" for NVFP4's per-group
			// activation scales, which are computed at run time too.
			if r := in.value("dynamic"); r != nil && r[0] == '"' {
				q.ActivationDynamic = true
			} else if q.ActivationDynamic, err = in.boolean("dynamic", false); err != nil {
				return fmt.Errorf("config_groups.%s.input_activations: %w", k, err)
			}
		}
		break
	}
	kv, err := o.child("kv_cache_scheme")
	if err != nil {
		return err
	}
	if kv != nil {
		if q.KVCache, _, err = ctScheme(kv); err != nil {
			return fmt.Errorf("kv_cache_scheme: %w", err)
		}
	}
	return nil
}

// ctScheme maps a compressed-tensors QuantizationArgs (num_bits, type) to an
// element format.
func ctScheme(o jsonObject) (dtype.DType, int, error) {
	bits, err := o.int("num_bits", 8, 1, 64)
	if err != nil {
		return "", 0, err
	}
	typ, err := o.str("type", "int")
	if err != nil {
		return "", 0, err
	}
	switch {
	case typ == "float" && bits == 8:
		return dtype.FP8, bits, nil
	case typ == "float" && bits == 4:
		return dtype.NVFP4, bits, nil
	case typ == "float" && bits == 16:
		return dtype.FP16, bits, nil
	case typ == "int":
		return intDType(bits), bits, nil
	}
	return "", bits, nil
}

// parseModelOpt reads NVIDIA ModelOpt's config, which appears either flat
// (quant_algo, exclude_modules) or nested under "quantization".
func parseModelOpt(o jsonObject, q *Quantization) error {
	inner, err := o.child("quantization")
	if err != nil {
		return err
	}
	if inner != nil {
		o = inner
	}
	if q.Format, err = o.str("quant_algo", ""); err != nil {
		return err
	}
	if q.NotConverted, err = o.strList("exclude_modules"); err != nil {
		return err
	}
	if q.GroupSize, err = o.int("group_size", 0, -1, maxWidth); err != nil {
		return err
	}
	switch strings.ToUpper(q.Format) {
	case "FP8":
		q.Weight, q.Bits, q.Activation = dtype.FP8, 8, dtype.FP8
	case "NVFP4":
		q.Weight, q.Bits, q.Activation = dtype.NVFP4, 4, dtype.NVFP4
		if q.GroupSize == 0 {
			q.GroupSize = 16 // NVFP4 block size (NVIDIA Blackwell docs)
		}
	}
	kv, err := o.str("kv_cache_quant_algo", "")
	if err != nil {
		return err
	}
	if strings.EqualFold(kv, "FP8") {
		q.KVCache = dtype.FP8
	}
	return nil
}

// blockStructure reads compressed-tensors' block_structure: a list such as
// [128, 128], or the older "128x128" string.
func blockStructure(w jsonObject) ([]int, error) {
	r := w.value("block_structure")
	if r == nil || r[0] != '"' {
		return w.intList("block_structure", maxWidth)
	}
	v, err := w.str("block_structure", "")
	if err != nil {
		return nil, err
	}
	parts := strings.Split(strings.ToLower(v), "x")
	out := make([]int, 0, len(parts))
	for _, p := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 1 || n > maxWidth {
			return nil, fmt.Errorf("block_structure %q: want sizes such as \"128x128\"", v)
		}
		out = append(out, n)
	}
	return out, nil
}

// Precision maps a checkpoint's quantization to the deployable precision
// that serves it (FP8 W8A8 when activations are FP8 too, else the
// weight-only form); false when q is nil or its weight format unknown.
func (q *Quantization) Precision() (dtype.Precision, bool) {
	if q != nil && q.Method == dtype.CheckpointGGUF && q.BitsPerWeight > 0 {
		return q.ggufPrecision(), true
	}
	if q == nil || q.Weight == "" {
		return dtype.Precision{}, false
	}
	name := ""
	switch q.Weight {
	case dtype.FP8:
		name = "fp8-w8a16"
		if q.Activation == dtype.FP8 {
			name = "fp8"
		}
	case dtype.INT8:
		name = "int8-w8a16"
		if q.Activation == dtype.INT8 {
			name = "int8"
		}
	case dtype.INT4:
		name = "int4"
	case dtype.MXFP4:
		name = "mxfp4"
	case dtype.NVFP4:
		name = "nvfp4"
	default:
		return dtype.Precision{}, false
	}
	p, err := dtype.LookupPrecision(name)
	if err != nil {
		return dtype.Precision{}, false
	}
	p.GroupSize = q.GroupSize
	if q.Weight == dtype.MXFP4 || q.Weight == dtype.NVFP4 {
		p.GroupSize = 0 // their block scales are already in DType.Bits
	}
	p.Checkpoints = []dtype.Checkpoint{q.Method}
	return p, true
}

// ggufPrecision is a GGUF file's real quantization: its file type as the
// name ("q4_k_m"), its main tensor type as the weight format, the tensor
// type mix and the file's real bits per weight. llama.cpp dequantizes to
// 16-bit (or computes on integer dot products) per matrix, so the math is
// fp16.
func (q *Quantization) ggufPrecision() dtype.Precision {
	name := strings.ToLower(strings.Fields(q.Format + " ")[0])
	if name == "" {
		name = "gguf"
	}
	weight := dtype.DType(name)
	if len(q.TensorTypes) > 0 {
		weight = dtype.DType(strings.ToLower(q.TensorTypes[0]))
	}
	return dtype.Precision{
		Name: name, Weight: weight, Compute: dtype.FP16, WeightOnly: true, GGUF: true,
		BitsPerWeight: q.BitsPerWeight, TensorTypes: strings.Join(q.TensorTypes, "/"),
		Checkpoints: []dtype.Checkpoint{dtype.CheckpointGGUF},
		Summary:     fmt.Sprintf("GGUF %s file: %s, %.3g bits per weight (from its tensor table)", q.Format, strings.Join(q.TensorTypes, "/"), q.BitsPerWeight),
	}
}
