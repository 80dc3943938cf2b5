"""Makes localstripe behave like Stripe where our money paths depend on it (served by the same process).

- `Idempotency-Key` on POST: the same key with the same parameters replays the first answer
  (header `Idempotent-Replayed: true`); the same key with other parameters or another URL is a 400
  `idempotency_error`; a key whose first request is still running is a 409 (the SDK retries it).
  Keys are scoped per API key and `Stripe-Account`, as on Stripe.
- Refunds never exceed what is left of the charge: a 400 `charge_already_refunded` once nothing is
  left, `amount_too_large` beyond the rest; a refund without an amount takes what is left.
- A card confirmed through a customer's SetupIntent is saved to that customer, as on Stripe.
- Events, signed to the registered webhooks like Stripe: `charge.refunded` and `refund.created`
  for each refund made through the API; `refund.updated` / `refund.failed` and
  `charge.dispute.created` / `charge.dispute.closed` from the test-only endpoints below.

Test-only endpoints (Stripe makes these from special cards or its own back office):
  POST /_config/disputes              payment_intent or charge, amount (default: the charge),
                                      reason (default fraudulent) -> the dispute
  POST /_config/disputes/<id>/close   status=won|lost -> the dispute
  POST /_config/refunds/<id>          status=pending|succeeded|failed|canceled, failure_reason
  DELETE /_config/webhooks/<id>       stop sending events to a registered endpoint
Disputes are read with GET /v1/disputes/<id> and GET /v1/disputes?payment_intent=... or charge=...;
POST /v1/disputes/<id>/close accepts one (lost), as on Stripe.
"""

import json
import secrets
import time
from urllib.parse import parse_qsl

from aiohttp import web
from localstripe import resources, webhooks

_replies: dict[tuple[str, str, str], dict] = {}  # (API key, account, key) -> the first request and its answer
_running: set[tuple[str, str, str]] = set()
_disputes: dict[str, dict] = {}
REFUND_STATUSES = ("pending", "succeeded", "failed", "canceled", "requires_action")


def clear() -> None:
    _replies.clear()
    _running.clear()
    _disputes.clear()


def _error(status: int, message: str, *, type_: str = "invalid_request_error", **extra) -> web.Response:
    return web.json_response({"error": {"type": type_, "message": message, **extra}}, status=status)


class _Plain:
    """Lets a plain dict ride in localstripe's Event, which exports `data.object` with `_export()`."""

    def __init__(self, body: dict):
        self.body = body

    def _export(self, expand=None):
        return json.loads(json.dumps(self.body))


def emit(event_type: str, obj) -> str:
    """Record an event (GET /v1/events lists it) and send it, signed, to every registered webhook."""
    event = resources.Event(event_type, obj if hasattr(obj, "_export") else _Plain(obj))
    webhooks.schedule_webhook(event)
    return event.id


def _params(body: bytes) -> object:
    """The request's parameters in a form that compares equal whatever their order on the wire."""
    text = body.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return sorted(parse_qsl(text, keep_blank_values=True))


def _scope(request: web.Request, key: str) -> tuple[str, str, str]:
    return (request.headers.get("Authorization", ""), request.headers.get("Stripe-Account", ""), key)


async def _idempotent(request: web.Request, handler, key: str) -> web.StreamResponse:
    scope = _scope(request, key)
    params = _params(await request.read())
    first = _replies.get(scope)
    if first is not None:
        if (first["path"], first["params"]) != (request.path, params):
            return _error(
                400,
                "Keys for idempotent requests can only be used with the same parameters they were first used with. "
                f"Try using a key other than '{key}' if you meant to execute a different request.",
                type_="idempotency_error",
            )
        reply = web.Response(body=first["body"], status=first["status"], content_type="application/json")
        reply.headers["Idempotent-Replayed"] = "true"
        reply.headers["Idempotency-Key"] = key
        return reply
    if scope in _running:
        return _error(
            409,
            "There is currently another in-progress request using this Idempotent Key (that probably means you "
            "submitted twice, and the other request is still going through). Please try again later.",
            code="idempotency_key_in_use",
        )
    _running.add(scope)
    try:
        response = await handler(request)
    finally:
        _running.discard(scope)
    # Stripe keeps the answer of any request that started executing; we keep the ones with a body to replay.
    if isinstance(response, web.Response) and response.body is not None and response.status < 500:
        _replies[scope] = {
            "path": request.path,
            "params": params,
            "status": response.status,
            "body": bytes(response.body),
        }
    response.headers["Idempotency-Key"] = key
    return response


