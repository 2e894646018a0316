{{- define "lighthouse.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "lighthouse.selectorLabels" -}}
app.kubernetes.io/name: lighthouse
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "lighthouse.labels" -}}
{{ include "lighthouse.selectorLabels" . }}
app.kubernetes.io/version: {{ default .Chart.AppVersion .Values.image.tag | quote }}
app.kubernetes.io/component: consensus-client
app.kubernetes.io/part-of: ethereum
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}
