package engine

import (
	"fmt"

	"github.com/gpuplan/gpuplan/hardware"
)

// ImageArchMulti is a multi-architecture engine image (an OCI image
// index with an x86-64 and an arm64 variant): it runs on either host.
const ImageArchMulti = "multi"

// ImageArchs lists the values Combination.ImageArch takes (--image-arch on
// plan and deploy); "" is the profile's own image.
func ImageArchs() []string {
	return []string{string(hardware.CPUx86), string(hardware.CPUArm64), ImageArchMulti}
}

// CheckImageArch checks an --image-arch value ("" is allowed: the engine
// profile's image).
func CheckImageArch(s string) error {
	switch s {
	case "", string(hardware.CPUx86), string(hardware.CPUArm64), ImageArchMulti:
		return nil
	}
	return fmt.Errorf("--image-arch %q: use x86-64, arm64 or multi", s)
}
