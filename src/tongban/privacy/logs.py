"""Keep personal numbers out of application and access logs.

A search box or a URL can carry an identity or phone number, and an exception
message can quote a form value; logs are kept longer and read by more people
than the data itself. The filter masks every record on its way to a handler,
using the same scanner as `tongban privacy mask`.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from tongban.privacy.scanner import mask_text


def _mask(value: Any) -> Any:
    return mask_text(value) if isinstance(value, str) else value


class PersonalDataFilter(logging.Filter):
    """Masks the message, its arguments and any exception text of each record.

    Arguments are masked one by one rather than merged into the message:
    uvicorn's access formatter unpacks them by position.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = _mask(record.msg)
        if isinstance(record.args, dict):
            record.args = {key: _mask(value) for key, value in record.args.items()}
        elif record.args:
            record.args = tuple(_mask(arg) for arg in record.args)
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's logging configuration with the filter on every handler."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["personal_data"] = {"()": PersonalDataFilter}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("personal_data")
    # The application's own loggers propagate to the root logger: give it a
    # filtered handler too.
    config["handlers"]["root"] = {
        "formatter": "default",
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
        "filters": ["personal_data"],
    }
    config["root"] = {"handlers": ["root"], "level": "INFO"}
    return config
