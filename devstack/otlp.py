"""A real OTLP/HTTP trace receiver on loopback (what a collector does with ``POST /v1/traces``), run
as its own process so that decoding the spans of five busy services costs the test process nothing.

    python -m devstack.otlp --port 4318

The services' exporters send it protobuf ``ExportTraceServiceRequest``s; it keeps their spans,
indexed by trace id (and by the trace ids a span links to), and answers
``GET /traces/<trace id>`` with them as JSON. ``OtlpReceiver`` starts one for a test.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
from collections import defaultdict, deque
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from .infra import free_port, port_open

#: Spans kept at the most (the oldest go first): a receiver for tests, not a store.
MAX_SPANS = 200_000


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    kind: str
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, Any]
    links: tuple[str, ...]


class _Spans:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._order: deque[ReceivedSpan] = deque()
        self._by_trace: dict[str, list[ReceivedSpan]] = defaultdict(list)

    def add(self, spans: list[ReceivedSpan]) -> None:
        with self._lock:
            for span in spans:
                self._order.append(span)
                for trace_id in {span.trace_id, *span.links}:
                    self._by_trace[trace_id].append(span)
            while len(self._order) > MAX_SPANS:
                old = self._order.popleft()
                for trace_id in {old.trace_id, *old.links}:
                    kept = self._by_trace.get(trace_id)
                    if kept:
                        kept.remove(old)
                        if not kept:
                            del self._by_trace[trace_id]

    def of_trace(self, trace_id: str) -> list[ReceivedSpan]:
        with self._lock:
            return list(self._by_trace.get(trace_id, ()))


def _decode(body: bytes) -> list[ReceivedSpan]:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.trace.v1.trace_pb2 import Span

    def value(v: Any) -> Any:
        kind = v.WhichOneof("value")
        return getattr(v, kind) if kind else None

    found = []
    for resource_spans in ExportTraceServiceRequest.FromString(body).resource_spans:
        service = str({a.key: value(a.value) for a in resource_spans.resource.attributes}.get("service.name"))
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                found.append(ReceivedSpan(
                    service=service, name=span.name, kind=Span.SpanKind.Name(span.kind),
                    trace_id=span.trace_id.hex(), span_id=span.span_id.hex(), parent_span_id=span.parent_span_id.hex(),
                    attributes={a.key: value(a.value) for a in span.attributes},
                    links=tuple(link.trace_id.hex() for link in span.links),
                ))
    return found


def serve(port: int) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

    spans = _Spans()
    reply = ExportTraceServiceResponse().SerializeToString()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            spans.add(_decode(body))
            self._answer(200, "application/x-protobuf", reply)

        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/healthz":
                self._answer(200, "text/plain", b"ok")
            elif self.path.startswith("/traces/"):
                found = [asdict(s) for s in spans.of_trace(self.path.removeprefix("/traces/"))]
                self._answer(200, "application/json", json.dumps(found).encode())
            else:
                self._answer(404, "text/plain", b"not found")

        def _answer(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


class OtlpReceiver:
    """The receiver as a child process on a free loopback port."""

    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._log = log_path.open("ab")
        self._process = subprocess.Popen([sys.executable, "-m", "devstack.otlp", "--port", str(self.port)],
                                         stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 30) -> None:
        import time

        deadline = time.monotonic() + timeout
        while not port_open("127.0.0.1", self.port):
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the OTLP receiver did not start (exit {self._process.poll()})")
            time.sleep(0.05)

    async def of_trace(self, trace_id: str) -> list[ReceivedSpan]:
        async with httpx.AsyncClient(base_url=self.endpoint) as client:
            resp = await client.get(f"/traces/{trace_id}")
            resp.raise_for_status()
        return [ReceivedSpan(**{**s, "links": tuple(s["links"])}) for s in resp.json()]

    def stop(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=4318)
    serve(parser.parse_args().port)


if __name__ == "__main__":
    main()
