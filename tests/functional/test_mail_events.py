"""SES's bounces and complaints flag staff addresses, shown to the administrator.

The events travel as deployed: an SES event published to an SNS topic that
delivers it raw to an SQS queue, received from that queue and handed to the
`mail_events` Lambda function (Chalice's test client) as Lambda's SQS batch.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from chalice.test import Client

from app import app
from chalicelib import audit, aws, staff_admin
from chalicelib.models import AuditEvent, StaffMember

from .staff_fixtures import OTHER_SCHOOL, SCHOOL, html

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")

UNREACHABLE = "E-mailadres onbereikbaar (bounce)"
SPAM = "Mail als spam gemarkeerd (klacht)"


@pytest.fixture(scope="module")
def mail_queue(staff_world) -> str:
    """The topic SES publishes to and the queue it delivers to raw, as in the
    stack; returns the topic's ARN."""
    sns, sqs = aws.client("sns"), aws.client("sqs")
    topic = sns.create_topic(Name="m5-test-mail-events")["TopicArn"]
    queue = sqs.create_queue(QueueName="m5-test-mail-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn["Attributes"]["QueueArn"],
        Attributes={"RawMessageDelivery": "true"},
    )
    return topic


def _ses_event(kind: str, addresses: list[str], bounce_type: str = "Permanent"):
    """An SES configuration-set event as SES publishes it."""
    recipients = [{"emailAddress": a} for a in addresses]
    mail = {
        "timestamp": "2026-12-03T08:00:00.000Z",
        "source": "meldingen@m5monitor.example",
        "sendingAccountId": "123456789012",
        "messageId": str(uuid.uuid4()),
        "destination": addresses,
        "tags": {"ses:configuration-set": ["m5-dev"]},
    }
    event: dict[str, Any] = {"eventType": kind, "mail": mail}
    if kind == "Bounce":
        for recipient in recipients:
            recipient.update(action="failed", status="5.1.1")
        event["bounce"] = {
            "bounceType": bounce_type,
            "bounceSubType": "General" if bounce_type == "Permanent" else "MailboxFull",
            "bouncedRecipients": recipients,
            "timestamp": "2026-12-03T08:00:01.000Z",
            "feedbackId": str(uuid.uuid4()),
        }
    elif kind == "Complaint":
        event["complaint"] = {
            "complainedRecipients": recipients,
            "complaintFeedbackType": "abuse",
            "timestamp": "2026-12-03T09:00:00.000Z",
            "feedbackId": str(uuid.uuid4()),
        }
    return json.dumps(event)


def _deliver(topic: str, *bodies: str) -> tuple[dict[str, Any], list[str]]:
    """Publish each body to the topic; run the function on the queue's batch.
    Returns the function's answer and the message ids in publishing order."""
    sns, sqs = aws.client("sns"), aws.client("sqs")
    for body in bodies:
        sns.publish(TopicArn=topic, Message=body)
    queue = sqs.get_queue_url(QueueName="m5-test-mail-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    messages = sqs.receive_message(
        QueueUrl=queue, MaxNumberOfMessages=10, AttributeNames=["All"]
    ).get("Messages", [])
    assert [m["Body"] for m in messages] == list(bodies)
    records = [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": m["Attributes"],
            "messageAttributes": {},
            "md5OfBody": m["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": arn["Attributes"]["QueueArn"],
            "awsRegion": "eu-central-1",
        }
        for m in messages
    ]
    for m in messages:  # Lambda deletes what the function does not report failed
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
    with Client(app) as client:
        answer = client.lambda_.invoke("mail_events", {"Records": records})
    return answer.payload, [r["messageId"] for r in records]


def _colleague(world, school: str, email: str) -> StaffMember:
    return staff_admin.invite(
        world.schools[school],
        email,
        world.fake.name(),
        ["teacher"],
        actor=None,
        actor_role="operator",
    ).member


def _stored(member: StaffMember) -> StaffMember:
    return StaffMember.get(member.school_id, member.staff_id, consistent_read=True)


def _flags(*members: StaffMember) -> list[str | None]:
    return [_stored(m).mail_problem for m in members]


def test_permanent_bounce_flags_the_address_at_every_school(
    staff_world, mail_queue, json_log_lines
):
    email = staff_world.fake.unique.email()
    here = _colleague(staff_world, SCHOOL, email)
    there = _colleague(staff_world, OTHER_SCHOOL, email)
    bystander = _colleague(staff_world, SCHOOL, staff_world.fake.unique.email())
    json_log_lines()

    answer, _ = _deliver(mail_queue, _ses_event("Bounce", [email.upper()]))

    logged = json_log_lines()
    assert answer == {"batchItemFailures": []}
    assert _flags(here, there, bystander) == ["bounce", "bounce", None]
    assert _stored(here).mail_problem_at is not None
    [summary] = [line for line in logged if line["message"] == "mail events handled"]
    assert (summary["events"], summary["flagged"], summary["failed"]) == (1, 2, 0)
    assert email not in json.dumps(logged).lower()
    for member in (here, there):
        [entry] = [
            e
            for e in AuditEvent.query(audit.school_trail(member.school_id))
            if e.action == "staff_mail_problem"
            and e.detail["staff_id"] == member.staff_id
        ]
        assert entry.detail["problem"] == "bounce"
        assert email not in json.dumps(entry.attribute_values, default=str).lower()


