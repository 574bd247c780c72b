// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT

package snapmap

import (
	"syscall"
	"unsafe"
)

// DevicePath is the snapmap control device.
const DevicePath = "/dev/snapmap"

// Control is the control device, /dev/snapmap, open: it makes and opens
// maps.  The package's functions [Create], [Open], [List] and
// [GetAPI] open it for the one call; a program that makes many maps opens
// it once with [OpenControl].  A Control may be used by several
// goroutines at once.
type Control struct {
	fd fd
}

// OpenControl opens the control device.  It fails with ENOENT when the
// module is not loaded.
func OpenControl() (*Control, error) {
	n, err := syscall.Open(DevicePath, syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, wrap("open "+DevicePath, err)
	}
	return &Control{fd: newFD(n, DevicePath)}, nil
}

// Close closes the control device.  Maps made or opened with it stay
// open.
func (c *Control) Close() error {
	return wrap("close", c.fd.close())
}

// withControl runs f on a control device of its own.
func withControl(f func(c *Control) error) error {
	c, err := OpenControl()
	if err != nil {
		return err
	}
	defer c.Close()
	return f(c)
}

// API is what the loaded module offers: the answer of the handshake.
type API struct {
	// ABIVersion is the module's SNAPMAP_ABI_VERSION.
	ABIVersion uint32
	// Features are the SNAPMAP_FEATURE_* bits the module supports.
	Features Features
	// Ioctls has bit 1<<cmd set for every Command the module implements.
	Ioctls uint64
}

// Has tells whether the module implements cmd.
func (a API) Has(cmd Command) bool {
	return cmd < 64 && a.Ioctls&(1<<cmd) != 0
}

// API asks the module for its ABI version, features and commands, in the
// manner of userfaultfd's UFFDIO_API.
func (c *Control) API() (API, error) {
	arg := apiArg{size: uint32(unsafe.Sizeof(apiArg{}))}
	if err := c.fd.ioctl(iocAPI, unsafe.Pointer(&arg)); err != nil {
		return API{}, wrap("api", err)
	}
	return API{
		ABIVersion: arg.outABIVersion,
		Features:   Features(arg.outFeatures),
		Ioctls:     arg.outIoctls,
	}, nil
}

// GetAPI is [Control.API] on a control device opened for the call.
func GetAPI() (API, error) {
	var a API
	err := withControl(func(c *Control) (err error) {
		a, err = c.API()
		return err
	})
	return a, err
}

// CreateOptions are the limits, mode and name of a new map.  The zero
// value makes an unnamed map with the module's default limits, mode 0600.
type CreateOptions struct {
	// MaxKeyLen is the longest key, in bytes; 0 for the module's default.
	MaxKeyLen uint32
	// MaxValueLen is the longest value, in bytes; 0 for the default.
	MaxValueLen uint32
	// MaxEntries is the most keys the map holds; 0 for the default.
	MaxEntries uint64
	// MaxBytes is the most memory the entries use, counting the module's
	// per-entry overhead (and the old versions snapshots pin); 0 for the
	// default.
	MaxBytes uint64
	// Mode holds the permission bits (0777 at most) that Open checks
	// against the creator's uid and gid; 0 means 0600.
	Mode uint32
	// Name names the map, so that other programs can Open it: 1 to
	// NameLen-1 bytes of [A-Za-z0-9._-], unique among live maps.  Empty
	// for an unnamed map.
	Name string
}

// setName copies name into an ABI name member: EINVAL if it does not fit
// with its NUL (cutting it would name another map) or holds a NUL.  The
// module checks the characters.
func setName(dst *[NameLen]byte, name string) error {
	if len(name) >= NameLen {
		return syscall.EINVAL
	}
	for i := 0; i < len(name); i++ {
		if name[i] == 0 {
			return syscall.EINVAL
		}
	}
	copy(dst[:], name)
	return nil
}

