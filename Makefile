# cd4ml — Continuous Delivery for Machine Learning on Kubernetes.
# `make test` and `make run` install what they need (apt, npm, NuGet, the test control plane).

CACHE ?= $(HOME)/.cache/cd4ml
CONFIGURATION ?= Debug
IMAGE ?= ghcr.io/cd4ml/cd4ml:dev
RID ?= $(if $(filter aarch64 arm64,$(shell uname -m)),linux-arm64,linux-x64)
CLI = dotnet run --project operator/Cd4ml.Cli -c $(CONFIGURATION) --

export CD4ML_CACHE := $(CACHE)

.PHONY: build test run crds crds-check docs bench image publish install-plugin setup clean golden node-setup node-up node-down

build:
	dotnet build Operator.sln -c $(CONFIGURATION)

## Generate crds/*.yaml and the API reference page docs/api-reference.md from the C# API types.
crds:
	$(CLI) crds --output crds --reference docs/api-reference.md

docs: crds

crds-check:
	$(CLI) crds --output crds --reference docs/api-reference.md --check

setup:
	bash tests/env/setup.sh

## The real node's packages, binaries and images (tests/env/realnode.sh; cached). Where the machine cannot run it
## (not root, not Linux), says why; its tests are then skipped.
node-setup: setup
	@if bash tests/env/realnode.sh check >&2; then bash tests/env/realnode.sh provision; \
	else echo "the real-node tests will be skipped" >&2; fi

## The real node by hand: `make node-up`, then `. .cache/realnode/realnode.env`; `make node-down`.
node-up: setup
	bash tests/env/realnode.sh up

node-down:
	bash tests/env/realnode.sh down

## All test projects against a real control plane, S3 server and Prometheus; ends with "N passed, N failed".
test: setup node-setup
	CONFIGURATION=$(CONFIGURATION) bash tests/env/run-tests.sh

## Refresh the status documents the Argo CD health scripts are tested on (config/argocd/testdata) from the controllers'
## own scenarios on the test harness; review and commit the changed files.
golden: setup
	CD4ML_GOLDEN=1 dotnet test tests/Cd4ml.Operator.Tests -c $(CONFIGURATION) --filter "FullyQualifiedName~GitOps.TrainingStatusScenarios|FullyQualifiedName~GitOps.DeploymentStatusScenarios"
	lua5.1 config/argocd/health_test.lua

## Run the operator: against the current kubeconfig, or a local embedded control plane when none is configured.
run: setup
	bash tests/env/run-local.sh

## Benchmarks (ratios measured side by side in one run; not timed tests).
bench: setup
	bash tests/env/run-benchmarks.sh

## The same `dotnet publish` the Dockerfile runs (ReadyToRun, framework-dependent), into out/publish.
publish:
	dotnet publish operator/Cd4ml.Cli -c Release -r $(RID) --self-contained false -p:PublishReadyToRun=true -o out/publish

## The kubectl plugin: the published CLI copied to $(PLUGIN_PREFIX)/lib/cd4ml, and $(PLUGIN_PREFIX)/bin/kubectl-cd4ml.
PLUGIN_PREFIX ?= $(HOME)/.local
install-plugin: publish
	rm -rf $(PLUGIN_PREFIX)/lib/cd4ml && mkdir -p $(PLUGIN_PREFIX)/lib && cp -r out/publish $(PLUGIN_PREFIX)/lib/cd4ml
	bash operator/Cd4ml.Kubectl/install-plugin.sh $(PLUGIN_PREFIX)/bin $(PLUGIN_PREFIX)/lib/cd4ml/cd4ml

## The Dockerfile with docker (BuildKit). SDK_IMAGE/RUNTIME_IMAGE pick the base images; EXTRA_CA=ca.pem adds a CA
## for NuGet (TLS-inspecting proxies). Without a Docker daemon of your own, runs one (root) on local base images.
image:
	IMAGE='$(IMAGE)' SDK_IMAGE='$(SDK_IMAGE)' RUNTIME_IMAGE='$(RUNTIME_IMAGE)' EXTRA_CA='$(EXTRA_CA)' \
	  LOCAL_BASES='$(LOCAL_BASES)' bash tests/env/image.sh build

clean:
	dotnet clean Operator.sln
	rm -rf out artifacts
