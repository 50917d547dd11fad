{{- define "sglang-router.name" -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "sglang-router.labels" -}}
app.kubernetes.io/name: sglang-router
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* selectorArgs renders "--flag k=v k=v" as separate args. */}}
{{- define "sglang-router.selectorArgs" -}}
{{- $flag := index . 0 -}}
{{- $sel := index . 1 -}}
{{- if $sel }}
- {{ $flag }}
{{- range $k, $v := $sel }}
- {{ printf "%s=%s" $k $v | quote }}
{{- end }}
{{- end }}
{{- end -}}
