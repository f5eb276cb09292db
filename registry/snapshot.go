package registry

import "sort"

// Functions returns every function the registry's watcher knows, in all
// namespaces, ordered by namespace and name. Triggers are started from it.
func (r *Registry) Functions() []*Function {
	r.mu.RLock()
	fns := make([]*Function, 0, len(r.cache))
	for _, c := range r.cache {
		fns = append(fns, c.fn)
	}
	r.mu.RUnlock()
	sort.Slice(fns, func(i, j int) bool {
		if fns[i].Namespace != fns[j].Namespace {
			return fns[i].Namespace < fns[j].Namespace
		}
		return fns[i].Name < fns[j].Name
	})
	return fns
}
