// Package cliconfig reads and writes the hearth CLI's config file: named
// contexts, each a gateway, a namespace and an API key (or the file that
// holds one), and the context in use.
//
// The file is $XDG_CONFIG_HOME/hearth/config.yaml, or
// ~/.config/hearth/config.yaml when XDG_CONFIG_HOME is unset; HEARTH_CONFIG
// names another file. It holds keys, so it is written with mode 0600 in a
// directory of mode 0700, through a temporary file renamed over it.
//
//	current-context: prod
//	contexts:
//	  prod:
//	    gateway: https://hearth.example.com
//	    namespace: shop
//	    key: hk_…
//	  dev:
//	    gateway: http://127.0.0.1:8080
//	    key-file: .hearth/admin.key
package cliconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Config is the content of the config file.
type Config struct {
	// Current is the context a command uses when none is named.
	Current string `yaml:"current-context,omitempty"`
	// Contexts are the named contexts.
	Contexts map[string]*Context `yaml:"contexts,omitempty"`

	path string
}

// Context is where commands go and as whom: a gateway, a namespace and
// an API key, given inline (Key, what `hearth login` stores) or as the
// path of a file holding it (KeyFile, read at each use).
type Context struct {
	Gateway   string `yaml:"gateway,omitempty" json:"gateway,omitempty"`
	Namespace string `yaml:"namespace,omitempty" json:"namespace,omitempty"`
	Key       string `yaml:"key,omitempty" json:"-"`
	KeyFile   string `yaml:"key-file,omitempty" json:"key_file,omitempty"`
}

// APIKey is the context's key: Key, or the trimmed content of KeyFile.
func (c *Context) APIKey() (string, error) {
	if c.Key != "" || c.KeyFile == "" {
		return c.Key, nil
	}
	b, err := os.ReadFile(c.KeyFile)
	if err != nil {
		return "", fmt.Errorf("the key file of the context: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Path is the config file's path: $HEARTH_CONFIG, else
// $XDG_CONFIG_HOME/hearth/config.yaml, else ~/.config/hearth/config.yaml.
func Path() (string, error) {
	if p := os.Getenv("HEARTH_CONFIG"); p != "" {
		return p, nil
	}
	if dir := os.Getenv("XDG_CONFIG_HOME"); dir != "" && filepath.IsAbs(dir) {
		return filepath.Join(dir, "hearth", "config.yaml"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no config directory: set XDG_CONFIG_HOME or HOME (%w)", err)
	}
	return filepath.Join(home, ".config", "hearth", "config.yaml"), nil
}

// Load reads the config file at Path; a file that does not exist is an
// empty config (Save creates it).
func Load() (*Config, error) {
	path, err := Path()
	if err != nil {
		return nil, err
	}
	return LoadFile(path)
}

// LoadFile reads the config file at path; a missing file is an empty
// config. Unknown fields are errors, so that a typo does not silently
// lose a setting.
func LoadFile(path string) (*Config, error) {
	c := &Config{path: path}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the config file: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config file %s: %v (fix it, or remove it and run `hearth login` again)", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	for name, ctx := range c.Contexts {
		if ctx == nil {
			c.Contexts[name] = &Context{}
		}
	}
	if c.Current != "" && c.Contexts[c.Current] == nil {
		return nil, fmt.Errorf("config file %s: current-context %q is not among its contexts (%s)", path, c.Current, strings.Join(c.Names(), ", "))
	}
	return c, nil
}

// File is the path the config was read from and is saved to.
func (c *Config) File() string { return c.path }

// Names are the contexts' names, sorted.
func (c *Config) Names() []string { return slices.Sorted(maps.Keys(c.Contexts)) }

// Context returns the context name, or the current one when name is "";
// nil when there is none.
func (c *Config) Context(name string) *Context {
	if name == "" {
		name = c.Current
	}
	if name == "" {
		return nil
	}
	return c.Contexts[name]
}

// Set returns the context name, adding it when it is new.
func (c *Config) Set(name string) *Context {
	if c.Contexts == nil {
		c.Contexts = make(map[string]*Context)
	}
	ctx := c.Contexts[name]
	if ctx == nil {
		ctx = &Context{}
		c.Contexts[name] = ctx
	}
	return ctx
}

// Use makes name the current context.
func (c *Config) Use(name string) error {
	if c.Contexts[name] == nil {
		return &UnknownContextError{Name: name, Known: c.Names()}
	}
	c.Current = name
	return nil
}

// Remove deletes the context name; it is no longer current.
func (c *Config) Remove(name string) error {
	if c.Contexts[name] == nil {
		return &UnknownContextError{Name: name, Known: c.Names()}
	}
	delete(c.Contexts, name)
	if c.Current == name {
		c.Current = ""
	}
	return nil
}

// UnknownContextError is a context name the config does not have.
type UnknownContextError struct {
	Name  string
	Known []string
}

func (e *UnknownContextError) Error() string {
	if len(e.Known) == 0 {
		return fmt.Sprintf("no context %q: the config file has none; add one with `hearth context set %s --gateway URL` or `hearth login`", e.Name, e.Name)
	}
	return fmt.Sprintf("no context %q; the contexts are %s", e.Name, strings.Join(e.Known, ", "))
}

// Save writes the config to its file, mode 0600 in a directory of mode
// 0700, replacing the old file at once.
func (c *Config) Save() error {
	if c.path == "" {
		path, err := Path()
		if err != nil {
			return err
		}
		c.path = path
	}
	data, err := yaml.Marshal(c)
	if err != nil {
		return err
	}
	dir := filepath.Dir(c.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("save the config: %w", err)
	}
	f, err := os.CreateTemp(dir, ".config-*.yaml")
	if err != nil {
		return fmt.Errorf("save the config: %w", err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("save the config: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("save the config: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save the config: %w", err)
	}
	if err := os.Rename(f.Name(), c.path); err != nil {
		return fmt.Errorf("save the config: %w", err)
	}
	return nil
}
