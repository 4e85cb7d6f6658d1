package hardware

import "testing"

func TestSmoke(t *testing.T) {
	c, err := loadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range c.GPUs() {
		t.Logf("%s %v %v %v", g.ID, g.CUDAMemory, g.CUDAMemoryEstimated, g.DenseTFLOPS)
	}
	t.Log(len(c.vms), len(c.prices), len(c.profiles))
}
