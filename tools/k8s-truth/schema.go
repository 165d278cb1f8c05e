package main

import (
	"encoding"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	logsapi "k8s.io/component-base/logs/api/v1"
)

// A schemaKind is one apiVersion+kind and the Go type that decodes it.
type schemaKind struct {
	gv  schema.GroupVersion
	typ reflect.Type
}

// schemaKinds is filled by the init functions of the kinds_*.go files that
// build.sh copied in for this Kubernetes version.
var schemaKinds []schemaKind

func addSchemaKinds(gv schema.GroupVersion, objects ...any) {
	for _, obj := range objects {
		schemaKinds = append(schemaKinds, schemaKind{gv, reflect.TypeOf(obj)})
	}
}

// typeNames maps types whose JSON form is not what their Go kind suggests.
var typeNames = map[reflect.Type]map[string]any{
	reflect.TypeOf(metav1.Duration{}):        {"type": "duration"},
	reflect.TypeOf(metav1.Time{}):            {"type": "time"},
	reflect.TypeOf(resource.Quantity{}):      {"type": "quantity"},
	reflect.TypeOf(resource.QuantityValue{}): {"type": "quantity"},
	// UnmarshalJSON decodes a number into the IntVal field.
	reflect.TypeOf(intstr.IntOrString{}):   intOrString(reflect.TypeOf(intstr.IntOrString{}.IntVal)),
	reflect.TypeOf(runtime.RawExtension{}): {"type": "any"},
	reflect.TypeOf(json.RawMessage{}):      {"type": "any"},
	// Decodes a duration string, or a number into Duration.Duration: integer
	// nanoseconds (logging.flushFrequency).
	reflect.TypeOf(logsapi.TimeOrMetaDuration{}): intOrString(reflect.TypeOf(logsapi.TimeOrMetaDuration{}.Duration.Duration)),
}

// intOrString is the schema of a type that decodes a JSON string, or a JSON
// number into a Go integer of type number.
func intOrString(number reflect.Type) map[string]any {
	return map[string]any{"type": "int-or-string", "format": number.Kind().String()}
}

var (
	jsonMarshaler = reflect.TypeOf((*json.Marshaler)(nil)).Elem()
	textMarshaler = reflect.TypeOf((*encoding.TextMarshaler)(nil)).Elem()
)

func printSchemas(w io.Writer) error {
	source := fmt.Sprintf("generated from k8s.io/kubernetes %s by tools/k8s-truth", kubernetesVersion())
	docs := []map[string]any{}
	for _, k := range schemaKinds {
		fields := map[string]any{}
		if err := addFields(k.typ, map[reflect.Type]bool{k.typ: true}, fields); err != nil {
			return fmt.Errorf("%s %s: %w", k.gv, k.typ.Name(), err)
		}
		docs = append(docs, map[string]any{
			"apiVersion": k.gv.String(),
			"kind":       k.typ.Name(),
			"source":     source,
			"fields":     fields,
		})
	}
	sort.Slice(docs, func(i, j int) bool {
		a, b := docs[i], docs[j]
		if a["apiVersion"] != b["apiVersion"] {
			return a["apiVersion"].(string) < b["apiVersion"].(string)
		}
		return a["kind"].(string) < b["kind"].(string)
	})
	return writeJSON(w, map[string]any{"kubernetes_version": kubernetesVersion(), "schemas": docs})
}

// addFields adds the JSON fields of struct type t to fields, following
// encoding/json: embedded structs without a name are flattened, "-" is skipped.
// path holds the struct types being walked, to stop on self-reference.
func addFields(t reflect.Type, path map[reflect.Type]bool, fields map[string]any) error {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			if err := addFields(ft, path, fields); err != nil {
				return err
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, dup := fields[name]; dup {
			return fmt.Errorf("field %q appears twice in %s", name, t)
		}
		s, err := typeSchema(f.Type, path)
		if err != nil {
			return fmt.Errorf("%s.%s: %w", t.Name(), f.Name, err)
		}
		fields[name] = s
	}
	return nil
}

func typeSchema(t reflect.Type, path map[reflect.Type]bool) (map[string]any, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if named, ok := typeNames[t]; ok {
		return named, nil
	}
	if t.Implements(jsonMarshaler) || reflect.PointerTo(t).Implements(jsonMarshaler) ||
		t.Implements(textMarshaler) || reflect.PointerTo(t).Implements(textMarshaler) {
		return marshalerSchema(t)
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}, nil
	case reflect.Bool:
		return map[string]any{"type": "bool"}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		// The Go kind (int32, uint16, ...) sets the range encoding/json accepts:
		// a number outside it is "cannot unmarshal number ... of type int32".
		return map[string]any{"type": "integer", "format": t.Kind().String()}, nil
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}, nil
	case reflect.Interface:
		return map[string]any{"type": "any"}, nil
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string"}, nil
		}
		items, err := typeSchema(t.Elem(), path)
		return map[string]any{"type": "list", "items": items}, err
	case reflect.Map:
		values, err := typeSchema(t.Elem(), path)
		return map[string]any{"type": "map", "values": values}, err
	case reflect.Struct:
		if path[t] {
			return map[string]any{"type": "any"}, nil
		}
		path[t] = true
		defer delete(path, t)
		fields := map[string]any{}
		err := addFields(t, path, fields)
		return map[string]any{"type": "object", "fields": fields}, err
	}
	return nil, fmt.Errorf("no schema type for Go type %s", t)
}

// marshalerSchema handles a type with its own JSON encoding that typeNames
// does not name: only one that encodes as a JSON string is understood.
func marshalerSchema(t reflect.Type) (map[string]any, error) {
	encoded, err := json.Marshal(reflect.New(t).Interface())
	if err != nil {
		return nil, fmt.Errorf("marshal zero %s: %w", t, err)
	}
	if len(encoded) > 0 && encoded[0] == '"' {
		return map[string]any{"type": "string"}, nil
	}
	return nil, fmt.Errorf("%s has its own JSON encoding (zero value %s): name it in typeNames", t, encoded)
}
