package model

// cohereFamily: Command R7B and Command A ("cohere2" in llama.cpp). gpuplan
// reads no Cohere config.json; a GGUF is counted from its tensor table,
// with llama.cpp's sliding pattern (set_swa_pattern(4): three sliding
// layers, then one full).
var cohereFamily = family{
	name: "cohere",
	gguf: []ggufArch{{name: "cohere2", slidingPattern: 4}},
}
