// Package baseline is `sandwatchctl baseline`: show, export and import the
// baseline connector's profiles in the file_storage file (bbolt) while the
// collector is stopped (bbolt allows one writer).
package baseline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	bolt "go.etcd.io/bbolt"
	"go.yaml.in/yaml/v3"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/profilestore"
)

// bucket is the bucket file_storage (v0.165) keeps every key in.
var bucket = []byte("default")

type options struct {
	file      string
	directory string
	name      string
	extension string
}

// NewCommand returns the `baseline` command.
func NewCommand() *cobra.Command {
	o := &options{}
	cmd := &cobra.Command{
		Use:   "baseline",
		Short: "Show, export and import baseline connector profiles (file_storage file; stop the collector first)",
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&o.file, "file", "", "the bbolt file of the baseline connector (default: <directory>/connector_baseline_<name>)")
	pf.StringVar(&o.directory, "directory", "", "the file_storage directory")
	pf.StringVar(&o.name, "name", "", "the connector's name: \"\" for baseline, x for baseline/x")
	pf.StringVar(&o.extension, "extension", "", "one extension id (default: all)")
	cmd.AddCommand(showCmd(o), exportCmd(o), importCmd(o))
	return cmd
}

func (o *options) path() (string, error) {
	if o.file != "" {
		return o.file, nil
	}
	if o.directory == "" {
		return "", errors.New("give --file, or --directory (and --name for baseline/<name>)")
	}
	return filepath.Join(o.directory, profilestore.FileName(o.name)), nil
}

// kv adapts a bbolt transaction to profilestore.KV.
type kv struct{ tx *bolt.Tx }

func (k kv) Get(_ context.Context, key string) ([]byte, error) {
	b := k.tx.Bucket(bucket)
	if b == nil {
		return nil, nil
	}
	v := b.Get([]byte(key))
	if v == nil {
		return nil, nil
	}
	return append([]byte(nil), v...), nil
}

func (k kv) Set(_ context.Context, key string, v []byte) error {
	b, err := k.tx.CreateBucketIfNotExists(bucket)
	if err != nil {
		return err
	}
	return b.Put([]byte(key), v)
}

func (k kv) Delete(_ context.Context, key string) error {
	if b := k.tx.Bucket(bucket); b != nil {
		return b.Delete([]byte(key))
	}
	return nil
}

func (o *options) open(readOnly bool) (*bolt.DB, error) {
	p, err := o.path()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(p); err != nil && readOnly {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	db, err := bolt.Open(p, 0o600, &bolt.Options{Timeout: 2 * time.Second, ReadOnly: readOnly})
	if err != nil {
		return nil, fmt.Errorf("baseline: open %s (is the collector still running?): %w", p, err)
	}
	return db, nil
}

func (o *options) load() ([]profilestore.Snapshot, error) {
	db, err := o.open(true)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var snaps []profilestore.Snapshot
	err = db.View(func(tx *bolt.Tx) error {
		snaps, err = profilestore.Load(context.Background(), kv{tx})
		return err
	})
	if err != nil {
		return nil, err
	}
	if o.extension != "" {
		for _, s := range snaps {
			if s.ID == o.extension {
				return []profilestore.Snapshot{s}, nil
			}
		}
		return nil, fmt.Errorf("baseline: no profile for extension %q", o.extension)
	}
	sort.Slice(snaps, func(i, j int) bool { return snaps[i].ID < snaps[j].ID })
	return snaps, nil
}

func showCmd(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "show",
		Short: "List profiles (one extension with --extension: its full profile)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			snaps, err := o.load()
			if err != nil {
				return err
			}
			if o.extension != "" {
				return writeJSON(cmd.OutOrStdout(), snaps[0])
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "EXTENSION\tSTATE\tINVOCATIONS\tHOSTS\tPATHS\tTABLES\tCAPABILITIES\tLIBRARIES\tDECLARED")
			for _, s := range snaps {
				state := "learning"
				if s.Learned {
					state = "detecting"
				}
				fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%v\n", s.ID, state, s.Invocations, len(s.Targets["hosts"]), len(s.Targets["paths"]),
					len(s.Targets["tables"]), len(s.Targets["capabilities"]), len(s.Targets["libraries"]), s.Declared != nil)
			}
			return w.Flush()
		},
	}
}

