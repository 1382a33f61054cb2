{{/* The chart's name. */}}
{{- define "kms.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: the release name if it contains the chart's. */}}
{{- define "kms.fullname" -}}
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

{{- define "kms.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "kms.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kms.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "kms.labels" -}}
helm.sh/chart: {{ include "kms.chart" . }}
{{ include "kms.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: scheduler
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Labels of the `helm test` objects: not the selector labels, so neither the
Deployment's ReplicaSet (which would adopt the test pod), the Service nor
the PodDisruptionBudget selects the test pod.
*/}}
{{- define "kms.testLabels" -}}
helm.sh/chart: {{ include "kms.chart" . }}
app.kubernetes.io/part-of: {{ include "kms.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: test
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "kms.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "kms.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "kms.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "kms.leaseName" -}}
{{- default (include "kms.fullname" .) .Values.leaderElection.resourceName }}
{{- end }}

{{- define "kms.leaseNamespace" -}}
{{- default .Release.Namespace .Values.leaderElection.resourceNamespace }}
{{- end }}

{{/* "true" when the offers come from a Mesos master (mode: mesos). */}}
{{- define "kms.mesosMode" -}}
{{- if eq .Values.mode "mesos" }}true{{ end }}
{{- end }}

{{/*
Refuses Mesos values in embedded mode: the chart used to ignore them, so a
master set without mode: mesos ran the embedded allocator where a master
was meant. (values.schema.json checks the reverse: mode: mesos needs
mesos.master.)
*/}}
{{- define "kms.checkMode" -}}
{{- $m := .Values.mesos }}
{{- if include "kms.mesosMode" . }}
{{- $_ := required "mesos.master is required with mode: mesos" $m.master }}
{{- else }}
{{- $set := list }}
{{- if $m.master }}{{ $set = append $set "mesos.master" }}{{ end }}
{{- if $m.principal }}{{ $set = append $set "mesos.principal" }}{{ end }}
{{- if $m.credentials.existingSecret }}{{ $set = append $set "mesos.credentials.existingSecret" }}{{ end }}
{{- if $m.credentials.insecureSendInClear }}{{ $set = append $set "mesos.credentials.insecureSendInClear" }}{{ end }}
{{- if $m.tls.caSecret }}{{ $set = append $set "mesos.tls.caSecret" }}{{ end }}
{{- if $m.tls.caConfigMap }}{{ $set = append $set "mesos.tls.caConfigMap" }}{{ end }}
{{- if $m.tls.insecureSkipTLSVerify }}{{ $set = append $set "mesos.tls.insecureSkipTLSVerify" }}{{ end }}
{{- if $m.frameworkIDConfigMap }}{{ $set = append $set "mesos.frameworkIDConfigMap" }}{{ end }}
{{- if $m.extraConfig }}{{ $set = append $set "mesos.extraConfig" }}{{ end }}
{{- if $set }}
{{- fail (printf "%s: only used with mode: mesos, and mode is %q (the embedded allocator): set mode: mesos to use a Mesos master, or unset them" (join ", " $set) .Values.mode) }}
{{- end }}
{{- end }}
{{- end }}

{{/* namespace/name of the framework ID ConfigMap (Mesos mode). */}}
{{- define "kms.frameworkIDConfigMap" -}}
{{- default (printf "%s/%s-framework" .Release.Namespace (include "kms.fullname" .)) .Values.mesos.frameworkIDConfigMap }}
{{- end }}

{{/* Where the Mesos secret and CA are mounted. */}}
{{- define "kms.mesosSecretDir" -}}/etc/kube-mesos-scheduler/mesos/credentials{{- end }}
{{- define "kms.mesosCADir" -}}/etc/kube-mesos-scheduler/mesos/ca{{- end }}

{{/*
MesosOffersArgs: plugins.mesosOffers.args with source set from .Values.mode
and mesos from .Values.mesos.
*/}}
{{- define "kms.mesosOffersArgs" -}}
{{- $args := deepCopy .Values.plugins.mesosOffers.args }}
{{- if hasKey $args "source" }}
{{- fail "plugins.mesosOffers.args.source is set by the chart: set mode: mesos (and mesos.master) for the Mesos source" }}
{{- end }}
{{- if hasKey $args "mesos" }}
{{- fail "plugins.mesosOffers.args.mesos is set by the chart: use the mesos values" }}
{{- end }}
{{- if hasKey $args "sources" }}
{{- fail "plugins.mesosOffers.args.sources: this chart configures one offer source (mode: embedded or mesos); for several, run the scheduler with a configuration of your own (docs/federation.md)" }}
{{- end }}
{{- $m := .Values.mesos }}
{{- if include "kms.mesosMode" . }}
{{- $cfg := deepCopy $m.extraConfig }}
{{- $_ := set $cfg "master" $m.master }}
{{- $_ := set $cfg "frameworkName" $m.frameworkName }}
{{- $_ := set $cfg "user" $m.user }}
{{- $_ := set $cfg "frameworkIDConfigMap" (include "kms.frameworkIDConfigMap" .) }}
{{- if $m.principal }}
{{- $_ := set $cfg "principal" $m.principal }}
{{- end }}
{{- if $m.credentials.existingSecret }}
{{- if not $m.principal }}
{{- fail "mesos.principal is required with mesos.credentials.existingSecret" }}
{{- end }}
{{- $_ := set $cfg "secretFile" (printf "%s/%s" (include "kms.mesosSecretDir" .) $m.credentials.key) }}
{{- $tls := or (hasPrefix "https://" $m.master) (and (hasPrefix "zk://" $m.master) (or $m.tls.caSecret $m.tls.caConfigMap $m.tls.insecureSkipTLSVerify)) }}
{{- if not $tls }}
{{- if not $m.credentials.insecureSendInClear }}
{{- fail (printf "mesos.credentials: the master %s is reached over plain HTTP, where the principal's secret would travel in clear: use https://, or zk:// with mesos.tls.caSecret or caConfigMap; mesos.credentials.insecureSendInClear: true allows it anyway" $m.master) }}
{{- end }}
{{- $_ := set $cfg "insecureSendCredentialsInClear" true }}
{{- end }}
{{- end }}
{{- if and $m.tls.caSecret $m.tls.caConfigMap }}
{{- fail "set one of mesos.tls.caSecret and mesos.tls.caConfigMap" }}
{{- end }}
{{- if and (hasPrefix "http://" $m.master) (or $m.tls.caSecret $m.tls.caConfigMap $m.tls.insecureSkipTLSVerify) }}
{{- fail (printf "mesos.master: %s is plain HTTP but mesos.tls is set (a CA or insecureSkipTLSVerify), which plain HTTP would ignore: use https://" $m.master) }}
{{- end }}
{{- if or $m.tls.caSecret $m.tls.caConfigMap }}
{{- $_ := set $cfg "caFile" (printf "%s/%s" (include "kms.mesosCADir" .) $m.tls.caKey) }}
{{- end }}
{{- if $m.tls.insecureSkipTLSVerify }}
{{- $_ := set $cfg "insecureSkipTLSVerify" true }}
{{- end }}
{{- $_ := set $args "source" "Mesos" }}
{{- $_ := set $args "mesos" $cfg }}
{{- else }}
{{- $_ := set $args "source" "Embedded" }}
{{- end }}
{{- toYaml $args }}
{{- end }}

{{/*
"true" when only the leading replica starts its informers and offer source:
as set, else in Mesos mode with leader election.
*/}}
{{- define "kms.delayCacheUntilActive" -}}
{{- $le := .Values.leaderElection }}
{{- if hasKey $le "delayCacheUntilActive" }}
{{- if and $le.delayCacheUntilActive $le.enabled }}true{{ end }}
{{- else if and $le.enabled (include "kms.mesosMode" .) }}true
{{- end }}
{{- end }}

{{/* The KubeSchedulerConfiguration. */}}
{{- define "kms.config" -}}
{{- include "kms.checkMode" . }}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.leaderElection.enabled) }}
{{- fail "replicaCount > 1 needs leaderElection.enabled: two leaders would schedule the same pods" }}
{{- end }}
{{- if and (include "kms.mesosMode" .) (gt (int .Values.replicaCount) 1) (not (include "kms.delayCacheUntilActive" .)) }}
{{- fail "Mesos mode with replicaCount > 1 needs leaderElection.delayCacheUntilActive: standbys would subscribe to the master as the same framework" }}
{{- end -}}
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
{{- if include "kms.delayCacheUntilActive" . }}
# Only the leader starts its informers and its offer source.
delayCacheUntilActive: true
{{- end }}
leaderElection:
  leaderElect: {{ .Values.leaderElection.enabled }}
  {{- if .Values.leaderElection.enabled }}
  resourceLock: leases
  resourceName: {{ include "kms.leaseName" . }}
  resourceNamespace: {{ include "kms.leaseNamespace" . }}
  leaseDuration: {{ .Values.leaderElection.leaseDuration }}
  renewDeadline: {{ .Values.leaderElection.renewDeadline }}
  retryPeriod: {{ .Values.leaderElection.retryPeriod }}
  {{- end }}
profiles:
  - schedulerName: {{ .Values.schedulerName }}
    plugins:
      queueSort:
        enabled:
          - name: DRF
        disabled:
          - name: "*"
      multiPoint:
        enabled:
          - name: MesosOffers
          - name: DRF
          - name: Hetero
            weight: {{ .Values.plugins.hetero.weight }}
        disabled:
          - name: DefaultPreemption  # DRF preempts (priority and fair share)
    pluginConfig:
      - name: MesosOffers
        args:
          {{- include "kms.mesosOffersArgs" . | nindent 10 }}
      {{- with .Values.plugins.drf.args }}
      - name: DRF
        args:
          {{- toYaml . | nindent 10 }}
      {{- end }}
      {{- with .Values.plugins.hetero.args }}
      - name: Hetero
        args:
          {{- toYaml . | nindent 10 }}
      {{- end }}
{{- end }}

{{/*
The Kubernetes version the scheduler emulates (--emulated-version): the
scheduler is the kube-scheduler 1.37.1 and must not be newer than the API
server, so on a 1.35 or 1.36 cluster it runs as that version (its feature
gates, and the APIs it watches, are that version's). emulatedVersion
overrides; empty on 1.37 and later.
*/}}
{{- define "kms.emulatedVersion" -}}
{{- if .Values.emulatedVersion -}}
{{- .Values.emulatedVersion -}}
{{- else -}}
{{- $minor := .Capabilities.KubeVersion.Minor | trimSuffix "+" | int -}}
{{- if and (eq (.Capabilities.KubeVersion.Major | trimSuffix "+") "1") (lt $minor 37) -}}
1.{{ $minor }}
{{- end -}}
{{- end -}}
{{- end }}
