// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

package snapmap_test

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

// Many goroutines on one Map: a counter every one of them increments with
// compare-and-swap, retrying on ECANCELED, must count every increment;
// each goroutine's own keys read back what it wrote; and snapshots taken
// meanwhile, one at least between a goroutine's increments, see the
// counter only go up, at versions that only go up.
func TestManyGoroutines(t *testing.T) {
	const (
		workers    = 32
		increments = 40
		ownKeys    = 20
	)
	m := newMap(t, nil)
	counter := []byte("counter")
	if _, err := m.Put(counter, []byte("0")); err != nil {
		t.Fatal(err)
	}

	var (
		wg      sync.WaitGroup
		retries atomic.Uint64
		snaps   atomic.Int64
		// snapsOver: the snapshots stopped (on an error, or at the
		// end), and the goroutines go on without them.
		snapsOver atomic.Bool
		running   atomic.Int32
		errs      = make(chan error, workers+1)
		snapshot  sync.WaitGroup
	)
	running.Store(workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			defer running.Add(-1)
			for i := 0; i < increments; i++ {
				// Snapshots interleave with the increments: the
				// i-th waits for the i-th snapshot.
				for snaps.Load() < int64(i) && !snapsOver.Load() {
					runtime.Gosched()
				}
				for {
					val, ver, err := m.Get(counter)
					if err != nil {
						errs <- err
						return
					}
					n, _ := strconv.Atoi(string(val))
					_, err = m.CompareAndSwap(counter, []byte(strconv.Itoa(n+1)), ver)
					if err == nil {
						break
					}
					if !errors.Is(err, syscall.ECANCELED) {
						errs <- err
						return
					}
					retries.Add(1)
				}
				key := []byte(fmt.Sprintf("w%02d-%02d", w, i%ownKeys))
				want := []byte(fmt.Sprintf("%d/%d", w, i))
				if _, err := m.Put(key, want); err != nil {
					errs <- err
					return
				}
				if got, _, err := m.Get(key); err != nil || !bytes.Equal(got, want) {
					errs <- fmt.Errorf("worker %d read %q, %v after writing %q", w, got, err, want)
					return
				}
			}
		}(w)
	}

	snapshot.Add(1)
	go func() {
		defer snapshot.Done()
		defer snapsOver.Store(true)
		last, lastVersion := -1, uint64(0)
		for running.Load() > 0 {
			s, err := m.Snapshot(0)
			if err != nil {
				errs <- err
				return
			}
			n := -1
			err = s.Range(func(k, v []byte) bool {
				if bytes.Equal(k, counter) {
					n, _ = strconv.Atoi(string(v))
				}
				return true
			})
			version := s.Version()
			s.Close()
			if err != nil {
				errs <- err
				return
			}
			if n < last || version <= lastVersion {
				errs <- fmt.Errorf("snapshot v%d counts %d after v%d counted %d",
					version, n, lastVersion, last)
				return
			}
			last, lastVersion = n, version
			snaps.Add(1)
		}
	}()
	wg.Wait()
	snapshot.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	val, _, err := m.Get(counter)
	if err != nil {
		t.Fatal(err)
	}
	if string(val) != strconv.Itoa(workers*increments) {
		t.Errorf("the counter is %s after %d increments", val, workers*increments)
	}
	info, _ := m.Info()
	if info.Entries != 1+workers*ownKeys {
		t.Errorf("%d entries, want %d", info.Entries, 1+workers*ownKeys)
	}
	t.Logf("%d goroutines, %d increments with %d retries on ECANCELED, %d snapshots meanwhile",
		workers, workers*increments, retries.Load(), snaps.Load())
}