def test_transient_bounce_and_reject_flag_nobody(staff_world, mail_queue):
    email = staff_world.fake.unique.email()
    member = _colleague(staff_world, SCHOOL, email)
    reject = json.dumps(
        {
            "eventType": "Reject",
            "mail": {"destination": [email], "messageId": str(uuid.uuid4())},
            "reject": {"reason": "Bad content"},
        }
    )

    answer, _ = _deliver(
        mail_queue, _ses_event("Bounce", [email], bounce_type="Transient"), reject
    )

    assert answer == {"batchItemFailures": []}
    assert _flags(member) == [None]


def test_complaint_flags_the_address(staff_world, mail_queue):
    email = staff_world.fake.unique.email()
    member = _colleague(staff_world, SCHOOL, email)

    answer, _ = _deliver(mail_queue, _ses_event("Complaint", [email]))

    assert answer == {"batchItemFailures": []}
    assert _flags(member) == ["complaint"]


@pytest.mark.parametrize(
    "unreadable",
    [
        "{not json",
        json.dumps({"eventType": "Bounce", "bounce": {"bounceType": "Permanent"}}),
        json.dumps(
            {"eventType": "Complaint", "complaint": {"complainedRecipients": []}}
        ),
        json.dumps(["Bounce"]),
    ],
    ids=["not-json", "no-recipients", "empty-recipients", "not-an-object"],
)
def test_unreadable_message_fails_alone_and_the_others_are_handled(
    staff_world, mail_queue, unreadable
):
    first, last = staff_world.fake.unique.email(), staff_world.fake.unique.email()
    members = [_colleague(staff_world, SCHOOL, a) for a in (first, last)]

    answer, ids = _deliver(
        mail_queue,
        _ses_event("Bounce", [first]),
        unreadable,
        _ses_event("Complaint", [last]),
    )

    assert answer == {"batchItemFailures": [{"itemIdentifier": ids[1]}]}
    assert _flags(*members) == ["bounce", "complaint"]


def test_batch_of_only_unreadable_messages_returns_each_for_another_try(
    staff_world, mail_queue
):
    answer, ids = _deliver(mail_queue, "{", "[]")

    assert answer == {"batchItemFailures": [{"itemIdentifier": i} for i in ids]}


# --- the administrator's staff page ---------------------------------------------


def _flagged_colleague(world, mail_queue, kind: str = "Bounce") -> StaffMember:
    email = world.fake.unique.email()
    member = _colleague(world, SCHOOL, email)
    _deliver(mail_queue, _ses_event(kind, [email]))
    return member


def _row(page: str, member: StaffMember) -> str:
    start = page.index(f'id="staff-{member.staff_id}"')
    return page[start : page.index("</tr>", start)]


def test_flag_shows_next_to_the_person_only_to_their_school_administrator(
    staff_world, mail_queue
):
    bounced = _flagged_colleague(staff_world, mail_queue)
    complained = _flagged_colleague(staff_world, mail_queue, "Complaint")

    own = html(staff_world.sign_in("administrator").get("/staff/admin/staff"))
    other = html(
        staff_world.sign_in("administrator", OTHER_SCHOOL).get("/staff/admin/staff")
    )
    coordinator = staff_world.sign_in("coordinator").get("/staff/admin/staff")

    assert UNREACHABLE in _row(own, bounced)
    assert SPAM in _row(own, complained)
    assert bounced.staff_id not in other and bounced.email not in other
    assert coordinator.status_code == 404
    assert UNREACHABLE not in html(coordinator)


def test_mark_as_fixed_clears_the_flag_and_is_audited(staff_world, mail_queue):
    member = _flagged_colleague(staff_world, mail_queue)
    admin = staff_world.sign_in("administrator")
    path = f"/staff/admin/staff/{member.staff_id}/mail-problem"

    forged = admin.post(path, {"csrf_token": "forged"})
    flag_after_forgery = _flags(member)
    fixed = admin.post(path)
    page = html(admin.get("/staff/admin/staff"))

    assert forged.status_code == 403
    assert flag_after_forgery == ["bounce"]
    assert fixed.headers["Location"] == "/staff/admin/staff?done=mail_fixed"
    assert _flags(member) == [None]
    assert _stored(member).mail_problem_at is None
    assert UNREACHABLE not in _row(page, member)
    actions = [
        (e.action, e.actor)
        for e in AuditEvent.query(audit.school_trail(SCHOOL))
        if e.detail and e.detail.as_dict().get("staff_id") == member.staff_id
    ]
    cleared_by = staff_world.member("administrator").staff_id
    assert ("staff_mail_problem_cleared", cleared_by) in actions


def test_another_school_cannot_clear_the_flag(staff_world, mail_queue):
    member = _flagged_colleague(staff_world, mail_queue)
    other_admin = staff_world.sign_in("administrator", OTHER_SCHOOL)

    refused = other_admin.post(f"/staff/admin/staff/{member.staff_id}/mail-problem")

    assert refused.status_code == 404
    assert _flags(member) == ["bounce"]


def test_resending_the_invitation_clears_the_flag(staff_world, mail_queue):
    member = _flagged_colleague(staff_world, mail_queue)
    admin = staff_world.sign_in("administrator")

    resent = admin.post(f"/staff/admin/staff/{member.staff_id}/invitation")

    assert resent.status_code == 303
    assert _flags(member) == [None]
