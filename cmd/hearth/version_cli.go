package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// versionInfo is what `hearth version` prints, from the build information
// Go writes into the binary.
type versionInfo struct {
	Version    string `json:"version"`               // the module's version, "(devel)" for a build from a checkout
	Commit     string `json:"commit,omitempty"`      // vcs.revision
	CommitTime string `json:"commit_time,omitempty"` // vcs.time
	Modified   bool   `json:"modified,omitempty"`    // vcs.modified: built from a tree with changes not committed
	Go         string `json:"go"`
	Wazero     string `json:"wazero"`
	Platform   string `json:"platform"`
}

const wazeroModule = "github.com/tetratelabs/wazero"

// readVersion reads the build information of this binary.
func readVersion() versionInfo {
	v := versionInfo{Version: "unknown", Go: runtime.Version(), Wazero: "unknown", Platform: runtime.GOOS + "/" + runtime.GOARCH}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	if bi.Main.Version != "" {
		v.Version = bi.Main.Version
	}
	if bi.GoVersion != "" {
		v.Go = bi.GoVersion
	}
	for _, d := range bi.Deps {
		if d.Path == wazeroModule {
			v.Wazero = d.Version
			if d.Replace != nil {
				v.Wazero = d.Replace.Version + " (replaced by " + d.Replace.Path + ")"
			}
		}
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.time":
			v.CommitTime = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

func newVersionCmd(a *app) *cobra.Command {
	var of outputFlags
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version of hearth, its commit, and the Go and wazero versions",
		Long: `Print the version of this hearth binary: its module version, the commit it was
built from (when the build recorded it: go build -buildvcs=true in a git
checkout), and the versions of Go and wazero it was built with.`,
		Example: `  hearth version
  hearth version -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := of.validate(); err != nil {
				return err
			}
			v := readVersion()
			return of.print(a.stdout, v, func(w io.Writer) error {
				commit := v.Commit
				switch {
				case commit == "":
					commit = "unknown (built without VCS information; build with -buildvcs=true in a checkout)"
				case v.Modified:
					commit += " (with changes not committed)"
				}
				tw := newTable(w)
				fmt.Fprintf(tw, "hearth\t%s\n", v.Version)
				fmt.Fprintf(tw, "commit\t%s\n", commit)
				if v.CommitTime != "" {
					fmt.Fprintf(tw, "commit time\t%s\n", v.CommitTime)
				}
				fmt.Fprintf(tw, "go\t%s\n", v.Go)
				fmt.Fprintf(tw, "wazero\t%s\n", v.Wazero)
				fmt.Fprintf(tw, "platform\t%s\n", v.Platform)
				return tw.Flush()
			})
		},
	}
	of.register(cmd)
	return cmd
}
