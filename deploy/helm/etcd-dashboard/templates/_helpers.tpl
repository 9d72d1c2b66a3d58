{{/* Names, labels, and the rules that tie values together (the schema checks each value; these check combinations). */}}

{{- define "etcd-dashboard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release name alone when it already says etcd-dashboard, else <release>-etcd-dashboard; 63 characters at most. */}}
{{- define "etcd-dashboard.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "etcd-dashboard.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "etcd-dashboard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "etcd-dashboard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "etcd-dashboard.labels" -}}
helm.sh/chart: {{ include "etcd-dashboard.chart" . }}
{{ include "etcd-dashboard.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "etcd-dashboard.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "etcd-dashboard.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "etcd-dashboard.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{- define "etcd-dashboard.clientSecretName" -}}
{{- default (printf "%s-etcd-client" (include "etcd-dashboard.fullname" .)) .Values.etcd.clientCertificate.secret.name }}
{{- end }}

{{/*
Where the configuration comes from: "existing" (the user's ConfigMap or Secret), "rendered" (a ConfigMap made from
config.file and config.cluster, whenever etcd.endpoints are listed) or "env" (etcdctl's variables: only in
controlPlane mode without endpoints, where the endpoint is the node's IP, which a file cannot name). Fails with the
value to change when the combination cannot work.
*/}}
{{- define "etcd-dashboard.configMode" -}}
{{- $c := .Values.config }}
{{- $source := .Values.etcd.clientCertificate.source }}
{{- $clusterSettings := or $c.cluster.name $c.cluster.metricsUrls $c.cluster.snapshots $c.cluster.maintenance $c.cluster.alerts (ne $c.cluster.id "default") }}
{{- if and $c.existingConfigMap $c.existingSecret }}
{{- fail "config: set existingConfigMap or existingSecret, not both" }}
{{- else if or $c.existingConfigMap $c.existingSecret }}
{{- if .Values.etcd.endpoints }}
{{- fail "etcd.endpoints: your config file lists the endpoints; leave etcd.endpoints empty with config.existingConfigMap or config.existingSecret" }}
{{- end }}
{{- if or $c.file $clusterSettings }}
{{- fail "config.file and config.cluster are rendered into a file of the chart's own; with config.existingConfigMap or config.existingSecret, put those settings in your file" }}
{{- end }}
{{- "existing" }}
{{- else if .Values.etcd.endpoints }}
{{- "rendered" }}
{{- else if ne $source "controlPlane" }}
{{- fail (printf "etcd.endpoints: list the members' client URLs (https://10.0.0.11:2379, ...); only the controlPlane certificate source can default to the node's own member, and this is %q" $source) }}
{{- else if or $c.file $clusterSettings }}
{{- fail "config.file and config.cluster need a config file, and a config file cannot name the node's IP: list the members' client URLs in etcd.endpoints" }}
{{- else }}
{{- "env" }}
{{- end }}
{{- end }}

{{/* The ETCD_DASHBOARD_CONFIG file made from values: the cluster's endpoints and certificate paths are the chart's. */}}
{{- define "etcd-dashboard.configFile" -}}
{{- $c := .Values.config.cluster }}
{{- $cluster := dict "id" $c.id "endpoints" .Values.etcd.endpoints }}
{{- with $c.name }}{{ $_ := set $cluster "name" . }}{{ end }}
{{- if ne .Values.etcd.clientCertificate.source "none" }}
{{- $_ := set $cluster "tls" (dict "ca" "/etc/etcd-dashboard/pki/ca.crt" "cert" "/etc/etcd-dashboard/pki/tls.crt" "key" "/etc/etcd-dashboard/pki/tls.key") }}
{{- end }}
{{- with $c.metricsUrls }}{{ $_ := set $cluster "metricsUrls" . }}{{ end }}
{{- with $c.snapshots }}
{{- $snapshots := omit . "offsite" }}
{{- with .offsite }}
{{- /* The secret key stays in its Secret, mounted as a file: the ConfigMap names the file, never the key. */}}
{{- $offsite := omit . "secretAccessKeySecret" }}
{{- $_ := set $offsite "secretAccessKeyFile" (printf "/etc/etcd-dashboard/s3/%s" .secretAccessKeySecret.key) }}
{{- $_ := set $snapshots "offsite" $offsite }}
{{- end }}
{{- $_ := set $cluster "snapshots" $snapshots }}
{{- end }}
{{- with $c.maintenance }}{{ $_ := set $cluster "maintenance" . }}{{ end }}
{{- with $c.alerts }}{{ $_ := set $cluster "alerts" . }}{{ end }}
{{- toYaml (merge (dict "clusters" (list $cluster)) (deepCopy .Values.config.file)) }}
{{- end }}
