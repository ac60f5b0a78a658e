"""Lambda functions that are not HTTP routes (scheduled jobs such as the weekly
mails and retention). `app.py` wires them; they reach the deployment package
through the `vendor/functions` link."""
