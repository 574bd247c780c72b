// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

// Command syncmap_vs_snapmap shows the problem snapmap answers, and its
// answer, side by side.
//
// Writer goroutines hammer a sync.Map and a snapmap map the same way
// (the moving-key check of internal/movingkey): each moves one key along
// a chain of its own, storing key k+1 then deleting key k, as fast as it
// can, beside keys that never change.  At
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
	"flag"
	"fmt"
	"os"
	"sync"

	"snapmap.dev/snapmap"
	"snapmap.dev/snapmap/internal/movingkey"
)

func main() {
	copies := flag.Int("copies", 300, "copies of each `kind`")
	writers := flag.Int("writers", 2, "writer goroutines on each map")
	keys := flag.Int("keys", 2000, "keys that never change, in each map")
	flag.Parse()
	if err := run(*copies, *writers, *keys); err != nil {
		fmt.Fprintln(os.Stderr, "syncmap_vs_snapmap:", err)
		os.Exit(1)
	}
}

// kind is one way of copying a map whole, and what its copies showed.
type kind struct {
	name       string
	copy       func(add func(key []byte)) error
	impossible int
	example    string
}

func run(copies, writers, keys int) error {
	m, err := snapmap.Create(nil)
	if err != nil {
		return err
	}
	defer m.Close()
	var sm sync.Map

	for i := 0; i < keys; i++ {
		sm.Store(string(movingkey.FixedKey(i)), "v")
		if _, err := m.Put(movingkey.FixedKey(i), []byte("v")); err != nil {
			return err
		}
	}
	for c := uint32(0); c < uint32(writers); c++ {
		sm.Store(string(movingkey.Key(c, 0)), "v")
		if _, err := m.Put(movingkey.Key(c, 0), []byte("v")); err != nil {
			return err
		}
	}

	syw := movingkey.Start(writers,
		func(k []byte) error { sm.Store(string(k), "v"); return nil },
		func(k []byte) error { sm.Delete(string(k)); return nil })
	smw := movingkey.Start(writers,
		func(k []byte) error { _, err := m.Put(k, []byte("v")); return err },
		func(k []byte) error { _, err := m.Delete(k); return err })

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
	kinds := []kind{
		{name: "sync.Map Range", copy: func(add func([]byte)) error {
			sm.Range(func(k, _ interface{}) bool { add([]byte(k.(string))); return true })
			return nil
		}},
		{name: "snapmap WEAK snapshot", copy: snapCopy(snapmap.SnapshotWeak)},
		{name: "snapmap ATOMIC snapshot", copy: snapCopy(0)},
	}

	// Turn by turn, so that each kind copies under the same load.
	v := movingkey.NewView(writers, keys)
	var cerr error
	for i := 0; i < copies && cerr == nil && !smw.Stopped(); i++ {
		for k := range kinds {
			v.Reset()
			if cerr = kinds[k].copy(v.Add); cerr != nil {
				break
			}
			if why := v.Impossible(); why != "" {
				kinds[k].impossible++
				if kinds[k].example == "" {
					kinds[k].example = why
				}
			}
		}
	}
	sySteps, smSteps := syw.Steps(), smw.Steps()
	syw.Stop()
	if _, err := smw.Stop(); err != nil {
		return err
	}
	if cerr != nil {
		return cerr
	}

	fmt.Printf("%d writers on each map, moving a key each beside %d keys that never change;\n",
		writers, keys)
	fmt.Printf("each map copied whole %d times while they ran (%d writer steps on the sync.Map, %d on snapmap):\n",
		copies, sySteps, smSteps)
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
