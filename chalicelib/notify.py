"""Mail to staff through SES. Mails carry figures and links, never names or texts."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib import aws, schools
from chalicelib.config import settings
from chalicelib.models import School
from chalicelib.obs import logger, metrics
from chalicelib.templating import render


def urgent_report(school: School, report_id: str) -> int:
    """Alert every coordinator of the school; returns how many were mailed.

    A failed mail never fails the report: the report is stored and marked urgent
    in the staff UI either way, and the failure is logged and counted.
    """
    link = f"{settings.public_base_url}/staff/reports/{report_id}"
    sent = 0
    for member in schools.coordinators(school.school_id):
        context = {"school_name": school.name, "link": link}
        try:
            aws.client("ses").send_email(
                Source=settings.mail_from,
                Destination={"ToAddresses": [member.email]},
                Message={
                    "Subject": {
                        "Data": render(
                            "mail/urgent_subject.txt", member.language, **context
                        ).strip(),
                        "Charset": "UTF-8",
                    },
                    "Body": {
                        "Text": {
                            "Data": render(
                                "mail/urgent.txt", member.language, **context
                            ),
                            "Charset": "UTF-8",
                        },
                        "Html": {
                            "Data": render(
                                "mail/urgent.html", member.language, **context
                            ),
                            "Charset": "UTF-8",
                        },
                    },
                },
            )
        except (BotoCoreError, ClientError):
            logger.exception(
                "urgent alert not sent",
                extra={"report_id": report_id, "staff_id": member.staff_id},
            )
            metrics.add_metric(name="UrgentAlertFailed", unit=MetricUnit.Count, value=1)
            continue
        sent += 1
    logger.info("urgent alert sent", extra={"report_id": report_id, "recipients": sent})
    return sent
