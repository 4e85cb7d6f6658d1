package engine

import (
	"maps"
	"strings"
	"testing"
)

// TestImageTable: every registered profile takes its images from
// data/images.yaml and every row belongs to a registered profile; a pinned
// row's engine release belongs to its profile's version (sglang@0.4 runs
// 0.4.x), and its tag names that release unless the image is Triton's,
// whose tag is the Triton release.
func TestImageTable(t *testing.T) {
	rows := ImageRows()
	byProfile := map[string]map[string]string{}
	for _, r := range rows {
		if byProfile[r.Profile] == nil {
			byProfile[r.Profile] = map[string]string{}
		}
		byProfile[r.Profile][r.Key] = r.Image
		if r.Rolling {
			continue
		}
		name, ver, _ := strings.Cut(r.Profile, "@")
		if !strings.HasPrefix(r.EngineVersion, ver+".") {
			t.Errorf("%s %s: engine_version %s is not a %s %s.x release", r.Profile, r.Key, r.EngineVersion, name, ver)
		}
		if _, tag, _ := strings.Cut(r.Image, ":"); !strings.Contains(tag, r.EngineVersion) && !strings.HasPrefix(r.Image, "nvcr.io/nvidia/tritonserver:") {
			t.Errorf("%s %s: tag %q does not name release %s", r.Profile, r.Key, tag, r.EngineVersion)
		}
	}
	for _, e := range All() {
		p := e.Info()
		if want := byProfile[p.ID()]; !maps.Equal(p.Images, want) {
			t.Errorf("%s images %v, data/images.yaml has %v", p.ID(), p.Images, want)
		}
		if len(p.Images) > 0 && !strings.HasPrefix(p.ImageSource, "engine/data/images.yaml (rows of "+p.ID()+"); https://") {
			t.Errorf("%s image source %q", p.ID(), p.ImageSource)
		}
		delete(byProfile, p.ID())
	}
	for id := range byProfile {
		t.Errorf("data/images.yaml lists %s, which is not a registered profile", id)
	}
}

// TestValidateImages: the loader refuses a floating or untagged image, a
// pinned row without its release, an unknown source and a duplicate.
func TestValidateImages(t *testing.T) {
	src := []ImageSourceRef{{Key: "s", Title: "t", URL: "https://example.com/x", AsOf: "2026-12-07"}}
	ok := ImageRow{Profile: "x@1", Key: "nvidia/x86-64", Image: "x/y:1.0.0", EngineVersion: "1.0.0", Sources: []string{"s"}}
	if err := validateImages(imageData{Sources: src, Images: []ImageRow{ok}}); err != nil {
		t.Fatalf("valid table refused: %v", err)
	}
	for name, edit := range map[string]func(r *ImageRow){
		"latest":         func(r *ImageRow) { r.Image = "x/y:latest" },
		"no tag":         func(r *ImageRow) { r.Image = "x/y" },
		"no release":     func(r *ImageRow) { r.EngineVersion = "" },
		"unknown source": func(r *ImageRow) { r.Sources = []string{"nope"} },
		"no source":      func(r *ImageRow) { r.Sources = nil },
	} {
		r := ok
		edit(&r)
		if err := validateImages(imageData{Sources: src, Images: []ImageRow{r}}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := validateImages(imageData{Sources: src, Images: []ImageRow{ok, ok}}); err == nil {
		t.Error("duplicate row accepted")
	}
	if err := validateImages(imageData{Sources: []ImageSourceRef{{Key: "s", URL: "http://example.com"}}}); err == nil {
		t.Error("source without https URL, title and as_of accepted")
	}
}
