{{/* Names, labels and the scheduler configuration shared by the templates. */}}

{{- define "kube-mesos.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* <release>-<chart>, or the release name alone when it already contains the chart name; 63 characters at most. */}}
{{- define "kube-mesos.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "kube-mesos.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kube-mesos.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kube-mesos.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The recommended labels of every object, but app.kubernetes.io/component. */}}
{{- define "kube-mesos.baseLabels" -}}
helm.sh/chart: {{ include "kube-mesos.chart" . }}
{{ include "kube-mesos.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "kube-mesos.labels" -}}
{{ include "kube-mesos.baseLabels" . }}
app.kubernetes.io/component: scheduler
{{- end -}}

{{- define "kube-mesos.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "kube-mesos.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* repository@digest when a digest is given (the tag is then ignored), else repository:tag (tag defaults to appVersion). */}}
{{- define "kube-mesos.image" -}}
{{- with .Values.image.digest -}}
{{- if not (regexMatch "^[a-z0-9]+:[a-f0-9]{32,}$" (toString .)) -}}
{{- fail (printf "image.digest: %q is not a digest (expected sha256:<hex>)" (toString .)) -}}
{{- end -}}
{{- printf "%s@%s" $.Values.image.repository . -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion (toString .Values.image.tag)) -}}
{{- end -}}
{{- end -}}

{{/* Label matchers of this release's series in alert expressions. */}}
{{- define "kube-mesos.alertSelector" -}}
{{- default (printf "namespace=%q,job=%q" .Release.Namespace (include "kube-mesos.fullname" .)) .Values.metrics.prometheusRule.selector -}}
{{- end -}}

{{/* "true" or "false": leader election, on by default as soon as there is more than one replica. */}}
{{- define "kube-mesos.leaderElect" -}}
{{- $mode := toString .Values.leaderElection.enabled -}}
{{- if not (has $mode (list "auto" "true" "false")) -}}
{{- fail (printf "leaderElection.enabled: %q is not one of auto, true, false" $mode) -}}
{{- end -}}
{{- if and (gt (int .Values.replicas) 1) (eq $mode "false") -}}
{{- fail (printf "replicas: %d replicas need leader election (leaderElection.enabled: auto or true)" (int .Values.replicas)) -}}
{{- end -}}
{{- or (eq $mode "true") (and (eq $mode "auto") (gt (int .Values.replicas) 1)) -}}
{{- end -}}

{{/* The Secret holding the Mesos principal's secret, or "" when there is none. */}}
{{- define "kube-mesos.credentialsSecret" -}}
{{- with .Values.mesos.credentials -}}
{{- if .existingSecret -}}
{{- .existingSecret -}}
{{- else if .secret -}}
{{- printf "%s-mesos-credentials" (include "kube-mesos.fullname" $) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "kube-mesos.caConfigMap" -}}
{{- if .Values.mesos.ca.existingConfigMap -}}
{{- .Values.mesos.ca.existingConfigMap -}}
{{- else if .Values.mesos.ca.pem -}}
{{- printf "%s-config" (include "kube-mesos.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* The Mesos masters as a list: a zk:// URL may be given as a plain string. Bad entries fail the render. */}}
{{- define "kube-mesos.masters" -}}
{{- $masters := .Values.mesos.masters -}}
{{- if kindIs "string" $masters -}}
{{- $masters = list $masters -}}
{{- end -}}
{{- if not $masters -}}
{{- fail "mesos.masters: set at least one Mesos master (http://host:5050) or a zk://host:2181/mesos URL" -}}
{{- end -}}
{{- range $masters -}}
{{- if not (regexMatch "^(https?|zk)://[^/\\s]+" (toString .)) -}}
{{- fail (printf "mesos.masters: %q is not a Mesos master URL (expected http(s)://host:port or zk://host:port/path)" (toString .)) -}}
{{- end -}}
{{- if and (hasPrefix "zk://" (toString .)) (gt (len $masters) 1) -}}
{{- fail "mesos.masters: a zk:// URL must be the only entry" -}}
{{- end -}}
{{- end -}}
{{- toYaml $masters -}}
{{- end -}}

{{/* The scheduler's configuration file (docs/configuration.md): chart values, then extraConfig merged over them. */}}
{{- define "kube-mesos.config" -}}
{{- $v := .Values -}}
{{- $mesos := dict
  "masters" (include "kube-mesos.masters" . | fromYamlArray)
  "frameworkName" $v.mesos.frameworkName
  "roles" $v.mesos.roles
  "user" $v.mesos.user
  "failoverTimeout" $v.mesos.failoverTimeout
  "checkpoint" $v.mesos.checkpoint
  "contentType" $v.mesos.contentType
  "offerHold" $v.mesos.offerHold
  "refuseSeconds" (deepCopy $v.mesos.refuseSeconds)
  "webuiUrl" $v.mesos.webuiUrl
  "principal" $v.mesos.principal
-}}
{{- if include "kube-mesos.credentialsSecret" . -}}
{{- $_ := required "mesos.principal: set the principal the credentials belong to" $v.mesos.principal -}}
{{- $_ := set $mesos "secretFile" (printf "/etc/kube-mesos/mesos-credentials/%s" $v.mesos.credentials.key) -}}
{{- end -}}
{{- if include "kube-mesos.caConfigMap" . -}}
{{- $_ := set $mesos "caFile" (printf "/etc/kube-mesos/mesos-ca/%s" $v.mesos.ca.key) -}}
{{- end -}}
{{- $fullname := include "kube-mesos.fullname" . -}}
{{- $kube := dict
  "namespace" .Release.Namespace
  "schedulerName" $v.kube.schedulerName
  "qps" $v.kube.qps
  "burst" $v.kube.burst
  "leaderElect" (eq (include "kube-mesos.leaderElect" .) "true")
  "leaseName" (printf "%s-scheduler" $fullname | trunc 63 | trimSuffix "-")
  "leaseDuration" $v.leaderElection.leaseDuration
  "renewDeadline" $v.leaderElection.renewDeadline
  "retryPeriod" $v.leaderElection.retryPeriod
  "stateConfigMap" (printf "%s-state" $fullname | trunc 63 | trimSuffix "-")
-}}
{{- $ops := dict "listen" (printf "0.0.0.0:%d" (int $v.ops.port)) "logLevel" $v.ops.logLevel "secure" $v.ops.secure -}}
{{- $serve := dict "listen" "" "advertiseUrl" "" "kubeletPath" $v.delivery.serve.kubeletPath -}}
{{- if gt (int $v.delivery.serve.port) 0 -}}
{{- $_ := set $serve "listen" (printf "0.0.0.0:%d" (int $v.delivery.serve.port)) -}}
{{- $_ := set $serve "advertiseUrl" (default (printf "http://%s.%s.svc:%d" (include "kube-mesos.fullname" .) .Release.Namespace (int $v.delivery.serve.port)) $v.delivery.serve.advertiseUrl) -}}
{{- end -}}
{{- $image := $v.delivery.image -}}
{{- if and (eq $v.delivery.mode "image") (not $image) -}}
{{- $image = include "kube-mesos.image" . -}}
{{- end -}}
{{- $delivery := dict "mode" $v.delivery.mode "executorBundleUrl" $v.delivery.executorBundleUrl "kubeletUrl" $v.delivery.kubeletUrl "image" $image "serve" $serve -}}
{{- $config := dict
  "mesos" $mesos
  "kube" $kube
  "placement" (deepCopy $v.placement)
  "pool" (deepCopy $v.pool)
  "delivery" $delivery
  "failover" (deepCopy $v.failover)
  "ops" $ops
-}}
{{- toYaml (mergeOverwrite $config (deepCopy (default dict $v.extraConfig))) -}}
{{- end -}}

{{/* RBAC rules: exactly those of manifests/rbac.yaml (a test compares them). */}}
{{- define "kube-mesos.clusterRules" -}}
# informer (list/watch), reads, re-creating lost bare pods (create), kills (delete), annotations (patch)
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch", "create", "delete", "patch"]
- apiGroups: [""]
  resources: ["pods/binding"]
  verbs: ["create"]
# the PodScheduled and DisruptionTarget conditions, nominated node, a pod failed at admission
- apiGroups: [""]
  resources: ["pods/status"]
  verbs: ["patch"]
- apiGroups: [""]
  resources: ["pods/eviction"]
  verbs: ["create"]
# preemption picks victims that violate as few PodDisruptionBudgets as possible (informer)
- apiGroups: ["policy"]
  resources: ["poddisruptionbudgets"]
  verbs: ["list", "watch"]
# Scheduled / FailedScheduling, correlated: create once, then patch count
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
# kubelet Nodes: watch, cordon/uncordon, delete when an executor or agent is gone. The kubelets register and update
# their own Node, Lease and pods as system:node:<name> (Node authorizer, NodeRestriction): they need no RBAC here.
- apiGroups: [""]
  resources: ["nodes"]
  verbs: ["get", "list", "watch", "patch", "delete"]
# node identities (docs/executor.md): submit each executor's CSR, approve it as the kubelet client signer's approver
- apiGroups: ["certificates.k8s.io"]
  resources: ["certificatesigningrequests"]
  verbs: ["get", "list", "watch", "create"]
- apiGroups: ["certificates.k8s.io"]
  resources: ["certificatesigningrequests/approval"]
  verbs: ["update"]
# ... and the kubelets' serving certificates (their names all the Node's own)
- apiGroups: ["certificates.k8s.io"]
  resources: ["signers"]
  resourceNames: ["kubernetes.io/kube-apiserver-client-kubelet", "kubernetes.io/kubelet-serving"]
  verbs: ["approve"]
# Mesos volumes: claims, volumes and classes placement reads; the PersistentVolumes kube-mesos provisions
# and deletes; the claim's volume.kubernetes.io/selected-node, as kube-scheduler writes it (docs/stateful.md)
- apiGroups: [""]
  resources: ["persistentvolumeclaims"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: [""]
  resources: ["persistentvolumes"]
  verbs: ["get", "list", "watch", "create", "delete"]
- apiGroups: ["storage.k8s.io"]
  resources: ["storageclasses"]
  verbs: ["get", "list", "watch"]
{{- end -}}

{{/* http or https: the ops server's scheme (ops.secure). */}}
{{- define "kube-mesos.opsScheme" -}}
{{- if .Values.ops.secure }}HTTPS{{ else }}HTTP{{ end -}}
{{- end -}}

{{/* A probe with the ops server's scheme on its httpGet (unless it names one). Argument: (list $ probe). */}}
{{- define "kube-mesos.probe" -}}
{{- $probe := deepCopy (index . 1) -}}
{{- if $probe.httpGet -}}
{{- $_ := set $probe.httpGet "scheme" (default (include "kube-mesos.opsScheme" (index . 0)) $probe.httpGet.scheme) -}}
{{- end -}}
{{- toYaml $probe -}}
{{- end -}}

{{- define "kube-mesos.namespaceRules" -}}
# leader election
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  verbs: ["get", "create", "update"]
# state store (framework id): create once, then read and replace
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get", "create", "update"]
{{- end -}}
