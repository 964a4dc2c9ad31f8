package config

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The configuration structs are described by their `config:"name"` tags
// (`config:"name,secret"` for values that errors must not show).
// A field is either a group (a nested struct) or a value of one of these
// types: string (or a named string type), bool, int, time.Duration,
// PortRange, or a slice of a string type.

type fieldInfo struct {
	name   string
	index  int
	group  bool
	secret bool // tagged ",secret": errors do not show the value
}

func isPortRange(t reflect.Type) bool { return t == reflect.TypeFor[PortRange]() }
func isDuration(t reflect.Type) bool  { return t == reflect.TypeFor[time.Duration]() }

// fields lists the tagged fields of struct type t in declaration order.
func fields(t reflect.Type) []fieldInfo {
	out := make([]fieldInfo, 0, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("config"), ",")
		if name == "" || name == "-" {
			continue
		}
		out = append(out, fieldInfo{
			name:   name,
			index:  i,
			group:  f.Type.Kind() == reflect.Struct && !isPortRange(f.Type),
			secret: opts == "secret",
		})
	}
	return out
}

// formatValue formats a value field. quote selects the file form (strings
// quoted when they would not read back, lists joined with ", ") over the
// flat form (strings as they are, lists joined with ",").
func formatValue(v reflect.Value, quote bool) string {
	switch t := v.Type(); {
	case isDuration(t):
		return formatSeconds(time.Duration(v.Int()))
	case isPortRange(t):
		return v.Interface().(PortRange).String()
	}
	switch v.Kind() {
	case reflect.String:
		if quote {
			return quoteValue(v.String())
		}
		return v.String()
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Int:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Slice:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = v.Index(i).String()
			if quote {
				parts[i] = quoteElem(parts[i])
			}
		}
		if quote {
			return strings.Join(parts, ", ")
		}
		return strings.Join(parts, ",")
	}
	panic("config: unsupported field type " + v.Type().String())
}

// parseValue parses raw (the text after '=', without surrounding blanks)
// into the value field v.
func parseValue(v reflect.Value, raw string) error {
	if v.Kind() == reflect.Slice {
		list, err := parseList(raw)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			v.SetZero()
			return nil
		}
		s := reflect.MakeSlice(v.Type(), len(list), len(list))
		for i, e := range list {
			s.Index(i).SetString(e)
		}
		v.Set(s)
		return nil
	}
	s, err := unquoteValue(raw)
	if err != nil {
		return err
	}
	switch t := v.Type(); {
	case isDuration(t):
		d, err := parseSeconds(s)
		if err != nil {
			return err
		}
		v.SetInt(int64(d))
		return nil
	case isPortRange(t):
		r, err := ParsePortRange(s)
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(r))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		switch strings.ToLower(s) {
		case "true", "yes", "on":
			v.SetBool(true)
		case "false", "no", "off":
			v.SetBool(false)
		default:
			return errors.New("want true or false (or yes/no, on/off)")
		}
	case reflect.Int:
		n, err := strconv.Atoi(s)
		if err != nil {
			return errors.New("want a whole number")
		}
		v.SetInt(int64(n))
	default:
		panic("config: unsupported field type " + v.Type().String())
	}
	return nil
}

// formatSeconds formats d as a decimal number of seconds, exactly ("30",
// "1.5", "0.000000001").
func formatSeconds(d time.Duration) string {
	sign := ""
	u := uint64(d)
	if d < 0 {
		sign = "-"
		u = -u
	}
	s := sign + strconv.FormatUint(u/1e9, 10)
	if frac := u % 1e9; frac != 0 {
		f := strconv.FormatUint(frac+1e9, 10)[1:] // 9 digits, zero-padded
		s += "." + strings.TrimRight(f, "0")
	}
	return s
}

// parseSeconds parses a decimal number of seconds ("30", "1.5") or a Go
// duration ("1m30s", "500ms").
func parseSeconds(s string) (time.Duration, error) {
	if isDecimal(s) {
		s += "s"
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New("want seconds (30, 1.5) or a Go duration (1m30s, 500ms)")
	}
	return d, nil
}

func isDecimal(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	digits, dots := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dots++
		default:
			return false
		}
	}
	return digits > 0 && dots <= 1
}

// needsQuote reports whether string s would not read back as itself when
// written bare after "name = ".
func needsQuote(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '"' || isBlank(s[0]) || isBlank(s[len(s)-1]) {
		return true
	}
	for _, r := range s {
		if r == utf8.RuneError || !strconv.IsPrint(r) {
			return true
		}
	}
	return false
}

func quoteValue(s string) string {
	if needsQuote(s) {
		return strconv.Quote(s)
	}
	return s
}

func quoteElem(s string) string {
	if s == "" || needsQuote(s) || strings.ContainsRune(s, ',') {
		return strconv.Quote(s)
	}
	return s
}

// unquoteValue returns a scalar's text: raw itself, or the string it
// quotes when it starts with '"'.
func unquoteValue(raw string) (string, error) {
	if raw == "" || raw[0] != '"' {
		return raw, nil
	}
	s, err := strconv.Unquote(raw)
	if err != nil {
		return "", errors.New("bad quoted string (Go syntax, as in \"a\\tb\")")
	}
	return s, nil
}

// parseList splits a comma-separated list; elements are bare (surrounding
// blanks dropped) or quoted. An empty value is an empty list.
func parseList(raw string) ([]string, error) {
	var out []string
	rest := raw
	if rest == "" {
		return nil, nil
	}
	for {
		rest = trimBlanks(rest)
		var elem string
		if rest != "" && rest[0] == '"' {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return nil, errors.New("bad quoted list element")
			}
			elem, _ = strconv.Unquote(q)
			rest = trimBlanks(rest[len(q):])
			if rest != "" && rest[0] != ',' {
				return nil, errors.New("want ',' after a quoted list element")
			}
		} else {
			i := strings.IndexByte(rest, ',')
			if i < 0 {
				i = len(rest)
			}
			elem = trimBlanks(rest[:i])
			rest = rest[i:]
			if elem == "" {
				return nil, errors.New("empty list element (quote it as \"\" if you mean an empty string)")
			}
		}
		out = append(out, elem)
		if rest == "" {
			return out, nil
		}
		rest = rest[1:] // the comma
		if trimBlanks(rest) == "" {
			return nil, errors.New("trailing comma in list")
		}
	}
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

func trimBlanks(s string) string { return strings.Trim(s, " \t") }
