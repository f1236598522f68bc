{{/* The release's base name: "sandwatch" for a release named sandwatch. */}}
{{- define "sandwatch.fullname" -}}
{{- if contains "sandwatch" .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-sandwatch" .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "component" "tier2"). */}}
{{- define "sandwatch.selector" -}}
app.kubernetes.io/name: sandwatch
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "sandwatch.labels" -}}
{{ include "sandwatch.selector" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: sandwatch
{{- end -}}

{{/* repository@digest when a digest is pinned, else repository:tag. */}}
{{- define "sandwatch.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end -}}

{{/* The pod-level security context every workload shares: the image's user. */}}
{{- define "sandwatch.podSecurityContext" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  runAsGroup: 10001
  fsGroup: 10001
  seccompProfile:
    type: RuntimeDefault
  {{- /* The agent reads group-readable host logs by group, never as root. */}}
  {{- if and (eq .Values.mode "agent") .Values.agent.kernelAudit.enabled .Values.agent.kernelAudit.supplementalGroups }}
  supplementalGroups: {{ toJson .Values.agent.kernelAudit.supplementalGroups }}
  {{- end }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "sandwatch.containerSecurityContext" -}}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities:
    drop: ["ALL"]
{{- end -}}

{{/* Listeners on the pod's interfaces (the configs default to loopback). */}}
{{- define "sandwatch.listenEnv" -}}
- name: SANDWATCH_OTLP_GRPC_ENDPOINT
  value: 0.0.0.0:4317
- name: SANDWATCH_OTLP_HTTP_ENDPOINT
  value: 0.0.0.0:4318
- name: SANDWATCH_HEALTH_ENDPOINT
  value: 0.0.0.0:13133
- name: SANDWATCH_DATA_DIR
  value: /var/lib/sandwatch
{{- end -}}

{{/* S3: an S3-compatible endpoint, and credentials from a Secret if it exists. */}}
{{- define "sandwatch.s3Env" -}}
{{- if .Values.s3.endpoint }}
- name: SANDWATCH_S3_ENDPOINT
  value: {{ .Values.s3.endpoint | quote }}
- name: SANDWATCH_S3_PATH_STYLE
  value: {{ .Values.s3.pathStyle | quote }}
{{- end }}
{{- end -}}

{{- define "sandwatch.s3EnvFrom" -}}
{{- if .Values.s3.secretName }}
envFrom:
  # AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, unless the node or the
  # service account (IRSA) provides credentials.
  - secretRef:
      name: {{ .Values.s3.secretName }}
      optional: true
{{- end }}
{{- end -}}

{{- define "sandwatch.probes" -}}
readinessProbe:
  httpGet:
    path: /
    port: 13133
livenessProbe:
  httpGet:
    path: /
    port: 13133
  initialDelaySeconds: 10
{{- end -}}

{{/*
The gateway's security (config/gateway-tier1.yaml, gateway-tier2.yaml are
secure by default): the names of the Secrets and the ConfigMap they read,
each the value or <fullname>-<suffix>.
*/}}
{{- define "sandwatch.tier1TLSSecret" -}}
{{ .Values.gateway.tls.tier1SecretName | default (printf "%s-tier1-tls" (include "sandwatch.fullname" .)) }}
{{- end -}}
{{- define "sandwatch.forwarderTLSSecret" -}}
{{ .Values.gateway.tls.forwarderSecretName | default (printf "%s-tier1-forwarder-tls" (include "sandwatch.fullname" .)) }}
{{- end -}}
{{- define "sandwatch.tier2TLSSecret" -}}
{{ .Values.gateway.tls.tier2SecretName | default (printf "%s-tier2-tls" (include "sandwatch.fullname" .)) }}
{{- end -}}
{{- define "sandwatch.tier2ServerName" -}}
{{ .Values.gateway.tls.tier2ServerName | default (printf "%s-tier2" (include "sandwatch.fullname" .)) }}
{{- end -}}
{{- define "sandwatch.forwarderName" -}}
{{ .Values.gateway.tls.forwarderName | default (printf "%s-tier1" (include "sandwatch.fullname" .)) }}
{{- end -}}
{{- define "sandwatch.authSecret" -}}
{{ .Values.gateway.auth.secretName | default (printf "%s-gateway-auth" (include "sandwatch.fullname" .)) }}
{{- end -}}
{{- define "sandwatch.identitiesConfigMap" -}}
{{ .Values.gateway.identity.existingConfigMap | default (printf "%s-identities" (include "sandwatch.fullname" .)) }}
{{- end -}}

{{/*
Where the pods find them: the configs' own default paths, set explicitly so
the link between a variable and its mount is written here. Mounted whole (no
subPath): the kubelet's updates reach the files the collector re-reads.
*/}}
{{- define "sandwatch.securityEnv" -}}
{{- $root := .root -}}
- name: SANDWATCH_TLS_DIR
  value: /etc/sandwatch/tls
{{- if eq .component "tier1" }}
- name: SANDWATCH_FORWARDER_TLS_DIR
  value: /etc/sandwatch/forwarder-tls
- name: SANDWATCH_TIER2_SERVER_NAME
  value: {{ include "sandwatch.tier2ServerName" $root | quote }}
{{- else }}
- name: SANDWATCH_FORWARDER_NAME
  value: {{ include "sandwatch.forwarderName" $root | quote }}
- name: SANDWATCH_QUERY_TOKENS_FILE
  value: /etc/sandwatch/auth/query-tokens
{{- end }}
- name: SANDWATCH_TOKENS_FILE
  value: /etc/sandwatch/auth/tokens
- name: SANDWATCH_TLS_RELOAD_INTERVAL
  value: {{ $root.Values.gateway.tls.reloadInterval | quote }}
- name: SANDWATCH_IDENTITY_BINDINGS
  value: /etc/sandwatch/identities/identities.yaml
- name: SANDWATCH_IDENTITY_RELOAD_INTERVAL
  value: {{ $root.Values.gateway.identity.reloadInterval | quote }}
{{- end -}}

{{- define "sandwatch.securityMounts" -}}
- name: tls
  mountPath: /etc/sandwatch/tls
  readOnly: true
{{- if eq .component "tier1" }}
- name: forwarder-tls
  mountPath: /etc/sandwatch/forwarder-tls
  readOnly: true
{{- end }}
- name: auth
  mountPath: /etc/sandwatch/auth
  readOnly: true
- name: identities
  mountPath: /etc/sandwatch/identities
  readOnly: true
{{- end -}}

{{- define "sandwatch.securityVolumes" -}}
{{- $root := .root -}}
# Not optional: without its certificates, tokens and bindings a secure
# gateway cannot start, so the pod waits for them. cert-manager
# Certificates write tls.crt, tls.key and ca.crt; the README has the set-up.
- name: tls
  secret:
    secretName: {{ include (printf "sandwatch.%sTLSSecret" .component) $root }}
{{- if eq .component "tier1" }}
- name: forwarder-tls
  secret:
    secretName: {{ include "sandwatch.forwarderTLSSecret" $root }}
{{- end }}
- name: auth
  secret:
    secretName: {{ include "sandwatch.authSecret" $root }}
# Not in the config checksum: an edit is re-read live, no restart.
- name: identities
  configMap:
    name: {{ include "sandwatch.identitiesConfigMap" $root }}
{{- end -}}

{{- define "sandwatch.extraEnv" -}}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
The tier-1 config: config/gateway-tier1.yaml with its static resolver
(a loopback list for local runs) replaced by the k8s or dns resolver on the
tier-2 headless Service. A config whose static resolver no longer has the
shape below fails the render, rather than shipping a loopback list.
*/}}
{{- define "sandwatch.tier1Config" -}}
{{- if .Values.gateway.tier1.config -}}
{{ .Values.gateway.tier1.config }}
{{- else -}}
{{- $cfg := .Files.Get "files/gateway-tier1.yaml" -}}
{{- $re := "(?m)^      static:\n        hostnames: .*\n" -}}
{{- if not (regexMatch $re $cfg) -}}
{{- fail "files/gateway-tier1.yaml (config/gateway-tier1.yaml): no `static: hostnames:` resolver at exporters.load_balancing.resolver to replace; update templates/_helpers.tpl" -}}
{{- end -}}
{{- $svc := printf "%s-tier2" (include "sandwatch.fullname" .) -}}
{{- $resolver := "" -}}
{{- if eq .Values.gateway.tier1.resolver "k8s" -}}
{{- $resolver = printf "      k8s:\n        service: %s.%s\n        ports: [4317]\n" $svc .Release.Namespace -}}
{{- else -}}
{{- $resolver = printf "      dns:\n        hostname: %s.%s.svc.cluster.local\n        port: \"4317\"\n        interval: 5s\n" $svc .Release.Namespace -}}
{{- end -}}
{{ regexReplaceAll $re $cfg $resolver }}
{{- end -}}
{{- end -}}

{{/*
The kernel audit sources the agent mounts: the enabled ones, by name, in
name order (a stable rendering).
*/}}
{{- define "sandwatch.kernelAuditSources" -}}
{{- $out := dict -}}
{{- if .Values.agent.kernelAudit.enabled -}}
{{- range $name, $s := .Values.agent.kernelAudit.sources -}}
{{- if $s.enabled -}}{{- $_ := set $out $name $s -}}{{- end -}}
{{- end -}}
{{- if not $out -}}
{{- fail "agent.kernelAudit.enabled: no source enabled (agent.kernelAudit.sources.<name>.enabled)" -}}
{{- end -}}
{{- end -}}
{{ toJson $out }}
{{- end -}}

{{/*
The include glob of file_log/kernel_audit: each source's file under its
mount, alternatives in doublestar's {a,b} form when there are several.
*/}}
{{- define "sandwatch.kernelAuditGlob" -}}
{{- $files := list -}}
{{- range $name, $s := include "sandwatch.kernelAuditSources" . | fromJson -}}
{{- $files = append $files (printf "%s/%s" $name $s.file) -}}
{{- end -}}
{{- if eq (len $files) 1 -}}
/host/kernel-audit/{{ first $files }}
{{- else -}}
/host/kernel-audit/{{ "{" }}{{ join "," $files }}{{ "}" }}
{{- end -}}
{{- end -}}
