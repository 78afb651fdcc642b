package server

import (
	"syscall"
	"unsafe"
)

// removeOwnedBy removes every entry under root owned by uid: each folder of
// uid's goes with everything in it; root itself stays.
//
// It works from open folders, one name at a time, so that neither a path
// longer than the kernel takes (a tree thousands of folders deep) nor a mode
// uid gave its own folders (000, 0100) keeps a tree from it; and it holds two
// folders open at most however deep a tree goes, climbing back through "..".
//
// A folder of uid's that holds another uid's folder (a request made it open to
// all, and another request put a folder of its own in it) cannot be emptied:
// it is left open to all, sticky, so that the other uid's reaper can still
// reach its own entries and remove them, and a later reaper of uid removes the
// folder once it is empty. Other uids' folders that can be entered are
// searched for uid's entries.
func removeOwnedBy(root string, uid int) {
	top, err := openFolderAt(_AT_FDCWD, root)
	if err != nil {
		return
	}
	defer syscall.Close(top)
	var rootStat syscall.Stat_t
	if syscall.Fstat(top, &rootStat) != nil {
		return
	}
	// Folders not to go down into again: another uid's once searched, and
	// uid's that could not be removed.
	done := map[fileID]bool{}
	cur, depth := top, 0
	closeCur := func() {
		if cur != top {
			syscall.Close(cur)
		}
	}
	defer closeCur()
	var here syscall.Stat_t
	for steps := 0; steps < 1<<24; steps++ {
		if syscall.Fstat(cur, &here) != nil {
			return
		}
		own := depth > 0 && int(here.Uid) == uid
		if child, ok := enterNextFolder(cur, uid, own, rootStat.Dev, done); ok {
			closeCur()
			cur, depth = child, depth+1
			continue
		}
		// Nothing left to go down into: this folder is as empty as uid can make it.
		if depth == 0 {
			return
		}
		up, err := openFolderAt(cur, "..")
		if err != nil {
			return
		}
		id := fileID{here.Dev, here.Ino}
		closeCur()
		cur, depth = up, depth-1
		if depth == 0 {
			// Back at root, unless a folder was moved meanwhile: then stop.
			var st syscall.Stat_t
			if syscall.Fstat(cur, &st) != nil || st.Dev != rootStat.Dev || st.Ino != rootStat.Ino {
				return
			}
		}
		name := nameOf(cur, id)
		if name == "" {
			done[id] = true
			continue
		}
		var parent syscall.Stat_t
		parentOwn := depth > 0 && syscall.Fstat(cur, &parent) == nil && int(parent.Uid) == uid
		removeFolder(cur, name, id, parentOwn, own, done)
	}
}

// removeFolder removes the emptied folder name (id) from the folder dir: uid's
// folder goes, as does an empty one of another uid's in a folder of uid's
// (parentOwn). One that cannot go is done; if it is uid's, another uid's
// folder is inside, and it is left open to all, sticky, for that uid's reaper
// to reach.
func removeFolder(dir int, name string, id fileID, parentOwn, own bool, done map[fileID]bool) {
	if (own || parentOwn) && unlinkAt(dir, name, _AT_REMOVEDIR) == nil {
		return
	}
	if own {
		syscall.Fchmodat(dir, name, 0o777|syscall.S_ISVTX, 0)
	}
	done[id] = true
}

// clearEntry removes the entry e of the folder dir if it is not a folder and
// is uid's (or any, in a folder of uid's: as its owner uid may), and says
// whether it is a folder, with its stat in st then.
func clearEntry(dir int, e dirent, uid int, own bool, st *syscall.Stat_t) bool {
	if own && e.typ != _DT_DIR && e.typ != _DT_UNKNOWN {
		unlinkAt(dir, e.name(), 0) // no stat needed: whoever's it is
		return false
	}
	name := e.name()
	if lstatAt(dir, name, st) != nil {
		return false
	}
	if st.Mode&syscall.S_IFMT == syscall.S_IFDIR {
		return true
	}
	if own || int(st.Uid) == uid {
		unlinkAt(dir, name, 0)
	}
	return false
}

// fileID names a file on its file system.
type fileID struct {
	dev, ino uint64
}

// dirent is an entry as getdents64 gives it. Its name stays bytes in the
// read buffer until asked for: a folder read again and again (after each of
// its folders is done) then allocates nothing for the entries it skips.
type dirent struct {
	ino uint64
	typ uint8
	raw []byte
}

func (e dirent) name() string { return string(e.raw) }

// The buffers folders are read into, one for the folder the remover is in and
// one for a folder in it: the reaper reads thousands of folders and runs in
// the container's own memory.
var direntBuffers [2][16 << 10]byte

const (
	_DT_UNKNOWN = 0
	_DT_DIR     = 4
)

