"""Urgent reports alert the school's coordinators at once, by mail without content.

Danger now, or a category the school marks urgent, sends one mail to each active
coordinator (and deputy) of that school: a link to the report, never a name, a
description or the reporter's contact details.
"""

from __future__ import annotations

import pytest

from chalicelib import aws
from chalicelib.config import settings
from chalicelib.models import StaffMember

from .helpers import (
    OTHER_SCHOOL,
    SCHOOL,
    answer,
    post_report,
    sent_mails,
    stored_reports,
    valid_report,
    with_value,
)

ALERTED_ROLES = {"coordinator", "deputy"}


@pytest.fixture
def staff(demo_schools, fake):
    """The demo staff plus a second coordinator and one who has left the school."""
    extra = [
        StaffMember(
            SCHOOL,
            "staff-coordinator-2",
            email=fake.email(),
            name=fake.name(),
            roles=["coordinator"],
            language="en",
        ),
        StaffMember(
            SCHOOL,
            "staff-coordinator-left",
            email=fake.email(),
            name=fake.name(),
            roles=["coordinator"],
            active=False,
        ),
    ]
    for member in extra:
        member.save()
    return {**demo_schools, SCHOOL: demo_schools[SCHOOL] + extra}


@pytest.fixture
def mail_requests():
    """Every SendEmail request as the SDK sent it, text part included."""
    requests = []

    def record(params, **_):
        requests.append(params)

    events = aws.client("ses").meta.events
    events.register("provide-client-params.ses.SendEmail", record)
    yield requests
    events.unregister("provide-client-params.ses.SendEmail", record)


def alerted(staff, school=SCHOOL):
    return sorted(
        m.email for m in staff[school] if m.active and ALERTED_ROLES & set(m.roles)
    )


URGENT = [
    pytest.param(("danger_now", "yes"), id="danger-now"),
    pytest.param(("categories", ["wapenbezit"]), id="weapon-category"),
    pytest.param(("categories", ["pesten", "wapenbezit"]), id="weapon-among-others"),
]


@pytest.mark.parametrize("answer_given", URGENT)
def test_urgent_report_mails_each_active_coordinator_of_its_school(
    api, fake, staff, answer_given
):
    body = with_value(valid_report(fake), *answer_given)

    response = post_report(api, body)

    assert response.status_code == 201, response.body
    assert answer(response)["urgent"] is True
    [report] = stored_reports()
    assert report.urgent is True
    recipients = sorted(
        address for mail in sent_mails() for address in mail.destinations["ToAddresses"]
    )
    assert recipients == alerted(staff)
    assert len(recipients) == 3  # two coordinators and the deputy
    assert not set(recipients) & {m.email for m in staff[OTHER_SCHOOL]}


def test_urgent_mail_links_to_the_report_and_holds_nothing_from_it(
    api, fake, staff, mail_requests
):
    body = with_value(valid_report(fake), "danger_now", "yes")

    response = post_report(api, body)

    [report] = stored_reports()
    link = f"{settings.public_base_url}/staff/reports/{report.report_id}"
    private = [
        body["reporter"]["name"],
        body["reporter"]["email"],
        body["reporter"]["phone"],
        body["description"],
        body["location_note"],
        body["witnesses"],
        answer(response)["receipt_code"],
        *(p["name"] for p in body["hurt"]["persons"] + body["did_it"]["persons"]),
    ]
    assert len(mail_requests) == 3
    for request in mail_requests:
        message = request["Message"]
        parts = [
            message["Subject"]["Data"],
            message["Body"]["Text"]["Data"],
            message["Body"]["Html"]["Data"],
        ]
        assert link in message["Body"]["Text"]["Data"]
        assert link in message["Body"]["Html"]["Data"]
        for part in parts:
            for text in private:
                assert text not in part
    for mail in sent_mails():
        assert link in mail.body


def test_alert_is_in_the_staff_members_language(api, fake, staff, mail_requests):
    body = with_value(valid_report(fake), "danger_now", "yes")

    post_report(api, body)

    subjects = {
        request["Destination"]["ToAddresses"][0]: request["Message"]["Subject"]["Data"]
        for request in mail_requests
    }
    english = next(m.email for m in staff[SCHOOL] if m.staff_id.endswith("-2"))
    assert subjects[english].startswith("Urgent report")
    assert all(
        subject.startswith("Dringende melding")
        for address, subject in subjects.items()
        if address != english
    )


@pytest.mark.parametrize(
    "answer_given",
    [("danger_now", "no"), ("danger_now", "unsure"), ("categories", ["pesten"])],
    ids=["no-danger", "unsure", "ordinary-category"],
)
def test_report_that_is_not_urgent_sends_no_mail(api, fake, staff, answer_given):
    body = with_value(valid_report(fake), *answer_given)

    response = post_report(api, body)

    assert response.status_code == 201, response.body
    assert answer(response)["urgent"] is False
    assert stored_reports()[0].urgent is False
    assert sent_mails() == []


def test_mail_failure_does_not_fail_the_report(api, fake, staff):
    # SES refuses a sender whose domain is no longer verified.
    aws.client("ses").delete_identity(Identity="m5monitor.example")
    body = with_value(valid_report(fake), "danger_now", "yes")

    response = post_report(api, body)

    assert response.status_code == 201, response.body
    assert answer(response)["urgent"] is True
    [report] = stored_reports()
    assert report.urgent is True
    assert sent_mails() == []


def test_retried_urgent_report_does_not_alert_twice(api, fake, staff):
    body = with_value(valid_report(fake), "danger_now", "yes")

    first = post_report(api, body, key="same-key-for-both-tries")
    second = post_report(api, body, key="same-key-for-both-tries")

    assert first.status_code == second.status_code == 201
    assert len(sent_mails()) == len(alerted(staff))
