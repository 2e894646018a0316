{{- define "blockscout.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 55 | trimSuffix "-" -}}
{{- end -}}

{{- define "blockscout.selectorLabels" -}}
app.kubernetes.io/name: blockscout
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "blockscout.labels" -}}
{{ include "blockscout.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: blockscout
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "blockscout.postgresHost" -}}
{{- printf "%s-postgres" (include "blockscout.fullname" .) -}}
{{- end -}}

{{- define "blockscout.postgresSecret" -}}
{{- default (printf "%s-postgres" (include "blockscout.fullname" .)) .Values.postgres.existingSecret -}}
{{- end -}}

{{/* A random value generated once and read back from the live Secret afterwards. */}}
{{- define "blockscout.keptValue" -}}
{{- $live := lookup "v1" "Secret" .ctx.Release.Namespace .secret -}}
{{- if and $live $live.data (index $live.data .key) -}}
{{- index $live.data .key -}}
{{- else -}}
{{- randAlphaNum .length | b64enc -}}
{{- end -}}
{{- end -}}
