package mesosemulator

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// This file converts the gogo-generated mesos-go messages to and from JSON
// the way the Mesos master does (stout's JSON <-> protobuf conversion):
// proto field names, fields in declaration order, unset fields omitted, enums
// as names, bytes as base64 and doubles always with a decimal point
// ("15.0", "1795269905.221356").

// fieldInfo is the part of a `protobuf:"..."` struct tag the codec needs.
type fieldInfo struct {
	name     string
	required bool
	enum     bool
}

// parseTag parses a gogo protobuf struct tag.
func parseTag(tag string) fieldInfo {
	var fi fieldInfo
	for _, part := range strings.Split(tag, ",") {
		switch {
		case part == "req":
			fi.required = true
		case strings.HasPrefix(part, "name="):
			fi.name = strings.TrimPrefix(part, "name=")
		case strings.HasPrefix(part, "enum="):
			fi.enum = true
		}
	}
	return fi
}

// extraEnumNames names enum values that mesos-go v0.0.11 predates.
var extraEnumNames = map[reflect.Type]map[int64]string{
	reflect.TypeOf(mesos.MasterInfo_Capability_Type(0)): {3: "QUOTA_V2"},
}

// QuotaV2 is the MasterInfo capability a 1.12 master reports that mesos-go
// v0.0.11 has no constant for.
const QuotaV2 = mesos.MasterInfo_Capability_Type(3)

// marshalJSON encodes a message (pointer or value) in Mesos' JSON style.
func marshalJSON(msg any) []byte {
	var b bytes.Buffer
	writeValue(&b, reflect.ValueOf(msg), fieldInfo{})
	return b.Bytes()
}

// writeMessage writes a struct as a JSON object.
func writeMessage(b *bytes.Buffer, v reflect.Value) {
	t := v.Type()
	b.WriteByte('{')
	first := true
	for i := 0; i < t.NumField(); i++ {
		tag := t.Field(i).Tag.Get("protobuf")
		if tag == "" {
			continue
		}
		fi := parseTag(tag)
		fv := v.Field(i)
		if !isSet(fv, fi) {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		writeString(b, fi.name)
		b.WriteByte(':')
		writeValue(b, fv, fi)
	}
	b.WriteByte('}')
}

// isSet reports whether a field is present in the message.
func isSet(v reflect.Value, fi fieldInfo) bool {
	switch v.Kind() {
	case reflect.Ptr, reflect.Interface:
		return !v.IsNil()
	case reflect.Slice, reflect.Map:
		return v.Len() > 0
	default:
		return fi.required || !v.IsZero()
	}
}

// writeValue writes any supported value.
func writeValue(b *bytes.Buffer, v reflect.Value, fi fieldInfo) {
	switch v.Kind() {
	case reflect.Ptr:
		writeValue(b, v.Elem(), fi)
	case reflect.Struct:
		writeMessage(b, v)
	case reflect.Slice:
		writeSlice(b, v, fi)
	case reflect.Map:
		writeMap(b, v, fi)
	case reflect.String:
		writeString(b, v.String())
	case reflect.Bool:
		b.WriteString(strconv.FormatBool(v.Bool()))
	case reflect.Int32, reflect.Int64, reflect.Int:
		if fi.enum {
			writeString(b, enumName(v))
			return
		}
		b.WriteString(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint32, reflect.Uint64, reflect.Uint:
		b.WriteString(strconv.FormatUint(v.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		b.WriteString(mesosFloat(v.Float()))
	default:
		b.WriteString("null")
	}
}

// writeSlice writes a repeated field ([]byte as base64).
func writeSlice(b *bytes.Buffer, v reflect.Value, fi fieldInfo) {
	if v.Type().Elem().Kind() == reflect.Uint8 {
		writeString(b, base64.StdEncoding.EncodeToString(v.Bytes()))
		return
	}
	b.WriteByte('[')
	for i := 0; i < v.Len(); i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		writeValue(b, v.Index(i), fi)
	}
	b.WriteByte(']')
}

// writeMap writes a proto map as a JSON object with sorted keys.
func writeMap(b *bytes.Buffer, v reflect.Value, fi fieldInfo) {
	keys := v.MapKeys()
	sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		writeString(b, fmt.Sprint(k))
		b.WriteByte(':')
		writeValue(b, v.MapIndex(k), fieldInfo{})
	}
	b.WriteByte('}')
}

// enumName returns the symbolic name of an enum value.
func enumName(v reflect.Value) string {
	if s, ok := v.Interface().(fmt.Stringer); ok {
		name := s.String()
		if _, err := strconv.Atoi(name); err != nil {
			return name
		}
	}
	if name, ok := extraEnumNames[v.Type()][v.Int()]; ok {
		return name
	}
	return strconv.FormatInt(v.Int(), 10)
}

// writeString writes a JSON string, escaping only what JSON requires.
func writeString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20:
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// mesosFloat formats a double like the master: shortest representation,
// always with a decimal point.
func mesosFloat(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "null"
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

// Float is a float64 that marshals like the master's JSON ("64.0").
type Float float64

// MarshalJSON implements json.Marshaler.
func (f Float) MarshalJSON() ([]byte, error) { return []byte(mesosFloat(float64(f))), nil }

// parseJSONBody parses a request body, returning the master's error text
// ("Failed to parse body into JSON: ..." / "Failed to convert JSON into Call
// protobuf: ...") on failure.
func parseJSONBody(body []byte, msg any) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var raw any
	err := dec.Decode(&raw)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = &json.SyntaxError{Offset: dec.InputOffset() + 1}
		}
	}
	if err != nil {
		return "Failed to parse body into JSON: " + syntaxError(body, err)
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return "Failed to convert JSON into Call protobuf: Expecting a JSON object"
	}
	var missing []string
	if err := decodeMessage(reflect.ValueOf(msg).Elem(), obj, "", &missing); err != nil {
		return "Failed to convert JSON into Call protobuf: " + err.Error()
	}
	if len(missing) > 0 {
		return "Failed to convert JSON into Call protobuf: Missing required fields: " + strings.Join(missing, ", ")
	}
	return ""
}

