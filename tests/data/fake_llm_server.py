"""A real HTTP server on 127.0.0.1 that speaks enough of two LLM protocols for the official SDKs.

- OpenAI chat completions: `POST /v1/chat/completions` (what `openai.AsyncOpenAI` sends when its
  base URL is `http://127.0.0.1:PORT/v1`);
- Anthropic messages: `POST /v1/messages` (what `anthropic.AsyncAnthropic` sends when its base
  URL is `http://127.0.0.1:PORT`).

Tests steer it: `reply` turns the last user message into the answer text, `delay_s` holds every
request open (so concurrent requests overlap and `max_in_flight` shows how many did), and
`fail_next(count, mode)` makes the next `count` requests fail with a 429 (optionally with a
retry-after header), a 500, a 400, a 401 or a 200 whose body is not JSON. Every request is
recorded (path, headers, body, arrival time and the status sent back).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAILURE_MODES = ("429", "500", "400", "401", "malformed")


def default_reply(prompt: str) -> str:
    """A fenced Python program that depends on the prompt, so answers differ between prompts."""
    return f"Here is the program.\n```python\nprint({len(prompt)})\n```\n"


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    arrived_at: float
    status: int = 0

    @property
    def prompt(self) -> str:
        """Text of the last user message (both protocols put it in `messages`)."""
        messages = self.body.get("messages") or [{}]
        return str(messages[-1].get("content", ""))


@dataclass
class _Failure:
    mode: str
    retry_after: str | None


@dataclass
class _State:
    reply: Callable[[str], str]
    delay_s: float = 0.0
    requests: list[RecordedRequest] = field(default_factory=list)
    failures: list[_Failure] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class FakeLLMServer:
    """Start with `with FakeLLMServer() as server:`; `server.openai_base_url` and
    `server.anthropic_base_url` are what the SDK clients need."""

    def __init__(self, reply: Callable[[str], str] = default_reply, delay_s: float = 0.0) -> None:
        self._state = _State(reply=reply, delay_s=delay_s)
        handler = type("Handler", (_Handler,), {"state": self._state})
        self._server = _Server(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def openai_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def anthropic_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._state.lock:
            return list(self._state.requests)

    @property
    def max_in_flight(self) -> int:
        return self._state.max_in_flight

    def set_delay(self, delay_s: float) -> None:
        self._state.delay_s = delay_s

    def fail_next(self, count: int, mode: str, retry_after: str | None = None) -> None:
        """Answer the next `count` requests with failure `mode` (one of FAILURE_MODES)."""
        if mode not in FAILURE_MODES:
            raise ValueError(f"unknown failure mode {mode!r}; use one of {FAILURE_MODES}")
        with self._state.lock:
            self._state.failures.extend(_Failure(mode, retry_after) for _ in range(count))

    def __enter__(self) -> FakeLLMServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 drops connections when many clients start at once


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDKs' connection pools expect
    disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms stall
    state: _State

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request stderr line."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except json.JSONDecodeError:
            body = {}
        request = RecordedRequest(
            path=self.path,
            headers={key.lower(): value for key, value in self.headers.items()},
            body=body,
            arrived_at=time.monotonic(),
        )
        state = self.state
        with state.lock:
            state.requests.append(request)
            failure = state.failures.pop(0) if state.failures else None
            state.in_flight += 1
            state.max_in_flight = max(state.max_in_flight, state.in_flight)
        try:
            if state.delay_s:
                time.sleep(state.delay_s)
            request.status = self._answer(request, failure)
        finally:
            with state.lock:
                state.in_flight -= 1

    def _answer(self, request: RecordedRequest, failure: _Failure | None) -> int:
        anthropic = request.path == "/v1/messages"
        if request.path not in ("/v1/messages", "/v1/chat/completions"):
            return self._send(404, _error_body(anthropic, "not_found_error", "no such route"))
        if "messages" not in request.body:  # a request cut off by a cancelled client
            return self._send(400, _error_body(anthropic, "invalid_request_error", "no messages"))
        if failure is None:
            return self._send(200, _success_body(anthropic, request, self.state.reply))
        if failure.mode == "malformed":
            return self._send(200, b'{"choices": [ this is not json')
        status = int(failure.mode)
        kind = {
            429: "rate_limit_error",
            500: "api_error",
            400: "invalid_request_error",
            401: "authentication_error",
        }[status]
        headers = {"retry-after": failure.retry_after} if failure.retry_after else {}
        return self._send(status, _error_body(anthropic, kind, f"injected {status}"), headers)

    def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> int:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)
        return status


def _success_body(anthropic: bool, request: RecordedRequest, reply: Callable[[str], str]) -> bytes:
    text = reply(request.prompt)
    model = request.body.get("model", "unknown")
    if anthropic:
        body: dict[str, Any] = {
            "id": f"msg_{len(text)}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 1},
        }
    else:
        body = {
            "id": f"chatcmpl-{len(text)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
    return json.dumps(body).encode()


def _error_body(anthropic: bool, kind: str, message: str) -> bytes:
    if anthropic:
        return json.dumps({"type": "error", "error": {"type": kind, "message": message}}).encode()
    return json.dumps({"error": {"message": message, "type": kind, "code": None}}).encode()
