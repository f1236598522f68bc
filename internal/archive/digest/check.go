package digest

import (
	"crypto/ed25519"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"
)

// Kind of a finding.
type Kind string

const (
	Modified     Kind = "modified"      // an object's bytes differ from what its digest recorded
	Deleted      Kind = "deleted"       // a digest names an object that is gone, and no prune explains it
	Added        Kind = "added"         // an object no digest names
	Unverified   Kind = "unverified"    // an object named only by a digest whose signature fails
	ChainBroken  Kind = "chain-broken"  // a digest missing from a writer's chain, or a previous hash that does not match
	BadSignature Kind = "bad-signature" // a digest not signed by a trusted key
	Malformed    Kind = "malformed"     // a digest that does not parse
	// Informational, not findings:
	Pruned  Kind = "pruned"  // named and gone, before a recorded prune's cutoff
	Pending Kind = "pending" // written after the newest digest: not yet digested
)

// Failing reports whether k counts against an archive.
func (k Kind) Failing() bool { return k != Pruned && k != Pending }

// Finding is one thing verify reports, placed in an hour (UTC) and a
// writer ("" when no writer vouches for the object).
type Finding struct {
	Hour   time.Time `json:"hour"`
	Writer string    `json:"writer,omitempty"`
	Kind   Kind      `json:"kind"`
	Key    string    `json:"key"`
	Detail string    `json:"detail,omitempty"`
}

// Stored is an object as the store holds it now.
type Stored struct {
	Size   int64
	SHA256 string
}

// HourSummary counts, per hour and writer, the objects found intact.
type HourSummary struct {
	Hour     time.Time `json:"hour"`
	Writer   string    `json:"writer"`
	Digests  int       `json:"digests"`
	Verified int       `json:"verified"` // objects whose hash matches their digest
}

// Report is the outcome of a check.
type Report struct {
	Digests  int           `json:"digests"`
	Objects  int           `json:"objects"` // stored objects in the window
	Hours    []HourSummary `json:"hours"`
	Findings []Finding     `json:"findings"`
}

// Failed counts the findings that count against the archive.
func (r *Report) Failed() int {
	n := 0
	for _, f := range r.Findings {
		if f.Kind.Failing() {
			n++
		}
	}
	return n
}

// Check is one verification: the digests read (parsed, or the error that
// kept one from parsing), the objects stored in the window, the trusted
// public keys.
type Check struct {
	Digests  []*Digest
	Broken   map[string]error // digest key -> why it does not parse
	Stored   map[string]Stored
	Keys     []ed25519.PublicKey
	From, To time.Time                      // the window of write times; zero bounds are open
	KeyTime  func(string) (time.Time, bool) // the write time a key encodes
	Now      time.Time                      // objects written after the newest digest are pending until Slack past it
	Slack    time.Duration                  // how long a write may take to be digested
	// Writers are the writers expected to be alive: each must have a
	// digest, the newest no older than two of its intervals (plus Slack).
	// This is what shows a chain whose newest digests were deleted.
	Writers []string
}

func (c *Check) in(t time.Time) bool {
	return (c.From.IsZero() || !t.Before(c.From)) && (c.To.IsZero() || t.Before(c.To))
}

func (c *Check) overlaps(d *Digest) bool {
	return (c.From.IsZero() || d.End.After(c.From)) && (c.To.IsZero() || d.Start.Before(c.To))
}

func hourOf(t time.Time) time.Time { return t.UTC().Truncate(time.Hour) }

type named struct {
	obj    Object
	writer string
}

