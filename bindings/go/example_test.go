// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

package snapmap_test

import (
	"bytes"
	"errors"
	"fmt"
	"log"
	"sort"
	"sync"
	"syscall"

	"snapmap.dev/snapmap"
)

// Copy a map whole while writers keep changing it: the snapshot is the
// map at one instant, however long reading it takes.
func Example() {
	m, err := snapmap.Create(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	for _, k := range []string{"apple", "banana", "cherry"} {
		if _, err := m.Put([]byte(k), []byte("ripe")); err != nil {
			log.Fatal(err)
		}
	}

	snap, err := m.Snapshot(0)
	if err != nil {
		log.Fatal(err)
	}
	defer snap.Close()

	// Writers go on; the snapshot does not see them.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		m.Delete([]byte("banana"))
		m.Put([]byte("damson"), []byte("green"))
	}()
	wg.Wait()

	copied := map[string]string{}
	err = snap.Range(func(key, value []byte) bool {
		copied[string(key)] = string(value)
		return true
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(copied), copied["banana"], copied["damson"] == "")
	// Output: 3 ripe true
}

func ExampleMap_Get() {
	m, err := snapmap.Create(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	m.Put([]byte("greeting"), []byte("hello"))

	value, _, err := m.Get([]byte("greeting"))
	fmt.Printf("%s %v\n", value, err)
	_, _, err = m.Get([]byte("farewell"))
	fmt.Println(errors.Is(err, syscall.ENOENT))
	// Output:
	// hello <nil>
	// true
}

// An increment that no other writer can lose: read the value and its
// version, and write only if the version is still the same.
func ExampleMap_CompareAndSwap() {
	m, err := snapmap.Create(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	m.Put([]byte("hits"), []byte{0})

	increment := func() error {
		for {
			v, version, err := m.Get([]byte("hits"))
			if err != nil {
				return err
			}
			_, err = m.CompareAndSwap([]byte("hits"), []byte{v[0] + 1}, version)
			if !errors.Is(err, syscall.ECANCELED) {
				return err
			}
			// Another writer came first: read again.
		}
	}
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := increment(); err != nil {
				log.Fatal(err)
			}
		}()
	}
	wg.Wait()
	v, _, _ := m.Get([]byte("hits"))
	fmt.Println(v[0])
	// Output: 10
}

func ExampleMap_Batch() {
	m, err := snapmap.Create(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	ops := []snapmap.BatchOp{
		snapmap.PutOp([]byte("a"), []byte("1")),
		snapmap.PutOp([]byte("b"), []byte("2")),
		snapmap.DelOp([]byte("c")),
		snapmap.GetOp([]byte("a"), make([]byte, 16)),
	}
	if _, err := m.Batch(ops, 0); err != nil {
		log.Fatal(err)
	}
	for _, op := range ops {
		fmt.Printf("%s %q %v\n", op.Key, op.Value, op.Err)
	}
	// Output:
	// a "1" <nil>
	// b "2" <nil>
	// c "" no such file or directory
	// a "1" <nil>
}

func ExampleSnapshot_Iterate() {
	m, err := snapmap.Create(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	m.Put([]byte("x"), []byte("1"))
	m.Put([]byte("y"), []byte("2"))

	snap, err := m.Snapshot(0)
	if err != nil {
		log.Fatal(err)
	}
	defer snap.Close()
	var lines []string
	it := snap.Iterate()
	for it.Next() {
		lines = append(lines, fmt.Sprintf("%s=%s", it.Key(), it.Value()))
	}
	if err := it.Err(); err != nil {
		log.Fatal(err)
	}
	// Records come in no particular order.
	sort.Strings(lines)
	fmt.Println(lines)
	// Output: [x=1 y=2]
}

// A map named so that other programs, and snapmapctl, can open it.
func ExampleCreate() {
	m, err := snapmap.Create(&snapmap.CreateOptions{
		Name:        "example-sessions",
		Mode:        0640,
		MaxKeyLen:   64,
		MaxValueLen: 4096,
		MaxEntries:  100000,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	other, err := snapmap.Open("example-sessions", snapmap.OpenReadOnly)
	if err != nil {
		log.Fatal(err)
	}
	defer other.Close()
	info, err := other.Info()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s %#o %d\n", info.Name, info.Mode, info.MaxEntries)
	// Output: example-sessions 0640 100000
}

// Save a map in the format of snapmapctl save, and make a new map from
// the file.
func ExampleMap_Save() {
	m, err := snapmap.Create(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	m.Put([]byte("k"), []byte("v"))

	var file bytes.Buffer // or an *os.File
	if _, err := m.Save(&file); err != nil {
		log.Fatal(err)
	}
	saved, err := snapmap.ReadSaveFile(&file)
	if err != nil {
		log.Fatal(err)
	}
	restored, err := snapmap.Load(saved, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer restored.Close()
	v, _, err := restored.Get([]byte("k"))
	fmt.Printf("%d record, %s=%s %v\n", len(saved.Records), "k", v, err)
	// Output: 1 record, k=v <nil>
}
