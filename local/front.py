"""The local front: one address for the sample school site, the form and the API.

Deployed, CloudFront serves the static form from S3 and sends /api/* to API
Gateway. Locally this WSGI app does the same: static files from static_form/, and
/api/* handed to Chalice's local gateway in-process, with the client's address.
/outbox (local only) lists the mails moto's SES accepted.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from chalice.config import Config
from chalice.local import LocalGateway, LocalGatewayException
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.utils import redirect, send_from_directory
from werkzeug.wrappers import Request, Response

from chalicelib.config import settings
from chalicelib.templating import render
from local import outbox

ROOT = Path(__file__).resolve().parent.parent
FORM_DIR = ROOT / "static_form"
API_PREFIX = "/api"
STAFF_PREFIX = "/staff"

# The form page may talk only to its own origin and load only its own files.
FORM_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


class _Gateway(LocalGateway):
    """Chalice's local gateway, told the real client address of each request."""

    client_address = threading.local()

    def _generate_lambda_event(
        self, method: str, path: str, headers: Any, body: Any
    ) -> Any:
        event = super()._generate_lambda_event(method, path, headers, body)
        event["requestContext"]["identity"]["sourceIp"] = getattr(
            self.client_address, "value", "127.0.0.1"
        )
        return event


class Front:
    def __init__(self, chalice_app: Any, demo_slugs: list[str], base_url: str):
        self.gateway = _Gateway(
            chalice_app, Config.create(chalice_stage="local", lambda_timeout=29)
        )
        # Chalice keeps the current request on the app object: one API call at a time.
        self.api_lock = threading.Lock()
        self.demo_slugs = demo_slugs
        self.base_url = base_url
        self.extra_routes: dict[str, Any] = {}
        self.urls = Map(
            [
                Rule("/", endpoint="home"),
                Rule("/demo/<slug>/", endpoint="school_site"),
                Rule("/s/<slug>/", endpoint="form"),
                Rule("/s/<slug>", endpoint="form_slash"),
                Rule("/s/<slug>/status", endpoint="status_page"),
                Rule("/form-assets/<path:path>", endpoint="form_asset"),
                Rule("/outbox", endpoint="outbox"),
                Rule("/outbox/<message_id>", endpoint="outbox_mail"),
                Rule("/outbox/<message_id>/html", endpoint="outbox_html"),
            ]
        )

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        if request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/"):
            response = self.api(request, request.full_path[len(API_PREFIX) :])
        elif request.path.startswith(STAFF_PREFIX):
            # Deployed, CloudFront sends /staff/* to the API with the stage prefix.
            response = self.api(request, request.full_path)
        else:
            response = self.dispatch(request)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        adapter = self.urls.bind_to_environ(request.environ)
        try:
            endpoint, values = adapter.match()
            return getattr(self, endpoint)(request, **values)
        except HTTPException as error:
            return error  # type: ignore[return-value]

    def home(self, request: Request) -> Response:
        return redirect(f"/demo/{self.demo_slugs[0]}/")

    def school_site(self, request: Request, slug: str) -> Response:
        if slug not in self.demo_slugs:
            raise NotFound()
        html = render(
            "site/school_home.html",
            "nl",
            slug=slug,
            form_url=f"{self.base_url}/s/{slug}/",
            # The embed code is shown as text: a plain str is escaped, Markup not.
            snippet=str(
                render(
                    "site/stopknop.html", "nl", form_url=f"{self.base_url}/s/{slug}/"
                )
            ).strip(),
            others=[s for s in self.demo_slugs if s != slug],
        )
        return Response(html, content_type="text/html; charset=utf-8")

    def form(self, request: Request, slug: str) -> Response:
        response = send_from_directory(FORM_DIR, "index.html", request.environ)
        response.headers.update(FORM_HEADERS)
        return response

    def status_page(self, request: Request, slug: str) -> Response:
        response = send_from_directory(FORM_DIR, "status.html", request.environ)
        response.headers.update(FORM_HEADERS)
        return response

    def form_slash(self, request: Request, slug: str) -> Response:
        return redirect(f"/s/{slug}/", code=308)

    def form_asset(self, request: Request, path: str) -> Response:
        response = send_from_directory(FORM_DIR, path, request.environ)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-cache"
        return response

    def outbox(self, request: Request) -> Response:
        html = outbox.render(
            "outbox/list.html", mails=outbox.mails(), endpoint=settings.endpoint_url
        )
        return _page(html, outbox.PAGE_HEADERS)

    def outbox_mail(self, request: Request, message_id: str) -> Response:
        mail = outbox.mail(message_id)
        if mail is None:
            raise NotFound()
        return _page(outbox.render("outbox/mail.html", mail=mail), outbox.PAGE_HEADERS)

    def outbox_html(self, request: Request, message_id: str) -> Response:
        mail = outbox.mail(message_id)
        if mail is None or mail.html is None:
            raise NotFound()
        return _page(mail.html, outbox.HTML_PART_HEADERS)

    def api(self, request: Request, path: str) -> Response:
        path = path.rstrip("?") or "/"
        headers = {k.lower(): v for k, v in request.headers.items()}
        with self.api_lock:
            _Gateway.client_address.value = request.remote_addr or "127.0.0.1"
            try:
                result = self.gateway.handle_request(
                    request.method, path, headers, request.get_data()
                )
            except LocalGatewayException:
                # No route matched: API Gateway answers 403 there; a plain 404 is
                # kinder to someone who mistyped an address.
                return Response(
                    b'{"error": "not_found"}',
                    status=404,
                    content_type="application/json",
                )
        body = result.get("body") or b""
        if result.get("isBase64Encoded"):
            body = base64.b64decode(body)
        response = Response(body, status=result["statusCode"])
        response.headers.clear()
        for name, value in (result.get("headers") or {}).items():
            response.headers[name] = value
        for name, values in (result.get("multiValueHeaders") or {}).items():
            for value in values:
                response.headers.add(name, value)
        return response


def _page(html: str, headers: dict[str, str]) -> Response:
    response = Response(html, content_type="text/html; charset=utf-8")
    response.headers.update(headers)
    return response
