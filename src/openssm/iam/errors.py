"""IAM's error codes, with the HTTP statuses IAM answers them with."""

from __future__ import annotations

from openssm.errors import AwsError


class NoSuchEntity(AwsError):
    code = "NoSuchEntity"
    status = 404


class EntityAlreadyExists(AwsError):
    code = "EntityAlreadyExists"
    status = 409


class DeleteConflict(AwsError):
    code = "DeleteConflict"
    status = 409


class LimitExceeded(AwsError):
    code = "LimitExceeded"
    status = 409


class InvalidInput(AwsError):
    code = "InvalidInput"
    status = 400


class UnmodifiableEntity(AwsError):
    code = "UnmodifiableEntity"
    status = 400
