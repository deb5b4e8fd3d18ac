"""AWS Organizations' error codes, each with the message AWS answers it with (its API reference's wording
where the service's own runtime wording is not known)."""

from __future__ import annotations

from openssm.errors import AccessDenied, AwsError


class OrganizationsError(AwsError):
    """An Organizations error whose message defaults to AWS's wording for the code."""

    default_message = ""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)


class NotInUse(OrganizationsError):
    code = "AWSOrganizationsNotInUseException"
    default_message = "Your account is not a member of an organization."


class AlreadyInOrganization(OrganizationsError):
    code = "AlreadyInOrganizationException"
    default_message = ("This account is already a member of an organization. An account can belong to only one "
                       "organization at a time.")


class AccountNotFound(OrganizationsError):
    code = "AccountNotFoundException"
    default_message = "You specified an account that doesn't exist."


class ChildNotFound(OrganizationsError):
    code = "ChildNotFoundException"
    default_message = ("We can't find an organizational unit (OU) or AWS account with the ChildId that you "
                       "specified.")


class ParentNotFound(OrganizationsError):
    code = "ParentNotFoundException"
    default_message = "We can't find a root or OU with the ParentId that you specified."


class SourceParentNotFound(OrganizationsError):
    code = "SourceParentNotFoundException"
    default_message = "We can't find a source root or OU with the ParentId that you specified."


class DestinationParentNotFound(OrganizationsError):
    code = "DestinationParentNotFoundException"
    default_message = "We can't find the destination container (a root or OU) with the ParentId that you specified."


class DuplicateAccount(OrganizationsError):
    code = "DuplicateAccountException"
    default_message = "That account is already present in the specified destination."


class RootNotFound(OrganizationsError):
    code = "RootNotFoundException"
    default_message = "We can't find a root with the RootId that you specified."


class OuNotFound(OrganizationsError):
    code = "OrganizationalUnitNotFoundException"
    default_message = "We can't find an OU with the OrganizationalUnitId that you specified."


class DuplicateOu(OrganizationsError):
    code = "DuplicateOrganizationalUnitException"
    default_message = "An OU with the same name already exists."


class OuNotEmpty(OrganizationsError):
    code = "OrganizationalUnitNotEmptyException"
    default_message = ("The specified OU is not empty. Move all accounts to another root or to other OUs, remove "
                       "all child OUs, and try the operation again.")


class OrganizationNotEmpty(OrganizationsError):
    code = "OrganizationNotEmptyException"
    default_message = ("The organization isn't empty. To delete an organization, you must first remove all "
                       "accounts except the management account.")


class MasterCannotLeave(OrganizationsError):
    code = "MasterCannotLeaveOrganizationException"
    default_message = ("You can't remove a management account from an organization. If you want the management "
                       "account to become a member account in another organization, you must first delete the "
                       "current organization of the management account.")


class CreateAccountStatusNotFound(OrganizationsError):
    code = "CreateAccountStatusNotFoundException"
    default_message = "We can't find an create account request with the CreateAccountRequestId that you specified."


class PolicyNotFound(OrganizationsError):
    code = "PolicyNotFoundException"
    default_message = "We can't find a policy with the PolicyId that you specified."


class DuplicatePolicy(OrganizationsError):
    code = "DuplicatePolicyException"
    default_message = "A policy with the same name already exists."


class MalformedPolicy(OrganizationsError):
    code = "MalformedPolicyDocumentException"
    default_message = "The provided policy document doesn't meet the requirements of the specified policy type."


class PolicyInUse(OrganizationsError):
    code = "PolicyInUseException"
    default_message = ("The policy is attached to one or more entities. You must detach it from all roots, OUs, "
                       "and accounts before performing this operation.")


class DuplicateAttachment(OrganizationsError):
    code = "DuplicatePolicyAttachmentException"
    default_message = "The selected policy is already attached to the specified target."


class NotAttached(OrganizationsError):
    code = "PolicyNotAttachedException"
    default_message = "The policy isn't attached to the specified target in the specified root."


class TargetNotFound(OrganizationsError):
    code = "TargetNotFoundException"
    default_message = "We can't find a root, OU, account, or policy with the TargetId that you specified."


class TypeNotEnabled(OrganizationsError):
    code = "PolicyTypeNotEnabledException"
    default_message = ("The specified policy type isn't currently enabled in this root. You can't attach policies "
                       "of the specified type to entities in a root until you enable that type in the root.")


class TypeAlreadyEnabled(OrganizationsError):
    code = "PolicyTypeAlreadyEnabledException"
    default_message = "The specified policy type is already enabled in the specified root."


class TypeNotAvailable(OrganizationsError):
    code = "PolicyTypeNotAvailableForOrganizationException"
    default_message = ("You can't use the specified policy type with the feature set currently enabled for this "
                       "organization. For example, you can enable SCPs only after you enable all features in the "
                       "organization.")


class ConstraintViolation(OrganizationsError):
    code = "ConstraintViolationException"


class InvalidInput(OrganizationsError):
    code = "InvalidInputException"


def not_management() -> AccessDenied:
    """What a member account hears when it calls an operation reserved to the management account."""
    return AccessDenied("You don't have permissions to access this resource.")
