/**
 * The ready-made schemas of the Kong log entry, the same as the files under `schemas/` in the package (a unit
 * test keeps them equal). Embedded so that bundling never has to find the files at run time.
 *
 * @module
 */

/** `schemas/kong-log-entry.avsc`: the Avro schema of one entry. */
export const KONG_LOG_ENTRY_AVRO_SCHEMA = {
  "type": "record",
  "name": "KongLogEntry",
  "namespace": "kafka_log.kong",
  "doc": "One Kong access-log entry (kafka-log). Open maps use unwrapped-friendly unions (one branch per JSON kind); body_args and custom fields hold JSON text (logicalType json).",
  "fields": [
    {
      "name": "request",
      "type": {
        "type": "record",
        "name": "Request",
        "fields": [
          {
            "name": "id",
            "type": "string"
          },
          {
            "name": "uri",
            "type": "string"
          },
          {
            "name": "url",
            "type": "string"
          },
          {
            "name": "querystring",
            "type": {
              "type": "map",
              "values": [
                "string",
                "boolean",
                {
                  "type": "array",
                  "items": [
                    "string",
                    "boolean"
                  ]
                }
              ]
            }
          },
          {
            "name": "method",
            "type": "string"
          },
          {
            "name": "headers",
            "type": {
              "type": "map",
              "values": [
                "string",
                {
                  "type": "array",
                  "items": "string"
                }
              ]
            }
          },
          {
            "name": "size",
            "type": "long"
          },
          {
            "name": "tls",
            "type": [
              "null",
              {
                "type": "record",
                "name": "Tls",
                "fields": [
                  {
                    "name": "version",
                    "type": "string"
                  },
                  {
                    "name": "cipher",
                    "type": "string"
                  },
                  {
                    "name": "client_verify",
                    "type": "string"
                  }
                ]
              }
            ],
            "default": null
          },
          {
            "name": "body",
            "type": [
              "null",
              "string"
            ],
            "default": null
          },
          {
            "name": "body_args",
            "type": [
              "null",
              {
                "type": "string",
                "logicalType": "json"
              }
            ],
            "default": null
          },
          {
            "name": "body_base64",
            "type": [
              "null",
              "boolean"
            ],
            "default": null
          },
          {
            "name": "body_truncated",
            "type": [
              "null",
              "boolean"
            ],
            "default": null
          },
          {
            "name": "body_args_error",
            "type": [
              "null",
              "string"
            ],
            "default": null
          }
        ]
      }
    },
    {
      "name": "upstream_uri",
      "type": "string"
    },
    {
      "name": "upstream_status",
      "type": "string"
    },
    {
      "name": "response",
      "type": {
        "type": "record",
        "name": "Response",
        "fields": [
          {
            "name": "status",
            "type": "int"
          },
          {
            "name": "headers",
            "type": {
              "type": "map",
              "values": [
                "string",
                {
                  "type": "array",
                  "items": "string"
                }
              ]
            }
          },
          {
            "name": "size",
            "type": "long"
          },
          {
            "name": "body",
            "type": [
              "null",
              "string"
            ],
            "default": null
          },
          {
            "name": "body_args",
            "type": [
              "null",
              {
                "type": "string",
                "logicalType": "json"
              }
            ],
            "default": null
          },
          {
            "name": "body_base64",
            "type": [
              "null",
              "boolean"
            ],
            "default": null
          },
          {
            "name": "body_truncated",
            "type": [
              "null",
              "boolean"
            ],
            "default": null
          },
          {
            "name": "body_args_error",
            "type": [
              "null",
              "string"
            ],
            "default": null
          }
        ]
      }
    },
    {
      "name": "latencies",
      "type": {
        "type": "record",
        "name": "Latencies",
        "fields": [
          {
            "name": "request",
            "type": "long"
          },
          {
            "name": "proxy",
            "type": "long"
          },
          {
            "name": "kong",
            "type": "long"
          },
          {
            "name": "receive",
            "type": "long"
          }
        ]
      }
    },
    {
      "name": "tries",
      "type": [
        "null",
        {
          "type": "array",
          "items": {
            "type": "map",
            "values": [
              "null",
              "boolean",
              "double",
              "string"
            ]
          }
        }
      ],
      "default": null
    },
    {
      "name": "authenticated_entity",
      "type": [
        "null",
        {
          "type": "record",
          "name": "AuthenticatedEntity",
          "fields": [
            {
              "name": "id",
              "type": "string"
            },
            {
              "name": "consumer_id",
              "type": [
                "null",
                "string"
              ],
              "default": null
            }
          ]
        }
      ],
      "default": null
    },
    {
      "name": "route",
      "type": [
        "null",
        {
          "type": "map",
          "values": [
            "null",
            "boolean",
            "double",
            "string",
            {
              "type": "array",
              "items": [
                "null",
                "boolean",
                "double",
                "string"
              ]
            },
            {
              "type": "map",
              "values": [
                "null",
                "boolean",
                "double",
                "string",
                {
                  "type": "array",
                  "items": [
                    "null",
                    "boolean",
                    "double",
                    "string"
                  ]
                }
              ]
            }
          ]
        }
      ],
      "default": null
    },
    {
      "name": "service",
      "type": [
        "null",
        {
          "type": "map",
          "values": [
            "null",
            "boolean",
            "double",
            "string",
            {
              "type": "array",
              "items": [
                "null",
                "boolean",
                "double",
                "string"
              ]
            },
            {
              "type": "map",
              "values": [
                "null",
                "boolean",
                "double",
                "string",
                {
                  "type": "array",
                  "items": [
                    "null",
                    "boolean",
                    "double",
                    "string"
                  ]
                }
              ]
            }
          ]
        }
      ],
      "default": null
    },
    {
      "name": "consumer",
      "type": [
        "null",
        {
          "type": "map",
          "values": [
            "null",
            "boolean",
            "double",
            "string",
            {
              "type": "array",
              "items": [
                "null",
                "boolean",
                "double",
                "string"
              ]
            },
            {
              "type": "map",
              "values": [
                "null",
                "boolean",
                "double",
                "string",
                {
                  "type": "array",
                  "items": [
                    "null",
                    "boolean",
                    "double",
                    "string"
                  ]
                }
              ]
            }
          ]
        }
      ],
      "default": null
    },
    {
      "name": "client_ip",
      "type": "string"
    },
    {
      "name": "started_at",
      "type": "long"
    },
    {
      "name": "source",
      "type": {
        "type": "enum",
        "name": "Source",
        "symbols": [
          "upstream",
          "kong"
        ]
      }
    },
    {
      "name": "workspace",
      "type": [
        "null",
        "string"
      ],
      "default": null
    },
    {
      "name": "workspace_name",
      "type": [
        "null",
        "string"
      ],
      "default": null
    },
    {
      "name": "trace_id",
      "type": [
        "null",
        "string"
      ],
      "default": null
    },
    {
      "name": "correlation_id",
      "type": [
        "null",
        "string"
      ],
      "default": null
    },
    {
      "name": "custom",
      "doc": "Custom fields (top-level keys this schema does not declare), each as JSON text.",
      "type": {
        "type": "map",
        "values": {
          "type": "string",
          "logicalType": "json"
        }
      },
      "default": {}
    }
  ]
} as const;

