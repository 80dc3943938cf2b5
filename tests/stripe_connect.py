"""A stand-in for the parts of Stripe Connect that localstripe lacks, served by the same process.

Speaks Stripe's HTTP API for what our payouts use: Express accounts, account links
(with an onboarding page a browser can click through), transfers to a connected
account, that account's balance, and payouts from it (the `Stripe-Account`
header). Idempotency keys are honoured like Stripe does: the same key returns the
first answer. State lives in memory; `DELETE /_config/data` clears it with
localstripe's.

It can also make Stripe misbehave for a test, as Stripe's test mode lets you
(tests/stripe_faults.py is the client): `POST /_config/faults` with JSON
`{"method", "path", "status", "body", "times", "after"}` answers the next `times`
matching requests with that status (and body, default a Stripe error), for any
path, localstripe's included; a request whose idempotency key was answered before
gets that answer, as on Stripe. With `after` the request is carried out first and
only its answer is replaced: the money moved but the caller never heard.
`DELETE /_config/faults` forgets them.
"""

import html
import json
import secrets
import time
from urllib.parse import parse_qsl, urlencode

from aiohttp import web

ROUTES = ("/v1/accounts", "/v1/account_links", "/v1/transfers", "/v1/balance", "/connect/")

_accounts: dict[str, dict] = {}
_transfers: dict[str, dict] = {}
_payouts: dict[str, dict] = {}
_balances: dict[str, int] = {}  # connected account -> available cents
_idempotent: dict[tuple[str, str], tuple[int, dict]] = {}
_faults: list[dict] = []


def clear() -> None:
    for store in (_accounts, _transfers, _payouts, _balances, _idempotent, _faults):
        store.clear()


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(7)}"


def _error(status: int, message: str, code: str = "invalid_request_error") -> web.Response:
    return web.json_response({"error": {"type": code, "message": message}}, status=status)


def _account_view(account: dict) -> dict:
    return {**account, "object": "account"}


async def _form(request: web.Request) -> dict:
    return dict(parse_qsl(await request.text(), keep_blank_values=True))


def _handles(request: web.Request) -> bool:
    if request.path.startswith(ROUTES):
        return True
    return request.path.startswith("/v1/payouts") and "Stripe-Account" in request.headers


def _fault_for(request: web.Request) -> dict | None:
    for fault in _faults:
        if fault["times"] > 0 and fault["method"] == request.method and fault["path"] == request.path:
            fault["times"] -= 1
            return fault
    return None


def _replayed(request: web.Request) -> web.Response | None:
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key or not _handles(request) or (request.path, key) not in _idempotent:
        return None
    status, body = _idempotent[(request.path, key)]
    return web.json_response(body, status=status)


async def _configure_faults(request: web.Request) -> web.Response:
    if request.method == "DELETE":
        _faults.clear()
        return web.json_response({"deleted": True})
    fault = await request.json()
    status = int(fault.get("status", 400))
    body = fault.get("body") or {
        "error": {
            "type": "invalid_request_error" if status < 500 else "api_error",
            "message": fault.get("message") or "Refused by the test (injected fault)",
        }
    }
    _faults.append(
        {
            "method": fault.get("method", "POST").upper(),
            "path": fault["path"],
            "status": status,
            "body": body,
            "times": int(fault.get("times", 1)),
            "after": bool(fault.get("after", False)),
        }
    )
    return web.json_response({"faults": len(_faults)})


@web.middleware
async def connect_middleware(request: web.Request, handler):
    """Inject configured faults; answer Connect requests here; pass everything else on to localstripe."""
    if request.path == "/_config/faults":
        return await _configure_faults(request)
    replayed = _replayed(request)
    if replayed is not None:  # Stripe answers a key it has seen with the first answer, whatever else goes on
        return replayed
    fault = _fault_for(request)
    if fault is None:
        return await _answer(request, handler)
    if fault["after"]:
        await _answer(request, handler)  # done, but the answer is lost
    return web.Response(text=json.dumps(fault["body"]), status=fault["status"], content_type="application/json")


async def _answer(request: web.Request, handler):
    if request.method == "DELETE" and request.path == "/_config/data":
        clear()
        return await handler(request)
    if not _handles(request):
        return await handler(request)
    if request.path.startswith("/connect/"):
        return await _onboarding(request)
    if not request.headers.get("Authorization", "").startswith(("Bearer sk_", "Basic ")):
        return _error(401, "Invalid API key")
    key = request.headers.get("Idempotency-Key")
    if request.method == "POST" and key and (request.path, key) in _idempotent:
        status, body = _idempotent[(request.path, key)]
        return web.json_response(body, status=status)
    response_status, body = await _dispatch(request)
    if request.method == "POST" and key and response_status < 500:
        _idempotent[(request.path, key)] = (response_status, body)
    return web.json_response(body, status=response_status)