def _charge_of(data: dict):
    if data.get("payment_intent"):
        intent = resources.store.get("payment_intent:" + data["payment_intent"])
        return intent.latest_charge if intent is not None else None
    if data.get("charge"):
        return resources.store.get("charge:" + data["charge"])
    return None


def _refunded(charge) -> int:
    return sum(
        r.amount for r in charge.refunds._list if getattr(r, "status", "succeeded") not in ("failed", "canceled")
    )


async def _create_refund(request: web.Request, handler) -> web.StreamResponse:
    data = dict(parse_qsl((await request.read()).decode(), keep_blank_values=True))
    charge = _charge_of(data)
    if charge is None or charge.status != "succeeded":
        return await handler(request)  # localstripe answers: no such payment, or a failed one
    left = charge.amount - _refunded(charge)
    if left <= 0:
        return _error(
            400, f"Charge {charge.id} has already been refunded.", code="charge_already_refunded", param="amount"
        )
    amount = int(data["amount"]) if data.get("amount", "").isdigit() else None
    if amount is not None and amount > left:
        return _error(
            400,
            f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left}).",
            code="amount_too_large",
            param="amount",
        )
    response = await handler(request)
    if response.status != 200:
        return response
    refund = resources.store["refund:" + json.loads(response.body)["id"]]
    if amount is None:
        refund.amount = left  # Stripe refunds what is left, localstripe the whole charge
    emit("charge.refunded", charge)
    emit("refund.created", refund)
    return web.json_response(refund._export())


def _dispute_view(dispute: dict) -> dict:
    return {k: v for k, v in dispute.items() if not k.startswith("_")}


async def _form(request: web.Request) -> dict:
    return dict(parse_qsl((await request.read()).decode(), keep_blank_values=True))


async def _config_dispute(request: web.Request) -> web.Response:
    data = await _form(request)
    charge = _charge_of(data)
    if charge is None or charge.status != "succeeded":
        return _error(400, "A dispute needs payment_intent or charge of a succeeded payment.")
    dispute = {
        "id": f"du_{secrets.token_hex(8)}",
        "object": "dispute",
        "amount": int(data.get("amount") or charge.amount),
        "currency": charge.currency,
        "charge": charge.id,
        "payment_intent": charge.payment_intent,
        "reason": data.get("reason", "fraudulent"),
        "status": "needs_response",
        "is_charge_refundable": False,
        "created": int(time.time()),
        "livemode": False,
        "metadata": {},
    }
    _disputes[dispute["id"]] = dispute
    charge.disputed = True
    emit("charge.dispute.created", dispute)
    return web.json_response(_dispute_view(dispute))


def _close(dispute: dict, status: str) -> web.Response:
    if dispute["status"] in ("won", "lost"):
        return _error(400, f"This dispute is already closed ({dispute['status']}).")
    dispute["status"] = status
    emit("charge.dispute.closed", dispute)
    return web.json_response(_dispute_view(dispute))


async def _config_close_dispute(request: web.Request, dispute_id: str) -> web.Response:
    status = (await _form(request)).get("status", "")
    dispute = _disputes.get(dispute_id)
    if dispute is None or status not in ("won", "lost"):
        return _error(400, "Close a known dispute with status=won or status=lost.")
    return _close(dispute, status)


async def _config_refund(request: web.Request, refund_id: str) -> web.Response:
    data = await _form(request)
    refund = resources.store.get("refund:" + refund_id)
    if refund is None or data.get("status") not in REFUND_STATUSES:
        return _error(400, f"Set a known refund's status to one of {', '.join(REFUND_STATUSES)}.")
    refund.status = data["status"]
    if refund.status == "failed":
        refund.failure_reason = data.get("failure_reason", "expired_or_canceled_card")
    emit("refund.updated", refund)
    if refund.status == "failed":
        emit("refund.failed", refund)
    return web.json_response(refund._export())


