package records

import "log/slog"

// OpenOption tunes OpenStore and OpenOutputs.
type OpenOption func(*openOptions)

type openOptions struct{ log *slog.Logger }

// WithLog logs the retries of opening a bucket on log (default
// slog.Default()).
func WithLog(log *slog.Logger) OpenOption { return func(o *openOptions) { o.log = log } }

func applyOpenOptions(opts []OpenOption) openOptions {
	o := openOptions{log: slog.Default()}
	for _, f := range opts {
		f(&o)
	}
	if o.log == nil {
		o.log = slog.Default()
	}
	return o
}
