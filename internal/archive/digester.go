package archive

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"time"

	"gocloud.dev/blob"

	"github.com/sandwatch/sandwatch/internal/archive/digest"
)

// DigestOptions configure a Digester.
type DigestOptions struct {
	Writer    string             // this writer's id: its own chain of digests
	Key       ed25519.PrivateKey // signs the digests
	Interval  time.Duration      // one digest per interval; default 1h
	Lock      ObjectLock         // S3 Object Lock for the digests too
	Now       func() time.Time   // for tests
	Retention time.Duration      // recorded in each digest (0: keeps everything)
	// OnError hears of a digest that could not be stored at its interval
	// (it is retried at the next one, with everything recorded since).
	OnError func(error)
}

// Digester keeps a writer's chain of signed digests (see package
// digest): Record notes each stored object's SHA-256, RecordPrune each
// retention run, and every Interval (and at Close) a digest naming them
// is signed and stored, chained to the previous one.
type Digester struct {
	bucket *blob.Bucket
	opts   DigestOptions

	mu      sync.Mutex // guards objects, pruned
	objects []digest.Object
	pruned  []digest.Prune

	flushMu sync.Mutex // one flush at a time; guards seq, prev, start, resumed
	seq     uint64
	prev    string
	start   time.Time
	resumed bool // seq and prev continue the chain in the store

	stop, done chan struct{}
}

func (o *DigestOptions) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// StartDigester continues the writer's chain from its newest digest in
// the bucket (or starts one) and flushes every Interval until Close.
// Nothing is read at start but that digest; errors are configuration
// errors.
func StartDigester(ctx context.Context, b *blob.Bucket, opts DigestOptions) (*Digester, error) {
	if err := digest.ValidWriter(opts.Writer); err != nil {
		return nil, fmt.Errorf("integrity.writer_id: %w", err)
	}
	if len(opts.Key) != ed25519.PrivateKeySize {
		return nil, errors.New("integrity: no ed25519 signing key")
	}
	if opts.Interval <= 0 {
		opts.Interval = time.Hour
	}
	d := &Digester{bucket: b, opts: opts, start: opts.now(), stop: make(chan struct{}), done: make(chan struct{})}
	// Resumed here if the store answers, else at the first flush: a
	// store outage must not keep the collector from starting.
	if err := d.resume(ctx); err == nil {
		d.resumed = true
	}
	go d.loop()
	return d, nil
}

// resume finds the writer's newest digest: the next one chains to it.
func (d *Digester) resume(ctx context.Context) error {
	var last string
	var lastSeq uint64
	it := d.bucket.List(&blob.ListOptions{Prefix: digest.Prefix + d.opts.Writer + "/"})
	for {
		obj, err := it.Next(ctx)
		if err != nil {
			if err == io.EOF {
				break
			}
			return fmt.Errorf("integrity: list digests: %w", err)
		}
		if info, ok := digest.ParseKey(obj.Key); ok && info.Writer == d.opts.Writer && info.Seq >= lastSeq {
			last, lastSeq = obj.Key, info.Seq
		}
	}
	if last == "" {
		return nil
	}
	raw, err := d.bucket.ReadAll(ctx, last)
	if err != nil {
		return fmt.Errorf("integrity: read %s: %w", last, err)
	}
	// Chain to what is there, whatever it holds: verify judges it.
	d.seq, d.prev = lastSeq, digest.Sum(raw)
	return nil
}

func (d *Digester) loop() {
	defer close(d.done)
	t := time.NewTicker(d.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			if err := d.Flush(ctx); err != nil && d.opts.OnError != nil {
				d.opts.OnError(err)
			}
			cancel()
		}
	}
}

// Record notes an object this writer stored.
func (d *Digester) Record(key string, data []byte) {
	o := digest.Object{Key: key, Size: int64(len(data)), SHA256: digest.Sum(data)}
	d.mu.Lock()
	d.objects = append(d.objects, o)
	d.mu.Unlock()
}

// RecordPrune notes a retention run that deleted what was written before
// cutoff, and stores a digest at once, so a crash cannot lose the record
// of a deletion.
func (d *Digester) RecordPrune(ctx context.Context, cutoff time.Time) error {
	d.mu.Lock()
	d.pruned = append(d.pruned, digest.Prune{Before: cutoff.UTC(), At: d.opts.now().UTC()})
	d.mu.Unlock()
	return d.Flush(ctx)
}

// Flush signs and stores a digest of what was recorded since the last
// one (an empty one too: the chain shows the writer was alive).
func (d *Digester) Flush(ctx context.Context) error {
	d.flushMu.Lock()
	defer d.flushMu.Unlock()
	if !d.resumed {
		if err := d.resume(ctx); err != nil {
			return err // what was recorded waits for the next flush
		}
		d.resumed = true
	}
	d.mu.Lock()
	objs, pruned := d.objects, d.pruned
	d.objects, d.pruned = nil, nil
	d.mu.Unlock()
	sort.Slice(objs, func(i, j int) bool { return objs[i].Key < objs[j].Key })
	end := d.opts.now()
	if !end.After(d.start) {
		end = d.start.Add(time.Nanosecond)
	}
	p := digest.Payload{Writer: d.opts.Writer, Seq: d.seq + 1, Start: d.start.UTC(), End: end.UTC(),
		Interval: d.opts.Interval.String(), Previous: d.prev, Objects: objs, Pruned: pruned}
	if d.opts.Retention > 0 {
		p.Retention = d.opts.Retention.String()
	}
	raw, err := digest.Sign(p, d.opts.Key)
	if err == nil {
		err = putObject(ctx, d.bucket, digest.Key(p.Writer, p.Seq, p.Start, p.End), raw, "application/json", d.opts.Lock, end)
	}
	if err != nil {
		d.mu.Lock()
		d.objects, d.pruned = append(objs, d.objects...), append(pruned, d.pruned...)
		d.mu.Unlock()
		return fmt.Errorf("integrity: store digest %d: %w", p.Seq, err)
	}
	d.seq, d.prev, d.start = p.Seq, digest.Sum(raw), end
	return nil
}

// Close stops the interval and stores a last digest.
func (d *Digester) Close(ctx context.Context) error {
	select {
	case <-d.stop:
		return nil
	default:
	}
	close(d.stop)
	<-d.done
	return d.Flush(ctx)
}

// LoadSigningKey reads an ed25519 private key: PEM PKCS #8 ("PRIVATE
// KEY"), as `openssl genpkey -algorithm ed25519` and `sandwatchctl
// forensics keygen` write.
func LoadSigningKey(path string) (ed25519.PrivateKey, error) {
	k, err := readPEM(path, "PRIVATE KEY", func(der []byte) (any, error) { return x509.ParsePKCS8PrivateKey(der) })
	if err != nil {
		return nil, err
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an ed25519 private key", path)
	}
	return priv, nil
}

// LoadPublicKey reads an ed25519 public key: PEM PKIX ("PUBLIC KEY").
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	k, err := readPEM(path, "PUBLIC KEY", x509.ParsePKIXPublicKey)
	if err != nil {
		return nil, err
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an ed25519 public key", path)
	}
	return pub, nil
}

func readPEM(path, typ string, parse func([]byte) (any, error)) (any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(data)
	if blk == nil || blk.Type != typ {
		return nil, fmt.Errorf("%s: no PEM %q block", path, typ)
	}
	k, err := parse(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// EncodeKeyPair renders a key pair as the PEM files LoadSigningKey and
// LoadPublicKey read.
func EncodeKeyPair(priv ed25519.PrivateKey) (privPEM, pubPEM []byte, err error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), nil
}
