"""Logger and metrics shared by every handler.

Log lines carry a fixed message and keys (school, report id, counts), never names,
descriptions, contact details, addresses or tokens.
"""

from aws_lambda_powertools import Logger, Metrics

SERVICE = "m5-monitor"

logger = Logger(service=SERVICE)
metrics = Metrics(service=SERVICE, namespace="M5Monitor")
