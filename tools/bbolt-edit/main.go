// Command bbolt-edit rewrites the value of one key in a stopped etcd member's bbolt file (member/snap/db), for tests
// that need one member's data to differ silently from its peers' (a HashKV comparison must then tell them apart).
//
// It changes only the newest revision entry of that key in the "key" bucket, under the same bucket key, keeping the
// entry's create and mod revisions, version and lease. The "meta" bucket (consistent index, term) stays untouched, so
// etcd restarts as if nothing happened; raft and the WAL know nothing of the change.
package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.etcd.io/etcd/api/v3/mvccpb"
)

// A bucket key in "key": 8-byte big-endian main revision, '_', 8-byte big-endian sub revision, then an optional 't'
// that marks a tombstone (a delete; its value is a KeyValue that holds only the key).
const (
	revBytesLen   = 8 + 1 + 8
	markedRevLen  = revBytesLen + 1
	markTombstone = 't'
)

var keyBucket = []byte("key")

type revision struct {
	main, sub int64
	tombstone bool
}

func (r revision) String() string {
	return fmt.Sprintf("%d (sub %d)", r.main, r.sub)
}

func parseRevision(b []byte) (revision, error) {
	switch {
	case len(b) == revBytesLen:
	case len(b) == markedRevLen && b[revBytesLen] == markTombstone:
	default:
		return revision{}, fmt.Errorf("unexpected bucket key %x (%d bytes)", b, len(b))
	}
	if b[8] != '_' {
		return revision{}, fmt.Errorf("unexpected bucket key %x (no '_' after the main revision)", b)
	}
	return revision{
		main:      int64(binary.BigEndian.Uint64(b[0:8])),
		sub:       int64(binary.BigEndian.Uint64(b[9:17])),
		tombstone: len(b) == markedRevLen,
	}, nil
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func main() {
	line, err := run(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "bbolt-edit: %v\n", err)
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
	fmt.Println(line)
}

func run(args []string) (string, error) {
	fs := flag.NewFlagSet("bbolt-edit", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: bbolt-edit -db <member/snap/db> -key <user key> -value <new value>")
		fmt.Fprintln(fs.Output(), "Rewrites the value of the key's newest revision in a STOPPED etcd member's bbolt file.")
		fs.PrintDefaults()
	}
	dbPath := fs.String("db", "", "path to the member's bbolt file (<data-dir>/member/snap/db); the member must be stopped")
	key := fs.String("key", "", "the user key, as etcdctl names it")
	value := fs.String("value", "", "the new value (may be empty)")
	timeout := fs.Duration("lock-timeout", time.Second, "how long to wait for the file lock a running etcd holds")
	if err := fs.Parse(args); err != nil {
		return "", usageError{err.Error()}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, name := range []string{"db", "key", "value"} {
		if !set[name] {
			fs.Usage()
			return "", usageError{fmt.Sprintf("-%s is required", name)}
		}
	}
	if fs.NArg() > 0 {
		return "", usageError{fmt.Sprintf("unexpected arguments: %q", fs.Args())}
	}
	if *key == "" {
		return "", usageError{"-key must not be empty"}
	}
	return rewrite(*dbPath, []byte(*key), []byte(*value), *timeout)
}

func rewrite(dbPath string, key, value []byte, lockTimeout time.Duration) (string, error) {
	// bolt.Open creates a missing file: refuse first, so a typo never leaves an empty database behind.
	st, err := os.Stat(dbPath)
	if err != nil {
		return "", fmt.Errorf("cannot open %s: %w", dbPath, err)
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("cannot open %s: not a regular file", dbPath)
	}
	// The options etcd itself opens its backend with, so the file's freelist handling stays as etcd left it.
	db, err := bolt.Open(dbPath, 0o600, &bolt.Options{
		Timeout:        lockTimeout,
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
	if errors.Is(err, bolt.ErrTimeout) {
		return "", fmt.Errorf("cannot open %s: its lock is held (is the etcd member still running? stop it first)", dbPath)
	}
	if err != nil {
		return "", fmt.Errorf("cannot open %s as a bbolt database: %w", dbPath, err)
	}

	var line string
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(keyBucket)
		if b == nil {
			return fmt.Errorf("%s has no %q bucket: not an etcd v3 backend", dbPath, keyBucket)
		}
		// Bucket keys sort by revision, so the first match walking back from the end is the newest.
		c := b.Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			rev, err := parseRevision(k)
			if err != nil {
				return fmt.Errorf("%s: %w", dbPath, err)
			}
			var kv mvccpb.KeyValue
			if err := kv.Unmarshal(v); err != nil {
				return fmt.Errorf("%s: revision %s: cannot decode the KeyValue: %w", dbPath, rev, err)
			}
			if !bytes.Equal(kv.Key, key) {
				continue
			}
			if rev.tombstone {
				return fmt.Errorf("key %q not found: it was deleted at revision %s (a tombstone); nothing to rewrite", key, rev)
			}
			old := len(kv.Value)
			kv.Value = append([]byte(nil), value...)
			data, err := kv.Marshal()
			if err != nil {
				return fmt.Errorf("cannot encode the new KeyValue: %w", err)
			}
			// The cursor's key is only valid inside this transaction, and Put wants a key it may keep.
			if err := b.Put(append([]byte(nil), k...), data); err != nil {
				return fmt.Errorf("cannot write revision %s back: %w", rev, err)
			}
			line = fmt.Sprintf(
				"changed key %q at revision %s in %s: value %d -> %d bytes (create_revision %d, mod_revision %d, version %d, lease %d kept)",
				key, rev, dbPath, old, len(kv.Value), kv.CreateRevision, kv.ModRevision, kv.Version, kv.Lease,
			)
			return nil
		}
		return fmt.Errorf("key %q not found in the %q bucket of %s", key, keyBucket, dbPath)
	})
	if cerr := db.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing %s: %w", dbPath, cerr)
	}
	if err != nil {
		return "", err
	}
	return line, nil
}
