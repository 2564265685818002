#!/usr/bin/env bash
# The checks test/e2e/real-control-plane.bats runs against the real API server in gVisor, one per process:
# `checks.sh NAME` runs check_NAME with no flags and no KUBECONFIG of ours, exactly as the user's login shell has it.
# Each check prints labelled lines the bats file matches, and stops at its first failure with a message naming it.
set -eu -o pipefail

CHART="${REPO_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}/test/fixtures/charts/settings"

fail() {
  echo "FAILED: $*"
  exit 1
}

# expect_failure DESCRIPTION CMD...: CMD must fail; its output is printed either way.
expect_failure() {
  local what="$1" out rc=0
  shift
  out="$("$@" 2>&1)" || rc=$?
  printf '%s\n' "$out"
  [ "$rc" -ne 0 ] || fail "$what: expected a failure, but it succeeded"
}

# poll SECONDS DESCRIPTION CMD...: runs CMD every half second until it succeeds.
poll() {
  local limit="$1" what="$2" deadline=$((SECONDS + $1))
  shift 2
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || fail "$what: not within ${limit}s"
    sleep 0.5
  done
}

check_user_kubectl() {
  echo "whoami: $(id -un)"
  echo "context: $(kubectl config current-context)"
  kubectl get ns
  kubectl version
  echo "can-i: $(kubectl auth can-i '*' '*')"
}

check_crd() {
  kubectl apply -f - <<'YAML'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.e2e.k3s-sandbox.test
spec:
  group: e2e.k3s-sandbox.test
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
    - name: v1
      served: true
      storage: true
      subresources: {status: {}}
      schema:
        openAPIV3Schema:
          type: object
          properties:
            status:
              type: object
              properties:
                ready: {type: boolean}
            spec:
              type: object
              description: What the widget should be.
              properties:
                size: {type: integer, minimum: 1, description: How big the widget is.}
                color: {type: string}
YAML
  kubectl wait --for=condition=Established crd/widgets.e2e.k3s-sandbox.test --timeout=60s
  # What an operator does: watch its resources (the events are printed after the delete below).
  kubectl get widgets --watch --output-watch-events -o custom-columns=EVENT:.type,NAME:.object.metadata.name,SIZE:.object.spec.size,READY:.object.status.ready >/tmp/widget-events 2>&1 &
  local watcher=$!
  poll 30 "the watch to start" kubectl get widgets
  kubectl apply -f - <<'YAML'
apiVersion: e2e.k3s-sandbox.test/v1
kind: Widget
metadata: {name: sprocket, namespace: default}
spec: {size: 3, color: red}
YAML
  echo "listed: $(kubectl get widgets -o jsonpath='{range .items[*]}{.metadata.name}={.spec.size}{"\n"}{end}')"
  kubectl patch widget sprocket --type=merge -p '{"spec":{"size":5}}'
  echo "patched size: $(kubectl get widget sprocket -o jsonpath='{.spec.size}')"
  kubectl patch widget sprocket --subresource=status --type=merge -p '{"status":{"ready":true}}'
  echo "status: ready=$(kubectl get widget sprocket -o jsonpath='{.status.ready}') generation=$(kubectl get widget sprocket -o jsonpath='{.metadata.generation}')"
  echo "schema rejects:"
  expect_failure "a size below the schema's minimum" kubectl patch widget sprocket --type=merge -p '{"spec":{"size":0}}'
  # The API server publishes a new CRD's OpenAPI schema a moment after it is established.
  poll 60 "kubectl explain widgets.spec" kubectl explain widgets.spec
  kubectl explain widgets.spec
  kubectl delete widget sprocket
  echo "after delete:"
  expect_failure "getting the deleted widget" kubectl get widget sprocket
  for _ in $(seq 60); do grep -q DELETED /tmp/widget-events && break; sleep 0.5; done
  kill "$watcher" || true
  sed 's/^/watch: /' /tmp/widget-events
  grep -q DELETED /tmp/widget-events || fail "the watch saw no DELETED event within 30s"
}

check_rbac() {
  kubectl create namespace team
  kubectl -n team create serviceaccount reader
  kubectl -n team create role configmap-reader --verb=get,list,watch --resource=configmaps
  kubectl -n team create rolebinding reader-reads --role=configmap-reader --serviceaccount=team:reader
  local as=--as=system:serviceaccount:team:reader
  echo "list configmaps in team: $(kubectl auth can-i list configmaps -n team "$as")"
  echo "delete configmaps in team: $(kubectl auth can-i delete configmaps -n team "$as" || true)"
  echo "list secrets in team: $(kubectl auth can-i list secrets -n team "$as" || true)"
  echo "list configmaps in default: $(kubectl auth can-i list configmaps -n default "$as" || true)"
  echo "impersonated get:"
  kubectl -n team create configmap visible --from-literal=a=b
  kubectl -n team get configmap visible "$as" -o name
  echo "impersonated delete:"
  expect_failure "deleting as the reader" kubectl -n team delete configmap visible "$as"
}

