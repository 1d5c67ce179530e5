package main

// The checks `helm lint` makes (pkg/lint/rules: chartfile, values, templates, deprecations), plus the Kubernetes
// recommended labels, for where no helm binary can be had. Messages follow helm lint's: "[ERROR] Chart.yaml: ...".

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/Masterminds/semver"
	"github.com/ghodss/yaml"
)

type lintMessage struct {
	severity string // INFO, WARNING, ERROR
	path     string
	text     string
}

func (m lintMessage) String() string { return fmt.Sprintf("[%s] %s: %s", m.severity, m.path, m.text) }

var (
	dns1123Subdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	chartNameRe      = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	rbacKinds        = map[string]bool{"Role": true, "ClusterRole": true, "RoleBinding": true, "ClusterRoleBinding": true}
	allowedExt       = map[string]bool{".yaml": true, ".yml": true, ".tpl": true, ".txt": true}
	// the labels https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/ and helm's chart
	// best practices ask of every object a chart creates
	standardLabels = []string{"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version", "app.kubernetes.io/managed-by", "helm.sh/chart"}
)

// removedAPIs: group/version/kind → the Kubernetes minor version that no longer serves it (helm lint's deprecation rule
// reads the same facts from k8s.io/api's prerelease-lifecycle data).
var removedAPIs = map[string]int{
	"extensions/v1beta1/Deployment":                         16,
	"extensions/v1beta1/DaemonSet":                          16,
	"extensions/v1beta1/ReplicaSet":                         16,
	"extensions/v1beta1/NetworkPolicy":                      16,
	"extensions/v1beta1/PodSecurityPolicy":                  16,
	"apps/v1beta1/Deployment":                               16,
	"apps/v1beta2/Deployment":                               16,
	"extensions/v1beta1/Ingress":                            22,
	"networking.k8s.io/v1beta1/Ingress":                     22,
	"rbac.authorization.k8s.io/v1beta1/ClusterRole":         22,
	"rbac.authorization.k8s.io/v1beta1/ClusterRoleBinding":  22,
	"rbac.authorization.k8s.io/v1beta1/Role":                22,
	"rbac.authorization.k8s.io/v1beta1/RoleBinding":         22,
	"apiextensions.k8s.io/v1beta1/CustomResourceDefinition": 22,
	"coordination.k8s.io/v1beta1/Lease":                     22,
	"scheduling.k8s.io/v1beta1/PriorityClass":               22,
	"policy/v1beta1/PodDisruptionBudget":                    25,
	"policy/v1beta1/PodSecurityPolicy":                      25,
	"batch/v1beta1/CronJob":                                 25,
	"autoscaling/v2beta1/HorizontalPodAutoscaler":           25,
	"autoscaling/v2beta2/HorizontalPodAutoscaler":           26,
}

