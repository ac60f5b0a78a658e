"""Anonymous follow-up by receipt code, seen from both sides.

The reporter reads a three-word status and the messages, never the school's notes
or observations. A reply alert tells the reporter only that a reply waits; staff
never see the address it goes to. Guessing codes is stopped after 20 tries per
client, and a code never travels in an address.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import chalice.local
import pytest

from app import app
from chalicelib import aws, ratelimit
from chalicelib.ratelimit import RECEIPT_PER_CLIENT, Limit

from .staff_fixtures import SCHOOL, StaffWorld, html

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")

JSON = {"Content-Type": "application/json"}
WRONG_CODE = "ABCD-EFGH-IJKL-MNOP"


def _bilingual(message: dict[str, str]) -> None:
    assert set(message) == {"nl", "en"}
    assert message["nl"].strip() and message["en"].strip()
    assert message["nl"] != message["en"], "Dutch translation missing"


@pytest.fixture
def client_address(monkeypatch: pytest.MonkeyPatch):
    """Choose the network address the local API gateway reports for requests."""

    def use(address: str) -> None:
        monkeypatch.setattr(
            chalice.local.LambdaEventConverter, "LOCAL_SOURCE_IP", address
        )

    return use


@pytest.fixture
def window_start(monkeypatch: pytest.MonkeyPatch) -> float:
    """Freeze the rate limiter's clock 100 s into a fresh 15-minute window."""
    now = (10**9 // RECEIPT_PER_CLIENT.window_seconds + 7) * 900 + 100.0
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: now))
    return now


@pytest.fixture
def mails() -> Iterator[list[dict[str, Any]]]:
    """Every SendEmail request the app makes: recipients, subject, text and html."""
    sent: list[dict[str, Any]] = []

    def remember(params: dict[str, Any], **_: Any) -> None:
        message = params["Message"]
        sent.append(
            {
                "to": params["Destination"]["ToAddresses"],
                "subject": message["Subject"]["Data"],
                "text": message["Body"]["Text"]["Data"],
                "html": message["Body"]["Html"]["Data"],
            }
        )

    events = aws.client("ses").meta.events
    events.register("provide-client-params.ses.SendEmail", remember)
    yield sent
    events.unregister("provide-client-params.ses.SendEmail", remember)


def _ask(world: StaffWorld, what: str, body: Any, slug: str = SCHOOL):
    return world.http.post(
        f"/schools/{slug}/{what}", headers=JSON, body=json.dumps(body).encode()
    )


def _status(world: StaffWorld, report) -> dict[str, Any]:
    response = _ask(world, "status", {"receipt_code": world.receipts[report.report_id]})
    assert response.status_code == 200, response.body
    return dict(response.json_body)


# -- Brute force ---------------------------------------------------------------


def test_twenty_wrong_codes_then_the_client_must_wait(
    staff_world, client_address, window_start
):
    report = staff_world.report()
    client_address("198.51.100.7")
    wrong = [
        _ask(staff_world, "status", {"receipt_code": f"WRONG-CODE-{n:04d}"})
        for n in range(RECEIPT_PER_CLIENT.count)
    ]

    refused = _ask(staff_world, "status", {"receipt_code": WRONG_CODE})
    right_but_late = _ask(
        staff_world, "status", {"receipt_code": staff_world.receipts[report.report_id]}
    )

    assert {r.status_code for r in wrong} == {404}
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == str(
        RECEIPT_PER_CLIENT.window_seconds - 100
    )
    _bilingual(refused.json_body["message"])
    assert right_but_late.status_code == 429


def test_correct_code_from_another_client_still_works(
    staff_world, client_address, window_start
):
    report = staff_world.report()
    client_address("198.51.100.8")
    for n in range(RECEIPT_PER_CLIENT.count + 1):
        _ask(staff_world, "status", {"receipt_code": f"WRONG-CODE-{n:04d}"})
    client_address("203.0.113.20")

    response = _ask(
        staff_world, "status", {"receipt_code": staff_world.receipts[report.report_id]}
    )

    assert response.status_code == 200
    assert response.json_body["status"] == "received"


def test_guesses_spread_over_many_clients_hit_the_school_limit(
    staff_world, client_address, window_start, monkeypatch
):
    monkeypatch.setattr(
        ratelimit, "RECEIPT_PER_SCHOOL", Limit("receipt-school-test", 5, 900)
    )
    answers = []
    for n in range(6):
        client_address(f"192.0.2.{n + 1}")
        answers.append(_ask(staff_world, "status", {"receipt_code": WRONG_CODE}))

    assert [a.status_code for a in answers] == [404] * 5 + [429]


@pytest.mark.parametrize(
    "code",
    [WRONG_CODE, "abcd", "", None, 12345678901234, ["ABCD-EFGH-IJKL-MNOP"], "A" * 41],
    ids=["unknown", "short", "empty", "null", "number", "list", "long"],
)
@pytest.mark.parametrize("what", ["status", "messages", "reply-alert"])
def test_wrong_code_is_not_found_in_both_languages(
    staff_world, client_address, what, code
):
    client_address(f"10.9.{len(str(code))}.{len(what)}")

    response = _ask(staff_world, what, {"receipt_code": code, "text": "hallo"})

    assert response.status_code == 404
    assert response.json_body["error"] == "not_found"
    _bilingual(response.json_body["message"])


