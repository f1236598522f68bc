package forensicqueryextension

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/extension"
	"gocloud.dev/blob"

	"github.com/sandwatch/sandwatch/extension/forensicqueryextension/internal/metadata"
	"github.com/sandwatch/sandwatch/internal/archive"
)

type server struct {
	cfg    *Config
	set    extension.Settings
	bucket *blob.Bucket
	srv    *http.Server
	done   chan struct{}
}

func (s *server) Start(ctx context.Context, host component.Host) error {
	keys, err := s.cfg.Encryption.Ring()
	if err != nil {
		return fmt.Errorf("forensic_query: %w", err)
	}
	b, local, err := archive.Open(ctx, s.cfg.Store, s.cfg.S3)
	if err != nil {
		return fmt.Errorf("forensic_query: %w", err)
	}
	s.bucket = b
	ln, err := s.cfg.ToListener(ctx)
	if err != nil {
		_ = b.Close()
		return fmt.Errorf("forensic_query: listen on %s: %w", s.cfg.NetAddr.Endpoint, err)
	}
	tel, err := newTelemetry(s.set.MeterProvider.Meter(metadata.ScopeName))
	if err != nil {
		_ = ln.Close()
		_ = b.Close()
		return fmt.Errorf("forensic_query: telemetry: %w", err)
	}
	h := newHandler(&searchAPI{r: &archive.Reader{Bucket: b, LocalDir: local, Keys: keys}, cfg: s.cfg.Search,
		version: s.set.BuildInfo.Version, tel: tel, now: time.Now})
	s.srv, err = s.cfg.ToServer(ctx, host.GetExtensions(), s.set.TelemetrySettings, h)
	if err != nil {
		_ = ln.Close()
		_ = b.Close()
		return fmt.Errorf("forensic_query: %w", err)
	}
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			componentstatus.ReportStatus(host, componentstatus.NewFatalErrorEvent(err))
		}
	}()
	return nil
}

func (s *server) Shutdown(ctx context.Context) error {
	var errs []error
	if s.srv != nil {
		errs = append(errs, s.srv.Shutdown(ctx))
		<-s.done
	}
	if s.bucket != nil {
		errs = append(errs, s.bucket.Close())
	}
	return errors.Join(errs...)
}
