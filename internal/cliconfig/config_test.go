package cliconfig

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPath(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, c := range []struct {
		config, xdg, want string
	}{
		{"", "", filepath.Join(home, ".config", "hearth", "config.yaml")},
		{"", "/xdg", "/xdg/hearth/config.yaml"},
		{"", "relative", filepath.Join(home, ".config", "hearth", "config.yaml")}, // XDG paths must be absolute
		{"/etc/hearth.yaml", "/xdg", "/etc/hearth.yaml"},
	} {
		t.Setenv("HEARTH_CONFIG", c.config)
		t.Setenv("XDG_CONFIG_HOME", c.xdg)
		if got, err := Path(); err != nil || got != c.want {
			t.Errorf("HEARTH_CONFIG=%q XDG_CONFIG_HOME=%q: %q %v, want %q", c.config, c.xdg, got, err, c.want)
		}
	}
}

func TestSaveAndLoad(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hearth")
	path := filepath.Join(dir, "config.yaml")
	c, err := LoadFile(path)
	if err != nil || len(c.Contexts) != 0 || c.Context("") != nil {
		t.Fatalf("a missing file: %+v %v", c, err)
	}
	dev := c.Set("dev")
	dev.Gateway, dev.Key = "http://127.0.0.1:8080", "hk_secret"
	c.Set("prod").KeyFile = "/run/key"
	if err := c.Use("dev"); err != nil {
		t.Fatal(err)
	}
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	for p, mode := range map[string]os.FileMode{path: 0o600, dir: 0o700} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: %v %v, want mode %v", p, fi, err, mode)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	back, err := LoadFile(path)
	if err != nil || back.Current != "dev" || back.Context("").Key != "hk_secret" || back.Context("prod").KeyFile != "/run/key" {
		t.Fatalf("read back: %+v %v", back, err)
	}
	if got := strings.Join(back.Names(), ","); got != "dev,prod" {
		t.Errorf("names %s", got)
	}

	var unknown *UnknownContextError
	if err := back.Use("staging"); !errors.As(err, &unknown) || !strings.Contains(err.Error(), "the contexts are dev, prod") {
		t.Errorf("Use(staging): %v", err)
	}
	if err := back.Remove("dev"); err != nil || back.Current != "" {
		t.Errorf("Remove(dev): %v, current %q", err, back.Current)
	}
}

func TestLoadRefuses(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"typo":    "contexts:\n  dev:\n    gatway: x\n",
		"current": "current-context: gone\ncontexts:\n  dev: {}\n",
		"syntax":  "contexts: [\n",
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadFile(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v, want an error naming the file", name, err)
		}
	}
}

func TestAPIKey(t *testing.T) {
	file := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(file, []byte("  hk_from_file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ctx  Context
		want string
	}{
		{Context{Key: "hk_inline"}, "hk_inline"},
		{Context{Key: "hk_inline", KeyFile: file}, "hk_inline"},
		{Context{KeyFile: file}, "hk_from_file"},
		{Context{}, ""},
	} {
		if got, err := c.ctx.APIKey(); err != nil || got != c.want {
			t.Errorf("%+v: %q %v, want %q", c.ctx, got, err, c.want)
		}
	}
	if _, err := (&Context{KeyFile: file + "-missing"}).APIKey(); err == nil {
		t.Error("a missing key file gives no error")
	}
}
