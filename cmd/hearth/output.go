package main

import (
	"bytes"
	"encoding/json"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
)

// outputFlags are -o/--output of the listing and show commands, and the
// older --json, which is -o json.
type outputFlags struct {
	format string
	json   bool
}

func (o *outputFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVarP(&o.format, "output", "o", "table", "output format: table, json or yaml")
	fs.BoolVar(&o.json, "json", false, "print JSON (the same as -o json)")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]cobra.Completion{"table", "json", "yaml"}, cobra.ShellCompDirectiveNoFileComp))
}

// validate checks the format before anything is asked of the gateway.
func (o *outputFlags) validate() error {
	if o.json {
		if o.format != "table" && o.format != "json" {
			return usagef("--json and -o %s: give one output format", o.format)
		}
		o.format = "json"
	}
	switch o.format {
	case "table", "json", "yaml":
		return nil
	}
	return usagef("-o %q: use table, json or yaml", o.format)
}

// machine reports whether the output is for a program (json or yaml).
func (o *outputFlags) machine() bool { return o.format == "json" || o.format == "yaml" }

// print writes v as JSON or YAML, or calls table for the table.
func (o *outputFlags) print(w io.Writer, v any, table func(io.Writer) error) error {
	switch o.format {
	case "json":
		return printJSON(w, v)
	case "yaml":
		return printYAML(w, v)
	}
	return table(w)
}

// printJSON prints v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printYAML prints v as YAML with the names and the order of its JSON
// (the API's own field names), by way of its JSON encoding.
func printYAML(w io.Writer, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return err
	}
	blockStyle(&doc)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// blockStyle clears the flow and quoting styles JSON's syntax gave the
// nodes, so that the encoder writes block YAML and quotes only where
// YAML needs it.
func blockStyle(n *yaml.Node) {
	if n.Kind != yaml.MappingNode && n.Kind != yaml.SequenceNode || len(n.Content) > 0 {
		n.Style = 0
	}
	for _, c := range n.Content {
		blockStyle(c)
	}
}

// newTable is the tab-aligned writer every table uses.
func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }
