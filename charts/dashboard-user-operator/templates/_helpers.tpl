{{/* Chart name, overridable. */}}
{{- define "duo.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full resource name: release name alone when it already contains the chart name. */}}
{{- define "duo.fullname" -}}
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

{{- define "duo.selectorLabels" -}}
app.kubernetes.io/name: {{ include "duo.name" . | quote }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end }}

{{- define "duo.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "duo.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: dashboard-user-operator
{{- end }}

{{- define "duo.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "duo.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* "true" when leader election runs: asked for, or needed because several pods run. */}}
{{- define "duo.leaderElect" -}}
{{- if or .Values.leaderElection.enabled (gt (int .Values.replicas) 1) }}true{{- end }}
{{- end }}

{{- define "duo.leaseName" -}}
{{- default (include "duo.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{/* "true" when the metrics Service is rendered (a ServiceMonitor needs it). */}}
{{- define "duo.metricsService" -}}
{{- if or .Values.metrics.service.enabled .Values.metrics.serviceMonitor.enabled }}true{{- end }}
{{- end }}

{{/*
Namespaces that get a Role in namespaced mode: the watched ones plus the release namespace
(the operator reads cluster connections' Secrets and writes Events there), without duplicates.
*/}}
{{- define "duo.roleNamespaces" -}}
{{- $all := append (.Values.watchNamespaces | default list) .Release.Namespace }}
{{- join "," (uniq $all) }}
{{- end }}

{{- define "duo.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}
