package model

import (
	"bytes"
	"fmt"
	"strings"
	"time"
)

// Add puts a user overlay entry into the catalog (gpuplan --catalog FILE).
// Source and AsOf are required. When an entry with the same id exists, the
// overlay's non-empty fields replace the existing ones field by field
// (Aliases, ConfigCopy and Quantization as a whole); otherwise the entry is
// added and needs a config (config bytes, or the name of a config already in
// the catalog) or a base and quantization. Config bytes must parse with
// ParseConfig; if ConfigSHA1 is given it must match them.
func (c *Catalog) Add(e CatalogEntry, config []byte) error {
	e = e.clone()
	if e.Source == "" {
		return fmt.Errorf("catalog overlay entry %q: source is required (the URL of its config.json or model card)", e.ID)
	}
	if _, err := time.Parse(catalogDateLayout, e.AsOf); err != nil {
		return fmt.Errorf("catalog overlay entry %q: as_of %q must be a YYYY-MM-DD date", e.ID, e.AsOf)
	}
	if config != nil {
		if _, err := ParseConfig(config); err != nil {
			return fmt.Errorf("catalog overlay entry %q: config: %w", e.ID, err)
		}
		sum := gitBlobSHA1(config)
		if e.ConfigSHA1 != "" && !strings.EqualFold(e.ConfigSHA1, sum) {
			return fmt.Errorf("catalog overlay entry %q: config_sha1 %s does not match the config bytes (git blob %s)", e.ID, e.ConfigSHA1, sum)
		}
		e.ConfigSHA1 = sum
		if e.Config == "" {
			e.Config = "overlay/" + strings.ToLower(e.ID) + ".json"
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if config != nil {
		if old, ok := c.configs[e.Config]; ok && !bytes.Equal(old, config) {
			// Do not let an overlay silently replace bytes another entry
			// points at.
			for _, o := range c.entries {
				if o.Config == e.Config && !strings.EqualFold(o.ID, e.ID) {
					return fmt.Errorf("catalog overlay entry %q: config name %s is already used by %s; give the overlay config another name", e.ID, e.Config, o.ID)
				}
			}
		}
	}
	i, exists := c.byID[strings.ToLower(e.ID)]
	if !exists {
		var saved []byte
		hadConfig := false
		if config != nil {
			saved, hadConfig = c.configs[e.Config]
			c.configs[e.Config] = append([]byte(nil), config...)
		}
		if err := c.insert(e); err != nil {
			c.restoreConfig(e.Config, saved, hadConfig, config != nil)
			return fmt.Errorf("catalog overlay: %w", err)
		}
		if err := c.checkRefs(&c.entries[len(c.entries)-1]); err != nil {
			c.removeLast()
			c.restoreConfig(e.Config, saved, hadConfig, config != nil)
			return fmt.Errorf("catalog overlay: %w", err)
		}
		return nil
	}
	merged := mergeEntry(c.entries[i], e)
	if merged.Base != "" && merged.Config != "" {
		// An overlay that turns a variant into an architecture (or the
		// reverse) must say so completely; pick what the overlay set.
		if e.Config != "" {
			merged.Base, merged.Quantization = "", nil
		} else {
			merged.Config = ""
		}
	}
	if err := validateEntry(&merged); err != nil {
		return fmt.Errorf("catalog overlay: %w", err)
	}
	if err := c.checkAliases(merged, i); err != nil {
		return fmt.Errorf("catalog overlay: %w", err)
	}
	var saved []byte
	hadConfig := false
	if config != nil {
		saved, hadConfig = c.configs[merged.Config]
		c.configs[merged.Config] = append([]byte(nil), config...)
	}
	if err := c.checkFiles(&merged); err != nil {
		c.restoreConfig(merged.Config, saved, hadConfig, config != nil)
		return fmt.Errorf("catalog overlay: %w", err)
	}
	if err := c.checkRefs(&merged); err != nil {
		c.restoreConfig(merged.Config, saved, hadConfig, config != nil)
		return fmt.Errorf("catalog overlay: %w", err)
	}
	for _, a := range c.entries[i].Aliases {
		delete(c.byAlias, a)
	}
	for _, a := range merged.Aliases {
		c.byAlias[a] = i
	}
	c.entries[i] = merged
	return nil
}

func (c *Catalog) restoreConfig(name string, saved []byte, had, changed bool) {
	if !changed {
		return
	}
	if had {
		c.configs[name] = saved
	} else {
		delete(c.configs, name)
	}
}

// removeLast undoes the insert of the last entry.
func (c *Catalog) removeLast() {
	n := len(c.entries) - 1
	e := c.entries[n]
	delete(c.byID, strings.ToLower(e.ID))
	for _, a := range e.Aliases {
		if c.byAlias[a] == n {
			delete(c.byAlias, a)
		}
	}
	c.entries = c.entries[:n]
}

// mergeEntry overlays the non-empty fields of o onto e.
func mergeEntry(e, o CatalogEntry) CatalogEntry {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&e.Family, o.Family)
	set(&e.Config, o.Config)
	set(&e.ConfigKind, o.ConfigKind)
	set(&e.CardStatus, o.CardStatus)
	set(&e.ConfigSHA1, o.ConfigSHA1)
	set(&e.ConfigSharedWith, o.ConfigSharedWith)
	set(&e.Source, o.Source)
	set(&e.Revision, o.Revision)
	set(&e.AsOf, o.AsOf)
	set(&e.CardParams, o.CardParams)
	set(&e.CardSource, o.CardSource)
	set(&e.ParamsNote, o.ParamsNote)
	set(&e.ParamsTolerance, o.ParamsTolerance)
	set(&e.License, o.License)
	set(&e.Notes, o.Notes)
	set(&e.Base, o.Base)
	if o.Aliases != nil {
		e.Aliases = o.Aliases
	}
	if o.ConfigCopy != nil {
		e.ConfigCopy = o.ConfigCopy
	}
	if o.ConfigFieldsSource != nil {
		e.ConfigFieldsSource = o.ConfigFieldsSource
	}
	if o.PublishedCount != nil {
		e.PublishedCount = o.PublishedCount
	}
	if o.Quantization != nil {
		e.Quantization = o.Quantization
	}
	return e
}
