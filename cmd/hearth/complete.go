package main

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// completeFunctions completes argument number pos with the names of the
// gateway's functions (asked with the flags typed so far, briefly: a
// gateway that does not answer completes nothing).
func completeFunctions(cf *clientFlags, pos int) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) != pos {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return functionNames(cmd.Context(), cf, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// completeFunctionThenFile completes deploy's NAME, then its FILE.wasm.
func completeFunctionThenFile(cf *clientFlags) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		switch len(args) {
		case 0:
			return functionNames(cmd.Context(), cf, toComplete), cobra.ShellCompDirectiveNoFileComp
		case 1:
			return []cobra.Completion{"wasm"}, cobra.ShellCompDirectiveFilterFileExt
		}
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
}

// functionNames are the names of the gateway's functions that start with
// prefix.
func functionNames(ctx context.Context, cf *clientFlags, prefix string) []cobra.Completion {
	if ctx == nil {
		ctx = context.Background()
	}
	cl, err := cf.client()
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	fns, err := cl.List(ctx)
	if err != nil {
		return nil
	}
	var names []cobra.Completion
	for _, f := range fns {
		if strings.HasPrefix(f.Name, prefix) {
			names = append(names, f.Name)
		}
	}
	return names
}
