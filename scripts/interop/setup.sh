#!/usr/bin/env bash
# Creates (once) the Python virtualenv the interop proof runs in: Confluent's own client, confluent-kafka, with
# its Avro, JSON Schema and Protobuf deserializers, plus grpcio-tools for protoc. Idempotent: when the venv
# already imports everything it needs, it returns at once. Usage: scripts/interop/setup.sh [venv-dir]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${1:-${KAFKA_LOG_PY_VENV:-$here/../../.local/py}}"
requirements="$here/requirements.txt"
stamp="$venv/.kafka-log-requirements"

# One setup at a time: concurrent callers (test workers) wait for the first, then find the venv ready.
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && cmp -s "$requirements" "$stamp" \
  && "$venv/bin/python" -c 'import confluent_kafka.schema_registry.protobuf, grpc_tools.protoc' 2>/dev/null; then
  echo "interop venv ready: $venv"
  exit 0
fi

python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
cp "$requirements" "$stamp"
echo "interop venv installed: $venv"
