package forensicqueryextension

import (
	"errors"
	"fmt"
	"time"
)

// SearchConfig bounds Tempo search (/api/search and the tag endpoints).
type SearchConfig struct {
	// RecentWindow is searched when a request has no start/end (Grafana
	// always sends them for searches; tag requests only with a tag time
	// range set).
	RecentWindow time.Duration `mapstructure:"recent_window"`
	// MaxLimit caps a search's limit (Grafana sends 20 by default).
	MaxLimit int `mapstructure:"max_limit"`
	// MaxSpansPerSpanSet caps spss.
	MaxSpansPerSpanSet int `mapstructure:"max_spans_per_span_set"`
	// MaxBytes bounds what one search reads (catalogs, anomaly indexes,
	// pages); a search that reaches it returns what it found.
	MaxBytes int64 `mapstructure:"max_bytes"`
	// Timeout bounds the time of one search likewise.
	Timeout time.Duration `mapstructure:"timeout"`
	// TagMaxBytes bounds the pages read to list tag names and values.
	TagMaxBytes int64 `mapstructure:"tag_max_bytes"`
}

func defaultSearchConfig() SearchConfig {
	return SearchConfig{
		RecentWindow:       time.Hour,
		MaxLimit:           1000,
		MaxSpansPerSpanSet: 100,
		MaxBytes:           1 << 30,
		Timeout:            30 * time.Second,
		TagMaxBytes:        16 << 20,
	}
}

// Validate names the field at fault.
func (c SearchConfig) Validate() error {
	var errs []error
	if c.RecentWindow <= 0 {
		errs = append(errs, fmt.Errorf("search.recent_window: %v must be positive (default 1h)", c.RecentWindow))
	}
	if c.MaxLimit < 1 {
		errs = append(errs, fmt.Errorf("search.max_limit: %d must be at least 1 (default 1000)", c.MaxLimit))
	}
	if c.MaxSpansPerSpanSet < 1 {
		errs = append(errs, fmt.Errorf("search.max_spans_per_span_set: %d must be at least 1 (default 100)", c.MaxSpansPerSpanSet))
	}
	if c.MaxBytes < 1<<20 {
		errs = append(errs, fmt.Errorf("search.max_bytes: %d must be at least 1 MiB (default 1 GiB)", c.MaxBytes))
	}
	if c.Timeout < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("search.timeout: %v must be at least 100ms (default 30s)", c.Timeout))
	}
	if c.TagMaxBytes < 1<<16 {
		errs = append(errs, errors.New("search.tag_max_bytes: must be at least 64 KiB (default 16 MiB)"))
	}
	return errors.Join(errs...)
}
