"""The application's logger keeps INFO however the modules were imported.

Chalice names its own logger after the app, which is also the Powertools
service name; left to configure logs, it set that logger to ERROR.
"""

import logging

import app
from chalicelib.obs import logger


def test_creating_the_app_leaves_the_application_logger_at_info():
    # Whether Chalice or Powertools set the shared logger up first depended on
    # import order; Chalice must never do it.
    assert app.app.configure_logs is False
    assert logger._logger.isEnabledFor(logging.INFO)
    assert app.app.log is logging.getLogger("m5-monitor")
