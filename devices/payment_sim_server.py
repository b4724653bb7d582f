"""The simulated cashless provider as a separate HTTP service on loopback.

``python -m devices.payment_sim_server --port 0 --port-file FILE`` (or
``python main.py payment-sim``) serves a small JSON API with the shape of a real dynamic-QR
provider, holding only order references, fee codes and amounts (PAY-01):

    POST /v1/orders                {amount, reference, fee_code} + Idempotency-Key
    GET  /v1/orders/{id}
    POST /v1/orders/{id}/cancel
    POST /v1/orders/{id}/refund    {amount} + Idempotency-Key

Every request carries ``Authorization: Bearer KEY``; the key comes from the environment
variable ``KIOSK_PAYMENT_SIM_KEY`` (never the command line, which other users can read).

Failure injection for tests and the demo, under ``/_sim/``:

    POST /_sim/faults   {"op": "create"|"status"|"cancel"|"refund"|"any",
                         "kind": "timeout"|"error"|"error_after", "count": n, "hang_s": s}
        timeout:     the request is carried out, the answer comes after ``hang_s`` (the
                     client has given up by then, as when a response is lost)
        error:       503 without doing anything
        error_after: the request is carried out, then 500 (done, but the client cannot know)
    POST /_sim/orders/{reference}/complete  {"late": bool}   the resident pays
    POST /_sim/orders/{reference}/expire
    POST /_sim/config   {"delay_s": number|null}             automatic payment delay
    GET  /_sim/orders   GET /_sim/stats   GET /_sim/health
"""

from __future__ import annotations

import argparse
import hmac
import json
import os
import re
import sys
import threading
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from devices.errors import PaymentError, PaymentRejected
from devices.payment_simulated import SimOrder, SimulatedPaymentProvider, UnknownOrder

KEY_ENV = "KIOSK_PAYMENT_SIM_KEY"
OPS = ("create", "status", "cancel", "refund")
_MAX_BODY = 4096
_REFERENCE = re.compile(r"^[A-Za-z0-9-]{1,32}$")
_CODE = re.compile(r"^[a-z0-9_]{1,64}$")
_ORDER = re.compile(r"^/v1/orders/([A-Za-z0-9]{1,32})(/cancel|/refund)?$")
_SIM_ORDER = re.compile(r"^/_sim/orders/([A-Za-z0-9-]{1,32})/(complete|expire)$")


@dataclass
class Fault:
    op: str
    kind: str
    count: int
    hang_s: float


