"""Parameter values: what PutParameter accepts (size per tier, AllowedPattern, data types), and SecureString
values sealed by KMS under the parameter's ARN as encryption context (the plaintext is never stored).

`KeyAccess` lets the caller's own permissions on the key be checked, as SSM calls KMS on the caller's
behalf, without this module knowing about IAM or HTTP.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping

from sqlalchemy import Connection

from openssm.errors import AwsError, ValidationError
from openssm.services.kms import KmsService
from openssm.services.kms_model import Key
from openssm.services.parameter_model import (
    ADVANCED_MAX_VALUE,
    STANDARD_MAX_VALUE,
    DataType,
    InvalidAllowedPattern,
    InvalidKeyId,
    ParameterPatternMismatch,
    ParameterType,
    ParameterVersion,
    Scope,
    Tier,
)
from openssm.services.parameter_names import parameter_arn

KeyAccess = Callable[[str, Key, Mapping[str, str]], None]
"""(KMS action, key, encryption context) -> None, or raise AccessDenied."""

_AMI = re.compile(r"^ami-([0-9a-f]{8}|[0-9a-f]{17})$")


def any_access(_action: str, _key: Key, _context: Mapping[str, str]) -> None:
    return None


def data_type_of(text: str | None) -> DataType | None:
    if text is None:
        return None
    try:
        return DataType(text)
    except ValueError as err:
        raise ValidationError(f"The following data type is not supported: {text} (Data type names are all "
                              "lowercase.)") from err


def check_value(value: str, tier: Tier, data_type: DataType, kind: ParameterType) -> None:
    if value == "":
        raise ValidationError("1 validation error detected: Value '' at 'value' failed to satisfy constraint: Member "
                              "must have length greater than or equal to 1.")
    if tier is Tier.STANDARD and len(value) > STANDARD_MAX_VALUE:
        raise ValidationError(
            "Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger "
            "parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see "
            "https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html")
    if len(value) > ADVANCED_MAX_VALUE:
        raise ValidationError("The specified parameter value is too large. Advanced-tier parameters support a "
                              "maximum parameter value of 8192 characters.")
    if data_type is DataType.EC2_IMAGE:
        if kind is not ParameterType.STRING:
            raise ValidationError("The aws:ec2:image data type is supported only for String parameters.")
        if not _AMI.match(value):
            raise ValidationError(f"The parameter value {value} is not a valid Amazon Machine Image (AMI) ID. Use the "
                                  "format ami-12345abcdeEXAMPLE.")


def check_pattern(pattern: str | None, value: str) -> None:
    """AllowedPattern must match the whole value (SecureString values are checked before encryption)."""
    if not pattern:
        return
    try:
        compiled = re.compile(pattern, re.ASCII)
    except re.error as err:
        raise InvalidAllowedPattern("The request doesn't meet the regular expression requirement.") from err
    if compiled.fullmatch(value) is None:
        raise ParameterPatternMismatch(f"Parameter value, cannot be validated against allowedPattern: {pattern}")


def kms_failure(err: AwsError) -> InvalidKeyId:
    """A KMS refusal as Parameter Store reports it: InvalidKeyId, quoting KMS."""
    return InvalidKeyId(f"{err.message} (Service: AWSKMS; Status Code: 400; Error Code: {err.code})")


class SecureValues:
    """Seals and opens SecureString values with KMS, binding each to its parameter's ARN."""

    def __init__(self, kms: KmsService) -> None:
        self.kms = kms

    @staticmethod
    def context(scope: Scope, name: str) -> dict[str, str]:
        return {"PARAMETER_ARN": parameter_arn(scope.region, scope.account_id, name)}

    def seal(self, conn: Connection, scope: Scope, name: str, plaintext: str, key_ref: str, tier: Tier,
             access: KeyAccess) -> str:
        """The stored form of a SecureString value: base64 of the KMS ciphertext blob."""
        try:
            key = self.kms.resolve(conn, scope.account_id, scope.region, key_ref, scope.now)
            key.require_usable()
        except AwsError as err:
            raise kms_failure(err) from err
        context = self.context(scope, name)
        # Advanced parameters are enveloped with a data key at AWS, which needs both permissions.
        for action in ("kms:Encrypt", "kms:GenerateDataKey") if tier is Tier.ADVANCED else ("kms:Encrypt",):
            access(action, key, context)
        return base64.b64encode(self.kms.encrypt(conn, key, plaintext.encode(), context)).decode()

    def reveal(self, conn: Connection, scope: Scope, version: ParameterVersion, decrypt: bool,
               access: KeyAccess) -> str:
        """The value a reader gets: plaintext, or for a SecureString read without decryption its ciphertext."""
        if version.type is not ParameterType.SECURE_STRING or not decrypt:
            return version.value
        try:
            blob = base64.b64decode(version.value, validate=True)
            key = self.kms.key_of_ciphertext(conn, scope.account_id, scope.region, blob, scope.now)
            key.require_usable()
        except binascii.Error as err:
            raise InvalidKeyId("The stored ciphertext of this parameter cannot be read.") from err
        except AwsError as err:
            raise kms_failure(err) from err
        context = self.context(scope, version.name)
        access("kms:Decrypt", key, context)
        try:
            return self.kms.decrypt(conn, key, blob, context).decode()
        except AwsError as err:
            raise kms_failure(err) from err


def resolve_tier(requested: Tier | None, current: Tier | None, value: str, has_policies: bool) -> Tier:
    """The tier a new version is stored in: Intelligent-Tiering picks Standard unless the value's size or
    policies need Advanced; an Advanced parameter never goes back to Standard."""
    if requested is Tier.STANDARD and current is Tier.ADVANCED:
        raise ValidationError(
            "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the "
            "advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced "
            "parameter and recreate it as a standard parameter.")
    if requested is Tier.INTELLIGENT:
        advanced = len(value) > STANDARD_MAX_VALUE or has_policies or current is Tier.ADVANCED
        return Tier.ADVANCED if advanced else Tier.STANDARD
    tier = requested or current or Tier.STANDARD
    if tier is Tier.STANDARD and has_policies:
        raise ValidationError("Parameter policies are supported only for advanced-tier parameters. Specify the "
                              "Advanced tier or Intelligent-Tiering.")
    return tier
