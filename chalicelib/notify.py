"""Mail to staff through SES. Mails carry figures and links, never names or texts."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib import aws, schools
from chalicelib.config import settings
from chalicelib.models import Report, School
from chalicelib.obs import logger, metrics
from chalicelib.templating import render


def urgent_report(school: School, report_id: str) -> int:
    """Alert every coordinator and deputy of the school; returns how many were mailed.

    A failed mail never fails the report: the report is stored and marked urgent
    in the staff UI either way, and the failure is logged and counted.
    """
    link = f"{settings.public_base_url}/staff/reports/{report_id}"
    sent = sum(
        _send(
            member.email, "urgent", member.language, school_name=school.name, link=link
        )
        for member in schools.coordinators(school.school_id)
    )
    logger.info("urgent alert sent", extra={"report_id": report_id, "recipients": sent})
    return sent


def send_to_staff(to: str, template: str, language: str, **context: object) -> bool:
    """One mail from templates/mail/<template>*; False (logged) if SES refused it."""
    return _send(to, template, language, **context)


def _send(to: str, template: str, language: str, **context: object) -> bool:
    try:
        aws.client("ses").send_email(
            Source=settings.mail_from,
            Destination={"ToAddresses": [to]},
            Message={
                "Subject": {
                    "Data": render(
                        f"mail/{template}_subject.txt", language, **context
                    ).strip(),
                    "Charset": "UTF-8",
                },
                "Body": {
                    "Text": {
                        "Data": render(f"mail/{template}.txt", language, **context),
                        "Charset": "UTF-8",
                    },
                    "Html": {
                        "Data": render(f"mail/{template}.html", language, **context),
                        "Charset": "UTF-8",
                    },
                },
            },
        )
    except (BotoCoreError, ClientError):
        logger.exception("mail not sent", extra={"template": template})
        metrics.add_metric(name="MailFailed", unit=MetricUnit.Count, value=1)
        return False
    return True


def reporter_wrote(school: School, report: Report) -> int:
    """Tell the case's handler (or the coordinators) that the reporter wrote."""
    link = f"{settings.public_base_url}/staff/reports/{report.report_id}"
    recipients = schools.coordinators(school.school_id)
    if report.assigned_to:
        recipients = [
            m for m in recipients if m.staff_id == report.assigned_to
        ] or recipients
    sent = sum(
        _send(m.email, "reporter_wrote", m.language, school_name=school.name, link=link)
        for m in recipients
    )
    logger.info(
        "reporter message alert sent",
        extra={"report_id": report.report_id, "recipients": sent},
    )
    return sent


def reply_waiting(school: School, email: str, language: str) -> bool:
    """The reporter's alert: a reply waits. Nothing about the report itself."""
    link = f"{settings.public_base_url}/s/{school.school_id}/status"
    return _send(email, "reply_waiting", language, school_name=school.name, link=link)
