// Package transform is the jsontransform example's work, apart from the
// ABI so that it runs (and is tested) natively too.
package transform

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Options are the steps of a transform, applied in this order.
type Options struct {
	Pick   []string          // fields to keep, in this order; none keeps all
	Rename map[string]string // old name → new name
	Sort   string            // field to sort an array by; "-field" descending
	Limit  int               // the first N items of an array; 0 keeps all
	err    error
}

// ParseOptions reads the options from a query (pick, rename, sort, limit).
func ParseOptions(q url.Values) Options {
	var o Options
	if p := q.Get("pick"); p != "" {
		o.Pick = strings.Split(p, ",")
	}
	if r := q.Get("rename"); r != "" {
		o.Rename = map[string]string{}
		for _, pair := range strings.Split(r, ",") {
			old, name, ok := strings.Cut(pair, ":")
			if !ok || old == "" || name == "" {
				o.err = fmt.Errorf("rename=%s: give old:new pairs, comma-separated", r)
				break
			}
			o.Rename[old] = name
		}
	}
	o.Sort = q.Get("sort")
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 {
			o.err = fmt.Errorf("limit=%s: give a count, 0 or more", l)
		}
		o.Limit = n
	}
	return o
}

// field is one member of an object, in its document order.
type field struct {
	name  string
	value json.RawMessage
}

// Apply transforms doc, a JSON object or an array of objects.
func Apply(doc []byte, o Options) ([]byte, error) {
	if o.err != nil {
		return nil, o.err
	}
	doc = bytes.TrimSpace(doc)
	if len(doc) == 0 {
		return nil, errors.New("no input: send a JSON object or an array of objects")
	}
	if doc[0] == '{' {
		obj, err := parseObject(doc)
		if err != nil {
			return nil, err
		}
		if o.Sort != "" || o.Limit != 0 {
			return nil, errors.New("sort and limit need an array of objects")
		}
		return append(encode(o.shape(obj)), '\n'), nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(doc, &items); err != nil {
		return nil, fmt.Errorf("the input is not a JSON object or array: %v", err)
	}
	objs := make([][]field, len(items))
	for i, it := range items {
		obj, err := parseObject(it)
		if err != nil {
			return nil, fmt.Errorf("item %d: %v", i, err)
		}
		objs[i] = obj
	}
	if o.Sort != "" {
		key, desc := strings.CutPrefix(o.Sort, "-")
		slices.SortStableFunc(objs, func(a, b []field) int {
			c := compare(get(a, key), get(b, key))
			if desc {
				return -c
			}
			return c
		})
	}
	if o.Limit > 0 && o.Limit < len(objs) {
		objs = objs[:o.Limit]
	}
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i, obj := range objs {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(encode(o.shape(obj)))
	}
	buf.WriteString("]\n")
	return buf.Bytes(), nil
}

// shape picks and renames the fields of obj.
func (o Options) shape(obj []field) []field {
	if len(o.Pick) > 0 {
		picked := make([]field, 0, len(o.Pick))
		for _, name := range o.Pick {
			if v := get(obj, name); v != nil {
				picked = append(picked, field{name, v})
			}
		}
		obj = picked
	}
	for i := range obj {
		if n, ok := o.Rename[obj[i].name]; ok {
			obj[i].name = n
		}
	}
	return obj
}

func get(obj []field, name string) json.RawMessage {
	for _, f := range obj {
		if f.name == name {
			return f.value
		}
	}
	return nil
}

// compare orders two values: missing first, then numbers by value,
// strings by text, anything else by its JSON.
func compare(a, b json.RawMessage) int {
	if a == nil || b == nil {
		return cmp.Compare(len(a), len(b))
	}
	var x, y float64
	if json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil {
		return cmp.Compare(x, y)
	}
	var s, t string
	if json.Unmarshal(a, &s) == nil && json.Unmarshal(b, &t) == nil {
		return strings.Compare(s, t)
	}
	return bytes.Compare(a, b)
}

// parseObject reads a JSON object keeping its members' order.
func parseObject(raw []byte) ([]field, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, errors.New("want a JSON object")
	}
	var obj []field
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		obj = append(obj, field{tok.(string), v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return obj, nil
}

func encode(obj []field) []byte {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, f := range obj {
		if i > 0 {
			buf.WriteByte(',')
		}
		name, _ := json.Marshal(f.name)
		buf.Write(name)
		buf.WriteByte(':')
		var compact bytes.Buffer
		if json.Compact(&compact, f.value) == nil {
			buf.Write(compact.Bytes())
		} else {
			buf.Write(f.value)
		}
	}
	buf.WriteByte('}')
	return buf.Bytes()
}
