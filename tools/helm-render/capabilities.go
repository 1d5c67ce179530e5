package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	yaml2 "gopkg.in/yaml.v2"
)

// VersionSet is .Capabilities.APIVersions: "group/version" and "group/version/Kind" entries.
type VersionSet []string

// Has reports whether the set contains an API version ("policy/v1") or a version and kind ("policy/v1/PodDisruptionBudget").
func (v VersionSet) Has(apiVersion string) bool {
	for _, x := range v {
		if x == apiVersion {
			return true
		}
	}
	return false
}

// KubeVersion is .Capabilities.KubeVersion.
type KubeVersion struct {
	Version string
	Major   string
	Minor   string
}

func (k KubeVersion) String() string { return k.Version }

// GitVersion is the deprecated alias helm still offers.
func (k KubeVersion) GitVersion() string { return k.Version }

// Capabilities is .Capabilities.
type Capabilities struct {
	APIVersions VersionSet
	KubeVersion KubeVersion
	HelmVersion map[string]string
}

// baseAPIVersions stands in for helm's built-in set when no cluster is asked: the core APIs of a current cluster.
var baseAPIVersions = []string{
	"v1", "v1/ConfigMap", "v1/Namespace", "v1/Pod", "v1/Secret", "v1/Service", "v1/ServiceAccount", "v1/Event", "v1/Node",
	"apps/v1", "apps/v1/Deployment", "apps/v1/StatefulSet", "apps/v1/DaemonSet", "apps/v1/ReplicaSet",
	"batch/v1", "batch/v1/Job", "batch/v1/CronJob",
	"rbac.authorization.k8s.io/v1", "rbac.authorization.k8s.io/v1/ClusterRole", "rbac.authorization.k8s.io/v1/ClusterRoleBinding",
	"rbac.authorization.k8s.io/v1/Role", "rbac.authorization.k8s.io/v1/RoleBinding",
	"coordination.k8s.io/v1", "coordination.k8s.io/v1/Lease",
	"networking.k8s.io/v1", "networking.k8s.io/v1/Ingress", "networking.k8s.io/v1/NetworkPolicy",
	"autoscaling/v2", "autoscaling/v2/HorizontalPodAutoscaler",
	"apiextensions.k8s.io/v1", "apiextensions.k8s.io/v1/CustomResourceDefinition",
}

func capabilities(o *options) (*Capabilities, error) {
	caps := &Capabilities{HelmVersion: map[string]string{"Version": "v3.14.0"}}
	if o.kubeconfig != "" {
		versions, kv, err := discover(o.kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("reading capabilities from %s: %v", o.kubeconfig, err)
		}
		caps.APIVersions, caps.KubeVersion = versions, kv
	} else {
		kv, err := parseKubeVersion(o.kubeVersion)
		if err != nil {
			return nil, err
		}
		caps.APIVersions, caps.KubeVersion = defaultAPIVersions(kv), kv
	}
	caps.APIVersions = append(caps.APIVersions, o.apiVersions...)
	return caps, nil
}

// defaultAPIVersions is baseAPIVersions plus the versions that moved with --kube-version (PodDisruptionBudget: 1.21).
func defaultAPIVersions(kv KubeVersion) VersionSet {
	set := append(VersionSet{}, baseAPIVersions...)
	minor, _ := strconv.Atoi(kv.Minor)
	if kv.Major == "1" && minor < 21 {
		return append(set, "policy/v1beta1", "policy/v1beta1/PodDisruptionBudget")
	}
	if kv.Major == "1" && minor < 25 {
		set = append(set, "policy/v1beta1", "policy/v1beta1/PodDisruptionBudget")
	}
	return append(set, "policy/v1", "policy/v1/PodDisruptionBudget")
}

func parseKubeVersion(s string) (KubeVersion, error) {
	v := strings.TrimPrefix(s, "v")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return KubeVersion{}, fmt.Errorf("--kube-version %q: expected v1.20 or 1.20.0", s)
	}
	if len(parts) == 2 {
		v += ".0"
	}
	return KubeVersion{Version: "v" + v, Major: parts[0], Minor: parts[1]}, nil
}

type kubeconfigFile struct {
	CurrentContext string `yaml:"current-context"`
	Contexts       []struct {
		Name    string `yaml:"name"`
		Context struct {
			Cluster string `yaml:"cluster"`
			User    string `yaml:"user"`
		} `yaml:"context"`
	} `yaml:"contexts"`
	Clusters []struct {
		Name    string `yaml:"name"`
		Cluster struct {
			Server                   string `yaml:"server"`
			CertificateAuthority     string `yaml:"certificate-authority"`
			CertificateAuthorityData string `yaml:"certificate-authority-data"`
			InsecureSkipTLSVerify    bool   `yaml:"insecure-skip-tls-verify"`
		} `yaml:"cluster"`
	} `yaml:"clusters"`
	Users []struct {
		Name string `yaml:"name"`
		User struct {
			Token                 string `yaml:"token"`
			TokenFile             string `yaml:"tokenFile"`
			ClientCertificate     string `yaml:"client-certificate"`
			ClientCertificateData string `yaml:"client-certificate-data"`
			ClientKey             string `yaml:"client-key"`
			ClientKeyData         string `yaml:"client-key-data"`
			Username              string `yaml:"username"`
			Password              string `yaml:"password"`
		} `yaml:"user"`
	} `yaml:"users"`
}

