// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

package snapmap_test

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// The moving-key check, through this package, beside the same check on a
// sync.Map in the same program.
//
// Writer goroutines each move one key along a chain of their own,
// put(k+1) then delete(k), as fast as they can: at every instant a chain
// has one key, or two neighbours, never none and never two apart.  Beside
// the chains lie keys that never change, so that reading the whole map
// takes a while.
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

func chainKey(chain uint32, pos uint64) []byte {
	k := make([]byte, 16)
	copy(k, "MOVE")
	binary.LittleEndian.PutUint32(k[4:], chain)
	binary.LittleEndian.PutUint64(k[8:], pos)
	return k
}

func fixedKey(i int) []byte {
	return []byte(fmt.Sprintf("fixed-%04d", i))
}

// view is what one read of the whole map saw.
type view struct {
	fixed int
	seen  [mkChains][]uint64
	other int
}

func (v *view) add(key []byte) {
	if len(key) != 16 || string(key[:4]) != "MOVE" {
		v.fixed++
		return
	}
	c := binary.LittleEndian.Uint32(key[4:])
	if c >= mkChains {
		v.other++
		return
	}
	v.seen[c] = append(v.seen[c], binary.LittleEndian.Uint64(key[8:]))
}

// impossible says what the map was never in, or "" for a state it may
// have been in.
func (v *view) impossible() string {
	if v.fixed != mkFixed || v.other != 0 {
		return fmt.Sprintf("%d of the %d fixed keys, %d unknown", v.fixed, mkFixed, v.other)
	}
	for c, s := range v.seen {
		switch {
		case len(s) == 1:
		case len(s) == 2 && (s[0]+1 == s[1] || s[1]+1 == s[0]):
		case len(s) == 0:
			return fmt.Sprintf("chain %d with no key at all", c)
		default:
			return fmt.Sprintf("chain %d at keys %v", c, s)
		}
	}
	return ""
}

// mover runs the writers of one structure: put and del move chain c by
// one step; progress counts the steps of all chains.
type mover struct {
	stop     atomic.Bool
	progress atomic.Uint64
	moves    [mkChains]uint64
	errs     chan error
	wg       sync.WaitGroup
}

func (mv *mover) start(put func(k []byte) error, del func(k []byte) error) {
	mv.errs = make(chan error, mkChains)
	for c := uint32(0); c < mkChains; c++ {
		mv.wg.Add(1)
		go func(c uint32) {
			defer mv.wg.Done()
			pos := uint64(0)
			for ; !mv.stop.Load(); pos++ {
				if err := put(chainKey(c, pos+1)); err != nil {
					mv.errs <- err
					break
				}
				if err := del(chainKey(c, pos)); err != nil {
					mv.errs <- err
					break
				}
				mv.progress.Add(1)
			}
			mv.moves[c] = pos
		}(c)
	}
}

// waitStep waits until the writers made a step since from, or stopped.
func (mv *mover) waitStep(from uint64) bool {
	for mv.progress.Load() == from {
		if mv.stop.Load() {
			return false
		}
		runtime.Gosched()
	}
	return true
}

func (mv *mover) finish(t *testing.T, what string) {
	t.Helper()
	mv.stop.Store(true)
	mv.wg.Wait()
	close(mv.errs)
	for err := range mv.errs {
		t.Errorf("%s: a writer failed: %v", what, err)
	}
	for c, n := range mv.moves {
		if n == 0 {
			t.Errorf("%s: chain %d never moved", what, c)
		}
	}
}

func TestMovingKey(t *testing.T) {
	m := newMap(t, nil)
	var sm sync.Map
	for i := 0; i < mkFixed; i++ {
		if _, err := m.Put(fixedKey(i), []byte("fixed")); err != nil {
			t.Fatal(err)
		}
		sm.Store(string(fixedKey(i)), "fixed")
	}
	for c := uint32(0); c < mkChains; c++ {
		if _, err := m.Put(chainKey(c, 0), []byte("v")); err != nil {
			t.Fatal(err)
		}
		sm.Store(string(chainKey(c, 0)), "v")
	}

	var smv, syv mover
	smv.start(func(k []byte) error { _, err := m.Put(k, []byte("v")); return err },
		func(k []byte) error { _, err := m.Delete(k); return err })
	syv.start(func(k []byte) error { sm.Store(string(k), "v"); return nil },
		func(k []byte) error { sm.Delete(string(k)); return nil })

	// The control, beside the check.
	var control struct {
		ranges, impossible int
		example            string
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for control.ranges < mkControlMax && control.impossible < mkControlWant {
			var v view
			whole := true
			sm.Range(func(k, _ interface{}) bool {
				v.add([]byte(k.(string)))
				whole = syv.waitStep(syv.progress.Load())
				return whole
			})
			if !whole {
				return
			}
			control.ranges++
			if why := v.impossible(); why != "" {
				control.impossible++
				if control.example == "" {
					control.example = why
				}
			}
		}
	}()

	impossible, first := 0, ""
	var last uint64
	for i := 0; i < mkSnapshots; i++ {
		s, err := m.Snapshot(0)
		if err != nil {
			t.Fatal(err)
		}
		from := smv.progress.Load()
		if s.Version() <= last {
			t.Errorf("snapshot version %d after %d", s.Version(), last)
		}
		last = s.Version()
		if !smv.waitStep(from) {
			t.Fatal("the writers stopped")
		}
		var v view
		err = s.Range(func(k, _ []byte) bool { v.add(k); return true })
		s.Close()
		if err != nil {
			t.Fatal(err)
		}
		if why := v.impossible(); why != "" {
			impossible++
			if first == "" {
				first = why
			}
		}
	}
	<-done
	smv.finish(t, "snapmap")
	syv.finish(t, "sync.Map")

	t.Logf("snapmap ATOMIC: %d snapshots, each read after the map moved on, across %d writer steps: %d impossible",
		mkSnapshots, smv.progress.Load(), impossible)
	t.Logf("sync.Map Range: %d Ranges, a writer step after each key, across %d writer steps: %d impossible (%s)",
		control.ranges, syv.progress.Load(), control.impossible, control.example)
	if impossible != 0 {
		t.Errorf("%d of %d ATOMIC snapshots showed a state the map was never in, the first %s",
			impossible, mkSnapshots, first)
	}
	if control.impossible == 0 {
		t.Errorf("the control, %d sync.Map Ranges, never showed an impossible state: the check could not fail",
			control.ranges)
	}
}
