package model

import (
	"fmt"
)

// visionShape reads a vision config's common keys.
func visionShape(o jsonObject, model string, d Vision) (*Vision, error) {
	v := &Vision{ModelType: model}
	var err error
	get := func(dst *int, key string, def int) {
		if err == nil {
			*dst, err = o.int(key, def, 0, maxWidth)
		}
	}
	get(&v.Layers, "num_hidden_layers", d.Layers)
	get(&v.Hidden, "hidden_size", d.Hidden)
	get(&v.Intermediate, "intermediate_size", d.Intermediate)
	get(&v.Heads, "num_attention_heads", d.Heads)
	if err == nil {
		v.ImageSize, err = squareSize(o, "image_size", d.ImageSize)
	}
	if err == nil {
		v.PatchSize, err = squareSize(o, "patch_size", d.PatchSize)
	}
	if err != nil {
		return nil, fmt.Errorf("vision_config: %w", err)
	}
	if v.Layers < 1 || v.Layers > maxLayers || v.Hidden < 1 || v.Hidden > maxHidden || v.Heads < 1 || v.Intermediate < 1 || v.PatchSize < 1 {
		return nil, fmt.Errorf("vision_config: layers %d, hidden %d, heads %d, intermediate %d, patch %d are not a valid vision tower", v.Layers, v.Hidden, v.Heads, v.Intermediate, v.PatchSize)
	}
	return v, nil
}

// squareSize reads an image or patch size given as one integer or as a
// [height, width] pair; gpuplan counts square inputs only, which is what
// the supported towers are released with.
func squareSize(o jsonObject, key string, def int) (int, error) {
	if r := o.value(key); r != nil && r[0] == '[' {
		l, err := o.intList(key, maxWidth)
		if err != nil {
			return 0, err
		}
		if len(l) != 2 || l[0] != l[1] {
			return 0, fmt.Errorf("%s %v: only square sizes are supported", key, l)
		}
		return l[0], nil
	}
	return o.int(key, def, 0, maxWidth)
}

// visionConfig returns the vision_config object (def, or an empty object
// meaning the vision config class's defaults, when absent) and checks its
// model_type.
func visionConfig(top jsonObject, want string, def jsonObject) (jsonObject, error) {
	o, err := top.child("vision_config")
	if err != nil {
		return nil, err
	}
	if o == nil {
		o = def
	}
	if o == nil {
		o = jsonObject{}
	}
	mt, err := o.str("model_type", want)
	if err != nil {
		return nil, fmt.Errorf("vision_config: %w", err)
	}
	if mt != want {
		return nil, fmt.Errorf("vision_config model_type %q is not the %q tower this architecture uses; gpuplan cannot count it", mt, want)
	}
	return o, nil
}

// visionTower describes one vision tower and its projector declaratively:
// the vision_config model_type, the vision config class's defaults, the
// further integer keys the count needs, and the count itself. read does the
// reading and checking every tower shares.
type visionTower struct {
	// modelType is the vision_config model_type the tower requires.
	modelType string
	// defaults are the vision config class's defaults for the common keys.
	defaults Vision
	// defaultConfig replaces an absent vision_config when the wrapper class
	// builds a non-default one; nil means the vision config class's defaults.
	defaultConfig jsonObject
	// ints are further integer keys of vision_config, read with their
	// defaults and bounds before count runs.
	ints []visionKey
	// count returns the tower's and the projector's parameter counts.
	count func(in visionInputs) (tower, projector int64, err error)
}

// visionKey is one integer key of a vision_config.
type visionKey struct {
	key         string
	def, lo, hi int
}

// visionInputs is what a tower's count reads: the common shape, the
// further integer keys by name, the vision and top-level configs, the text
// model's Spec, and the saturating accumulator to count with.
type visionInputs struct {
	v          *Vision
	ints       map[string]int
	vision     jsonObject
	top        jsonObject
	text       *Spec
	a          *countAcc
	H, I, L, P int64 // v.Hidden, v.Intermediate, v.Layers, v.PatchSize
}

// read reads and counts the tower of a multimodal config.
func (t visionTower) read(top jsonObject, s *Spec) (*Vision, error) {
	o, err := visionConfig(top, t.modelType, t.defaultConfig)
	if err != nil {
		return nil, err
	}
	v, err := visionShape(o, t.modelType, t.defaults)
	if err != nil {
		return nil, err
	}
	ints := make(map[string]int, len(t.ints))
	for _, k := range t.ints {
		if ints[k.key], err = o.int(k.key, k.def, k.lo, k.hi); err != nil {
			return nil, fmt.Errorf("vision_config: %w", err)
		}
	}
	var a countAcc
	in := visionInputs{v: v, ints: ints, vision: o, top: top, text: s, a: &a,
		H: int64(v.Hidden), I: int64(v.Intermediate), L: int64(v.Layers), P: int64(v.PatchSize)}
	if v.TowerParams, v.ProjectorParams, err = t.count(in); err != nil {
		return nil, err
	}
	if a.overflow {
		return nil, fmt.Errorf("vision_config: parameter count overflows")
	}
	return v, nil
}
