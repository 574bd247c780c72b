// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

// Command syncmap_vs_snapmap shows the problem snapmap answers, and its
// answer, side by side.
//
// Writer goroutines hammer a sync.Map and a snapmap map the same way:
// each moves one key along a chain of its own, storing key k+1 then
// deleting key k, as fast as it can, beside keys that never change.  At
// every instant a chain holds one key, or two neighbours; never none,
// never two apart.  Meanwhile the main goroutine copies each map whole,
// over and over: the sync.Map with Range, the snapmap map through a WEAK
// snapshot (a walk of the live map) and through an ATOMIC one.  It prints
// how many copies of each were a state the map was never in.
//
// Usage:
//
//	syncmap_vs_snapmap [-copies N] [-writers N] [-keys N]
//
// The exit status is 1 if an ATOMIC copy was impossible (or on an error),
// 0 otherwise: the sync.Map and the WEAK walk are expected to fail.
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"snapmap.dev/snapmap"
)

// store is what the writers and the copier need of a map.
type store struct {
	name string
	put  func(key []byte) error
	del  func(key []byte) error
	// copy reads the map whole, handing every key to add.
	copy func(add func(key []byte)) error
}

func chainKey(chain uint32, pos uint64) []byte {
	k := make([]byte, 16)
	copy(k, "MOVE")
	binary.LittleEndian.PutUint32(k[4:], chain)
	binary.LittleEndian.PutUint64(k[8:], pos)
	return k
}

func fixedKey(i int) []byte {
	return []byte(fmt.Sprintf("fixed-%05d", i))
}

// check says what is impossible about a copy, or "".
type check struct {
	writers, fixed int
	nfixed         int
	chains         [][]uint64
}

func (c *check) reset() {
	c.nfixed = 0
	c.chains = make([][]uint64, c.writers)
}

func (c *check) add(key []byte) {
	if len(key) == 16 && string(key[:4]) == "MOVE" {
		ch := binary.LittleEndian.Uint32(key[4:])
		if int(ch) < c.writers {
			c.chains[ch] = append(c.chains[ch], binary.LittleEndian.Uint64(key[8:]))
			return
		}
	}
	c.nfixed++
}

func (c *check) verdict() string {
	if c.nfixed != c.fixed {
		return fmt.Sprintf("%d of the %d keys that never change", c.nfixed, c.fixed)
	}
	for ch, s := range c.chains {
		switch {
		case len(s) == 1:
		case len(s) == 2 && (s[0]+1 == s[1] || s[1]+1 == s[0]):
		case len(s) == 0:
			return fmt.Sprintf("chain %d with no key at all", ch)
		default:
			return fmt.Sprintf("chain %d at keys %v", ch, s)
		}
	}
	return ""
}

// writers moves the chains of s until stop, and counts their steps.
func writers(s *store, n int, stop *atomic.Bool, steps *atomic.Uint64, wg *sync.WaitGroup, fail func(error)) {
	for c := 0; c < n; c++ {
		wg.Add(1)
		go func(c uint32) {
			defer wg.Done()
			for pos := uint64(0); !stop.Load(); pos++ {
				if err := s.put(chainKey(c, pos+1)); err != nil {
					fail(err)
					return
				}
				if err := s.del(chainKey(c, pos)); err != nil {
					fail(err)
					return
				}
				steps.Add(1)
			}
		}(uint32(c))
	}
}

func main() {
	copies := flag.Int("copies", 300, "copies of each `kind`")
	nwriters := flag.Int("writers", 2, "writer goroutines on each map")
	nkeys := flag.Int("keys", 2000, "keys that never change, in each map")
	flag.Parse()
	if err := run(*copies, *nwriters, *nkeys); err != nil {
		fmt.Fprintln(os.Stderr, "syncmap_vs_snapmap:", err)
		os.Exit(1)
	}
}

func run(copies, nwriters, nkeys int) error {
	m, err := snapmap.Create(nil)
	if err != nil {
		return err
	}
	defer m.Close()
	var sm sync.Map

	snapCopy := func(flags snapmap.SnapshotFlag) func(add func([]byte)) error {
		return func(add func([]byte)) error {
			s, err := m.Snapshot(flags)
			if err != nil {
				return err
			}
			defer s.Close()
			return s.Range(func(k, _ []byte) bool { add(k); return true })
		}
	}
	syncStore := &store{
		name: "sync.Map Range",
		put:  func(k []byte) error { sm.Store(string(k), "v"); return nil },
		del:  func(k []byte) error { sm.Delete(string(k)); return nil },
		copy: func(add func([]byte)) error {
			sm.Range(func(k, _ interface{}) bool { add([]byte(k.(string))); return true })
			return nil
		},
	}
	snapStore := &store{
		put: func(k []byte) error { _, err := m.Put(k, []byte("v")); return err },
		del: func(k []byte) error { _, err := m.Delete(k); return err },
	}

	for i := 0; i < nkeys; i++ {
		sm.Store(string(fixedKey(i)), "v")
		if _, err := m.Put(fixedKey(i), []byte("v")); err != nil {
			return err
		}
	}
	for c := 0; c < nwriters; c++ {
		sm.Store(string(chainKey(uint32(c), 0)), "v")
		if _, err := m.Put(chainKey(uint32(c), 0), []byte("v")); err != nil {
			return err
		}
	}

	var (
		stop                 atomic.Bool
		syncSteps, snapSteps atomic.Uint64
		wg                   sync.WaitGroup
		errOnce              sync.Once
		werr                 error
	)
	fail := func(err error) { errOnce.Do(func() { werr = err; stop.Store(true) }) }
	writers(syncStore, nwriters, &stop, &syncSteps, &wg, fail)
	writers(snapStore, nwriters, &stop, &snapSteps, &wg, fail)

	kinds := []struct {
		name       string
		copy       func(add func([]byte)) error
		impossible int
		example    string
	}{
		{name: "sync.Map Range", copy: syncStore.copy},
		{name: "snapmap WEAK snapshot", copy: snapCopy(snapmap.SnapshotWeak)},
		{name: "snapmap ATOMIC snapshot", copy: snapCopy(0)},
	}
	chk := &check{writers: nwriters, fixed: nkeys}
	// Turn by turn, so that each kind copies under the same load.
	for i := 0; i < copies && !stop.Load(); i++ {
		for k := range kinds {
			chk.reset()
			if err := kinds[k].copy(chk.add); err != nil {
				fail(err)
				break
			}
			if why := chk.verdict(); why != "" {
				kinds[k].impossible++
				if kinds[k].example == "" {
					kinds[k].example = why
				}
			}
		}
	}
	stop.Store(true)
	wg.Wait()
	if werr != nil {
		return werr
	}

	fmt.Printf("%d writers on each map, moving a key each beside %d keys that never change;\n",
		nwriters, nkeys)
	fmt.Printf("each map copied whole %d times while they ran (%d writer steps on the sync.Map, %d on snapmap):\n",
		copies, syncSteps.Load(), snapSteps.Load())
	for _, k := range kinds {
		line := fmt.Sprintf("  %-24s %5d of %d copies impossible (%.1f%%)", k.name,
			k.impossible, copies, 100*float64(k.impossible)/float64(copies))
		if k.example != "" {
			line += ", e.g. " + k.example
		}
		fmt.Println(line)
	}
	if kinds[2].impossible != 0 {
		return fmt.Errorf("an ATOMIC snapshot showed a state the map was never in")
	}
	return nil
}
