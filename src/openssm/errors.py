"""The one root of every error a caller may see, with AWS's error codes as class attributes.

Services raise these; `openssm.api.errors` is the single place that turns them into wire bodies.
"""

from __future__ import annotations


class AwsError(Exception):
    """An error with an AWS error code, an HTTP status and a message in AWS's words."""

    code: str = "InternalFailure"
    status: int = 400
    sender_fault: bool = True

    def __init__(self, message: str = "", *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class ValidationError(AwsError):
    code = "ValidationException"


class SerializationError(AwsError):
    code = "SerializationException"


class UnknownOperation(AwsError):
    code = "UnknownOperationException"


class MissingAction(AwsError):
    code = "MissingAction"


class InvalidAction(AwsError):
    code = "InvalidAction"


class AccessDenied(AwsError):
    """Authorization refused; the code differs per protocol (AccessDeniedException / AccessDenied)."""

    code = "AccessDeniedException"


class AuthFailure(AwsError):
    """Authentication refused (bad signature, unknown key, expired token…); code set per case."""

    code = "UnrecognizedClientException"
    status = 403


class Throttling(AwsError):
    code = "ThrottlingException"


class InternalError(AwsError):
    code = "InternalServerError"
    status = 500
    sender_fault = False
