package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"github.com/ghodss/yaml"
)

// chartMetadata mirrors the fields of helm's chart.Metadata that templates read as .Chart.*.
type chartMetadata struct {
	APIVersion   string            `json:"apiVersion"`
	Name         string            `json:"name"`
	Version      string            `json:"version"`
	AppVersion   string            `json:"appVersion"`
	Description  string            `json:"description"`
	Type         string            `json:"type"`
	Home         string            `json:"home"`
	Icon         string            `json:"icon"`
	KubeVersion  string            `json:"kubeVersion"`
	Keywords     []string          `json:"keywords"`
	Sources      []string          `json:"sources"`
	Annotations  map[string]string `json:"annotations"`
	Deprecated   bool              `json:"deprecated"`
	Maintainers  []interface{}     `json:"maintainers"`
	Dependencies []interface{}     `json:"dependencies"`
}

type templateFile struct {
	name string // "<chart>/templates/x.yaml", as helm names it
	data string
}

func run(o *options) (string, string, error) {
	meta, err := loadChartMetadata(o.chartDir)
	if err != nil {
		return "", "", err
	}
	vals, err := loadValues(o)
	if err != nil {
		return "", "", err
	}
	if err := validateValues(o.chartDir, meta.Name, vals); err != nil {
		return "", "", err
	}
	caps, err := capabilities(o)
	if err != nil {
		return "", "", err
	}
	files, err := loadTemplates(o.chartDir, meta.Name)
	if err != nil {
		return "", "", err
	}
	top := map[string]interface{}{
		"Values": vals,
		"Release": map[string]interface{}{
			"Name": o.releaseName, "Namespace": o.namespace, "Service": "Helm",
			"IsInstall": true, "IsUpgrade": false, "Revision": 1,
		},
		"Chart":        meta,
		"Capabilities": caps,
		"Files":        files2(o.chartDir),
	}
	rendered, err := renderAll(files, top)
	if err != nil {
		return "", "", err
	}
	notesName := meta.Name + "/templates/NOTES.txt"
	notes := rendered[notesName]
	delete(rendered, notesName)
	if o.lint {
		return lintReport(o, meta, rendered, caps)
	}
	out, err := assemble(rendered, meta.Name, o.showOnly)
	return out, notes, err
}

func loadChartMetadata(dir string) (*chartMetadata, error) {
	b, err := os.ReadFile(filepath.Join(dir, "Chart.yaml"))
	if err != nil {
		return nil, fmt.Errorf("not a chart: %v", err)
	}
	var m chartMetadata
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("Chart.yaml: %v", err)
	}
	if m.Name == "" || m.Version == "" {
		return nil, errors.New("Chart.yaml: name and version are required")
	}
	return &m, nil
}

func loadTemplates(dir, chartName string) ([]templateFile, error) {
	root := filepath.Join(dir, "templates")
	var files []templateFile
	err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files = append(files, templateFile{name: path.Join(chartName, filepath.ToSlash(rel)), data: string(b)})
		return nil
	})
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	return files, err
}

// chartFiles is a minimal .Files: Get and Glob-free access to files of the chart directory.
type chartFiles struct{ dir string }

func files2(dir string) chartFiles { return chartFiles{dir: dir} }

// Get returns a file's content, or "" when it does not exist, as helm's .Files.Get does.
func (f chartFiles) Get(name string) string {
	b, err := os.ReadFile(filepath.Join(f.dir, filepath.FromSlash(name)))
	if err != nil {
		return ""
	}
	return string(b)
}

const recursionMaxNums = 1000

