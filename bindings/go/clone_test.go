// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

package snapmap_test

import (
	"syscall"
	"testing"

	"snapmap.dev/snapmap"
)

// A clone holds what an ATOMIC snapshot of its source holds, versions
// included, has its limits, and goes its own way.
func TestClone(t *testing.T) {
	m := newMap(t, &snapmap.CreateOptions{MaxKeyLen: 20, MaxValueLen: 30, MaxEntries: 500})
	model := fill(t, m, 200)
	name := uniqueName("clone")
	c, version, err := m.Clone(&snapmap.CloneOptions{Name: name, Mode: 0644})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if version <= model[len(model)-1].version {
		t.Errorf("clone version %d, want above the last write's %d",
			version, model[len(model)-1].version)
	}
	sameEntries(t, "the clone", snapshotOf(t, c), model, false)
	info, err := c.Info()
	if err != nil {
		t.Fatal(err)
	}
	if info.MaxKeyLen != 20 || info.MaxValueLen != 30 || info.MaxEntries != 500 ||
		info.Name != name || info.Mode != 0644 {
		t.Errorf("the clone's Info: %+v", info)
	}
	v, err := c.Put([]byte("key-0000"), []byte("in the clone"))
	if err != nil || v <= version {
		t.Errorf("a write to the clone: v%d %v, want above %d", v, err, version)
	}
	if val, _, _ := m.Get([]byte("key-0000")); string(val) != "value-0" {
		t.Errorf("a write to the clone changed the source: %q", val)
	}
	// The clone is found by its name; the name is taken.
	byName, err := snapmap.Open(name, snapmap.OpenReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	byName.Close()
	_, _, err = m.Clone(&snapmap.CloneOptions{Name: name})
	wantErrno(t, syscall.EEXIST, err, "Clone under a name taken")
	_, _, err = m.Clone(&snapmap.CloneOptions{Mode: 02000})
	wantErrno(t, syscall.EINVAL, err, "Clone with a bad mode")
}