// syntaxError renders a JSON syntax error the way picojson (used by the
// master) does: "syntax error at line N near: <rest of the line>".
func syntaxError(body []byte, err error) string {
	pos := len(body)
	var se *json.SyntaxError
	if errors.As(err, &se) && se.Offset > 0 && int(se.Offset) <= len(body) {
		pos = int(se.Offset) - 1
	}
	line := 1 + bytes.Count(body[:pos], []byte("\n"))
	rest := body[pos:]
	if i := bytes.IndexByte(rest, '\n'); i >= 0 {
		rest = rest[:i]
	}
	return fmt.Sprintf("syntax error at line %d near: %s", line, rest)
}

// decodeMessage fills struct v from a JSON object, collecting the paths of
// missing required fields.
func decodeMessage(v reflect.Value, obj map[string]any, prefix string, missing *[]string) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		tag := t.Field(i).Tag.Get("protobuf")
		if tag == "" {
			continue
		}
		fi := parseTag(tag)
		val, ok := obj[fi.name]
		if !ok || val == nil {
			if fi.required {
				*missing = append(*missing, prefix+fi.name)
			}
			continue
		}
		if err := decodeValue(v.Field(i), val, fi, prefix+fi.name, missing); err != nil {
			return err
		}
	}
	return nil
}

// decodeValue decodes one JSON value into v.
func decodeValue(v reflect.Value, val any, fi fieldInfo, path string, missing *[]string) error {
	switch v.Kind() {
	case reflect.Ptr:
		elem := reflect.New(v.Type().Elem())
		if err := decodeValue(elem.Elem(), val, fi, path, missing); err != nil {
			return err
		}
		v.Set(elem)
		return nil
	case reflect.Struct:
		obj, ok := val.(map[string]any)
		if !ok {
			return typeError(val, fi.name)
		}
		return decodeMessage(v, obj, path+".", missing)
	case reflect.Slice:
		return decodeSlice(v, val, fi, path, missing)
	case reflect.Map:
		return decodeMap(v, val, fi, path, missing)
	}
	return decodeScalar(v, val, fi)
}

