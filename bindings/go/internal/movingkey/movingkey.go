// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

// Package movingkey is the moving-key check the package's tests and its
// demo share, as userspace/examples/moving_key.c and
// selftests/atomicity_test.c have it in C.
//
// Writers each move one key along a chain of their own, putting key k+1
// then deleting key k, as fast as they can: at every instant a chain has
// one key, or two neighbours, never none and never two apart.  Beside the
// chains lie keys that never change, so that reading the whole map takes
// a while.  A read of the whole map that shows anything else shows a
// state the map was never in.
package movingkey

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// Key is the key of chain at pos: "MOVE", then both numbers.
func Key(chain uint32, pos uint64) []byte {
	k := make([]byte, 16)
	copy(k, "MOVE")
	binary.LittleEndian.PutUint32(k[4:], chain)
	binary.LittleEndian.PutUint64(k[8:], pos)
	return k
}

// FixedKey is the i-th key that never changes.
func FixedKey(i int) []byte {
	return []byte(fmt.Sprintf("fixed-%05d", i))
}

// View is what one read of the whole map saw.
type View struct {
	chains, fixed int
	nfixed        int
	seen          [][]uint64
}

// NewView makes an empty view of a map with chains chains and fixed keys
// that never change.
func NewView(chains, fixed int) *View {
	v := &View{chains: chains, fixed: fixed}
	v.Reset()
	return v
}

// Reset empties the view for another read.
func (v *View) Reset() {
	v.nfixed = 0
	v.seen = make([][]uint64, v.chains)
}

// Add counts a key the read saw.
func (v *View) Add(key []byte) {
	if len(key) == 16 && string(key[:4]) == "MOVE" {
		if c := binary.LittleEndian.Uint32(key[4:]); int(c) < v.chains {
			v.seen[c] = append(v.seen[c], binary.LittleEndian.Uint64(key[8:]))
			return
		}
	}
	v.nfixed++
}

// Impossible says what the read saw that the map was never in, or ""
// when it may have been in that state.
func (v *View) Impossible() string {
	if v.nfixed != v.fixed {
		return fmt.Sprintf("%d of the %d keys that never change", v.nfixed, v.fixed)
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

// Writers move the chains of one map, a goroutine each.
type Writers struct {
	stop  atomic.Bool
	steps atomic.Uint64
	moves []uint64
	wg    sync.WaitGroup
	once  sync.Once
	err   error
}

// Start starts chains writers, each moving its chain from key 0 (which
// the map must hold) with put and del.  The first error stops them all.
func Start(chains int, put, del func(key []byte) error) *Writers {
	w := &Writers{moves: make([]uint64, chains)}
	for c := 0; c < chains; c++ {
		w.wg.Add(1)
		go w.run(uint32(c), put, del)
	}
	return w
}

func (w *Writers) run(c uint32, put, del func(key []byte) error) {
	defer w.wg.Done()
	pos := uint64(0)
	for ; !w.stop.Load(); pos++ {
		err := put(Key(c, pos+1))
		if err == nil {
			err = del(Key(c, pos))
		}
		if err != nil {
			w.once.Do(func() { w.err = fmt.Errorf("chain %d: %w", c, err) })
			w.stop.Store(true)
			break
		}
		w.steps.Add(1)
	}
	w.moves[c] = pos
}

// Steps is the number of steps all chains made so far.
func (w *Writers) Steps() uint64 {
	return w.steps.Load()
}

// WaitStep waits, yielding the processor, until the writers made a step
// since Steps returned from: whether they did before they stopped.
func (w *Writers) WaitStep(from uint64) bool {
	for w.steps.Load() == from {
		if w.stop.Load() {
			return false
		}
		runtime.Gosched()
	}
	return true
}

// Stopped tells whether the writers stopped, on an error.
func (w *Writers) Stopped() bool {
	return w.stop.Load()
}

// Stop stops the writers and waits for them, and returns the steps each
// chain made and the first error, if any.
func (w *Writers) Stop() ([]uint64, error) {
	w.stop.Store(true)
	w.wg.Wait()
	return w.moves, w.err
}