/** `schemas/kong-log-entry.schema.json`: the JSON Schema (draft-07) of one entry. */
export const KONG_LOG_ENTRY_JSON_SCHEMA = {
  "$id": "kafka-log/kong-log-entry",
  "title": "Kong log entry",
  "type": "object",
  "required": [
    "request",
    "upstream_uri",
    "upstream_status",
    "response",
    "latencies",
    "client_ip",
    "started_at",
    "source"
  ],
  "properties": {
    "request": {
      "type": "object",
      "required": [
        "id",
        "uri",
        "url",
        "querystring",
        "method",
        "headers",
        "size"
      ],
      "properties": {
        "id": {
          "type": "string"
        },
        "uri": {
          "type": "string"
        },
        "url": {
          "type": "string"
        },
        "querystring": {
          "type": "object",
          "additionalProperties": {
            "anyOf": [
              {
                "type": "string"
              },
              {
                "type": "boolean"
              },
              {
                "type": "array",
                "items": {
                  "anyOf": [
                    {
                      "type": "string"
                    },
                    {
                      "type": "boolean"
                    }
                  ]
                }
              }
            ]
          }
        },
        "method": {
          "type": "string"
        },
        "headers": {
          "type": "object",
          "additionalProperties": {
            "anyOf": [
              {
                "type": "string"
              },
              {
                "type": "array",
                "items": {
                  "type": "string"
                }
              }
            ]
          }
        },
        "size": {
          "type": "integer",
          "minimum": 0
        },
        "tls": {
          "type": "object",
          "required": [
            "version",
            "cipher",
            "client_verify"
          ],
          "properties": {
            "version": {
              "type": "string"
            },
            "cipher": {
              "type": "string"
            },
            "client_verify": {
              "type": "string"
            }
          },
          "additionalProperties": true
        },
        "body": {
          "type": "string"
        },
        "body_args": {},
        "body_base64": {
          "type": "boolean"
        },
        "body_truncated": {
          "type": "boolean"
        },
        "body_args_error": {
          "type": "string"
        }
      },
      "additionalProperties": true
    },
    "upstream_uri": {
      "type": "string"
    },
    "upstream_status": {
      "type": "string"
    },
    "response": {
      "type": "object",
      "required": [
        "status",
        "headers",
        "size"
      ],
      "properties": {
        "status": {
          "type": "integer"
        },
        "headers": {
          "type": "object",
          "additionalProperties": {
            "anyOf": [
              {
                "type": "string"
              },
              {
                "type": "array",
                "items": {
                  "type": "string"
                }
              }
            ]
          }
        },
        "size": {
          "type": "integer",
          "minimum": 0
        },
        "body": {
          "type": "string"
        },
        "body_args": {},
        "body_base64": {
          "type": "boolean"
        },
        "body_truncated": {
          "type": "boolean"
        },
        "body_args_error": {
          "type": "string"
        }
      },
      "additionalProperties": true
    },
    "latencies": {
      "type": "object",
      "required": [
        "request",
        "proxy",
        "kong",
        "receive"
      ],
      "properties": {
        "request": {
          "type": "number"
        },
        "proxy": {
          "type": "number"
        },
        "kong": {
          "type": "number"
        },
        "receive": {
          "type": "number"
        }
      },
      "additionalProperties": true
    },
    "tries": {
      "type": "array",
      "items": {
        "type": "object",
        "additionalProperties": true
      }
    },
    "authenticated_entity": {
      "type": "object",
      "required": [
        "id"
      ],
      "properties": {
        "id": {
          "type": "string"
        },
        "consumer_id": {
          "type": "string"
        }
      },
      "additionalProperties": true
    },
    "route": {
      "type": "object",
      "additionalProperties": true
    },
    "service": {
      "type": "object",
      "additionalProperties": true
    },
    "consumer": {
      "type": "object",
      "additionalProperties": true
    },
    "client_ip": {
      "type": "string"
    },
    "started_at": {
      "type": "number"
    },
    "source": {
      "type": "string",
      "enum": [
        "upstream",
        "kong"
      ]
    },
    "workspace": {
      "type": "string"
    },
    "workspace_name": {
      "type": "string"
    },
    "trace_id": {
      "type": "string"
    },
    "correlation_id": {
      "type": "string"
    }
  },
  "additionalProperties": true
} as const;

