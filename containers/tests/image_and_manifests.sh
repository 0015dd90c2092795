#!/usr/bin/env bash
# The container image and the Kubernetes manifests, checked without a
# Docker engine or a cluster:
#   1. hadolint lints containers/Dockerfile;
#   2. the Dockerfile's build step (containers/stage.sh) runs on the host,
#      and the staged image root is started as the image would start it
#      (EDGEMINE_MODELS=/opt/edgemine/models, run from elsewhere): it must
#      become ready and extract;
#   3. kustomize renders the base and the Strimzi overlay, and
#      kubernetes-validate --strict accepts every built-in object.
# Tools: hadolint, kubernetes-validate and yamllint from PYTHON's
# environment (containers/tests/requirements.txt); `kubectl kustomize`, or
# kustomize built with Go when kubectl is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-.venv/bin/python}
bin=$(dirname "$PYTHON")

echo "-- hadolint containers/Dockerfile"
"$bin/hadolint" containers/Dockerfile

echo "-- the Dockerfile's build step on the host: containers/stage.sh target/image-root"
containers/stage.sh target/image-root
port=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=target/image-root.log
(cd / && EDGEMINE_MODELS="$OLDPWD/target/image-root/opt/edgemine/models" \
    "$OLDPWD/target/image-root/usr/local/bin/edgemine-server" http --listen "127.0.0.1:$port" > "$OLDPWD/$log" 2>&1) &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/readyz" > /dev/null && break
    sleep 0.2
done
answer=$(curl -sf -X POST "http://127.0.0.1:$port/v1/extract" \
    -d '{"text": "Dr. Anna Keller inspected the Hamburg plant of Siemens.", "options": {"tasks": ["entities"]}}')
echo "$answer" | grep -q '"text":"Anna Keller","label":"PER"' || { echo "unexpected answer: $answer"; cat "$log"; exit 1; }
grep -q "opt/edgemine/models/minilm-tagger" "$log" || { echo "the staged models were not the ones loaded:"; cat "$log"; exit 1; }
kill $server
wait $server 2>/dev/null || true
trap - EXIT
echo "staged image answers: $answer"

echo "-- Kubernetes manifests"
if command -v kubectl > /dev/null; then
    render() { kubectl kustomize "$1"; }
else
    if [ ! -x target/tools/kustomize ]; then
        command -v go > /dev/null || { echo "need kubectl, or Go to build kustomize" >&2; exit 1; }
        GOBIN="$PWD/target/tools" go install sigs.k8s.io/kustomize/kustomize/v5@v5.5.0
    fi
    render() { target/tools/kustomize build "$1"; }
fi
"$bin/yamllint" -d '{extends: relaxed, rules: {line-length: {max: 120}}}' containers/k8s
for dir in containers/k8s/base containers/k8s/overlays/strimzi; do
    out=target/k8s-$(basename "$dir").yaml
    render "$dir" > "$out"
    "$bin/kubernetes-validate" --strict -k 1.32.0 --quiet "$out"
    echo "$dir: $(grep -c '^kind:' "$out") objects rendered, built-in kinds valid"
done
# Strimzi's KafkaTopic is a custom resource kubernetes-validate has no
# schema for: check the fields the operator needs.
"$PYTHON" - target/k8s-strimzi.yaml <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
topics = {d["metadata"]["name"]: d for d in docs if d["kind"] == "KafkaTopic"}
config = next(d for d in docs if d["kind"] == "ConfigMap")["data"]
for key in ("EDGEMINE_INPUT_TOPIC", "EDGEMINE_OUTPUT_TOPIC", "EDGEMINE_DEAD_LETTER_TOPIC"):
    assert config[key] in topics, f"{key}={config[key]} has no KafkaTopic"
for name, topic in topics.items():
    assert topic["apiVersion"] == "kafka.strimzi.io/v1beta2", name
    assert topic["metadata"]["labels"]["strimzi.io/cluster"], name
    assert isinstance(topic["spec"]["partitions"], int) and topic["spec"]["partitions"] >= 1, name
    assert isinstance(topic["spec"]["replicas"], int) and topic["spec"]["replicas"] >= 1, name
hpa = next(d for d in docs if d["kind"] == "HorizontalPodAutoscaler" and d["metadata"]["name"] == "edgemine-worker")
assert hpa["spec"]["maxReplicas"] <= topics[config["EDGEMINE_INPUT_TOPIC"]]["spec"]["partitions"]
print(f"KafkaTopics {sorted(topics)} match the ConfigMap; worker HPA max <= input partitions")
PY
