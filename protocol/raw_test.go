package protocol

import (
	"slices"
	"testing"
)

func TestRawHelpers(t *testing.T) {
	if !ValidObject([]byte(` {"a":[1,{"b":null}]} `)) || ValidObject([]byte(`{"a":}`)) || ValidObject([]byte(`[1]`)) || ValidObject([]byte(`{} {}`)) {
		t.Error("ValidObject disagrees with the JSON grammar")
	}
	payload := []byte(`{"ids":[1],"x":{"ids":[9]},"ids":[1, "2", 3.0, "\u0034", true]}`)
	ids := ObjectField(payload, "ids")
	if string(ids) != `[1, "2", 3.0, "\u0034", true]` {
		t.Fatalf("ObjectField = %s", ids)
	}
	var elems []string
	if !ArrayElements(ids, func(e []byte) { elems = append(elems, string(e)) }) {
		t.Fatal("ArrayElements refused a valid array")
	}
	if want := []string{`1`, `"2"`, `3.0`, `"\u0034"`, `true`}; !slices.Equal(elems, want) {
		t.Fatalf("elements %q, want %q", elems, want)
	}
	if ArrayElements([]byte(`[1,`), func([]byte) { t.Error("called on invalid array") }) {
		t.Error("invalid array accepted")
	}
	if !ArrayElements([]byte(`[]`), func([]byte) { t.Error("called on empty array") }) {
		t.Error("empty array refused")
	}
	if ObjectField([]byte(`{"ids":[1]`), "ids") != nil || ObjectField([]byte(`{"a":1}`), "ids") != nil {
		t.Error("ObjectField returned a value for invalid input or a missing key")
	}
	if s, ok := UnquoteString([]byte(`"\u0034x"`)); !ok || s != "4x" {
		t.Errorf("UnquoteString = %q, %v", s, ok)
	}
	if _, ok := UnquoteString([]byte(`"a" `)); ok {
		t.Error("UnquoteString accepted trailing data")
	}
}

func FuzzRawHelpers(f *testing.F) {
	f.Add([]byte(`{"ids":[1,"2"]}`))
	f.Add([]byte(`[{"a":"\ud800"}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ValidObject(data)
		if ids := ObjectField(data, "ids"); ids != nil {
			ArrayElements(ids, func(e []byte) { UnquoteString(e) })
		}
		ArrayElements(data, func(e []byte) {
			if len(e) == 0 {
				t.Fatal("empty element from a valid array")
			}
		})
	})
}
