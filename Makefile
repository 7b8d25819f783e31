# Parley operator targets. `make up` runs the system, `make test` proves it.
SHELL := /bin/bash
.DEFAULT_GOAL := help
TSX := node --import tsx
SERVICES := user-svc room-svc chat-query-svc chat-ingestion-svc chat-command-cql-svc chat-command-elastic-svc chat-realtime-svc web-gateway

.PHONY: help install check typecheck lint deps test test-unit test-integration up down status logs cli drill web dlq erase reindex \
        infra-up infra-down infra-status migrate migrate-down \
        user-migrate-up user-migrate-down room-migrate-up room-migrate-down cql-migrate-up cql-migrate-down es-migrate-up es-migrate-down \
        $(addprefix start-,$(SERVICES))

help: ## list targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*?## "}{printf "  %-22s %s\n", $$1, $$2}'

install: ## install node dependencies (npm ci) when the lockfile changed
	@scripts/install.sh

check: install typecheck lint deps ## typecheck, lint, and every import declared by the package that makes it
typecheck: install
	@node_modules/.bin/tsc -p tsconfig.json --noEmit
	@node_modules/.bin/tsc -p web/tsconfig.json --noEmit
	@node_modules/.bin/tsc -p web/tsconfig.node.json --noEmit
lint: install
	@node_modules/.bin/eslint .
deps: install
	@$(TSX) scripts/check-deps.ts

infra-up: ## start PostgreSQL, Redis, NATS, Kafka, Cassandra, Elasticsearch (reuses running ones)
	@scripts/infra.sh up
infra-down: ## stop the servers infra-up started (data is kept under .infra/)
	@scripts/infra.sh down
infra-status: ## one line per server
	@scripts/infra.sh status

user-migrate-up: install ; @$(TSX) scripts/migrate.ts user up
user-migrate-down: install ; @$(TSX) scripts/migrate.ts user down
room-migrate-up: install ; @$(TSX) scripts/migrate.ts room up
room-migrate-down: install ; @$(TSX) scripts/migrate.ts room down
cql-migrate-up: install ; @$(TSX) scripts/migrate.ts cql up
cql-migrate-down: install ; @$(TSX) scripts/migrate.ts cql down
es-migrate-up: install ; @$(TSX) scripts/migrate.ts es up
es-migrate-down: install ; @$(TSX) scripts/migrate.ts es down
migrate: user-migrate-up room-migrate-up cql-migrate-up es-migrate-up ## apply every migration
migrate-down: es-migrate-down cql-migrate-down room-migrate-down user-migrate-down

.PHONY: proto
proto: install ## regenerate packages/proto/src/gen from the .proto files (offline: buf + ts-proto from node_modules)
	@cd packages/proto && ../../node_modules/.bin/buf lint && ../../node_modules/.bin/buf generate

# start-<svc>: run one service in the foreground (as the seed's Makefile does).
$(addprefix start-,$(SERVICES)): start-%: install
	@test -f cmd/$*/main.ts || { echo "$* is not built yet (no cmd/$*/main.ts)"; exit 2; }
	@scripts/services.sh run $*

# The page web-gateway serves: web/ and the SDK it imports, built by Vite into web/dist (ignored by git).
# Rebuilt only when a source is newer than the build.
WEB_SOURCES := $(shell find web packages/client/src packages/contracts/src -path web/dist -prune -o -type f -print 2>/dev/null) package-lock.json
web/dist/index.html: $(WEB_SOURCES) | install
	@node_modules/.bin/vite build web
	@touch $@
web: web/dist/index.html ## build the web page into web/dist (Vite) when its sources changed

up: install infra-up migrate web ## install, start infrastructure, migrate, Zipkin, every service in the background, then Prometheus scraping them
	@scripts/zipkin.sh up
	@scripts/services.sh start $(SERVICES)
	@scripts/prometheus.sh up
	@echo "Prometheus: $$(scripts/prometheus.sh url) (alerts: $$(scripts/prometheus.sh url)/alerts; Grafana dashboard: infra/grafana/parley.json)"
	@echo "Zipkin: $$(scripts/zipkin.sh url)/zipkin/ (every message traced; TRACE_SAMPLE_RATIO=0 make up for none)"
down: ## stop Prometheus, every service and Zipkin, then the infrastructure this project started
	@scripts/prometheus.sh down
	@scripts/services.sh stop $(SERVICES)
	@scripts/zipkin.sh down
	@scripts/infra.sh down
status: ## services and infrastructure
	@scripts/services.sh status $(SERVICES)
	@scripts/infra.sh status
	@scripts/prometheus.sh status
	@scripts/zipkin.sh status
logs: ## follow the services' logs
	@scripts/services.sh logs $(SERVICES)

cli: install ## terminal client against the services `make up` started (flags: ARGS="--ws-url ...")
	@$(TSX) cmd/parley-cli/main.ts $(ARGS)

erase: install ## operator erasure from both stores: ARGS="--user <user id> [--room <room id>]" or ARGS="--room <room id>"
	@$(TSX) scripts/erase.ts $(ARGS)

dlq: install ## dead letters of chat.messages.dlq: ARGS="list" (default), "show 0:17", "redrive 0:17 2:3", "redrive --reason store_rejected"
	@$(TSX) cmd/parley-dlq/main.ts $(or $(ARGS),list)

reindex: install ## rebuild Elasticsearch from the Kafka log into a new index, then move the alias to it, while chat goes on (docs/operations.md)
	@$(TSX) cmd/parley-reindex/main.ts

drill: install infra-up ## failure drill: kill and restart each service and server under chat load (stops Kafka, Cassandra, ES briefly)
	@$(TSX) scripts/drill.ts

test: install infra-up web ## unit, integration and browser tests against real servers (brings up what it needs)
	@scripts/ensure-chromium.sh || echo "chromium could not be installed: the browser test will skip"
	@scripts/ensure-prometheus.sh
	@scripts/test.sh all
test-unit: install ## unit tests only (no server needs to run; promtool checks the alert rules)
	@scripts/ensure-prometheus.sh
	@scripts/test.sh unit
test-integration: install infra-up
	@scripts/ensure-prometheus.sh
	@scripts/test.sh integration

.PHONY: bench
bench: install infra-up ## Parley's edge vs Socket.io+Redis vs bare uWS under one load, then the other benches; writes docs/benchmarks.md (~10 min)
	@ulimit -n "$$(ulimit -Hn)" 2>/dev/null || true; BENCH_COMMAND="make bench" $(TSX) bench/run-bench.ts

# Deployment: the image, the Helm chart, the compose file (docs/deployment.md).
.PHONY: helm-schema helm-check image-tree
helm-schema: install ## regenerate the chart's values.schema.json and files/process-env.json from the services' config schemas
	@$(TSX) packages/deploy-check/src/cli/write-chart-files.ts
helm-check: install ## render and lint the chart with real Helm (helm-java), schema-check it, cross-check it and docker-compose.yml against the config schemas
	@node --import tsx --test packages/deploy-check/test/*.test.ts packages/deploy-check/test-int/*.test.ts
image-tree: install ## build the image's /app without Docker into .cache/image (the Dockerfile's build stage: deploy/image/build-tree.sh)
	@deploy/image/build-tree.sh .cache/image
