// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

package snapmap_test

import (
	"fmt"
	"syscall"
	"testing"

	"snapmap.dev/snapmap"
)

// Every operation of a batch runs and reports its own result.
func TestBatch(t *testing.T) {
	m := newMap(t, nil)
	v0, err := m.Put([]byte("present"), []byte("0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	insert := snapmap.PutOp([]byte("present"), []byte("x"))
	insert.Flags = uint32(snapmap.PutNoExist)
	cas := snapmap.PutOp([]byte("present"), []byte("swapped"))
	cas.Flags, cas.Version = uint32(snapmap.PutIfVersion), v0
	ops := []snapmap.BatchOp{
		snapmap.GetOp([]byte("present"), make([]byte, 64)), // 0: found
		snapmap.GetOp([]byte("present"), make([]byte, 4)),  // 1: ERANGE
		snapmap.GetOp([]byte("absent"), make([]byte, 64)),  // 2: ENOENT
		snapmap.PutOp([]byte("new"), []byte("fresh")),      // 3: ok
		insert,                          // 4: EEXIST
		snapmap.DelOp([]byte("absent")), // 5: ENOENT
		cas,                             // 6: ok
		snapmap.GetOp([]byte("present"), make([]byte, 64)), // 7: the swap
		snapmap.DelOp([]byte("new")),                       // 8: ok
		snapmap.PutOp(nil, []byte("empty key")),            // 9: EINVAL
	}
	done, err := m.Batch(ops, 0)
	if err != nil || done != len(ops) {
		t.Fatalf("Batch: %d done, %v", done, err)
	}
	wantErrs := []syscall.Errno{0, syscall.ERANGE, syscall.ENOENT, 0,
		syscall.EEXIST, syscall.ENOENT, 0, 0, 0, syscall.EINVAL}
	for i, op := range ops {
		if !op.Done {
			t.Errorf("op %d: not done", i)
		}
		if wantErrs[i] == 0 && op.Err != nil {
			t.Errorf("op %d: %v, want success", i, op.Err)
		}
		if wantErrs[i] != 0 {
			wantErrno(t, wantErrs[i], op.Err, fmt.Sprintf("op %d", i))
		}
	}
	if string(ops[0].Value) != "0123456789" || ops[0].OutVersion != v0 {
		t.Errorf("op 0 read %q v%d, want \"0123456789\" v%d", ops[0].Value, ops[0].OutVersion, v0)
	}
	if ops[1].ValueLen != 10 {
		t.Errorf("op 1 (ERANGE) reports a value of %d bytes, want 10", ops[1].ValueLen)
	}
	if string(ops[7].Value) != "swapped" || ops[7].OutVersion != ops[6].OutVersion {
		t.Errorf("op 7 read %q v%d, want what op 6 wrote, v%d", ops[7].Value,
			ops[7].OutVersion, ops[6].OutVersion)
	}
	if ops[8].OutVersion <= ops[6].OutVersion || ops[6].OutVersion <= ops[3].OutVersion {
		t.Errorf("the writes' versions are not in order: %d, %d, %d",
			ops[3].OutVersion, ops[6].OutVersion, ops[8].OutVersion)
	}
	if _, _, err := m.Get([]byte("new")); err == nil {
		t.Errorf("op 8 did not delete \"new\"")
	}
}

// With BatchStopOnError the batch stops at the first failure, which ran;
// the operations after it did not.
func TestBatchStopOnError(t *testing.T) {
	m := newMap(t, nil)
	ops := []snapmap.BatchOp{
		snapmap.PutOp([]byte("a"), []byte("1")),
		snapmap.DelOp([]byte("absent")),
		snapmap.PutOp([]byte("b"), []byte("2")),
	}
	done, err := m.Batch(ops, snapmap.BatchStopOnError)
	if err != nil || done != 2 {
		t.Fatalf("Batch: %d done, %v; want 2", done, err)
	}
	if !ops[0].Done || ops[0].Err != nil || !ops[1].Done || ops[2].Done {
		t.Errorf("ops: %+v", ops)
	}
	wantErrno(t, syscall.ENOENT, ops[1].Err, "op 1")
	if _, _, err := m.Get([]byte("b")); err == nil {
		t.Errorf("op 2 ran after the batch stopped")
	}
}

// Errors of the batch itself; a read-only map runs gets only.
func TestBatchErrors(t *testing.T) {
	name := uniqueName("batch")
	m := newMap(t, &snapmap.CreateOptions{Name: name})
	if done, err := m.Batch(nil, 0); done != 0 || err != nil {
		t.Errorf("an empty batch: %d, %v", done, err)
	}
	_, err := m.Batch([]snapmap.BatchOp{snapmap.DelOp([]byte("k"))}, 1<<5)
	wantErrno(t, syscall.EINVAL, err, "Batch with an unknown flag")
	_, err = m.Batch(make([]snapmap.BatchOp, snapmap.BatchMax+1), 0)
	wantErrno(t, syscall.EINVAL, err, "Batch of BatchMax+1 operations")
	bad := []snapmap.BatchOp{{Op: 9, Key: []byte("k")}}
	if _, err := m.Batch(bad, 0); err != nil {
		t.Fatal(err)
	}
	wantErrno(t, syscall.EINVAL, bad[0].Err, "an unknown opcode")

	if _, err := m.Put([]byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	ro, err := snapmap.Open(name, snapmap.OpenReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	ops := []snapmap.BatchOp{
		snapmap.GetOp([]byte("k"), make([]byte, 8)),
		snapmap.PutOp([]byte("k"), []byte("w")),
		snapmap.DelOp([]byte("k")),
	}
	if done, err := ro.Batch(ops, 0); done != 3 || err != nil {
		t.Fatalf("Batch on a read-only map: %d, %v", done, err)
	}
	if ops[0].Err != nil || string(ops[0].Value) != "v" {
		t.Errorf("a get on a read-only map: %q, %v", ops[0].Value, ops[0].Err)
	}
	wantErrno(t, syscall.EBADF, ops[1].Err, "a put on a read-only map")
	wantErrno(t, syscall.EBADF, ops[2].Err, "a delete on a read-only map")
}
