package model

import (
	"fmt"
	"math"
)

// This file owns the per-layer attention pattern: which layers use full,
// sliding-window or chunked attention. Families pass a rule ("which layers
// slide") to layerKinds; the rules themselves (Gemma 3's every sixth layer,
// Qwen's max_window_layers) are declared in the family files.

// layerKinds returns n layers of full attention except where marks(i),
// which get kind. It returns nil for a layer count Validate rejects.
func layerKinds(n int, kind AttentionKind, marks func(i int) bool) []AttentionKind {
	if n < 0 || n > maxLayers {
		return nil // Validate rejects the layer count
	}
	out := make([]AttentionKind, n)
	for i := range out {
		out[i] = AttentionFull
		if marks(i) {
			out[i] = kind
		}
	}
	return out
}

// everyLayer marks all layers.
func everyLayer(int) bool { return true }

// inPattern reports whether layer i is marked under a repeating pattern of
// n layers whose last is unmarked: (i + 1) % n != 0. It is both
// transformers' sliding_window_pattern rule (Gemma 2 and 3, gpt-oss) and
// llama.cpp's set_swa_pattern(n) (i % n < n - 1); n <= 0 marks nothing.
func inPattern(i, n int) bool { return n > 0 && (i+1)%n != 0 }

// allLayersWindow reads sliding_window (absent: def; null or 0: none) and,
// when set, marks every layer sliding, as transformers' DynamicCache does
// for configs without layer_types.
func allLayersWindow(o jsonObject, s *Spec, def int) error {
	w, err := o.int("sliding_window", def, 0, maxWindow)
	if err != nil {
		return err
	}
	if w > 0 {
		s.SlidingWindow = w
		s.LayerAttention = layerKinds(s.Layers, AttentionSliding, everyLayer)
	}
	return nil
}

// qwenWindows applies the Qwen config classes' rule: explicit layer_types
// win; otherwise, only with use_sliding_window, layers for which
// slides(i, max_window_layers) get sliding_window (when use_sliding_window
// is false the config class sets sliding_window to None).
func qwenWindows(o jsonObject, s *Spec, defWindow, defMaxWindow int, slides func(i, maxWindowLayers int) bool) error {
	if ok, err := explicitLayerTypes(o, s); ok || err != nil {
		if err == nil && hasSliding(s.LayerAttention) {
			s.SlidingWindow, err = o.int("sliding_window", defWindow, 0, maxWindow)
		}
		return err
	}
	use, err := o.boolean("use_sliding_window", false)
	if err != nil || !use {
		return err
	}
	w, err := o.int("sliding_window", defWindow, 0, maxWindow)
	if err != nil || w == 0 {
		return err
	}
	from, err := o.int("max_window_layers", defMaxWindow, 0, math.MaxInt32)
	if err != nil {
		return err
	}
	s.SlidingWindow = w
	s.LayerAttention = layerKinds(s.Layers, AttentionSliding, func(i int) bool { return slides(i, from) })
	return nil
}

// alternating reads explicit layer_types or marks layers sliding by
// inPattern(i, pattern), then reads sliding_window (absent: defWindow).
func alternating(o jsonObject, s *Spec, pattern, defWindow int) error {
	w, err := o.int("sliding_window", defWindow, 0, maxWindow)
	if err != nil {
		return err
	}
	ok, err := explicitLayerTypes(o, s)
	if err != nil {
		return err
	}
	if !ok {
		s.LayerAttention = layerKinds(s.Layers, AttentionSliding, func(i int) bool { return inPattern(i, pattern) })
	}
	if hasSliding(s.LayerAttention) {
		if w == 0 {
			return fmt.Errorf("layers use sliding attention but sliding_window is null")
		}
		s.SlidingWindow = w
	}
	return nil
}

// explicitLayerTypes reads a "layer_types" list when the config has one.
func explicitLayerTypes(o jsonObject, s *Spec) (bool, error) {
	if !o.has("layer_types") {
		return false, nil
	}
	names, err := o.strList("layer_types")
	if err != nil {
		return false, err
	}
	if len(names) < s.Layers {
		return false, fmt.Errorf("layer_types has %d entries for %d layers", len(names), s.Layers)
	}
	kinds := make([]AttentionKind, s.Layers)
	for i := range kinds {
		switch names[i] {
		case "full_attention":
			kinds[i] = AttentionFull
		case "sliding_attention":
			kinds[i] = AttentionSliding
		case "chunked_attention":
			kinds[i] = AttentionChunked
		default:
			return false, fmt.Errorf("layer %d has layer type %q, which gpuplan cannot size; supported: full_attention, sliding_attention, chunked_attention", i, names[i])
		}
	}
	s.LayerAttention = kinds
	return true, nil
}

func hasAttention(ks []AttentionKind, k AttentionKind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

func hasSliding(ks []AttentionKind) bool { return hasAttention(ks, AttentionSliding) }
