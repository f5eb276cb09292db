package fnbuild

import (
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Snapshot is the modification time and size of each file watched, by
// path relative to the directory scanned.
type Snapshot map[string]FileState

// FileState is what a poll compares.
type FileState struct {
	ModTime time.Time
	Size    int64
}

// skipDirs are never watched: version control, dependencies, build output.
var skipDirs = []string{"node_modules", "target", "testdata"}

// Scan records the files under dir that a change of triggers a rebuild:
// those matching one of patterns (path.Match against the slash path
// relative to dir, or against the base name), all files when there are no
// patterns; never .wasm files (build output), files in hidden folders,
// node_modules or target, nor the paths in ignore.
func Scan(dir string, patterns, ignore []string) (Snapshot, error) {
	snap := Snapshot{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir {
				return err
			}
			return nil // a file removed during the walk
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if p != dir && (strings.HasPrefix(d.Name(), ".") || slices.Contains(skipDirs, d.Name())) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, ".wasm") || strings.HasPrefix(d.Name(), ".") || slices.Contains(ignore, p) || !Matches(rel, patterns) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		snap[rel] = FileState{ModTime: info.ModTime(), Size: info.Size()}
		return nil
	})
	return snap, err
}

// Matches reports whether rel, a slash path relative to the folder
// scanned, is one of the files patterns name: by path.Match against rel or
// its base name; no patterns name every file.
func Matches(rel string, patterns []string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if ok, _ := filepath.Match(p, rel); ok {
			return true
		}
		if ok, _ := filepath.Match(p, filepath.Base(rel)); ok {
			return true
		}
	}
	return false
}

// Changed are the files added, removed or modified from a to b, sorted.
func Changed(a, b Snapshot) []string {
	var out []string
	for p, s := range b {
		if old, ok := a[p]; !ok || !old.ModTime.Equal(s.ModTime) || old.Size != s.Size {
			out = append(out, p)
		}
	}
	for p := range a {
		if _, ok := b[p]; !ok {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}
