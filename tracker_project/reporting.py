"""What Django's error reports (the DEBUG page, error mails) may show of the settings and environment."""

import re

from django.views.debug import SafeExceptionReporterFilter


class ConnectionUrlFilter(SafeExceptionReporterFilter):
    """Django's filter hides names with KEY, SECRET, PASS and the like; the connection URLs this
    project takes from the environment carry their passwords inside (`postgresql://user:pw@host/db`)
    under names it lets through. Hide those too, and the settings built from them."""

    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|DATABASE|REDIS|BROKER|RESULT_BACKEND|CHANNEL_LAYERS|CACHES",
        flags=re.I,
    )
