"""Test peer: an OTLP/HTTP trace receiver that validates what it gets.

Each POST to /v1/traces must be `application/json` and parse, strictly (no unknown
fields), as an `ExportTraceServiceRequest` of the official OpenTelemetry protobuf
definitions (opentelemetry-proto). OTLP/JSON writes trace and span ids in hex, not in
protobuf's base64; they are checked (32 and 16 lowercase hex digits) and converted, as a
collector does. Valid spans are appended to <out>/spans.jsonl, refusals to <out>/errors.jsonl.

Usage: receiver.py PORT OUT_DIR
"""

import base64
import json
import os
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

PORT, OUT = int(sys.argv[1]), sys.argv[2]
os.makedirs(OUT, exist_ok=True)
IDS = {"traceId": 32, "spanId": 16, "parentSpanId": 16}


def hex_ids_to_base64(node, path="$"):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in IDS:
                if not (isinstance(value, str) and re.fullmatch("[0-9a-f]{%d}" % IDS[key], value)):
                    raise ValueError(f"{path}.{key} must be {IDS[key]} lowercase hex digits: {value!r}")
                if set(value) == {"0"}:
                    raise ValueError(f"{path}.{key} must not be all zero")
                node[key] = base64.b64encode(bytes.fromhex(value)).decode()
            else:
                hex_ids_to_base64(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            hex_ids_to_base64(item, f"{path}[{i}]")


def any_value(value):
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


def append(name, record):
    with open(os.path.join(OUT, name), "a", encoding="utf-8") as f:
        f.write(json.dumps(record, ensure_ascii=False) + "\n")


class Handler(BaseHTTPRequestHandler):
    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path != "/v1/traces":
            return self.answer(404, {"message": "only /v1/traces"})
        if (self.headers.get("Content-Type") or "").split(";")[0].strip() != "application/json":
            append("errors.jsonl", {"error": "content type", "got": self.headers.get("Content-Type")})
            return self.answer(415, {"message": "application/json expected"})
        try:
            document = json.loads(body)
            hex_ids_to_base64(document)
            request = json_format.Parse(json.dumps(document), ExportTraceServiceRequest())
            for resource_spans in request.resource_spans:
                resource = {a.key: any_value(a.value) for a in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        if not 0 < span.start_time_unix_nano <= span.end_time_unix_nano:
                            raise ValueError(f"span {span.name!r}: start and end times out of order")
                        append("spans.jsonl", {
                            "service": resource.get("service.name"),
                            "scope": scope_spans.scope.name,
                            "trace_id": span.trace_id.hex(),
                            "span_id": span.span_id.hex(),
                            "parent_span_id": span.parent_span_id.hex(),
                            "name": span.name,
                            "kind": span.kind,
                            "status_code": span.status.code,
                            "duration_ns": span.end_time_unix_nano - span.start_time_unix_nano,
                            "attributes": {a.key: any_value(a.value) for a in span.attributes},
                        })
        except (ValueError, json_format.ParseError) as e:
            append("errors.jsonl", {"error": str(e)})
            return self.answer(400, {"message": str(e)})
        return self.answer(200, {})

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
print("listening", flush=True)
server.serve_forever()