// Run checks the digests' signatures and chains, then every object they
// name and every object stored against them.
func (c *Check) Run() *Report {
	rep := &Report{Objects: len(c.Stored)}
	add := func(t time.Time, writer string, k Kind, key, detail string) {
		rep.Findings = append(rep.Findings, Finding{Hour: hourOf(t), Writer: writer, Kind: k, Key: key, Detail: detail})
	}
	for key, err := range c.Broken {
		t := time.Time{}
		if info, ok := ParseKey(key); ok {
			t = info.Start
		}
		add(t, "", Malformed, key, err.Error())
	}
	hours := map[[2]string]*HourSummary{}
	summary := func(t time.Time, w string) *HourSummary {
		h := hourOf(t)
		k := [2]string{h.Format(time.RFC3339), w}
		if hours[k] == nil {
			hours[k] = &HourSummary{Hour: h, Writer: w}
		}
		return hours[k]
	}

	byWriter := map[string][]*Digest{}
	for _, d := range c.Digests {
		byWriter[d.Writer] = append(byWriter[d.Writer], d)
	}
	trusted := map[string]named{}
	untrusted := map[string]string{} // object key -> writer of the digest with a bad signature
	var pruneCutoff, newestEnd time.Time
	for _, d := range c.Digests {
		if !d.Verify(c.Keys) {
			continue
		}
		for _, p := range d.Pruned {
			if p.Before.After(pruneCutoff) {
				pruneCutoff = p.Before
			}
		}
		if d.End.After(newestEnd) {
			newestEnd = d.End
		}
	}
	for _, w := range slices.Sorted(maps.Keys(byWriter)) {
		ds := byWriter[w]
		sort.Slice(ds, func(i, j int) bool { return ds[i].Seq < ds[j].Seq })
		for i, d := range ds {
			ok := d.Verify(c.Keys)
			if c.overlaps(d) {
				rep.Digests++
				summary(d.Start, w).Digests++
				if !ok {
					add(d.Start, w, BadSignature, d.Key, fmt.Sprintf("seq %d is not signed by a trusted key (it names key id %s)", d.Seq, d.KeyID))
				}
				c.chain(ds, i, pruneCutoff, add)
			}
			for _, o := range d.Objects {
				if ok {
					trusted[o.Key] = named{obj: o, writer: w}
				} else if _, t := trusted[o.Key]; !t {
					untrusted[o.Key] = w
				}
			}
		}
	}

	for _, w := range c.Writers {
		ds := byWriter[w]
		if len(ds) == 0 {
			add(c.Now, w, ChainBroken, Prefix+w+"/", "no digest of this expected writer")
			continue
		}
		last := ds[len(ds)-1]
		iv, err := time.ParseDuration(last.Interval)
		if err != nil || iv <= 0 {
			iv = time.Hour
		}
		if last.End.Add(2*iv + c.Slack).Before(c.Now) {
			add(last.End, w, ChainBroken, last.Key, fmt.Sprintf("the newest digest (seq %d) ended at %s: later ones are missing, or the writer stopped", last.Seq, last.End.UTC().Format(time.RFC3339)))
		}
	}

	for _, k := range slices.Sorted(maps.Keys(trusted)) {
		n := trusted[k]
		t, ok := c.KeyTime(k)
		if !ok || !c.in(t) {
			continue
		}
		st, stored := c.Stored[k]
		switch {
		case !stored && t.Before(pruneCutoff):
			add(t, n.writer, Pruned, k, "deleted by a recorded prune (cutoff "+pruneCutoff.UTC().Format(time.RFC3339)+")")
		case !stored:
			add(t, n.writer, Deleted, k, "named by a digest, gone from the store")
		case st.SHA256 != n.obj.SHA256 || st.Size != n.obj.Size:
			add(t, n.writer, Modified, k, fmt.Sprintf("sha256 %s (%d bytes), digest recorded %s (%d bytes)", short(st.SHA256), st.Size, short(n.obj.SHA256), n.obj.Size))
		default:
			summary(t, n.writer).Verified++
		}
	}
	var keys []string
	for k := range c.Stored {
		if _, ok := trusted[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		t, _ := c.KeyTime(k)
		switch w, bad := untrusted[k]; {
		case bad:
			add(t, w, Unverified, k, "named only by a digest whose signature fails")
		case t.After(newestEnd.Add(-c.Slack)) && !t.After(c.Now.Add(c.Slack)):
			add(t, "", Pending, k, "written after the newest digest; the next one will name it")
		default:
			add(t, "", Added, k, "no digest names this object")
		}
	}
	for _, h := range hours {
		rep.Hours = append(rep.Hours, *h)
	}
	sort.Slice(rep.Hours, func(i, j int) bool {
		a, b := rep.Hours[i], rep.Hours[j]
		return a.Hour.Before(b.Hour) || (a.Hour.Equal(b.Hour) && a.Writer < b.Writer)
	})
	sort.SliceStable(rep.Findings, func(i, j int) bool {
		a, b := rep.Findings[i], rep.Findings[j]
		if !a.Hour.Equal(b.Hour) {
			return a.Hour.Before(b.Hour)
		}
		if a.Writer != b.Writer {
			return a.Writer < b.Writer
		}
		return a.Key < b.Key
	})
	return rep
}

// chain checks ds[i] against its predecessor in the writer's chain.
func (c *Check) chain(ds []*Digest, i int, pruneCutoff time.Time, add func(time.Time, string, Kind, string, string)) {
	d := ds[i]
	if i == 0 {
		if d.Seq == 1 && d.Previous == "" {
			return
		}
		if !d.Start.After(pruneCutoff) {
			return // its predecessors ended before a recorded prune's cutoff
		}
		add(d.Start, d.Writer, ChainBroken, d.Key, fmt.Sprintf("seq %d is the oldest digest left, and no recorded prune explains the missing seq 1..%d", d.Seq, d.Seq-1))
		return
	}
	p := ds[i-1]
	switch {
	case d.Seq != p.Seq+1:
		add(d.Start, d.Writer, ChainBroken, d.Key, fmt.Sprintf("digests seq %d..%d are missing", p.Seq+1, d.Seq-1))
	case d.Previous != p.Hash:
		add(d.Start, d.Writer, ChainBroken, d.Key, fmt.Sprintf("previous hash %s does not match seq %d (%s)", short(d.Previous), p.Seq, short(p.Hash)))
	}
}

func short(h string) string {
	if len(h) > 16 {
		return h[:16]
	}
	return h
}
