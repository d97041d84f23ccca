#!/usr/bin/env python3
"""Interop proof: read a topic kafka-log wrote with Confluent's OWN client (confluent-kafka: librdkafka consumer,
SchemaRegistryClient and the official Avro / JSON Schema / Protobuf deserializers) and print every decoded value
as one JSON line: {"partition", "offset", "key", "value"}.

Protobuf: the deserializer needs the generated message class. It is generated here, at run time, from the
schema the registry holds for the subject (protoc from grpcio-tools), and the class of the file's first message
(message index [0], the one kafka-log writes) is used. The decoded message is printed in protobuf's canonical
JSON mapping (MessageToDict, field names as declared).

Run scripts/interop/setup.sh first, then: .local/py/bin/python scripts/interop/consume.py --bootstrap HOST:PORT
--registry URL --topic TOPIC --type avro|json|protobuf --count N [--key-type avro|json|protobuf|string]
"""

import argparse
import importlib.util
import json
import time
import os
import subprocess
import sys
import tempfile
import uuid

from confluent_kafka import Consumer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext
from google.protobuf.json_format import MessageToDict


def protobuf_class(registry: SchemaRegistryClient, subject: str, workdir: str):
    """Generates Python code for the subject's latest .proto with protoc and returns its first message class."""
    import grpc_tools

    schema = registry.get_latest_version(subject).schema.schema_str
    module = "kong_schema_" + uuid.uuid4().hex[:8]
    with open(os.path.join(workdir, module + ".proto"), "w", encoding="utf-8") as handle:
        handle.write(schema)
    well_known = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", "-I", workdir, "-I", well_known, "--python_out", workdir, module + ".proto"],
        check=True,
    )
    spec = importlib.util.spec_from_file_location(module + "_pb2", os.path.join(workdir, module + "_pb2.py"))
    generated = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generated)
    first = next(iter(generated.DESCRIPTOR.message_types_by_name.values()))
    return getattr(generated, first.name)


def deserializer_for(kind: str, registry: SchemaRegistryClient, subject: str, workdir: str):
    if kind == "avro":
        return AvroDeserializer(registry)
    if kind == "json":
        return JSONDeserializer(None, schema_registry_client=registry)
    if kind == "protobuf":
        message_class = protobuf_class(registry, subject, workdir)
        deserializer = ProtobufDeserializer(message_class, {}, schema_registry_client=registry)
        return lambda data, ctx: MessageToDict(deserializer(data, ctx), preserving_proto_field_name=True, always_print_fields_with_no_presence=True)
    if kind == "string":
        return lambda data, ctx: None if data is None else data.decode("utf-8")
    raise SystemExit(f"unknown type {kind}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--registry", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--type", required=True, choices=["avro", "json", "protobuf"])
    parser.add_argument("--key-type", default="string", choices=["avro", "json", "protobuf", "string"])
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--basic-auth", default=os.environ.get("KAFKA_LOG_REGISTRY_BASIC_AUTH"), help="user:password (or the env variable)")
    args = parser.parse_args()

    registry_conf = {"url": args.registry}
    if args.basic_auth:
        registry_conf["basic.auth.user.info"] = args.basic_auth
    registry = SchemaRegistryClient(registry_conf)
    consumer = Consumer(
        {
            "bootstrap.servers": args.bootstrap,
            "group.id": "kafka-log-interop-" + uuid.uuid4().hex,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([args.topic])
    with tempfile.TemporaryDirectory() as workdir:
        decode_value = deserializer_for(args.type, registry, f"{args.topic}-value", workdir)
        decode_key = deserializer_for(args.key_type, registry, f"{args.topic}-key", workdir)
        value_ctx = SerializationContext(args.topic, MessageField.VALUE)
        key_ctx = SerializationContext(args.topic, MessageField.KEY)
        seen = 0
        deadline = time.monotonic() + args.timeout
        try:
            while seen < args.count and time.monotonic() < deadline:
                message = consumer.poll(0.5)
                if message is None:
                    continue
                if message.error():
                    raise SystemExit(f"consumer error: {message.error()}")
                line = {
                    "partition": message.partition(),
                    "offset": message.offset(),
                    "key": decode_key(message.key(), key_ctx),
                    "value": decode_value(message.value(), value_ctx),
                }
                print(json.dumps(line, default=str, ensure_ascii=False), flush=True)
                seen += 1
        finally:
            consumer.close()
    if seen < args.count:
        print(f"only {seen} of {args.count} messages within {args.timeout} s", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