class Faults:
    """Queued faults, each used up by the next matching request(s)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._queue.append(fault)

    def take(self, op: str) -> Fault | None:
        with self._lock:
            for fault in self._queue:
                if fault.op in (op, "any"):
                    fault.count -= 1
                    if fault.count <= 0:
                        self._queue.remove(fault)
                    return fault
            return None


class SimService:
    def __init__(self, provider: SimulatedPaymentProvider, api_key: str) -> None:
        self.provider = provider
        self.api_key = api_key
        self.faults = Faults()
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self.calls = dict.fromkeys(OPS, 0)

    def count(self, op: str) -> None:
        with self._lock:
            self.calls[op] += 1


class BadRequest(Exception):
    pass


def _order_json(entry: SimOrder) -> dict[str, Any]:
    return {
        "order_id": entry.order.provider_order_id,
        "reference": entry.reference,
        "fee_code": entry.fee_code,
        "amount": entry.amount,
        "status": entry.status.value,
    }


class Handler(BaseHTTPRequestHandler):
    server_version = "kakanai-payment-sim/1"
    service: SimService  # set on the subclass made by make_server

    # --- plumbing ----------------------------------------------------------------------
    def log_message(self, format: str, *args: Any) -> None:
        pass  # the kiosk's logs hold what matters; no request lines on stderr

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout fault): the work is done all the same

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            raise BadRequest("body too large")
        raw = self.rfile.read(length) if length else b"{}"
        try:
            body = json.loads(raw)
        except ValueError:
            raise BadRequest("not JSON") from None
        if not isinstance(body, dict):
            raise BadRequest("not an object")
        return body

    def _authorised(self) -> bool:
        given = self.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {self.service.api_key}".encode())

    def _key(self) -> str:
        key = self.headers.get("Idempotency-Key", "")
        if not re.fullmatch(r"[A-Za-z0-9-]{8,64}", key):
            raise BadRequest("Idempotency-Key required")
        return key

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        if not self._authorised():
            self._send(HTTPStatus.UNAUTHORIZED, {"error": "unauthorised"})
            return
        try:
            if self.path.startswith("/_sim/"):
                self._admin(method)
            else:
                self._api(method)
        except BadRequest as exc:
            self._send(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
        except UnknownOrder:
            self._send(HTTPStatus.NOT_FOUND, {"error": "unknown order"})
        except PaymentRejected:
            self._send(HTTPStatus.CONFLICT, {"error": "conflict"})
        except PaymentError:
            self._send(HTTPStatus.UNPROCESSABLE_ENTITY, {"error": "refused"})

    # --- the provider API --------------------------------------------------------------
    def _api(self, method: str) -> None:
        p = self.service.provider
        if method == "POST" and self.path == "/v1/orders":
            op = "create"
        else:
            match = _ORDER.match(self.path)
            if match is None:
                self._send(HTTPStatus.NOT_FOUND, {"error": "no such endpoint"})
                return
            order_id, action = match.group(1), match.group(2)
            op = {None: "status", "/cancel": "cancel", "/refund": "refund"}[action]
            if (method == "GET") != (op == "status"):
                self._send(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "method"})
                return
        self.service.count(op)
        fault = self.service.faults.take(op)
        if fault is not None and fault.kind == "error":
            self._send(HTTPStatus.SERVICE_UNAVAILABLE, {"error": "injected"})
            return
        body = self._body() if method == "POST" else {}
        if op == "create":
            amount, reference, fee_code = (
                body.get("amount"),
                body.get("reference"),
                body.get("fee_code"),
            )
            if not (isinstance(amount, int) and not isinstance(amount, bool) and amount > 0):
                raise BadRequest("amount must be a positive integer (yen)")
            if not (isinstance(reference, str) and _REFERENCE.match(reference)):
                raise BadRequest("reference")
            if not (isinstance(fee_code, str) and _CODE.match(fee_code)):
                raise BadRequest("fee_code")
            order = p.create_order(
                amount_yen=amount,
                reference=reference,
                fee_code=fee_code,
                idempotency_key=self._key(),
            )
            answer: dict[str, Any] = {
                "order_id": order.provider_order_id,
                "qr_content": order.qr_content,
                "expires_at": order.expires_at.isoformat(),
                "status": p.get_status(order.provider_order_id).value,
            }
        elif op == "status":
            answer = {"order_id": order_id, "status": p.get_status(order_id).value}
        elif op == "cancel":
            answer = {"order_id": order_id, "status": p.cancel(order_id).value}
        else:
            amount = body.get("amount")
            if not isinstance(amount, int):
                raise BadRequest("amount")
            status = p.refund(order_id, amount_yen=amount, idempotency_key=self._key())
            answer = {"order_id": order_id, "status": status.value}
        if fault is not None and fault.kind == "timeout":
            self.service.stopping.wait(fault.hang_s)
        if fault is not None and fault.kind == "error_after":
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "injected"})
            return
        self._send(HTTPStatus.CREATED if op == "create" else HTTPStatus.OK, answer)

    # --- failure injection and inspection ----------------------------------------------
    def _admin(self, method: str) -> None:
        p = self.service.provider
        if method == "GET" and self.path == "/_sim/health":
            self._send(HTTPStatus.OK, {"ok": True})
        elif method == "GET" and self.path == "/_sim/orders":
            self._send(HTTPStatus.OK, {"orders": [_order_json(o) for o in p.orders()]})
        elif method == "GET" and self.path == "/_sim/stats":
            self._send(
                HTTPStatus.OK, {"calls": dict(self.service.calls), "orders": len(p.orders())}
            )
        elif method == "POST" and self.path == "/_sim/faults":
            body = self._body()
            op, kind = body.get("op", "any"), body.get("kind")
            if op not in (*OPS, "any") or kind not in ("timeout", "error", "error_after"):
                raise BadRequest("op/kind")
            count, hang = body.get("count", 1), body.get("hang_s", 5.0)
            if not isinstance(count, int) or not isinstance(hang, int | float):
                raise BadRequest("count/hang_s")
            self.service.faults.add(Fault(op, kind, count, float(hang)))
            self._send(HTTPStatus.OK, {"ok": True})
        elif method == "POST" and self.path == "/_sim/config":
            delay = self._body().get("delay_s")
            if delay is not None and not isinstance(delay, int | float):
                raise BadRequest("delay_s")
            p.delay_s = None if delay is None else float(delay)
            self._send(HTTPStatus.OK, {"ok": True})
        elif method == "POST" and (match := _SIM_ORDER.match(self.path)):
            entry = p.find(match.group(1))
            if entry is None:
                raise UnknownOrder()
            order_id = entry.order.provider_order_id
            if match.group(2) == "complete":
                status = p.complete(order_id, late=bool(self._body().get("late")))
            else:
                status = p.expire(order_id)
            self._send(HTTPStatus.OK, {"order_id": order_id, "status": status.value})
        else:
            self._send(HTTPStatus.NOT_FOUND, {"error": "no such endpoint"})


def make_server(service: SimService, port: int = 0) -> ThreadingHTTPServer:
    """Bind on 127.0.0.1 only: the simulated provider is never reachable from outside."""
    handler = type("BoundHandler", (Handler,), {"service": service})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="simulated payment provider (loopback HTTP)")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--port-file", type=Path, help="write the bound port here when ready")
    parser.add_argument(
        "--delay", type=float, default=4.0, help="seconds until an order is paid (-1: never)"
    )
    parser.add_argument("--ttl", type=float, default=300.0, help="seconds until an order expires")
    args = parser.parse_args(argv)
    api_key = os.environ.get(KEY_ENV, "")
    if len(api_key) < 16:
        sys.stderr.write(f"set {KEY_ENV} to the API key (16 characters or more)\n")
        return 2
    provider = SimulatedPaymentProvider(
        delay_s=None if args.delay < 0 else args.delay, ttl_s=args.ttl
    )
    service = SimService(provider, api_key)
    server = make_server(service, args.port)
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file.with_suffix(".tmp")
        tmp.write_text(str(port), encoding="ascii")
        tmp.replace(args.port_file)  # the parent never reads half a number
    else:
        sys.stdout.write(json.dumps({"port": port}) + "\n")
        sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        service.stopping.set()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