// decodeSlice decodes a repeated field or a base64 bytes field.
func decodeSlice(v reflect.Value, val any, fi fieldInfo, path string, missing *[]string) error {
	if v.Type().Elem().Kind() == reflect.Uint8 {
		s, ok := val.(string)
		if !ok {
			return typeError(val, fi.name)
		}
		data, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return fmt.Errorf("Failed to base64 decode '%s' for field '%s'", s, fi.name)
		}
		v.SetBytes(data)
		return nil
	}
	arr, ok := val.([]any)
	if !ok {
		return typeError(val, fi.name)
	}
	out := reflect.MakeSlice(v.Type(), len(arr), len(arr))
	for i, item := range arr {
		if err := decodeValue(out.Index(i), item, fi, fmt.Sprintf("%s[%d]", path, i), missing); err != nil {
			return err
		}
	}
	v.Set(out)
	return nil
}

// decodeMap decodes a proto map field given as a JSON object.
func decodeMap(v reflect.Value, val any, fi fieldInfo, path string, missing *[]string) error {
	obj, ok := val.(map[string]any)
	if !ok || v.Type().Key().Kind() != reflect.String {
		return typeError(val, fi.name)
	}
	out := reflect.MakeMapWithSize(v.Type(), len(obj))
	for k, item := range obj {
		elem := reflect.New(v.Type().Elem()).Elem()
		if err := decodeValue(elem, item, fieldInfo{name: fi.name}, path+"."+k, missing); err != nil {
			return err
		}
		out.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), elem)
	}
	v.Set(out)
	return nil
}

// decodeScalar decodes strings, booleans, numbers and enums.
func decodeScalar(v reflect.Value, val any, fi fieldInfo) error {
	if fi.enum {
		u, ok := v.Addr().Interface().(json.Unmarshaler)
		raw, _ := json.Marshal(val)
		if ok && u.UnmarshalJSON(raw) == nil {
			return nil
		}
		for n, name := range extraEnumNames[v.Type()] {
			if name == val {
				v.SetInt(n)
				return nil
			}
		}
		return fmt.Errorf("Failed to find enum for '%v'", val)
	}
	switch v.Kind() {
	case reflect.String:
		s, ok := val.(string)
		if !ok {
			return typeError(val, fi.name)
		}
		v.SetString(s)
	case reflect.Bool:
		bv, ok := val.(bool)
		if !ok {
			return typeError(val, fi.name)
		}
		v.SetBool(bv)
	case reflect.Int32, reflect.Int64, reflect.Int, reflect.Uint32, reflect.Uint64, reflect.Uint, reflect.Float32, reflect.Float64:
		return decodeNumber(v, val, fi)
	default:
		return typeError(val, fi.name)
	}
	return nil
}

// decodeNumber decodes a JSON number (or numeric string) into v.
func decodeNumber(v reflect.Value, val any, fi fieldInfo) error {
	var text string
	switch n := val.(type) {
	case json.Number:
		text = n.String()
	case string:
		text = n
	default:
		return typeError(val, fi.name)
	}
	var err error
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		var f float64
		f, err = strconv.ParseFloat(text, 64)
		v.SetFloat(f)
	case reflect.Uint32, reflect.Uint64, reflect.Uint:
		var u uint64
		u, err = strconv.ParseUint(text, 10, 64)
		v.SetUint(u)
	default:
		var i int64
		i, err = strconv.ParseInt(text, 10, 64)
		v.SetInt(i)
	}
	if err != nil {
		return fmt.Errorf("Failed to convert '%s' to number for field '%s'", text, fi.name)
	}
	return nil
}

// typeError mirrors stout's "Not expecting a JSON <type> for field '<name>'".
func typeError(val any, field string) error {
	kind := "null"
	switch val.(type) {
	case string:
		kind = "string"
	case bool:
		kind = "boolean"
	case json.Number:
		kind = "number"
	case []any:
		kind = "array"
	case map[string]any:
		kind = "object"
	}
	return fmt.Errorf("Not expecting a JSON %s for field '%s'", kind, field)
}
