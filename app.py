"""M5 Monitor: routes and schedules. Each handler parses, calls chalicelib, returns."""

from __future__ import annotations

from typing import Any

from chalice.app import Chalice, Request, Response

from chalicelib import auth, followup, ratelimit, reports, schools
from chalicelib.accountability_pages import PDF_TYPE, accountability_pages
from chalicelib.admin_pages import admin_pages
from chalicelib.api import handles_errors, json_body, json_response
from chalicelib.class_round_pages import class_round_pages
from chalicelib.config import settings
from chalicelib.insight_pages import insight_pages
from chalicelib.obs import logger, metrics
from chalicelib.privacy_pages import privacy_pages
from chalicelib.staff_pages import staff
from chalicelib.validation import validate_idempotency_key, validate_report
from chalicelib.web import UPLOAD_TYPES
from functions import leadership_snapshot, mail_events, weekly_mail
from functions.retention import run as run_retention

# configure_logs=False: Chalice would otherwise set the "m5-monitor" logger (the
# Powertools logger's own) to ERROR and add its handler, silencing our logs.
app = Chalice(app_name="m5-monitor", configure_logs=False)
# Only the accountability PDF is binary: Chalice base64-encodes it, API Gateway
# decodes it (CloudFront's function asks for it by the Accept header, infra/edge.py).
app.api.binary_types = [PDF_TYPE]
# Roster uploads arrive byte for byte too (a Windows-1252 file is not valid UTF-8).
app.api.binary_types += UPLOAD_TYPES
app.register_blueprint(staff)
app.register_blueprint(insight_pages)
app.register_blueprint(class_round_pages)
app.register_blueprint(admin_pages)
app.register_blueprint(accountability_pages)
app.register_blueprint(privacy_pages)
if not settings.is_local:
    # Fails the cold start loudly when the stage trusts the emulator's public key.
    auth.check_key_set_at_start_up()


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

    ratelimit.check_intake(school.school_id, _client_address(request))
    result = reports.submit(school, key, report, app.lambda_context)

    return json_response(result, status=201)


# Deployed, API Gateway sees CloudFront's address; CloudFront's edge function writes
# the visitor's address into this header, overwriting whatever a client sent, and
# the WAF blocks requests that bypass CloudFront. Locally anyone could set it.
CLIENT_ADDRESS_HEADER = "x-m5-client-ip"


def _client_address(request: Request) -> str:
    if not settings.is_local and request.headers.get(CLIENT_ADDRESS_HEADER):
        return str(request.headers[CLIENT_ADDRESS_HEADER])
    return (request.context.get("identity") or {}).get("sourceIp") or "unknown"


def _receipt_request(slug: str) -> tuple[Any, Any, dict[str, Any]]:
    """School, report and body of a follow-up request, after the brute-force limit."""
    request = current_request()
    school = schools.get_school(slug)
    payload = json_body(request)
    if not isinstance(payload, dict):
        payload = {}
    ratelimit.check_receipt_lookup(school.school_id, _client_address(request))
    report = followup.report_for_code(school, payload.get("receipt_code"))
    return school, report, payload


@app.route("/schools/{slug}/status", methods=["POST"], content_types=["*/*"])
@handles_errors
def report_status(slug: str) -> Response:
    _, report, _ = _receipt_request(slug)
    return json_response(followup.status_of(report))


@app.route("/schools/{slug}/messages", methods=["POST"], content_types=["*/*"])
@handles_errors
def reporter_message(slug: str) -> Response:
    school, report, payload = _receipt_request(slug)
    followup.add_message(school, report, payload.get("text"))
    return json_response(followup.status_of(report), status=201)


@app.route("/schools/{slug}/reply-alert", methods=["POST"], content_types=["*/*"])
@handles_errors
def reply_alert(slug: str) -> Response:
    _, report, payload = _receipt_request(slug)
    alert_set = followup.set_reply_alert(report, payload.get("email"))
    return json_response({"reply_alert": alert_set})


@app.lambda_function(name="retention")
def retention_job(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Daily 03:00 school time (EventBridge Scheduler, infra/): expired cases
    anonymised. An operator may pass {"school_ids": [...], "dry_run": true}."""
    return run_retention(event.get("school_ids"), bool(event.get("dry_run"))).counts()


@app.lambda_function(name="weekly_teacher_mail")
def weekly_teacher_mail(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Monday 07:00 school time (EventBridge Scheduler, infra/): last week's mail.

    An operator may pass {"week": "2026-W49", "school_ids": ["obs-..."]}.
    """
    week = weekly_mail.checked_week(event.get("week") or weekly_mail.last_week())
    return weekly_mail.run_teacher_mail(week, event.get("school_ids")).counts()


@app.lambda_function(name="weekly_leadership_snapshot")
def weekly_leadership_snapshot(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Monday 07:00 school time (EventBridge Scheduler, infra/): last week's
    dashboard frozen and mailed to leadership; takes the teacher mail's event.
    """
    week = weekly_mail.checked_week(event.get("week") or weekly_mail.last_week())
    summary = leadership_snapshot.run_leadership_snapshot(week, event.get("school_ids"))
    return summary.counts()


@app.lambda_function(name="mail_events")
def mail_events_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """SES bounces and complaints, in batches from the mail events queue (infra/):
    flag the staff addresses; failed messages are returned for another try."""
    return mail_events.handle_batch(event, context)