async def _dispatch(request: web.Request) -> tuple[int, dict]:
    path, method = request.path.rstrip("/"), request.method
    data = await _form(request) if method == "POST" else dict(request.query)
    if path == "/v1/accounts" and method == "POST":
        account = {
            "id": _id("acct"),
            "type": data.get("type", "express"),
            "email": data.get("email"),
            "details_submitted": False,
            "payouts_enabled": False,
            "charges_enabled": False,
            "created": int(time.time()),
            "metadata": {k[9:-1]: v for k, v in data.items() if k.startswith("metadata[")},
        }
        _accounts[account["id"]] = account
        _balances[account["id"]] = 0
        return 200, _account_view(account)
    if path.startswith("/v1/accounts/") and method == "GET":
        account = _accounts.get(path.rsplit("/", 1)[1])
        return (200, _account_view(account)) if account else (404, {"error": {"message": "No such account"}})
    if path == "/v1/account_links" and method == "POST":
        if data.get("account") not in _accounts:
            return 400, {"error": {"type": "invalid_request_error", "message": "No such account"}}
        query = urlencode({"return_url": data.get("return_url", ""), "refresh_url": data.get("refresh_url", "")})
        base = f"{request.scheme}://{request.host}"
        return 200, {
            "object": "account_link",
            "url": f"{base}/connect/onboarding/{data['account']}?{query}",
            "created": int(time.time()),
            "expires_at": int(time.time()) + 300,
        }
    if path == "/v1/transfers" and method == "POST":
        destination = data.get("destination")
        account = _accounts.get(destination)
        if account is None:
            return 400, {"error": {"type": "invalid_request_error", "message": "No such destination"}}
        if not account["payouts_enabled"]:
            return 400, {"error": {"type": "invalid_request_error", "message": "The account cannot receive transfers"}}
        amount = int(data.get("amount", 0))
        if amount <= 0:
            return 400, {"error": {"type": "invalid_request_error", "message": "Invalid amount"}}
        transfer = {
            "id": _id("tr"),
            "object": "transfer",
            "amount": amount,
            "currency": data.get("currency", "usd"),
            "destination": destination,
            "created": int(time.time()),
            "metadata": {k[9:-1]: v for k, v in data.items() if k.startswith("metadata[")},
        }
        _transfers[transfer["id"]] = transfer
        _balances[destination] += amount
        return 200, transfer
    if path == "/v1/transfers" and method == "GET":
        found = [
            t for t in _transfers.values() if not data.get("destination") or t["destination"] == data["destination"]
        ]
        return 200, {"object": "list", "data": found, "has_more": False}
    account_id = request.headers.get("Stripe-Account")
    if path == "/v1/balance" and method == "GET":
        available = _balances.get(account_id, 0)
        return 200, {"object": "balance", "available": [{"amount": available, "currency": "usd"}], "pending": []}
    if path == "/v1/payouts" and method == "POST":
        amount = int(data.get("amount", 0))
        if account_id not in _accounts or amount <= 0 or amount > _balances[account_id]:
            return 400, {"error": {"type": "invalid_request_error", "message": "Insufficient funds"}}
        _balances[account_id] -= amount
        payout = {
            "id": _id("po"),
            "object": "payout",
            "amount": amount,
            "currency": data.get("currency", "usd"),
            "status": "paid",
            "arrival_date": int(time.time()) + 86400,
            "metadata": {k[9:-1]: v for k, v in data.items() if k.startswith("metadata[")},
        }
        _payouts[payout["id"]] = {**payout, "account": account_id}
        return 200, payout
    if path == "/v1/payouts" and method == "GET":
        return 200, {"object": "list", "data": [p for p in _payouts.values() if p["account"] == account_id]}
    return 404, {"error": {"type": "invalid_request_error", "message": f"Unrecognized request URL ({path})"}}


async def _onboarding(request: web.Request) -> web.Response:
    """Stripe's hosted onboarding, reduced to one button: fill nothing, press Complete."""
    account_id = request.path.rstrip("/").rsplit("/", 1)[1]
    account = _accounts.get(account_id)
    if account is None:
        return web.Response(status=404, text="No such account")
    return_url = request.query.get("return_url", "")
    if request.method == "POST":
        form = await _form(request)
        account.update(details_submitted=True, payouts_enabled=True, charges_enabled=True)
        raise web.HTTPSeeOther(form.get("return_url") or return_url)
    page = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Stripe Express onboarding (test)</title></head>
<body style="font-family: system-ui; max-width: 30rem; margin: 4rem auto">
<h1>Set up payouts</h1><p>Test onboarding for {html.escape(account.get("email") or account_id)}.
Real Stripe asks for identity and bank details here.</p>
<form method="post"><input type="hidden" name="return_url" value="{html.escape(return_url)}">
<button type="submit">Complete onboarding</button></form></body></html>"""
    return web.Response(text=page, content_type="text/html")


def install(app: web.Application) -> None:
    app.middlewares.insert(0, connect_middleware)
