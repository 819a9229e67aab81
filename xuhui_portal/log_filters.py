"""Logging filters named in settings.LOGGING (imported while logging is configured: no Django
imports here)."""

import logging


class ClientMistake(logging.Filter):
    """One warning line, without the traceback, for what a client got wrong.

    Django logs a request whose Host header is not in ALLOWED_HOSTS as an error with its
    traceback. Scanners send such requests every day; the traceback says nothing, and errors on
    stderr should mean the portal failed. The message (the host and the hint) stays.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info = record.exc_text = None
        return True
