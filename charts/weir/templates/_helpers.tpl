{{/* Every object is named after the release: `helm install flux-operator ...` gives
svc/flux-operator, as the Flux Operator's chart does. */}}
{{- define "weir.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "weir.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "weir.selectorLabels" -}}
app.kubernetes.io/name: {{ include "weir.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "weir.labels" -}}
{{ include "weir.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: weir
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "weir.annotations" -}}
{{- with .Values.commonAnnotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "weir.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "weir.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "weir.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "weir.webConfigSecret" -}}
{{- if .Values.web.configSecretName -}}
{{- .Values.web.configSecretName -}}
{{- else if .Values.web.config -}}
{{- printf "%s-web-config" (include "weir.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* The Host names the web UI answers to besides IP addresses and localhost (passed as
--web-allowed-hosts): web.allowedHosts, the ingress hosts and the HTTPRoute hostnames. */}}
{{- define "weir.webHosts" -}}
{{- $hosts := list -}}
{{- range .Values.web.allowedHosts }}{{ $hosts = append $hosts . }}{{ end -}}
{{- if .Values.web.ingress.enabled -}}
{{- range .Values.web.ingress.hosts }}{{ $hosts = append $hosts .host }}{{ end -}}
{{- end -}}
{{- if .Values.web.httpRoute.enabled -}}
{{- range .Values.web.httpRoute.hostnames }}{{ $hosts = append $hosts . }}{{ end -}}
{{- end -}}
{{- join "," (uniq $hosts) -}}
{{- end -}}
