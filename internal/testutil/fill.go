package testutil

import (
	"reflect"
	"strconv"
	"testing"
	"time"
)

// Fill sets every field reachable from v to a value derived from s and n,
// so that a test comparing a hand-written encoder with encoding/json
// notices a field the encoder misses. It fails the test on a kind it has
// no rule for.
func Fill(t testing.TB, v reflect.Value, s string, n int) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(s + v.Type().Name())
	case reflect.Int:
		v.SetInt(int64(n))
	case reflect.Float64:
		v.SetFloat(float64(n) / 7)
	case reflect.Bool:
		v.SetBool(n%2 == 1)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		Fill(t, v.Elem(), s, n+1)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.Date(2026, 11, 23, 13, 0, n, n*1001, time.UTC)))
			return
		}
		for i := range v.NumField() {
			Fill(t, v.Field(i), s, n+i)
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for i := range 2 {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			Fill(t, k, s+strconv.Itoa(i), n+i)
			Fill(t, e, s, n+i)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Slice:
		sl := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			Fill(t, sl.Index(i), s+strconv.Itoa(i), n+i)
		}
		v.Set(sl)
	default:
		t.Fatalf("testutil.Fill: no rule for %s; teach it, and the encoder under test the new field", v.Type())
	}
}