deployment_yaml() { # NAME LABEL_OF_TEMPLATE
  cat <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: $1, namespace: default}
spec:
  replicas: 1
  selector: {matchLabels: {app: $1}}
  template:
    metadata: {labels: {app: $2}}
    spec:
      containers: [{name: web, image: registry.invalid/web:1}]
YAML
}

check_dry_run() {
  deployment_yaml web web | kubectl apply --dry-run=server -f -
  echo "after the dry run:"
  expect_failure "getting the dry-run deployment" kubectl get deployment web
  echo "invalid:"
  deployment_yaml bad other | expect_failure "a server dry run of a deployment whose selector does not match" kubectl apply --dry-run=server -f -
}

check_deployment() {
  kubectl create namespace shop
  kubectl -n shop create deployment web --image=registry.invalid/web:1 --replicas=2
  poll 90 "the deployment controller's ReplicaSet" sh -c '[ -n "$(kubectl -n shop get replicasets -l app=web -o name)" ]'
  echo "replicaset: $(kubectl -n shop get replicasets -l app=web -o jsonpath='{.items[0].metadata.ownerReferences[0].kind}/{.items[0].metadata.ownerReferences[0].name} owns {.items[0].metadata.name}')"
  poll 90 "two pods from the ReplicaSet" sh -c '[ "$(kubectl -n shop get pods -l app=web -o name | wc -l)" -eq 2 ]'
  # The scheduler marks each pod unschedulable once it has tried (there is no node).
  poll 90 "the scheduler's verdict on both pods" kubectl -n shop wait --for=condition=PodScheduled=False pod -l app=web --timeout=1s
  kubectl -n shop get pods -l app=web \
    -o jsonpath='{range .items[*]}pod {.metadata.ownerReferences[0].kind} {.status.phase} PodScheduled={.status.conditions[?(@.type=="PodScheduled")].status} {.status.conditions[?(@.type=="PodScheduled")].reason}: {.status.conditions[?(@.type=="PodScheduled")].message}{"\n"}{end}'
  echo "nodes: $(kubectl get nodes -o name | wc -l)"
}

check_namespace_deletion() {
  # shop holds the deployment, its ReplicaSet and Pending pods; the namespace controller must empty it first.
  kubectl delete namespace shop --timeout=120s
  echo "after delete:"
  expect_failure "getting the deleted namespace" kubectl get namespace shop
}

check_helm() {
  echo "template:"
  helm template demo "$CHART" --set greeting=hi | grep -E '^(kind|  name|  greeting):'
  echo "server dry run:"
  helm install demo "$CHART" --dry-run=server | grep -E '^(NAME|STATUS|kind):'
  expect_failure "the dry run's ConfigMap" kubectl get configmap demo-greeting
  echo "install:"
  helm install demo "$CHART" --wait --timeout 60s
  kubectl wait --for=condition=Established crd/notes.settings.k3s-sandbox.test --timeout=60s
  echo "installed greeting: $(kubectl get configmap demo-greeting -o jsonpath='{.data.greeting} revision {.data.revision}')"
  echo "installed features: $(kubectl get configmap demo-features -o jsonpath='{.data}')"
  echo "upgrade:"
  helm upgrade demo "$CHART" --set greeting=bonjour --wait --timeout 60s
  echo "upgraded greeting: $(kubectl get configmap demo-greeting -o jsonpath='{.data.greeting} revision {.data.revision}')"
  echo "history: $(helm history demo -o json | jq -c '[.[] | {revision, status}]')"
  helm uninstall demo --wait --timeout 60s
  echo "after uninstall:"
  expect_failure "the release's ConfigMaps" kubectl get configmap demo-greeting demo-features
  expect_failure "the release's CRD" kubectl get crd notes.settings.k3s-sandbox.test
  echo "releases left: $(helm list -q | wc -l)"
}

check_before_down() {
  kubectl create configmap survivor --from-literal=kept=yes
}

check_after_restart() {
  echo "survivor: $(kubectl get configmap survivor -o jsonpath='{.data.kept}')"
  echo "widgets CRD: $(kubectl get crd widgets.e2e.k3s-sandbox.test -o name)"
}

"check_$1"
