{{/* Names and labels. */}}
{{- define "parley.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The Kubernetes name of one process: (list $ "user-svc"). */}}
{{- define "parley.name" -}}
{{- printf "%s-%s" (include "parley.fullname" (index . 0)) (index . 1) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "parley.selectorLabels" -}}
app.kubernetes.io/name: parley
app.kubernetes.io/instance: {{ (index . 0).Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "parley.labels" -}}
{{ include "parley.selectorLabels" . }}
app.kubernetes.io/version: {{ (index . 0).Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ (index . 0).Release.Service }}
helm.sh/chart: {{ printf "%s-%s" (index . 0).Chart.Name (index . 0).Chart.Version }}
{{- end -}}

{{- define "parley.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* host:port of a peer's port: (list $ "user-svc" "grpc"). */}}
{{- define "parley.peer" -}}
{{- $svc := index (index . 0).Values.services (index . 1) -}}
{{- printf "%s:%v" (include "parley.name" (list (index . 0) (index . 1))) (index $svc.ports (index . 2)) -}}
{{- end -}}

{{/* The port probes use: the service port, or the ops port of a worker. */}}
{{- define "parley.probePort" -}}
{{- if hasKey .ports "http" -}}http{{- else if hasKey .ports "ws" -}}ws{{- else -}}ops{{- end -}}
{{- end -}}

{{/*
Values every process gets that has a variable of that name in its config schema
(files/process-env.json, generated from the schemas by `make helm-schema`): external servers,
the names the services must agree on, peers. One value each, so services cannot drift apart.
*/}}
{{- define "parley.sharedEnv" -}}
{{- $p := .Values.pipeline -}}
{{- $x := .Values.external -}}
LOG_LEVEL: {{ .Values.logLevel | quote }}
KAFKA_BROKERS: {{ $x.kafka.brokers | quote }}
KAFKA_TOPIC: {{ $p.kafkaTopic | quote }}
KAFKA_DLQ_TOPIC: {{ $p.kafkaDlqTopic | quote }}
KAFKA_TOPIC_PARTITIONS: {{ $p.kafkaTopicPartitions | quote }}
MESSAGE_MAX_BODY_BYTES: {{ $p.messageMaxBodyBytes | quote }}
NATS_STREAM: {{ $p.natsStream | quote }}
NATS_SUBJECT_PREFIX: {{ $p.natsSubjectPrefix | quote }}
ROOM_EVENTS_PREFIX: {{ $p.eventsPrefix | quote }}
ROOM_EVENTS_STREAM: {{ $p.roomEventsStream | quote }}
SESSION_EVENTS_PREFIX: {{ $p.eventsPrefix | quote }}
SESSION_EVENTS_STREAM: {{ $p.sessionEventsStream | quote }}
CASSANDRA_CONTACT_POINTS: {{ $x.cassandra.contactPoints | quote }}
CASSANDRA_LOCAL_DC: {{ $x.cassandra.localDc | quote }}
CASSANDRA_KEYSPACE: {{ $x.cassandra.keyspace | quote }}
ELASTICSEARCH_URL: {{ $x.elasticsearch.url | quote }}
ELASTICSEARCH_INDEX_PREFIX: {{ $x.elasticsearch.indexPrefix | quote }}
USER_SVC_GRPC_ADDR: {{ include "parley.peer" (list . "user-svc" "grpc") | quote }}
ROOM_SVC_GRPC_ADDR: {{ include "parley.peer" (list . "room-svc" "grpc") | quote }}
QUERY_SVC_GRPC_ADDR: {{ include "parley.peer" (list . "chat-query-svc" "grpc") | quote }}
OPS_HOST: "0.0.0.0"
TRACE_SAMPLE_RATIO: {{ .Values.tracing.sampleRatio | quote }}
TRACE_EXPORTER: {{ .Values.tracing.exporter | quote }}
TRACE_URL: {{ .Values.tracing.url | quote }}
{{- end -}}

{{/* The variables of one service alone: where it listens, its deadline, whom it trusts. */}}
{{- define "parley.ownEnv" -}}
{{- $ := index . 0 -}}
{{- $name := index . 1 -}}
{{- $svc := index $.Values.services $name -}}
SHUTDOWN_TIMEOUT_MS: {{ mul $svc.shutdownTimeoutSeconds 1000 | quote }}
{{- if hasKey $svc.ports "ops" }}
OPS_PORT: {{ $svc.ports.ops | quote }}
{{- end }}
{{- if eq $name "user-svc" }}
USER_HTTP_HOST: "0.0.0.0"
USER_HTTP_PORT: {{ $svc.ports.http | quote }}
USER_GRPC_HOST: "0.0.0.0"
USER_GRPC_PORT: {{ $svc.ports.grpc | quote }}
USER_TRUSTED_PROXIES: {{ $.Values.network.trustedProxies | quote }}
{{- else if eq $name "room-svc" }}
ROOM_HTTP_HOST: "0.0.0.0"
ROOM_HTTP_PORT: {{ $svc.ports.http | quote }}
ROOM_GRPC_HOST: "0.0.0.0"
ROOM_GRPC_PORT: {{ $svc.ports.grpc | quote }}
{{- else if eq $name "chat-query-svc" }}
QUERY_HTTP_HOST: "0.0.0.0"
QUERY_HTTP_PORT: {{ $svc.ports.http | quote }}
QUERY_GRPC_HOST: "0.0.0.0"
QUERY_GRPC_PORT: {{ $svc.ports.grpc | quote }}
{{- else if eq $name "chat-realtime-svc" }}
REALTIME_HOST: "0.0.0.0"
REALTIME_PORT: {{ $svc.ports.ws | quote }}
REALTIME_TRUSTED_PROXIES: {{ $.Values.network.trustedProxies | quote }}
{{- else if eq $name "web-gateway" }}
WEB_HOST: "0.0.0.0"
WEB_PORT: {{ $svc.ports.http | quote }}
WEB_TRUSTED_PROXIES: {{ $.Values.network.gatewayTrustedProxies | quote }}
WEB_USER_SVC_URL: {{ printf "http://%s" (include "parley.peer" (list $ "user-svc" "http")) | quote }}
WEB_ROOM_SVC_URL: {{ printf "http://%s" (include "parley.peer" (list $ "room-svc" "http")) | quote }}
WEB_QUERY_SVC_URL: {{ printf "http://%s" (include "parley.peer" (list $ "chat-query-svc" "http")) | quote }}
WEB_REALTIME_URL: {{ printf "http://%s" (include "parley.peer" (list $ "chat-realtime-svc" "ws")) | quote }}
{{- end }}
{{- end -}}

{{/* The variable names of one process's config schema (list $ name), from files/process-env.json. */}}
{{- define "parley.knownEnv" -}}
{{- $known := (index . 0).Files.Get "files/process-env.json" | fromJson -}}
{{- if not (hasKey $known (index . 1)) }}{{ fail (printf "files/process-env.json knows no process %s (make helm-schema)" (index . 1)) }}{{ end -}}
{{- toJson (dict "names" (index $known (index . 1))) -}}
{{- end -}}

{{/*
Everything the chart sets for a process (list $ name), as a YAML map: the shared values its
schema has, then its own. Its `env` and `secretEnv` may not set these (the template fails,
and values.schema.json does not offer them).
*/}}
{{- define "parley.managedEnv" -}}
{{- $ := index . 0 -}}
{{- $name := index . 1 -}}
{{- $known := (include "parley.knownEnv" (list $ $name) | fromJson).names -}}
{{- $out := dict -}}
{{- range $k, $v := include "parley.sharedEnv" $ | fromYaml }}
{{- if has $k $known }}{{ $_ := set $out $k $v }}{{ end }}
{{- end }}
{{- if hasKey $.Values.services $name }}
{{- $_ := merge $out (include "parley.ownEnv" (list $ $name) | fromYaml) }}
{{- end }}
{{- toYaml $out }}
{{- end -}}

{{/*
The secrets of a process (list $ name overrides): secrets.keys for each secret variable its
schema has ({process} replaced by its name), its own secretEnv on top.
*/}}
{{- define "parley.secretEnv" -}}
{{- $ := index . 0 -}}
{{- $name := index . 1 -}}
{{- $known := (include "parley.knownEnv" (list $ $name) | fromJson).names -}}
{{- $out := dict -}}
{{- range $k, $v := $.Values.secrets.keys }}
{{- if has $k $known }}{{ $_ := set $out $k (replace "{process}" $name $v) }}{{ end }}
{{- end }}
{{- range $k, $v := (index . 2 | default dict) }}{{ $_ := set $out $k $v }}{{ end }}
{{- toYaml $out }}
{{- end -}}

{{/*
A container's env list: the managed map, then the process's own `env`, then `secretEnv` as
secretKeyRefs; (list $ label managed env secretEnv). Fails when env or secretEnv repeats a name
the chart manages or the other one sets.
*/}}
{{- define "parley.envList" -}}
{{- $ := index . 0 -}}
{{- $label := index . 1 -}}
{{- $managed := index . 2 -}}
{{- $env := index . 3 | default dict -}}
{{- $secretEnv := index . 4 | default dict -}}
{{- range $k, $v := $env }}
{{- if hasKey $managed $k }}{{ fail (printf "%s: env.%s is set by the chart (see values.yaml: external, pipeline, network, ports)" $label $k) }}{{ end }}
{{- if hasKey $secretEnv $k }}{{ fail (printf "%s: %s is in both env and secretEnv" $label $k) }}{{ end }}
{{- end }}
{{- range $k, $v := $secretEnv }}
{{- if hasKey $managed $k }}{{ fail (printf "%s: secretEnv.%s is set by the chart" $label $k) }}{{ end }}
{{- end }}
{{- range $k, $v := $managed }}
- name: {{ $k }}
  value: {{ $v | toString | quote }}
{{- end }}
{{- range $k, $v := $env }}
- name: {{ $k }}
  value: {{ $v | toString | quote }}
{{- end }}
{{- range $k, $ref := $secretEnv }}
- name: {{ $k }}
  valueFrom:
    secretKeyRef:
      {{- if kindIs "string" $ref }}
      name: {{ $.Values.secrets.existingSecret }}
      key: {{ $ref }}
      {{- else }}
      name: {{ $ref.name }}
      key: {{ $ref.key }}
      {{- end }}
{{- end }}
{{- end -}}

{{- define "parley.terminationGrace" -}}
{{- add .root.Values.preStopSleepSeconds .svc.shutdownTimeoutSeconds 5 -}}
{{- end -}}
