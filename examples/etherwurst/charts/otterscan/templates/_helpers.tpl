{{- define "otterscan.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "otterscan.selectorLabels" -}}
app.kubernetes.io/name: otterscan
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "otterscan.labels" -}}
{{ include "otterscan.selectorLabels" . }}
app.kubernetes.io/version: {{ default .Chart.AppVersion .Values.image.tag | quote }}
app.kubernetes.io/component: explorer
app.kubernetes.io/part-of: ethereum
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}
