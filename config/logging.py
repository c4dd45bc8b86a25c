"""Logging filters."""

import logging


class RefusalsInOneLine(logging.Filter):
    """A refused request (403) is logged as one line, without the traceback of the refusal:
    it is an answer, not a fault."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info = record.exc_text = None
        return True