def test_no_route_takes_a_receipt_code_in_the_address():
    parameters = {
        name
        for path in app.routes
        for name in re.findall(r"\{(\w+)\}", path)
        if not path.startswith("/staff")
    }
    receipt_paths = [p for p in app.routes if "receipt" in p or "code" in p]

    assert parameters == {"slug"}
    assert receipt_paths == []


@pytest.mark.parametrize("what", ["status", "messages", "reply-alert"])
def test_code_in_the_query_string_is_ignored(staff_world, client_address, what):
    report = staff_world.report()
    code = staff_world.receipts[report.report_id]
    client_address("10.10.10.10")

    response = staff_world.http.post(
        f"/schools/{SCHOOL}/{what}?receipt_code={code}", headers=JSON, body=b"{}"
    )

    assert response.status_code == 404
    assert report.description not in response.body.decode()


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_status_cannot_be_read_with_another_method(staff_world, method):
    response = staff_world.http.request(method, f"/schools/{SCHOOL}/status")

    assert response.status_code in {403, 405}


# -- Status and messages ------------------------------------------------------


def test_fresh_report_is_received_then_being_handled_then_closed(staff_world):
    report = staff_world.report()
    coordinator = staff_world.sign_in("coordinator")
    path = f"/staff/reports/{report.report_id}/status"

    fresh = _status(staff_world, report)["status"]
    coordinator.post(path, {"status": "in_progress"})
    handled = _status(staff_world, report)["status"]
    coordinator.post(path, {"status": "follow_up"})
    followed_up = _status(staff_world, report)["status"]
    coordinator.post(path, {"status": "closed", "reason": "stopped"})
    closed = _status(staff_world, report)["status"]

    assert (fresh, handled, followed_up, closed) == (
        "received",
        "being_handled",
        "being_handled",
        "closed",
    )


def test_messages_go_both_ways_and_notes_stay_inside(staff_world, mails):
    fake = staff_world.fake
    report = staff_world.report()
    coordinator = staff_world.sign_in("coordinator")
    teacher = staff_world.sign_in("teacher")
    note, observation = fake.sentence(), fake.sentence()
    to_reporter, from_reporter = fake.sentence(), fake.sentence()
    base = f"/staff/reports/{report.report_id}"
    coordinator.post(f"{base}/notes", {"text": note})
    teacher.post(f"{base}/observations", {"text": observation})
    coordinator.post(f"{base}/messages", {"text": to_reporter})

    sent = _ask(
        staff_world,
        "messages",
        {"receipt_code": staff_world.receipts[report.report_id], "text": from_reporter},
    )
    status = _status(staff_world, report)
    case_page = html(coordinator.get(base))

    assert sent.status_code == 201
    assert [(m["from"], m["text"]) for m in status["messages"]] == [
        ("school", to_reporter),
        ("you", from_reporter),
    ]
    answer = json.dumps(status, ensure_ascii=False)
    assert note not in answer
    assert observation not in answer
    assert report.description not in answer
    assert from_reporter in case_page
    assert to_reporter in case_page
    # The reporter wrote: the coordinator and deputy hear of it, not what was said.
    assert sorted(to for mail in mails for to in mail["to"]) == sorted(
        staff_world.member(role).email for role in ("coordinator", "deputy")
    )
    for mail in mails:
        for part in ("subject", "text", "html"):
            assert from_reporter not in mail[part]
            assert report.description not in mail[part]


def test_reply_alert_mail_says_only_that_a_reply_waits(staff_world, mails):
    fake = staff_world.fake
    report = staff_world.report()
    code = staff_world.receipts[report.report_id]
    address = fake.email(domain="m5monitor.example")
    coordinator = staff_world.sign_in("coordinator")
    reply = fake.sentence()
    alert_set = _ask(
        staff_world, "reply-alert", {"receipt_code": code, "email": address}
    )

    coordinator.post(f"/staff/reports/{report.report_id}/messages", {"text": reply})

    assert alert_set.status_code == 200
    [mail] = mails
    assert mail["to"] == [address]
    for part in ("subject", "text", "html"):
        for secret in (
            reply,
            report.description,
            code,
            report.report_id,
            *(p.name for p in report.persons),
        ):
            assert secret not in mail[part]


def test_note_and_observation_send_no_reply_alert(staff_world, mails):
    report = staff_world.report()
    code = staff_world.receipts[report.report_id]
    _ask(
        staff_world,
        "reply-alert",
        {"receipt_code": code, "email": "ouder@m5monitor.example"},
    )
    coordinator = staff_world.sign_in("coordinator")
    base = f"/staff/reports/{report.report_id}"

    coordinator.post(f"{base}/notes", {"text": "Intern."})
    coordinator.post(f"{base}/observations", {"text": "Gezien op het plein."})

    assert mails == []


def test_reply_alert_address_never_shows_on_staff_pages(staff_world):
    report = staff_world.report(anonymous=True, contact=None, reporter_role="pupil")
    code = staff_world.receipts[report.report_id]
    address = staff_world.fake.email(domain="m5monitor.example")
    _ask(staff_world, "reply-alert", {"receipt_code": code, "email": address})
    base = f"/staff/reports/{report.report_id}"
    pages = []
    for role in ("coordinator", "deputy", "leadership", "teacher"):
        browser = staff_world.sign_in(role)
        browser.post(f"{base}/messages", {"text": "Bedankt voor je melding."})
        pages += [browser.get("/staff/"), browser.get(base)]
        pages.append(browser.get(f"{base}/audit"))

    shown = [html(page) for page in pages if page.status_code == 200]

    assert len(shown) >= 10
    assert not [page for page in shown if address in page]