// lintChart runs the chart-level checks and the checks of every rendered manifest. rendered maps template names to
// their output (NOTES.txt excluded).
func lintChart(o *options, meta *chartMetadata, rendered map[string]string, caps *Capabilities) []lintMessage {
	var msgs []lintMessage
	add := func(sev, p, f string, a ...interface{}) {
		msgs = append(msgs, lintMessage{sev, p, fmt.Sprintf(f, a...)})
	}

	// Chart.yaml (helm: rules/chartfile.go)
	if meta.APIVersion == "" {
		add("ERROR", "Chart.yaml", "apiVersion is required. The value must be either \"v1\" or \"v2\"")
	} else if meta.APIVersion != "v1" && meta.APIVersion != "v2" {
		add("ERROR", "Chart.yaml", "apiVersion '%s' is not valid. The value must be either \"v1\" or \"v2\"", meta.APIVersion)
	}
	if meta.Name == "" {
		add("ERROR", "Chart.yaml", "name is required")
	} else {
		if !chartNameRe.MatchString(meta.Name) {
			add("ERROR", "Chart.yaml", "chart name %q is invalid: lowercase letters, digits and dashes", meta.Name)
		}
		if abs, err := filepath.Abs(o.chartDir); err == nil && filepath.Base(abs) != meta.Name {
			add("ERROR", "Chart.yaml", "directory name (%s) and chart name (%s) must match", filepath.Base(abs), meta.Name)
		}
	}
	if meta.Version == "" {
		add("ERROR", "Chart.yaml", "version is required")
	} else if _, err := semver.NewVersion(meta.Version); err != nil {
		add("ERROR", "Chart.yaml", "version '%s' is not a valid SemVer", meta.Version)
	}
	if meta.AppVersion == "" {
		add("INFO", "Chart.yaml", "appVersion is recommended")
	}
	if meta.Type != "" && meta.Type != "application" && meta.Type != "library" {
		add("ERROR", "Chart.yaml", "chart type is not valid in apiVersion '%s'. It is: %s", meta.APIVersion, meta.Type)
	}
	if meta.KubeVersion != "" {
		c, err := semver.NewConstraint(meta.KubeVersion)
		if err != nil {
			add("ERROR", "Chart.yaml", "kubeVersion '%s' is not a valid SemVer constraint", meta.KubeVersion)
		} else if v, err := semver.NewVersion(strings.TrimPrefix(caps.KubeVersion.Version, "v")); err == nil {
			if ok, _ := c.Validate(v); !ok {
				add("ERROR", "Chart.yaml", "chart requires kubeVersion: %s which is incompatible with Kubernetes %s", meta.KubeVersion, caps.KubeVersion.Version)
			}
		}
	}
	if meta.Icon == "" {
		add("INFO", "Chart.yaml", "icon is recommended")
	}
	if meta.Description == "" {
		add("WARNING", "Chart.yaml", "description is recommended")
	}

	// files under templates/ (helm: rules/template.go)
	_ = filepath.Walk(filepath.Join(o.chartDir, "templates"), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && !allowedExt[filepath.Ext(p)] {
			rel, _ := filepath.Rel(o.chartDir, p)
			add("ERROR", rel, "file extension '%s' not valid. Valid extensions are .yaml, .yml, .tpl, or .txt", filepath.Ext(p))
		}
		return nil
	})
	if _, err := os.Stat(filepath.Join(o.chartDir, "values.schema.json")); os.IsNotExist(err) {
		add("INFO", "values.schema.json", "a values schema is recommended")
	}

	// every rendered manifest
	names := make([]string, 0, len(rendered))
	for n := range rendered {
		names = append(names, n)
	}
	sort.Strings(names)
	minor := kubeMinor(caps.KubeVersion.Version)
	for _, n := range names {
		rel := strings.TrimPrefix(n, meta.Name+"/")
		if path.Base(rel)[0] == '_' {
			continue
		}
		for i, d := range docSep.Split(rendered[n], -1) {
			if strings.TrimSpace(d) == "" {
				continue
			}
			var obj map[string]interface{}
			if err := yaml.Unmarshal([]byte(d), &obj); err != nil {
				add("ERROR", rel, "unable to parse YAML: %v", err)
				continue
			}
			if obj == nil {
				continue
			}
			where := fmt.Sprintf("%s (document %d)", rel, i)
			apiVersion, _ := obj["apiVersion"].(string)
			kind, _ := obj["kind"].(string)
			if apiVersion == "" {
				add("ERROR", where, "object has no apiVersion")
			}
			if kind == "" {
				add("ERROR", where, "object has no kind")
			}
			md, _ := obj["metadata"].(map[string]interface{})
			name, _ := md["name"].(string)
			if name == "" {
				add("ERROR", where, "object name is required")
			} else if rbacKinds[kind] {
				// RBAC names are path segments (helm lint: ValidateRBACName), e.g. "release:auth-delegator"
				if name == "." || name == ".." || strings.ContainsAny(name, "/%") {
					add("ERROR", where, "object name %q is invalid: may not be '.' or '..' or contain '/' or '%%'", name)
				}
			} else if len(name) > 253 || !dns1123Subdomain.MatchString(name) {
				add("ERROR", where, "object name %q is invalid: a DNS-1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'", name)
			}
			if removed, ok := removedAPIs[apiVersion+"/"+kind]; ok && minor >= removed {
				add("ERROR", where, "%s %s is not served from Kubernetes 1.%d (rendering for %s)", apiVersion, kind, removed, caps.KubeVersion.Version)
			} else if ok {
				add("WARNING", where, "%s %s is deprecated and removed in Kubernetes 1.%d", apiVersion, kind, removed)
			}
			if apiVersion != "" && kind != "" && !caps.APIVersions.Has(apiVersion+"/"+kind) && !caps.APIVersions.Has(apiVersion) {
				add("INFO", where, "%s is not served by the target cluster (install its CRD first)", apiVersion+"/"+kind)
			}
			labels, _ := md["labels"].(map[string]interface{})
			for _, l := range standardLabels {
				if _, ok := labels[l]; !ok {
					add("ERROR", where, "%s %s has no label %s", kind, name, l)
				}
			}
			if tmpl := podTemplate(obj); tmpl != nil {
				tl, _ := tmpl["labels"].(map[string]interface{})
				for _, l := range []string{"app.kubernetes.io/name", "app.kubernetes.io/instance"} {
					if _, ok := tl[l]; !ok {
						add("ERROR", where, "%s %s: pod template has no label %s", kind, name, l)
					}
				}
				spec, _ := obj["spec"].(map[string]interface{})
				if sel, _ := spec["selector"].(map[string]interface{}); sel == nil {
					add("ERROR", where, "%s %s: spec.selector is required", kind, name)
				}
			}
		}
	}
	return msgs
}

func podTemplate(obj map[string]interface{}) map[string]interface{} {
	switch obj["kind"] {
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job":
		spec, _ := obj["spec"].(map[string]interface{})
		t, _ := spec["template"].(map[string]interface{})
		md, _ := t["metadata"].(map[string]interface{})
		if md == nil {
			return map[string]interface{}{}
		}
		return md
	}
	return nil
}

func kubeMinor(v string) int {
	var major, minor int
	fmt.Sscanf(strings.TrimPrefix(v, "v"), "%d.%d", &major, &minor)
	return minor
}
