# The checks of test/e2e/simnode-gvisor.bats, each run by `bash -eu` inside the gVisor sandbox (needs REPO_ROOT,
# FIXTURES_BIN, DIST). The bootstrapper from the checkout runs the real API server (build/fixtures/k3s-upstream) as k3s,
# with the helpers from build/fixtures; root's kubectl (a symlink to the fixture, as install.sh links k3s) uses the
# admin kubeconfig; the simulated node has the default name.
. "$REPO_ROOT/test/lib/real-server-sandbox.bash"
real_server_prelude "$FIXTURES_BIN/k3s-upstream"
use_checkout

export KUBECONFIG=/run/k3s-sandbox/k3s.yaml
NODE=k3s-sandbox-simulated
CHART="$REPO_ROOT/test/fixtures/charts/simnode-app"

# pid and argv of every process running the simulated node's controller.
simnode_processes() {
  local f
  for f in /proc/[0-9]*/cmdline; do
    if tr '\0' ' ' <"$f" 2>/dev/null | grep -q 'simulate-node'; then echo "${f#/proc/} $(tr '\0' ' ' <"$f")"; fi
  done
}

simnode_files() {
  find /run/k3s-sandbox -maxdepth 1 -name 'simnode*' -printf '%f\n' | sort | tr '\n' ' '
}

create_deployment() {
  kubectl -n "$1" create deployment "$2" --image=registry.example/app:1 --replicas="$3" >/dev/null
}

check_off() {
  ks up
  echo "simnode processes: $(simnode_processes | wc -l)"
  echo "simnode files: [$(simnode_files)]"
  echo "status simulatedNode: $(ks status --json | jq -c .simulatedNode)"
  echo "nodes: $(kubectl get nodes --no-headers 2>/dev/null | wc -l)"
}

check_on() {
  local waited=0
  K3S_SANDBOX_SIMULATE_NODE=true ks up
  # up does not wait for the controller to register its node (kubectl wait fails on an object that does not exist).
  until kubectl get node "$NODE" >/dev/null 2>&1; do
    [ $((waited += 1)) -le 120 ] || { echo "node $NODE not registered after 60 s"; return 1; }
    sleep 0.5
  done
  kubectl wait --for=condition=Ready "node/$NODE" --timeout=120s
  ks status
  ks status --json | jq -c '.simulatedNode | {name, state, nodeReady, starts}'
  echo "simnode processes: $(simnode_processes | wc -l)"
  simnode_processes
  echo "simnode files: [$(simnode_files)]"
}

check_warm_up() {
  local before after
  before="$(ks status --json | jq -c '[.simulatedNode.supervisorPid, .simulatedNode.controllerPid]')"
  K3S_SANDBOX_SIMULATE_NODE=true ks up --json >/tmp/up.json
  after="$(ks status --json | jq -c '[.simulatedNode.supervisorPid, .simulatedNode.controllerPid]')"
  echo "warm up kept the controller: $([ "$before" = "$after" ] && echo yes || echo no)"
  jq -c '.simulatedNode' /tmp/up.json
  echo "session context: $(ks session-context --up-result /tmp/up.json)"
  ks session-context --format claude --up-result /tmp/up.json | jq -r .hookSpecificOutput.additionalContext
}

check_max_pods() {
  local waited=0
  # Another pod count: up keeps k3s and restarts the controller with it; the node's capacity follows.
  K3S_SANDBOX_SIMULATE_NODE=true K3S_SANDBOX_SIMULATE_NODE_MAX_PODS=250 ks up
  until [ "$(kubectl get node "$NODE" -o jsonpath='{.status.capacity.pods}')" = 250 ]; do
    [ $((waited += 1)) -le 120 ] || break
    sleep 0.5
  done
  echo "capacity pods: $(kubectl get node "$NODE" -o jsonpath='{.status.capacity.pods}/{.status.allocatable.pods}')"
  echo "controller: $(simnode_processes | grep -o -- '--max-pods [0-9]*' | sort -u | tr '\n' ' ')"
}

check_helm() {
  kubectl create namespace helm >/dev/null
  helm install demo "$CHART" --namespace helm --wait --timeout 120s
  echo "job succeeded: $(kubectl -n helm get job demo-migrate -o jsonpath='{.status.succeeded}')"
  echo "ready replicas: $(kubectl -n helm get deployment demo-web -o jsonpath='{.status.readyReplicas}')"
  echo "endpoints: $(kubectl -n helm get endpointslices -l kubernetes.io/service-name=demo-web -o json | jq '[.items[].endpoints[]?] | length')"
  helm uninstall demo --namespace helm --wait --timeout 120s
  kubectl -n helm get deployment demo-web 2>&1 || true
}

check_workloads() {
  kubectl create namespace work >/dev/null
  create_deployment work web 2
  kubectl -n work rollout status deployment/web --timeout=120s
  kubectl -n work scale deployment/web --replicas=5 >/dev/null
  kubectl -n work rollout status deployment/web --timeout=120s
  kubectl -n work wait --for=condition=Ready pod -l app=web --timeout=120s
  kubectl -n work scale deployment/web --replicas=1 >/dev/null
  kubectl -n work rollout status deployment/web --timeout=120s
  kubectl -n work wait --for=delete pod -l app=web --field-selector=status.phase=Running --timeout=5s >/dev/null 2>&1 || true
  echo "running after scale down: $(kubectl -n work get deployment web -o jsonpath='{.status.readyReplicas}/{.status.replicas}')"
  kubectl -n work create job once --image=registry.example/tool:1 >/dev/null
  kubectl -n work wait --for=condition=Complete job/once --timeout=120s
  echo "job pods: $(kubectl -n work get pods -l job-name=once -o jsonpath='{.items[*].status.phase}')"
  echo "logs: $(kubectl -n work logs deployment/web --request-timeout=20s 2>&1 || true)"
  kubectl delete namespace work --timeout=120s
  echo "namespace after delete: $(kubectl get namespace work 2>&1 || true)"
}

check_sigkill() {
  local pid
  kubectl create namespace crash >/dev/null
  pid="$(ks status --json | jq -r .simulatedNode.controllerPid)"
  echo "controller pid before: $pid"
  kill -KILL "$pid"
  create_deployment crash web 3
  kubectl -n crash rollout status deployment/web --timeout=120s
  ks status --json | jq -c '.simulatedNode | {state, starts, crashes, lastExit, nodeReady}'
  echo "controller pid after: $(ks status --json | jq -r .simulatedNode.controllerPid)"
}

check_down() {
  ks down
  echo "simnode processes: $(simnode_processes | wc -l)"
  simnode_processes
  echo "simnode files: [$(simnode_files)]"
  echo "our processes: $(our_processes | wc -l)"
}
