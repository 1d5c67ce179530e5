// Command helm-render renders a Helm chart the way `helm template` does, for the features kube-mesos' chart uses:
// sprig plus helm's own functions, values merged from values.yaml, -f files and --set, .Release/.Chart/.Capabilities,
// partials (`_*.tpl`), NOTES.txt rendered but kept out of the output, manifests sorted in helm's install order.
// It exists because no helm binary can be installed where the tests run.
package main

import (
	"fmt"
	"os"
	"strings"
)

const usage = `Usage: helm-render [NAME] CHART [flags]

Renders CHART (a chart directory) to stdout as "helm template NAME CHART" would.

Flags:
  -f, --values FILE         values file merged over the chart's values.yaml (repeatable; later wins)
      --set a.b=c[,x=y]     set values on the command line (repeatable; helm syntax: a.b[0]=c, {a,b} lists, \, and \.)
      --set-string a.b=c    like --set, but every value stays a string
  -n, --namespace NS        .Release.Namespace (default "default")
      --name NAME           .Release.Name (default "release-name", or the first positional argument)
  -a, --api-versions GV     add to .Capabilities.APIVersions: "group/version" or "group/version/Kind" (repeatable)
      --kube-version V      .Capabilities.KubeVersion (default v1.29.0)
      --kubeconfig FILE     read .Capabilities (KubeVersion, APIVersions) from that cluster's discovery API instead
  -s, --show-only PATH      only output the manifests of this template, e.g. templates/deployment.yaml (repeatable)
      --notes               also render templates/NOTES.txt and print it to stderr
      --lint                instead of the manifests, print what "helm lint" would find (Chart.yaml fields, values
                            against values.schema.json, template output, removed API versions) plus the standard
                            app.kubernetes.io/* labels; exit 1 on any [ERROR]
  -h, --help                this help
`

type options struct {
	chartDir    string
	releaseName string
	namespace   string
	valueFiles  []string
	apiVersions []string
	kubeVersion string
	kubeconfig  string
	showOnly    []string
	notes       bool
	lint        bool
	orderedSets []setArg
}

type setArg struct {
	expr     string
	asString bool
}

func parseArgs(args []string) (*options, error) {
	o := &options{namespace: "default", kubeVersion: "v1.29.0"}
	var positionals []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" {
			positionals = append(positionals, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		takeValue := func() (string, error) {
			if hasValue {
				return value, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("flag %s needs a value", a)
			}
			i++
			return args[i], nil
		}
		var err error
		var v string
		switch name {
		case "h", "help":
			return nil, errHelp
		case "notes":
			o.notes = true
		case "lint":
			o.lint = true
		case "f", "values":
			v, err = takeValue()
			o.valueFiles = append(o.valueFiles, v)
		case "set":
			v, err = takeValue()
			o.orderedSets = append(o.orderedSets, setArg{expr: v})
		case "set-string":
			v, err = takeValue()
			o.orderedSets = append(o.orderedSets, setArg{expr: v, asString: true})
		case "n", "namespace":
			o.namespace, err = takeValue()
		case "name":
			o.releaseName, err = takeValue()
		case "a", "api-versions":
			v, err = takeValue()
			for _, gv := range strings.Split(v, ",") {
				if gv = strings.TrimSpace(gv); gv != "" {
					o.apiVersions = append(o.apiVersions, gv)
				}
			}
		case "kube-version":
			o.kubeVersion, err = takeValue()
		case "kubeconfig":
			o.kubeconfig, err = takeValue()
		case "s", "show-only":
			v, err = takeValue()
			o.showOnly = append(o.showOnly, v)
		default:
			return nil, fmt.Errorf("unknown flag %s", a)
		}
		if err != nil {
			return nil, err
		}
	}
	switch len(positionals) {
	case 1:
		o.chartDir = positionals[0]
	case 2:
		o.releaseName, o.chartDir = positionals[0], positionals[1]
	default:
		return nil, fmt.Errorf("expected [NAME] CHART, got %d arguments", len(positionals))
	}
	if o.releaseName == "" {
		o.releaseName = "release-name"
	}
	return o, nil
}

type helpError struct{}

func (helpError) Error() string { return "help" }

var errHelp = helpError{}

func main() {
	o, err := parseArgs(os.Args[1:])
	if err == errHelp {
		fmt.Print(usage)
		return
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "helm-render: %v\n\n%s", err, usage)
		os.Exit(2)
	}
	out, notes, err := run(o)
	if err == errLintFailed {
		fmt.Print(out)
		os.Exit(1)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		os.Exit(1)
	}
	fmt.Print(out)
	if o.notes && notes != "" {
		fmt.Fprint(os.Stderr, notes)
	}
}