/** `schemas/kong-log-entry.proto`: the Protobuf schema; `KongLogEntry` is its first message. */
export const KONG_LOG_ENTRY_PROTO_SCHEMA = "// One Kong access-log entry (kafka-log), for a Confluent Schema Registry PROTOBUF subject.\n// KongLogEntry is the first message of the file (message index [0]), the one kafka-log writes.\n// Open maps (headers, querystring, body_args, route, service, consumer, tries) are google.protobuf.Struct /\n// Value, whose canonical protobuf JSON is the plain JSON of Kong's entry. Custom fields (top-level keys this\n// schema does not declare) go to `custom`.\nsyntax = \"proto3\";\n\npackage kafka_log.kong.v1;\n\nimport \"google/protobuf/struct.proto\";\n\nmessage KongLogEntry {\n  Request request = 1;\n  string upstream_uri = 2;\n  string upstream_status = 3;\n  Response response = 4;\n  Latencies latencies = 5;\n  repeated google.protobuf.Struct tries = 6;\n  AuthenticatedEntity authenticated_entity = 7;\n  google.protobuf.Struct route = 8;\n  google.protobuf.Struct service = 9;\n  google.protobuf.Struct consumer = 10;\n  string client_ip = 11;\n  int64 started_at = 12;\n  string source = 13;\n  optional string workspace = 14;\n  optional string workspace_name = 15;\n  optional string trace_id = 16;\n  optional string correlation_id = 17;\n  google.protobuf.Struct custom = 18;\n}\n\nmessage Request {\n  string id = 1;\n  string uri = 2;\n  string url = 3;\n  google.protobuf.Struct querystring = 4;\n  string method = 5;\n  google.protobuf.Struct headers = 6;\n  int64 size = 7;\n  Tls tls = 8;\n  optional string body = 9;\n  google.protobuf.Value body_args = 10;\n  optional bool body_base64 = 11;\n  optional bool body_truncated = 12;\n  optional string body_args_error = 13;\n}\n\nmessage Response {\n  int32 status = 1;\n  google.protobuf.Struct headers = 2;\n  int64 size = 3;\n  optional string body = 4;\n  google.protobuf.Value body_args = 5;\n  optional bool body_base64 = 6;\n  optional bool body_truncated = 7;\n  optional string body_args_error = 8;\n}\n\nmessage Tls {\n  string version = 1;\n  string cipher = 2;\n  string client_verify = 3;\n}\n\nmessage Latencies {\n  int64 request = 1;\n  int64 proxy = 2;\n  int64 kong = 3;\n  int64 receive = 4;\n}\n\nmessage AuthenticatedEntity {\n  string id = 1;\n  optional string consumer_id = 2;\n}\n";