def _disputes_api(request: web.Request) -> web.Response:
    parts = request.path.rstrip("/").split("/")  # ["", "v1", "disputes", id?, "close"?]
    if len(parts) == 3 and request.method == "GET":
        wanted = {k: v for k, v in request.query.items() if k in ("charge", "payment_intent")}
        found = [_dispute_view(d) for d in _disputes.values() if all(d[k] == v for k, v in wanted.items())]
        return web.json_response({"object": "list", "data": found, "has_more": False, "url": "/v1/disputes"})
    dispute = _disputes.get(parts[3]) if len(parts) > 3 else None
    if dispute is None:
        return _error(404, f"No such dispute: '{parts[3] if len(parts) > 3 else ''}'", code="resource_missing")
    if len(parts) == 4 and request.method == "GET":
        return web.json_response(_dispute_view(dispute))
    if len(parts) == 5 and parts[4] == "close" and request.method == "POST":
        return _close(dispute, "lost")  # the merchant accepts the dispute
    return _error(404, f"Unrecognized request URL ({request.method}: {request.path})")


@web.middleware
async def stripe_like_middleware(request: web.Request, handler):
    path, method = request.path, request.method
    if method == "DELETE" and path == "/_config/data":
        clear()
        return await handler(request)
    if path.startswith("/_config/"):
        parts = path.rstrip("/").split("/")  # ["", "_config", what, id?, action?]
        if method == "POST" and parts[2:] == ["disputes"]:
            return await _config_dispute(request)
        if method == "POST" and len(parts) == 5 and parts[2] == "disputes" and parts[4] == "close":
            return await _config_close_dispute(request, parts[3])
        if method == "POST" and len(parts) == 4 and parts[2] == "refunds":
            return await _config_refund(request, parts[3])
        if method == "DELETE" and len(parts) == 4 and parts[2] == "webhooks":
            webhooks._webhooks.pop(parts[3], None)
            return web.Response()
        return await handler(request)
    if path.startswith("/v1/") and not request.headers.get("Authorization", "").startswith(("Bearer sk_", "Basic ")):
        return await handler(request)  # localstripe or Connect answers 401
    key = request.headers.get("Idempotency-Key")
    if method == "POST" and key and path.startswith("/v1/"):
        return await _idempotent(request, lambda r: _route(r, handler), key)
    return await _route(request, handler)


async def _route(request: web.Request, handler) -> web.StreamResponse:
    if request.method == "POST" and request.path.rstrip("/") == "/v1/refunds":
        return await _create_refund(request, handler)
    if request.path.startswith("/v1/disputes"):
        return _disputes_api(request)
    if request.method == "GET" and request.path.rstrip("/") == "/v1/payment_intents" and "customer" in request.query:
        return _payment_intents_of(request.query["customer"])
    return await handler(request)


def _payment_intents_of(customer: str) -> web.Response:
    """Stripe lists a customer's PaymentIntents, newest first (localstripe has no `customer` filter)."""
    intents = resources.PaymentIntent._api_list_all("/v1/payment_intents")._list
    data = [intent._export() for intent in intents if intent.customer == customer]
    data.sort(key=lambda intent: intent.get("created", 0), reverse=True)
    return web.json_response({"object": "list", "url": "/v1/payment_intents", "has_more": False, "data": data})


def _attach_to_customer(attach):
    """Stripe saves a card set up through a customer's SetupIntent to that customer (localstripe keeps it loose)."""

    def attach_pm(setup_intent, payment_method):
        attach(setup_intent, payment_method)  # raises on a declined card: nothing saved then
        if setup_intent.customer:
            payment_method.customer = setup_intent.customer

    return attach_pm


def install(app: web.Application) -> None:
    """Outermost, so idempotency covers localstripe and the Connect stand-in alike."""
    resources.SetupIntent._attach_pm = _attach_to_customer(resources.SetupIntent._attach_pm)
    # A failed or canceled refund gives its amount back to the charge, as on Stripe.
    resources.Charge.amount_refunded = property(_refunded)
    app.middlewares.insert(0, stripe_like_middleware)
