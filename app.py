"""M5 Monitor: routes and schedules. Each handler parses, calls chalicelib, returns."""

from __future__ import annotations

from typing import Any

from chalice.app import Chalice, Request, Response

from chalicelib import ratelimit, reports, schools
from chalicelib.api import handles_errors, json_body, json_response
from chalicelib.obs import logger, metrics
from chalicelib.staff_pages import staff
from chalicelib.validation import validate_idempotency_key, validate_report

app = Chalice(app_name="m5-monitor")
app.api.binary_types = []
app.register_blueprint(staff)


def current_request() -> Request:
    request = app.current_request
    if request is None:  # only outside a request, which no route ever is
        raise RuntimeError("no current request")
    return request


@app.middleware("http")
def correlate(event: Any, get_response: Any) -> Response:
    context = event.context or {}
    request_id = context.get("requestId") or getattr(
        app.lambda_context, "aws_request_id", None
    )
    logger.set_correlation_id(request_id)
    try:
        return get_response(event)
    finally:
        metrics.flush_metrics(raise_on_empty_metrics=False)
        logger.set_correlation_id(None)


@app.route("/schools/{slug}/form", methods=["GET"])
@handles_errors
def form_config(slug: str) -> Response:
    school = schools.get_school(slug)
    return json_response(
        schools.form_config(school), headers={"Cache-Control": "max-age=60"}
    )


@app.route("/schools/{slug}/reports", methods=["POST"], content_types=["*/*"])
@handles_errors
def submit_report(slug: str) -> Response:
    request = current_request()
    school = schools.get_school(slug)
    payload = json_body(request)
    key = validate_idempotency_key(request.headers.get("idempotency-key"))
    report = validate_report(payload, school)

    address = (request.context.get("identity") or {}).get("sourceIp") or "unknown"
    ratelimit.check_intake(school.school_id, address)
    result = reports.submit(school, key, report, app.lambda_context)

    return json_response(result, status=201)
