package forensics

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/sandwatch/sandwatch/internal/archive"
	"github.com/sandwatch/sandwatch/internal/archive/digest"
)

func verifyCommand() *cobra.Command {
	var sf storeFlags
	var wf windowFlags
	var pubKeys []string
	var asJSON bool
	var writers []string
	var slack time.Duration
	cmd := &cobra.Command{
		Use:   "verify --public-key FILE [--since 24h]",
		Short: "Check the archive against the writers' signed digests; exit non-zero on any finding",
		Long: "Checks every digest's signature and chain, re-hashes every block and catalog a digest names, " +
			"and reports per hour and writer: objects modified, deleted, added that no digest names, " +
			"and broken chains or bad signatures. Objects removed by a recorded prune are reported as pruned, " +
			"objects newer than the newest digest as pending; neither counts as a finding.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(pubKeys) == 0 {
				return fmt.Errorf("--public-key: give the writers' ed25519 public key (PEM)")
			}
			var keys []ed25519.PublicKey
			for _, p := range pubKeys {
				k, err := archive.LoadPublicKey(p)
				if err != nil {
					return fmt.Errorf("--public-key: %w", err)
				}
				keys = append(keys, k)
			}
			r, win, closeFn, err := openWindow(cmd.Context(), &sf, &wf)
			if err != nil {
				return err
			}
			defer closeFn()
			rep, err := r.Verify(cmd.Context(), archive.VerifyOptions{Keys: keys, Window: win, Writers: writers, PendingSlack: &slack})
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			} else {
				printReport(cmd.OutOrStdout(), rep)
			}
			if n := rep.Failed(); n > 0 {
				return fmt.Errorf("verify: %d findings", n)
			}
			return nil
		},
	}
	sf.register(cmd)
	wf.register(cmd)
	cmd.Flags().StringArrayVar(&pubKeys, "public-key", nil, "a trusted ed25519 public key, PEM (repeat for rotated signing keys)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	cmd.Flags().DurationVar(&slack, "pending-slack", 2*time.Minute, "objects written this close to the newest digest's end (or later) are pending, not added: writes in flight at a cut; 0 once every writer stopped gracefully")
	cmd.Flags().StringArrayVar(&writers, "expect-writer", nil, "a writer id that must have a digest no older than two of its intervals (repeat; shows a chain cut short)")
	return cmd
}

func printReport(w io.Writer, rep *digest.Report) {
	for _, h := range rep.Hours {
		fmt.Fprintf(w, "%s  writer %-20s  %d digests, %d objects verified\n", h.Hour.Format("2006-01-02T15Z"), h.Writer, h.Digests, h.Verified)
	}
	for _, f := range rep.Findings {
		writer := f.Writer
		if writer == "" {
			writer = "-"
		}
		fmt.Fprintf(w, "%s  writer %-20s  %-13s %s  %s\n", f.Hour.Format("2006-01-02T15Z"), writer, f.Kind, f.Key, f.Detail)
	}
	fmt.Fprintf(w, "%d digests, %d objects stored, %d findings\n", rep.Digests, rep.Objects, rep.Failed())
}

func keygenCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "keygen --out PATH",
		Short: "Write an ed25519 key pair for signing digests: PATH (private, 0600) and PATH.pub",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, priv, err := ed25519.GenerateKey(nil)
			if err != nil {
				return err
			}
			privPEM, pubPEM, err := archive.EncodeKeyPair(priv)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(out), 0o700); err != nil {
				return err
			}
			f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return err
			}
			if _, err := f.Write(privPEM); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			if err := os.WriteFile(out+".pub", pubPEM, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s and %s (key id %s)\n", out, out+".pub", digest.KeyID(priv.Public().(ed25519.PublicKey)))
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "path of the private key")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

// signFlags let a command that deletes record it in a signed digest.
type signFlags struct {
	keyFile, writer string
}

func (s *signFlags) register(cmd *cobra.Command) {
	host, _ := os.Hostname()
	fl := cmd.Flags()
	fl.StringVar(&s.keyFile, "signing-key", "", "ed25519 private key (PEM) to record this in a signed digest")
	fl.StringVar(&s.writer, "writer-id", "sandwatchctl-"+digest.WriterFrom(host), "the digest chain to record in (not a collector's own)")
}

// start opens the writer's digest chain (nil without --signing-key).
func (s *signFlags) start(ctx context.Context, r *archive.Reader) (*archive.Digester, error) {
	if s.keyFile == "" {
		return nil, nil
	}
	key, err := archive.LoadSigningKey(s.keyFile)
	if err != nil {
		return nil, fmt.Errorf("--signing-key: %w", err)
	}
	return archive.StartDigester(ctx, r.Bucket, archive.DigestOptions{Writer: s.writer, Key: key, Interval: 24 * time.Hour})
}