// readDirents reads the folder dir from its start, a batch of entries at a
// time, until each returns false or the folder ends. Entries carry their
// inode and type, so that folders already done cost no system call.
func readDirents(dir int, buf []byte, each func(dirent) bool) {
	if _, err := syscall.Seek(dir, 0, 0); err != nil {
		return
	}
	for {
		n, err := syscall.Getdents(dir, buf)
		if err != nil || n <= 0 {
			return
		}
		for off := 0; off+19 <= n; {
			reclen := int(*(*uint16)(unsafe.Pointer(&buf[off+16])))
			if reclen == 0 || off+reclen > n {
				return
			}
			name := buf[off+19 : off+reclen]
			for i, c := range name {
				if c == 0 {
					name = name[:i]
					break
				}
			}
			e := dirent{*(*uint64)(unsafe.Pointer(&buf[off])), buf[off+18], name}
			off += reclen
			if string(name) == "." || string(name) == ".." {
				continue
			}
			if !each(e) {
				return
			}
		}
	}
}

const (
	_AT_FDCWD     = -0x64
	_AT_REMOVEDIR = 0x200
	_O_PATH       = 0x200000
)

// lstatAt is fstatat(dir, name, AT_SYMLINK_NOFOLLOW), which Go's syscall
// package exports on some architectures only.
func lstatAt(dir int, name string, st *syscall.Stat_t) error {
	fd, err := syscall.Openat(dir, name, _O_PATH|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	return syscall.Fstat(fd, st)
}

// openFolderAt opens name in the folder dir (never through a symbolic link).
func openFolderAt(dir int, name string) (int, error) {
	return syscall.Openat(dir, name, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
}

func unlinkAt(dir int, name string, flags int) error {
	p, err := syscall.BytePtrFromString(name)
	if err != nil {
		return err
	}
	if _, _, errno := syscall.Syscall(syscall.SYS_UNLINKAT, uintptr(dir), uintptr(unsafe.Pointer(p)), uintptr(flags)); errno != 0 {
		return errno
	}
	return nil
}

// enterNextFolder removes from the folder dir every entry that is not a
// folder and is uid's (or any, in a folder of uid's: as its owner uid may),
// and opens the first folder in it still to go down into, if any: uid's own
// made searchable first, since a request may have locked itself out (mode
// 000). A folder it cannot open is done. A folder in it that holds no folder
// still to go into is emptied and removed (or done) on the way, without going
// down into it and reading dir again from its start: a request may leave
// thousands of folders side by side.
func enterNextFolder(dir, uid int, own bool, dev uint64, done map[fileID]bool) (int, bool) {
	child := -1
	readDirents(dir, direntBuffers[0][:], func(e dirent) bool {
		if e.typ == _DT_DIR && done[fileID{dev, e.ino}] {
			return true
		}
		var st syscall.Stat_t
		if !clearEntry(dir, e, uid, own, &st) {
			return true
		}
		name := e.name()
		id := fileID{st.Dev, st.Ino}
		if st.Dev != dev || done[id] {
			return true
		}
		if own || int(st.Uid) == uid {
			syscall.Fchmodat(dir, name, 0o700, 0)
		}
		fd, err := openFolderAt(dir, name)
		if err != nil {
			done[id] = true // not ours to enter
			return true
		}
		childOwn := int(st.Uid) == uid
		if !clearLeaf(fd, uid, childOwn, dev, done) {
			child = fd
			return false
		}
		syscall.Close(fd)
		removeFolder(dir, name, id, own, childOwn, done)
		return true
	})
	return child, child >= 0
}

// clearLeaf removes from the folder dir every entry that is not a folder and
// is uid's (or any, if the folder is uid's), and says whether it holds no
// folder still to go into (none, or only done ones).
func clearLeaf(dir, uid int, own bool, dev uint64, done map[fileID]bool) bool {
	leaf := true
	readDirents(dir, direntBuffers[1][:], func(e dirent) bool {
		if e.typ == _DT_DIR && done[fileID{dev, e.ino}] {
			return true
		}
		var st syscall.Stat_t
		if clearEntry(dir, e, uid, own, &st) && !done[fileID{st.Dev, st.Ino}] {
			leaf = false
			return false
		}
		return true
	})
	return leaf
}

// nameOf finds the name of the folder id in the folder dir ("" if none).
func nameOf(dir int, id fileID) string {
	found := ""
	readDirents(dir, direntBuffers[0][:], func(e dirent) bool {
		var st syscall.Stat_t
		if e.ino == id.ino && lstatAt(dir, e.name(), &st) == nil && st.Dev == id.dev && st.Ino == id.ino {
			found = e.name()
			return false
		}
		return true
	})
	return found
}
