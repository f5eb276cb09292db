package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/hearthfn/hearth/registry"
	"github.com/hearthfn/hearth/sdk/client"
)

// manifest is a hearth.yaml: the functions `hearth up` deploys together.
//
//	version: 1                 # optional; the format's version
//	namespace: shop            # optional; the default of its functions
//	functions:
//	  - name: hello
//	    module: functions/hello/hello.wasm   # relative to this file
//	    memory_mb: 64
//	    env: {GREETING: hi}
//	    build:                              # optional: how hearth build makes the module
//	      command: clang --target=wasm32-wasi -o hello.wasm hello.c   # run by sh in this file's folder
//	      requires: [clang, wasi-libc]      # checked first (internal/fnbuild's tools)
//	      watch: ["*.c", "*.h"]             # optional: what up --watch rebuilds on
//	    triggers:
//	      - {type: cron, schedule: "*/5 * * * *"}
//
// Each function takes every field of a spec (docs/registry.md), named as
// in the API's JSON.
type manifest struct {
	Version   int                `yaml:"version"`
	Namespace string             `yaml:"namespace"`
	Functions []manifestFunction `yaml:"functions"`

	path string // as given, for messages
	dir  string // the folder relative paths start from, and builds run in
}

// manifestFunction is one function of a manifest.
type manifestFunction struct {
	// Module is the path of the .wasm file; a relative one is resolved
	// against the manifest's directory, wherever hearth runs.
	Module      string     `yaml:"module"`
	Build       *buildSpec `yaml:"build"`
	client.Spec `yaml:",inline"`

	line int // where the entry starts in the file
}

// buildSpec is how hearth build makes a function's module: a command run
// by sh in the manifest's folder, the tools it needs and the files whose
// change makes up --watch run it again. `build: COMMAND` is short for
// `build: {command: COMMAND}`.
type buildSpec struct {
	Command  string   `yaml:"command"`
	Requires []string `yaml:"requires"`
	Watch    []string `yaml:"watch"`
}

// UnmarshalYAML reads the short and the long form, strictly: an unknown
// field of the long form is an error, as everywhere in the manifest.
func (b *buildSpec) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		b.Command = n.Value
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: build is a command, or a mapping with command, requires and watch", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch k := n.Content[i]; k.Value {
		case "command", "requires", "watch":
		default:
			return fmt.Errorf("line %d: unknown field %s of build (it has command, requires and watch)", k.Line, k.Value)
		}
	}
	type plain buildSpec
	return n.Decode((*plain)(b))
}

// manifestVersion is the format version this hearth reads.
const manifestVersion = 1

// readManifest parses a manifest strictly: unknown fields, values of the
// wrong type, a missing name or module, duplicates and out-of-range spec
// values are errors that name the file and line. path names the file in
// messages; dir is the directory relative module paths start from.
func readManifest(data []byte, path, dir string) (*manifest, error) {
	m := &manifest{path: path, dir: dir}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(m); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s is empty; list the functions to deploy under functions:", path)
		}
		return nil, m.yamlError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s has more than one YAML document; put every function under one functions: list", path)
	}
	// Lines of the function entries, for the messages below.
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err == nil && len(doc.Content) == 1 {
		root := doc.Content[0]
		for i := 0; i+1 < len(root.Content); i += 2 {
			if root.Content[i].Value == "functions" {
				for j, item := range root.Content[i+1].Content {
					if j < len(m.Functions) {
						m.Functions[j].line = item.Line
					}
				}
			}
		}
	}

	if m.Version != 0 && m.Version != manifestVersion {
		return nil, fmt.Errorf("%s: version %d is not one this hearth reads; use version: %d", path, m.Version, manifestVersion)
	}
	if m.Namespace != "" {
		if err := registry.ValidateName("namespace", m.Namespace); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	if len(m.Functions) == 0 {
		return nil, fmt.Errorf("%s lists no functions; add them under functions:, each with a name and a module", path)
	}
	seen := make(map[string]int)
	for i := range m.Functions {
		f := &m.Functions[i]
		at := fmt.Sprintf("%s:%d", path, f.line)
		if f.Name == "" {
			return nil, fmt.Errorf("%s: function %d has no name", at, i+1)
		}
		if f.Module == "" {
			return nil, fmt.Errorf("%s: function %s has no module; give the path of its .wasm file", at, f.Name)
		}
		if f.Build != nil && strings.TrimSpace(f.Build.Command) == "" {
			return nil, fmt.Errorf("%s: function %s: build has no command; give the command that writes %s", at, f.Name, f.Module)
		}
		if err := checkSpec(f.Spec); err != nil {
			return nil, fmt.Errorf("%s: function %s: %w", at, f.Name, err)
		}
		k := m.namespaceOf(*f) + "/" + f.Name
		if line, dup := seen[k]; dup {
			return nil, fmt.Errorf("%s: function %s is listed twice (first at line %d)", at, f.Name, line)
		}
		seen[k] = f.line
		if !filepath.IsAbs(f.Module) {
			f.Module = filepath.Join(dir, filepath.FromSlash(f.Module))
		}
	}
	return m, nil
}

// namespaceOf is the namespace a function of the manifest goes to: its
// own, else the manifest's; "" leaves it to --namespace.
func (m *manifest) namespaceOf(f manifestFunction) string {
	if f.Namespace != "" {
		return f.Namespace
	}
	return m.Namespace
}

// checkSpec validates a spec with the registry's own rules, so that `hearth
// up` finds mistakes before it deploys anything.
func checkSpec(s client.Spec) error {
	raw, err := json.Marshal(s)
	if err != nil {
		return err
	}
	spec, err := registry.DecodeSpec(raw)
	if err != nil {
		return err
	}
	return spec.Validate()
}

var (
	yamlLine      = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	yamlNotFound  = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
	yamlWrongType = regexp.MustCompile(`^cannot unmarshal (.*) into \S+$`)
)

// yamlError turns yaml's errors into file:line: messages.
func (m *manifest) yamlError(err error) error {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	for i, msg := range msgs {
		sub := yamlLine.FindStringSubmatch(msg)
		if sub == nil {
			msgs[i] = m.path + ": " + strings.TrimPrefix(msg, "yaml: ")
			continue
		}
		text := sub[2]
		if f := yamlNotFound.FindStringSubmatch(text); f != nil {
			text = "unknown field " + f[1] + " (see docs/registry.md for the fields of a function)"
		} else if f := yamlWrongType.FindStringSubmatch(text); f != nil {
			text = "wrong type: cannot read " + f[1] + " here"
		}
		msgs[i] = m.path + ":" + sub[1] + ": " + text
	}
	return errors.New(strings.Join(msgs, "\n"))
}