// cString is the NUL-terminated string at the start of b.
func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// Create makes a map, and returns it opened for reading and writing.  The
// map lives as long as something holds it: close every Map of it (and
// every Snapshot) and it is gone, named or not.  Errors: EINVAL for a bad
// limit, mode or name, EEXIST for a name taken, EDQUOT when the user owns
// as many maps as the module allows, ENOMEM.
func (c *Control) Create(opts *CreateOptions) (*Map, error) {
	if opts == nil {
		opts = &CreateOptions{}
	}
	arg := createArg{
		size:        uint32(unsafe.Sizeof(createArg{})),
		maxKeyLen:   opts.MaxKeyLen,
		maxValueLen: opts.MaxValueLen,
		maxEntries:  opts.MaxEntries,
		maxBytes:    opts.MaxBytes,
		mode:        opts.Mode,
	}
	if err := setName(&arg.name, opts.Name); err != nil {
		return nil, wrap("create", err)
	}
	n, err := c.fd.ioctlFD(iocCreate, unsafe.Pointer(&arg))
	if err != nil {
		return nil, wrap("create", err)
	}
	return newMap(n, false), nil
}

// Create is [Control.Create] on a control device opened for the call.
func Create(opts *CreateOptions) (*Map, error) {
	var m *Map
	err := withControl(func(c *Control) (err error) {
		m, err = c.Create(opts)
		return err
	})
	return m, err
}

// Open opens the named map.  Its mode is checked as a file's: owner bits
// for its owner, group bits for its group, other bits otherwise;
// CAP_SYS_ADMIN overrides.  With [OpenReadOnly] the read bit is enough,
// without it read and write are needed.  Errors: ENOENT when no map has
// that name, EACCES, EINVAL for a bad name or flag.
func (c *Control) Open(name string, flags OpenFlag) (*Map, error) {
	arg := openArg{
		size:  uint32(unsafe.Sizeof(openArg{})),
		flags: uint32(flags),
	}
	if err := setName(&arg.name, name); err != nil {
		return nil, wrap("open "+name, err)
	}
	n, err := c.fd.ioctlFD(iocOpen, unsafe.Pointer(&arg))
	if err != nil {
		return nil, wrap("open "+name, err)
	}
	return newMap(n, flags&OpenReadOnly != 0), nil
}

// Open is [Control.Open] on a control device opened for the call.
func Open(name string, flags OpenFlag) (*Map, error) {
	var m *Map
	err := withControl(func(c *Control) (err error) {
		m, err = c.Open(name, flags)
		return err
	})
	return m, err
}

// MapDesc describes a named map as [Control.List] lists it: what a
// directory listing would show.
type MapDesc struct {
	UID  uint32 // owner's uid
	GID  uint32 // owner's gid
	Mode uint32 // permission bits
	Name string // the map's name
}

// List returns every named map, whoever owns it, in no particular order.
// Maps made or freed meanwhile may or may not be listed.
func (c *Control) List() ([]MapDesc, error) {
	const descSize = uint32(unsafe.Sizeof(mapDesc{}))
	// Ask how many, make room for a few more, and ask again while more
	// appeared than there was room for.
	var descs []mapDesc
	for {
		arg := listArg{
			size:     uint32(unsafe.Sizeof(listArg{})),
			count:    uint32(len(descs)),
			descSize: descSize,
		}
		if len(descs) > 0 {
			arg.descs = ptr{p: unsafe.Pointer(&descs[0])}
		}
		if err := c.fd.ioctl(iocList, unsafe.Pointer(&arg)); err != nil {
			return nil, wrap("list", err)
		}
		if int(arg.outCount) <= len(descs) {
			descs = descs[:arg.outCount]
			break
		}
		descs = make([]mapDesc, arg.outCount+arg.outCount/4+4)
	}
	out := make([]MapDesc, len(descs))
	for i, d := range descs {
		out[i] = MapDesc{UID: d.uid, GID: d.gid, Mode: d.mode,
			Name: cString(d.name[:])}
	}
	return out, nil
}

// List is [Control.List] on a control device opened for the call.
func List() ([]MapDesc, error) {
	var l []MapDesc
	err := withControl(func(c *Control) (err error) {
		l, err = c.List()
		return err
	})
	return l, err
}
