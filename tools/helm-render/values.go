package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ghodss/yaml"
)

// loadValues builds .Values as helm does: the chart's values.yaml, then each -f file, then --set/--set-string in order.
// Values parse through JSON (numbers are float64), a null deletes the key it overrides.
func loadValues(o *options) (map[string]interface{}, error) {
	vals, err := readValuesFile(filepath.Join(o.chartDir, "values.yaml"), true)
	if err != nil {
		return nil, err
	}
	for _, f := range o.valueFiles {
		over, err := readValuesFile(f, false)
		if err != nil {
			return nil, err
		}
		mergeValues(vals, over)
	}
	for _, s := range o.orderedSets {
		if err := parseSet(s.expr, vals, s.asString); err != nil {
			return nil, fmt.Errorf("failed parsing --set data: %v", err)
		}
	}
	dropNulls(vals)
	return vals, nil
}

func readValuesFile(name string, optional bool) (map[string]interface{}, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		if optional && os.IsNotExist(err) {
			return map[string]interface{}{}, nil
		}
		return nil, err
	}
	m := map[string]interface{}{}
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if m == nil {
		m = map[string]interface{}{}
	}
	return m, nil
}

// mergeValues merges src into dst: maps deeply, everything else replaced; a nil in src removes the key from dst.
func mergeValues(dst, src map[string]interface{}) {
	for k, v := range src {
		if v == nil {
			delete(dst, k)
			continue
		}
		sm, sok := v.(map[string]interface{})
		dm, dok := dst[k].(map[string]interface{})
		if sok && dok {
			mergeValues(dm, sm)
			continue
		}
		dst[k] = v
	}
}

func dropNulls(m map[string]interface{}) {
	for k, v := range m {
		if v == nil {
			delete(m, k)
		} else if sub, ok := v.(map[string]interface{}); ok {
			dropNulls(sub)
		}
	}
}

// parseSet applies one --set expression (helm's strvals syntax, the common subset): comma-separated key=value pairs,
// dotted keys, list indexes key[0], {a,b} lists, backslash escapes for , . = and typed scalars (int, bool, null).
func parseSet(expr string, vals map[string]interface{}, asString bool) error {
	for _, pair := range splitUnescaped(expr, ',', true) {
		if pair == "" {
			continue
		}
		eq := indexUnescaped(pair, '=')
		if eq < 0 {
			return fmt.Errorf("key %q has no value", unescape(pair))
		}
		key, raw := pair[:eq], pair[eq+1:]
		var value interface{}
		if strings.HasPrefix(raw, "{") && strings.HasSuffix(raw, "}") {
			var list []interface{}
			for _, item := range splitUnescaped(raw[1:len(raw)-1], ',', false) {
				list = append(list, typed(unescape(item), asString))
			}
			value = list
		} else {
			value = typed(unescape(raw), asString)
		}
		if err := setPath(vals, splitUnescaped(key, '.', false), value); err != nil {
			return fmt.Errorf("%s: %v", unescape(key), err)
		}
	}
	return nil
}

func typed(s string, asString bool) interface{} {
	if asString {
		return s
	}
	switch s {
	case "true":
		return true
	case "false":
		return false
	case "null":
		return nil
	}
	// helm keeps "0123" a string; ints otherwise become int64
	if s != "0" && strings.HasPrefix(s, "0") {
		return s
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n
	}
	return s
}

func setPath(m map[string]interface{}, parts []string, value interface{}) error {
	head := unescape(parts[0])
	name, index, hasIndex, err := splitIndex(head)
	if err != nil {
		return err
	}
	if len(parts) == 1 {
		if !hasIndex {
			m[name] = value
			return nil
		}
		list, _ := m[name].([]interface{})
		m[name] = setIndex(list, index, value)
		return nil
	}
	if hasIndex {
		list, _ := m[name].([]interface{})
		var child map[string]interface{}
		if index < len(list) {
			child, _ = list[index].(map[string]interface{})
		}
		if child == nil {
			child = map[string]interface{}{}
		}
		if err := setPath(child, parts[1:], value); err != nil {
			return err
		}
		m[name] = setIndex(list, index, child)
		return nil
	}
	child, ok := m[name].(map[string]interface{})
	if !ok {
		child = map[string]interface{}{}
		m[name] = child
	}
	return setPath(child, parts[1:], value)
}

func splitIndex(s string) (string, int, bool, error) {
	open := strings.IndexByte(s, '[')
	if open < 0 || !strings.HasSuffix(s, "]") {
		return s, 0, false, nil
	}
	i, err := strconv.Atoi(s[open+1 : len(s)-1])
	if err != nil || i < 0 {
		return "", 0, false, fmt.Errorf("bad list index in %q", s)
	}
	return s[:open], i, true, nil
}

func setIndex(list []interface{}, i int, v interface{}) []interface{} {
	for len(list) <= i {
		list = append(list, nil)
	}
	list[i] = v
	return list
}

// splitUnescaped splits on sep outside backslash escapes (and, if braces, outside {...}); escapes are kept.
func splitUnescaped(s string, sep byte, braces bool) []string {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			i++
		case braces && c == '{':
			depth++
		case braces && c == '}' && depth > 0:
			depth--
		case c == sep && depth == 0:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

func indexUnescaped(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
		} else if s[i] == c {
			return i
		}
	}
	return -1
}

func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
