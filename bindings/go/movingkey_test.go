// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

package snapmap_test

import (
	"sync"
	"testing"

	"snapmap.dev/snapmap/internal/movingkey"
)

// The moving-key check (internal/movingkey), through this package, beside
// the same check on a sync.Map in the same program.
//
// Every ATOMIC snapshot is read only after a writer step completed since
// it was taken: the map it shows is gone, and it must still be one the
// map was in.  The control reads a sync.Map under the same writers with
// Range, waiting for a writer step after each key, and must see a state
// the map was never in: that proves the check can fail.  Both stop after
// a number of reads, never after a time.
const (
	mkChains      = 2
	mkFixed       = 200
	mkSnapshots   = 200
	mkControlMax  = 50 // Ranges of the control, at most
	mkControlWant = 3  // impossible Ranges that make the control's point
)

func TestMovingKey(t *testing.T) {
	m := newMap(t, nil)
	var sm sync.Map
	for i := 0; i < mkFixed; i++ {
		if _, err := m.Put(movingkey.FixedKey(i), []byte("fixed")); err != nil {
			t.Fatal(err)
		}
		sm.Store(string(movingkey.FixedKey(i)), "fixed")
	}
	for c := uint32(0); c < mkChains; c++ {
		if _, err := m.Put(movingkey.Key(c, 0), []byte("v")); err != nil {
			t.Fatal(err)
		}
		sm.Store(string(movingkey.Key(c, 0)), "v")
	}

	smw := movingkey.Start(mkChains,
		func(k []byte) error { _, err := m.Put(k, []byte("v")); return err },
		func(k []byte) error { _, err := m.Delete(k); return err })
	syw := movingkey.Start(mkChains,
		func(k []byte) error { sm.Store(string(k), "v"); return nil },
		func(k []byte) error { sm.Delete(string(k)); return nil })

	// The control, beside the check.
	var control struct {
		ranges, impossible int
		example            string
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		v := movingkey.NewView(mkChains, mkFixed)
		for control.ranges < mkControlMax && control.impossible < mkControlWant {
			v.Reset()
			whole := true
			sm.Range(func(k, _ interface{}) bool {
				v.Add([]byte(k.(string)))
				whole = syw.WaitStep(syw.Steps())
				return whole
			})
			if !whole {
				return
			}
			control.ranges++
			if why := v.Impossible(); why != "" {
				control.impossible++
				if control.example == "" {
					control.example = why
				}
			}
		}
	}()

	read, impossible, first := 0, 0, ""
	var last uint64
	v := movingkey.NewView(mkChains, mkFixed)
	for i := 0; i < mkSnapshots; i++ {
		s, err := m.Snapshot(0)
		if err != nil {
			t.Fatal(err)
		}
		from := smw.Steps()
		if s.Version() <= last {
			t.Errorf("snapshot version %d after %d", s.Version(), last)
		}
		last = s.Version()
		if !smw.WaitStep(from) {
			s.Close()
			break
		}
		v.Reset()
		err = s.Range(func(k, _ []byte) bool { v.Add(k); return true })
		s.Close()
		if err != nil {
			t.Fatal(err)
		}
		read++
		if why := v.Impossible(); why != "" {
			impossible++
			if first == "" {
				first = why
			}
		}
	}
	<-done
	smSteps, sySteps := smw.Steps(), syw.Steps()
	for _, w := range []struct {
		name string
		w    *movingkey.Writers
	}{{"snapmap", smw}, {"sync.Map", syw}} {
		moves, err := w.w.Stop()
		if err != nil {
			t.Errorf("%s: a writer failed: %v", w.name, err)
		}
		for c, n := range moves {
			if n == 0 {
				t.Errorf("%s: chain %d never moved", w.name, c)
			}
		}
	}

	t.Logf("snapmap ATOMIC: %d snapshots, each read after the map moved on, across %d writer steps: %d impossible",
		read, smSteps, impossible)
	t.Logf("sync.Map Range: %d Ranges, a writer step after each key, across %d writer steps: %d impossible (%s)",
		control.ranges, sySteps, control.impossible, control.example)
	if read != mkSnapshots {
		t.Errorf("%d ATOMIC snapshots read of %d: the writers stopped", read, mkSnapshots)
	}
	if impossible != 0 {
		t.Errorf("%d of %d ATOMIC snapshots showed a state the map was never in, the first %s",
			impossible, read, first)
	}
	if control.impossible == 0 {
		t.Errorf("the control, %d sync.Map Ranges, never showed an impossible state: the check could not fail",
			control.ranges)
	}
}
