{{/* Name of every object: the release name unless overridden. */}}
{{- define "erigon.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "erigon.selectorLabels" -}}
app.kubernetes.io/name: erigon
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "erigon.labels" -}}
{{ include "erigon.selectorLabels" . }}
app.kubernetes.io/version: {{ default .Chart.AppVersion .Values.image.tag | quote }}
app.kubernetes.io/component: execution-client
app.kubernetes.io/part-of: ethereum
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "erigon.jwtSecret" -}}
{{- default (printf "%s-jwt" (include "erigon.fullname" .)) .Values.jwt.existingSecret -}}
{{- end -}}

{{- define "erigon.serviceAccount" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "erigon.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}
