"""Errors raised by service functions; views turn them into messages."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the operation.

    ``message`` is user-facing (Spanish, translatable); ``field_errors`` maps
    input field names to their messages when the refusal is about input.
    """

    def __init__(self, message: str, field_errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}


class ValidationFailed(DomainError):
    """The input does not meet the rules; see ``field_errors``."""