type apiClient struct {
	server string
	http   *http.Client
	auth   func(*http.Request)
}

func newAPIClient(kubeconfigPath string) (*apiClient, error) {
	b, err := os.ReadFile(kubeconfigPath)
	if err != nil {
		return nil, err
	}
	var kc kubeconfigFile
	if err := yaml2.Unmarshal(b, &kc); err != nil {
		return nil, err
	}
	base := filepath.Dir(kubeconfigPath)
	rel := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(base, p)
	}
	var clusterName, userName string
	for _, c := range kc.Contexts {
		if c.Name == kc.CurrentContext {
			clusterName, userName = c.Context.Cluster, c.Context.User
		}
	}
	if clusterName == "" {
		return nil, fmt.Errorf("no current context %q", kc.CurrentContext)
	}
	c := &apiClient{auth: func(*http.Request) {}}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	found := false
	for _, cl := range kc.Clusters {
		if cl.Name != clusterName {
			continue
		}
		found = true
		c.server = strings.TrimSuffix(cl.Cluster.Server, "/")
		tlsConfig.InsecureSkipVerify = cl.Cluster.InsecureSkipTLSVerify
		pem, err := dataOrFile(cl.Cluster.CertificateAuthorityData, rel(cl.Cluster.CertificateAuthority))
		if err != nil {
			return nil, err
		}
		if pem != nil {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, errors.New("certificate authority: no PEM certificates")
			}
			tlsConfig.RootCAs = pool
		}
	}
	if !found {
		return nil, fmt.Errorf("no cluster %q", clusterName)
	}
	for _, u := range kc.Users {
		if u.Name != userName {
			continue
		}
		cert, err := dataOrFile(u.User.ClientCertificateData, rel(u.User.ClientCertificate))
		if err != nil {
			return nil, err
		}
		key, err := dataOrFile(u.User.ClientKeyData, rel(u.User.ClientKey))
		if err != nil {
			return nil, err
		}
		if cert != nil && key != nil {
			pair, err := tls.X509KeyPair(cert, key)
			if err != nil {
				return nil, err
			}
			tlsConfig.Certificates = []tls.Certificate{pair}
		}
		token := u.User.Token
		if token == "" && u.User.TokenFile != "" {
			t, err := os.ReadFile(rel(u.User.TokenFile))
			if err != nil {
				return nil, err
			}
			token = strings.TrimSpace(string(t))
		}
		user, pass := u.User.Username, u.User.Password
		c.auth = func(r *http.Request) {
			if token != "" {
				r.Header.Set("Authorization", "Bearer "+token)
			} else if user != "" {
				r.SetBasicAuth(user, pass)
			}
		}
	}
	c.http = &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsConfig}}
	return c, nil
}

func dataOrFile(data, file string) ([]byte, error) {
	if data != "" {
		return base64.StdEncoding.DecodeString(data)
	}
	if file != "" {
		return os.ReadFile(file)
	}
	return nil, nil
}

func (c *apiClient) get(p string, into interface{}) error {
	req, err := http.NewRequest(http.MethodGet, c.server+p, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	c.auth(req)
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", p, res.Status)
	}
	return json.Unmarshal(body, into)
}

type resourceList struct {
	Resources []struct {
		Name string `json:"name"`
		Kind string `json:"kind"`
	} `json:"resources"`
}

// discover lists the cluster's API versions and kinds as helm's GetVersionSet does (ServerGroupsAndResources).
func discover(kubeconfigPath string) (VersionSet, KubeVersion, error) {
	c, err := newAPIClient(kubeconfigPath)
	if err != nil {
		return nil, KubeVersion{}, err
	}
	var version struct {
		Major      string `json:"major"`
		Minor      string `json:"minor"`
		GitVersion string `json:"gitVersion"`
	}
	if err := c.get("/version", &version); err != nil {
		return nil, KubeVersion{}, err
	}
	kv := KubeVersion{Version: version.GitVersion, Major: version.Major, Minor: strings.TrimSuffix(version.Minor, "+")}
	if i := strings.IndexAny(kv.Version, "-+"); i > 0 {
		kv.Version = kv.Version[:i]
	}
	var core struct {
		Versions []string `json:"versions"`
	}
	if err := c.get("/api", &core); err != nil {
		return nil, kv, err
	}
	var groups struct {
		Groups []struct {
			Versions []struct {
				GroupVersion string `json:"groupVersion"`
			} `json:"versions"`
		} `json:"groups"`
	}
	if err := c.get("/apis", &groups); err != nil {
		return nil, kv, err
	}
	type gvPath struct{ gv, path string }
	var gvs []gvPath
	for _, v := range core.Versions {
		gvs = append(gvs, gvPath{v, "/api/" + v})
	}
	for _, g := range groups.Groups {
		for _, v := range g.Versions {
			gvs = append(gvs, gvPath{v.GroupVersion, "/apis/" + v.GroupVersion})
		}
	}
	seen := map[string]bool{}
	var set VersionSet
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			set = append(set, s)
		}
	}
	for _, gv := range gvs {
		add(gv.gv)
		var rl resourceList
		if err := c.get(gv.path, &rl); err != nil {
			return nil, kv, err
		}
		for _, r := range rl.Resources {
			if !strings.Contains(r.Name, "/") {
				add(gv.gv + "/" + r.Kind)
			}
		}
	}
	sort.Strings(set)
	return set, kv, nil
}
