package model

import (
	"strings"
	"testing"

	"github.com/gpuplan/gpuplan/dtype"
)

// tinyValidSpec is a small dense model that passes Validate.
func tinyValidSpec() *Spec {
	return &Spec{ID: "test/tiny", ModelType: "llama", Layers: 2, Hidden: 64, Intermediate: 128, Heads: 4, KVHeads: 2,
		HeadDim: 16, Vocab: 100, MLPGated: true, Norm: NormRMS, NormsPerLayer: 2}
}

func TestValidate(t *testing.T) {
	if err := tinyValidSpec().Validate(); err != nil {
		t.Fatalf("valid spec rejected: %v", err)
	}
	cases := []struct {
		name   string
		mutate func(*Spec)
		want   string
	}{
		{"zero layers", func(s *Spec) { s.Layers = 0 }, "num_hidden_layers = 0"},
		{"negative vocab", func(s *Spec) { s.Vocab = -1 }, "vocab_size = -1"},
		{"uneven groups", func(s *Spec) { s.KVHeads = 3 }, "not a multiple"},
		{"unknown norm", func(s *Spec) { s.Norm = "batchnorm" }, "unknown norm kind"},
		{"dense without MLP", func(s *Spec) { s.Intermediate = 0 }, "must be positive for a dense model"},
		{"short layer kinds", func(s *Spec) { s.LayerAttention = []AttentionKind{AttentionFull} }, "1 layer attention kinds for 2 layers"},
		{"sliding without window", func(s *Spec) { s.LayerAttention = []AttentionKind{AttentionSliding, AttentionFull} }, "sliding_window is 0"},
		{"chunked without chunk", func(s *Spec) { s.LayerAttention = []AttentionKind{AttentionChunked, AttentionFull} }, "attention_chunk_size is 0"},
		{"unknown kind", func(s *Spec) { s.LayerAttention = []AttentionKind{"linear", AttentionFull} }, `unknown attention kind "linear"`},
		{"top-k zero", func(s *Spec) { s.MoE = &MoE{Experts: 4, ExpertIntermediate: 8} }, "experts per token 0"},
		{"dense layer out of range", func(s *Spec) {
			s.MoE = &MoE{Experts: 4, ExpertsPerToken: 1, ExpertIntermediate: 8, DenseLayers: []int{5}}
		}, "dense layer list [5]"},
		{"MLA without latent", func(s *Spec) { s.MLA = &MLA{QKNopeHeadDim: 8, QKRopeHeadDim: 8, VHeadDim: 8} }, "kv_lora_rank = 0"},
		{"negative vision", func(s *Spec) { s.Vision = &Vision{TowerParams: -1} }, "vision parameter counts"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := tinyValidSpec()
			c.mutate(s)
			err := s.Validate()
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "test/tiny") {
				t.Errorf("Validate() = %v, want an error naming the model and mentioning %q", err, c.want)
			}
		})
	}
}

func TestComputeDType(t *testing.T) {
	s := tinyValidSpec()
	if s.ComputeDType() != dtype.BF16 {
		t.Errorf("unknown dtype computes in %s, want bf16", s.ComputeDType())
	}
	s.DType = dtype.FP16
	if s.ComputeDType() != dtype.FP16 {
		t.Errorf("fp16 release computes in %s", s.ComputeDType())
	}
}

func TestMoELayers(t *testing.T) {
	s := tinyValidSpec()
	s.Layers = 5
	if s.MoELayers() != 0 || s.IsMoELayer(0) {
		t.Error("dense model reports MoE layers")
	}
	s.MoE = &MoE{Experts: 4, ExpertsPerToken: 1, ExpertIntermediate: 8, DenseLayers: []int{0, 3}}
	var got []int
	for i := -1; i <= 5; i++ {
		if s.IsMoELayer(i) {
			got = append(got, i)
		}
	}
	if len(got) != 3 || got[0] != 1 || got[1] != 2 || got[2] != 4 || s.MoELayers() != 3 {
		t.Errorf("MoE layers %v (count %d), want [1 2 4]", got, s.MoELayers())
	}
}

func TestAttentionAt(t *testing.T) {
	s := tinyValidSpec()
	if s.AttentionAt(1) != AttentionFull {
		t.Error("nil LayerAttention should mean full attention")
	}
	s.SlidingWindow = 8
	s.LayerAttention = []AttentionKind{AttentionSliding, AttentionFull}
	if s.AttentionAt(0) != AttentionSliding || s.AttentionAt(7) != AttentionFull {
		t.Error("AttentionAt ignores LayerAttention or fails out of range")
	}
}
