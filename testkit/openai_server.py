"""A local OpenAI-compatible server for tests: answers chat completions and checks them.

OpenAI is unreachable here, so this is the one stand-in the tests use. It records every
request (so tests can check what the project sends: model, schema, the thread) and
answers as told: a structured answer, a refusal, a 500, a slow answer, or garbage.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class OpenAIServer:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.answered = 0  # answers sent: what a test orders events against, not a clock
        self.headers: list[dict] = []
        self.mode = "answer"
        self.answer: dict | Callable[[dict], dict] = {}  # or made from each request
        self.delay = 0.0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base_url = f"http://127.0.0.1:{self._server.server_port}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> OpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(body)
                server.headers.append({k.lower(): v for k, v in self.headers.items()})
                if self.path != "/v1/chat/completions":
                    return self._send(404, {"error": {"message": "unknown path"}})
                time.sleep(server.delay)
                if server.mode == "error":
                    return self._send(500, {"error": {"message": "boom", "type": "server_error"}})
                message = {"role": "assistant", "content": None, "refusal": None}
                if server.mode == "refusal":
                    message["refusal"] = "I can't help with that."
                elif server.mode == "garbage":
                    message["content"] = '{"spec": {"name": 3'
                else:
                    answer = server.answer(body) if callable(server.answer) else server.answer
                    message["content"] = json.dumps(answer)
                self._send(
                    200,
                    {
                        "id": "chatcmpl-test",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body.get("model"),
                        "choices": [
                            {
                                "index": 0,
                                "message": message,
                                "finish_reason": "stop",
                                "logprobs": None,
                            }
                        ],
                        "usage": {
                            "prompt_tokens": 120,
                            "completion_tokens": 40,
                            "total_tokens": 160,
                        },
                    },
                )

            def _send(self, code: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                server.answered += 1

        return Handler
