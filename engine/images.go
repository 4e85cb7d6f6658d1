package engine

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// Container images are data (data/images.yaml): one row per profile and
// ImageKey, each citing the sources that name the image and its tag.

//go:embed data/images.yaml
var imagesYAML []byte

// ImageSourceRef is a source entry of data/images.yaml.
type ImageSourceRef struct {
	Key   string `json:"key"`
	Title string `json:"title"`
	URL   string `json:"url"`
	AsOf  string `json:"as_of"`
}

// ImageRow is one image of one profile for one ImageKey.
type ImageRow struct {
	// Profile is the name@version the image serves.
	Profile string `json:"profile"`
	// Key is ImageKey(vendor, host CPU architecture).
	Key   string `json:"key"`
	Image string `json:"image"`
	// EngineVersion is the engine release in the image (empty for a
	// rolling tag).
	EngineVersion string `json:"engine_version,omitempty"`
	// Rolling marks a tag that moves with every build (llama.cpp's).
	Rolling bool     `json:"rolling,omitempty"`
	Sources []string `json:"sources"`
}

type imageData struct {
	Sources []ImageSourceRef `json:"sources"`
	Images  []ImageRow       `json:"images"`
}

// images is the parsed data/images.yaml; a malformed embedded file is a
// programming error the package's tests catch, so it panics at start-up.
var images = func() imageData {
	var d imageData
	if err := yaml.UnmarshalStrict(imagesYAML, &d); err != nil {
		panic(fmt.Sprintf("engine/data/images.yaml: %v", err))
	}
	if err := validateImages(d); err != nil {
		panic(err.Error())
	}
	return d
}()

func validateImages(d imageData) error {
	keys := map[string]bool{}
	for _, s := range d.Sources {
		if s.Key == "" || s.Title == "" || !strings.HasPrefix(s.URL, "https://") || len(s.AsOf) != len("2006-01-02") {
			return fmt.Errorf("engine/data/images.yaml: source %q needs a key, a title, an https URL and as_of", s.Key)
		}
		keys[s.Key] = true
	}
	seen := map[string]bool{}
	for _, r := range d.Images {
		id := r.Profile + " " + r.Key
		switch {
		case seen[id]:
			return fmt.Errorf("engine/data/images.yaml: %s listed twice", id)
		case r.Image == "" || !strings.Contains(r.Image, ":") || strings.HasSuffix(r.Image, ":latest"):
			return fmt.Errorf("engine/data/images.yaml: %s: image %q needs an explicit tag other than latest", id, r.Image)
		case r.EngineVersion == "" && !r.Rolling:
			return fmt.Errorf("engine/data/images.yaml: %s: a pinned image needs engine_version", id)
		case len(r.Sources) == 0:
			return fmt.Errorf("engine/data/images.yaml: %s cites no source", id)
		}
		for _, k := range r.Sources {
			if !keys[k] {
				return fmt.Errorf("engine/data/images.yaml: %s cites unknown source %q", id, k)
			}
		}
		seen[id] = true
	}
	return nil
}

// ImageSources lists the sources the image table cites.
func ImageSources() []ImageSourceRef { return append([]ImageSourceRef(nil), images.Sources...) }

// ImageRows lists the image table.
func ImageRows() []ImageRow { return append([]ImageRow(nil), images.Images...) }

// profileImages returns id's images by ImageKey and a line naming their
// sources, for a profile's Images and ImageSource.
func profileImages(id string) (map[string]string, string) {
	out := map[string]string{}
	cited := map[string]bool{}
	for _, r := range images.Images {
		if r.Profile != id {
			continue
		}
		out[r.Key] = r.Image
		for _, k := range r.Sources {
			cited[k] = true
		}
	}
	var src []string
	for _, s := range images.Sources {
		if cited[s.Key] {
			src = append(src, s.URL)
		}
	}
	sort.Strings(src)
	// "; "-joined citations, each resolvable on its own (the data file,
	// then the pages its rows for id cite).
	return out, strings.Join(append([]string{"engine/data/images.yaml (rows of " + id + ")"}, src...), "; ")
}

// withImages fills p's Images and ImageSource from data/images.yaml.
func withImages(p Profile) Profile {
	p.Images, p.ImageSource = profileImages(p.ID())
	return p
}