// exportDoc is the export file: versioned like the stored format.
type exportDoc struct {
	Format   string                  `json:"format"`
	Version  int                     `json:"version"`
	Profiles []profilestore.Snapshot `json:"profiles"`
}

func exportCmd(o *options) *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:   "export",
		Short: "Export profiles as versioned JSON",
		RunE: func(cmd *cobra.Command, _ []string) error {
			snaps, err := o.load()
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if out != "" && out != "-" {
				f, err := os.Create(out)
				if err != nil {
					return fmt.Errorf("baseline: %w", err)
				}
				defer f.Close()
				w = f
			}
			return writeJSON(w, exportDoc{profilestore.Format, profilestore.Version, snaps})
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "-", "output file")
	return c
}

func importCmd(o *options) *cobra.Command {
	var declared, profiles string
	c := &cobra.Command{
		Use:   "import",
		Short: "Import a declared profile (YAML: hosts/paths/tables/capabilities/libraries globs) for --extension, or profiles exported before",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (declared == "") == (profiles == "") {
				return errors.New("give exactly one of --declared (with --extension) or --profiles")
			}
			var spec *profilestore.DeclaredSpec
			var incoming []profilestore.Snapshot
			if declared != "" {
				if o.extension == "" {
					return errors.New("--declared needs --extension")
				}
				b, err := os.ReadFile(declared)
				if err != nil {
					return fmt.Errorf("baseline: %w", err)
				}
				spec = &profilestore.DeclaredSpec{}
				if err := yaml.Unmarshal(b, spec); err != nil {
					return fmt.Errorf("baseline: %s: %w", declared, err)
				}
				if err := profilestore.Validate(spec); err != nil {
					return fmt.Errorf("baseline: %s: %w", declared, err)
				}
			} else {
				b, err := os.ReadFile(profiles)
				if err != nil {
					return fmt.Errorf("baseline: %w", err)
				}
				var doc exportDoc
				if err := json.Unmarshal(b, &doc); err != nil {
					return fmt.Errorf("baseline: %s: %w", profiles, err)
				}
				if doc.Format != profilestore.Format || doc.Version != profilestore.Version {
					return fmt.Errorf("baseline: %s: format %q version %d; this build reads %q version %d", profiles, doc.Format, doc.Version, profilestore.Format, profilestore.Version)
				}
				incoming = doc.Profiles
			}
			db, err := o.open(false)
			if err != nil {
				return err
			}
			defer db.Close()
			n := 0
			err = db.Update(func(tx *bolt.Tx) error {
				ctx := context.Background()
				snaps, err := profilestore.Load(ctx, kv{tx})
				if err != nil {
					return err
				}
				byID := map[string]int{}
				for i, s := range snaps {
					byID[s.ID] = i
				}
				if spec != nil {
					incoming = []profilestore.Snapshot{{ID: o.extension}}
				}
				for _, in := range incoming {
					i, ok := byID[in.ID]
					switch {
					case spec != nil && ok:
						snaps[i].Declared = spec
					case spec != nil:
						in.Declared = spec
						in.FirstSeen, in.LastSeen = time.Now().UnixNano(), time.Now().UnixNano()
						snaps = append(snaps, in)
					case ok:
						snaps[i] = in
					default:
						snaps = append(snaps, in)
					}
					n++
				}
				return profilestore.Save(ctx, kv{tx}, snaps, time.Now())
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "imported %d profile(s)\n", n)
			return nil
		},
	}
	c.Flags().StringVar(&declared, "declared", "", "YAML file of a declared profile")
	c.Flags().StringVar(&profiles, "profiles", "", "JSON file written by baseline export")
	return c
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