// renderAll executes every non-partial template, as helm's engine does (missingkey=zero, "<no value>" removed).
func renderAll(files []templateFile, top map[string]interface{}) (map[string]string, error) {
	t := template.New("gotpl")
	t.Option("missingkey=zero")
	included := map[string]int{}
	funcs := funcMap()
	funcs["include"] = func(name string, data interface{}) (string, error) {
		if included[name] > recursionMaxNums {
			return "", fmt.Errorf("rendering template has a nested reference name: %s", name)
		}
		included[name]++
		defer func() { included[name]-- }()
		var buf strings.Builder
		err := t.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		clone, err := t.Clone()
		if err != nil {
			return "", err
		}
		clone.Option("missingkey=zero")
		clone, err = clone.New("tpl").Parse(text)
		if err != nil {
			return "", fmt.Errorf("cannot parse template %q: %v", text, err)
		}
		var buf strings.Builder
		if err := clone.Execute(&buf, data); err != nil {
			return "", fmt.Errorf("error during tpl function execution for %q: %v", text, err)
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	t.Funcs(funcs)
	for _, f := range files {
		if _, err := t.New(f.name).Parse(f.data); err != nil {
			return nil, fmt.Errorf("parse error in %q: %v", f.name, err)
		}
	}
	out := map[string]string{}
	for _, f := range files {
		if strings.HasPrefix(path.Base(f.name), "_") {
			continue
		}
		data := map[string]interface{}{}
		for k, v := range top {
			data[k] = v
		}
		data["Template"] = map[string]interface{}{"Name": f.name, "BasePath": path.Dir(f.name)}
		var buf strings.Builder
		if err := t.ExecuteTemplate(&buf, f.name, data); err != nil {
			return nil, cleanupError(err)
		}
		out[f.name] = strings.ReplaceAll(buf.String(), "<no value>", "")
	}
	return out, nil
}

var (
	execErrLocation = regexp.MustCompile(`^template: (\S+?): `)
	execErrCalling  = regexp.MustCompile(`error calling (required|fail): `)
)

// cleanupError shortens the errors of required/fail (however deeply included) to what helm prints:
// "execution error at (file:line:col): message".
func cleanupError(err error) error {
	msg := err.Error()
	loc := execErrLocation.FindStringSubmatch(msg)
	calls := execErrCalling.FindAllStringIndex(msg, -1)
	if loc == nil || calls == nil {
		return err
	}
	return fmt.Errorf("execution error at (%s): %s", loc[1], msg[calls[len(calls)-1][1]:])
}

func funcMap() template.FuncMap {
	f := sprig.TxtFuncMap()
	// helm removes these so a render cannot depend on the machine it runs on
	delete(f, "env")
	delete(f, "expandenv")
	f["toYaml"] = func(v interface{}) string {
		b, err := yaml.Marshal(v)
		if err != nil {
			return ""
		}
		return strings.TrimSuffix(string(b), "\n")
	}
	f["fromYaml"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := yaml.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	f["fromYamlArray"] = func(s string) []interface{} {
		var a []interface{}
		if err := yaml.Unmarshal([]byte(s), &a); err != nil {
			a = []interface{}{err.Error()}
		}
		return a
	}
	f["toJson"] = func(v interface{}) string {
		b, err := json.Marshal(v)
		if err != nil {
			return ""
		}
		return string(b)
	}
	f["fromJson"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	f["fromJsonArray"] = func(s string) []interface{} {
		var a []interface{}
		if err := json.Unmarshal([]byte(s), &a); err != nil {
			a = []interface{}{err.Error()}
		}
		return a
	}
	f["required"] = func(warn string, val interface{}) (interface{}, error) {
		if val == nil {
			return val, errors.New(warn)
		}
		if s, ok := val.(string); ok && s == "" {
			return val, errors.New(warn)
		}
		return val, nil
	}
	// helm template without a live release: lookup finds nothing
	f["lookup"] = func(apiVersion, kind, namespace, name string) (map[string]interface{}, error) {
		return map[string]interface{}{}, nil
	}
	// placeholders replaced per render in renderAll
	f["include"] = func(string, interface{}) string { return "not implemented" }
	f["tpl"] = func(string, interface{}) interface{} { return "not implemented" }
	return f
}

// helm's releaseutil.InstallOrder: kinds that others depend on come first.
var installOrder = []string{
	"PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
	"PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass",
	"PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole", "ClusterRoleList",
	"ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding", "RoleBindingList",
	"Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment",
	"HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService",
}

var docSep = regexp.MustCompile(`(?:^|\s*\n)---\s*`)

type manifest struct {
	source  string
	kind    string
	content string
}

// assemble splits the rendered files into YAML documents, checks each parses, and prints them in install order.
func assemble(rendered map[string]string, chartName string, showOnly []string) (string, error) {
	names := make([]string, 0, len(rendered))
	for n := range rendered {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(showOnly) > 0 {
		want := map[string]bool{}
		for _, s := range showOnly {
			want[path.Join(chartName, filepath.ToSlash(s))] = true
		}
		var kept []string
		for _, n := range names {
			if want[n] {
				kept = append(kept, n)
				delete(want, n)
			}
		}
		for missing := range want {
			return "", fmt.Errorf("could not find template %s in chart", strings.TrimPrefix(missing, chartName+"/"))
		}
		names = kept
	}
	order := map[string]int{}
	for i, k := range installOrder {
		order[k] = i
	}
	var docs []manifest
	for _, n := range names {
		for _, d := range docSep.Split(rendered[n], -1) {
			if strings.TrimSpace(d) == "" {
				continue
			}
			var obj map[string]interface{}
			if err := yaml.Unmarshal([]byte(d), &obj); err != nil {
				return "", fmt.Errorf("YAML parse error on %s: %v\n%s", n, err, numbered(d))
			}
			if obj == nil {
				continue // only comments
			}
			kind, _ := obj["kind"].(string)
			docs = append(docs, manifest{source: n, kind: kind, content: strings.TrimSpace(d) + "\n"})
		}
	}
	rank := func(m manifest) int {
		if r, ok := order[m.kind]; ok {
			return r
		}
		return len(installOrder)
	}
	sort.SliceStable(docs, func(i, j int) bool {
		ri, rj := rank(docs[i]), rank(docs[j])
		if ri != rj {
			return ri < rj
		}
		if ri == len(installOrder) {
			return docs[i].kind < docs[j].kind
		}
		return false
	})
	var b bytes.Buffer
	for _, d := range docs {
		fmt.Fprintf(&b, "---\n# Source: %s\n%s", d.source, d.content)
	}
	return b.String(), nil
}

func numbered(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = fmt.Sprintf("%4d | %s", i+1, l)
	}
	return strings.Join(lines, "\n")
}

// errLintFailed: the lint report is printed; the exit code says it has errors.
var errLintFailed = errors.New("lint failed")

func lintReport(o *options, meta *chartMetadata, rendered map[string]string, caps *Capabilities) (string, string, error) {
	msgs := lintChart(o, meta, rendered, caps)
	var b strings.Builder
	fmt.Fprintf(&b, "==> Linting %s\n", o.chartDir)
	failed := false
	for _, m := range msgs {
		fmt.Fprintln(&b, m.String())
		failed = failed || m.severity == "ERROR"
	}
	nFailed := 0
	if failed {
		nFailed = 1
	}
	fmt.Fprintf(&b, "\n1 chart(s) linted, %d chart(s) failed\n", nFailed)
	if failed {
		return b.String(), "", errLintFailed
	}
	return b.String(), "", nil
}
