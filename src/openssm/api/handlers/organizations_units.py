"""Organizations over JSON 1.1: organizational units, walking the tree, and tags on its resources."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from openssm.api.context import RequestContext
from openssm.api.handlers.organizations_common import management, op, ou_out, page, tags_in, tags_out
from openssm.api.operations import Params
from openssm.iam import org_tags, org_units
from openssm.iam import organizations as orgs
from openssm.iam.org_model import Organization, TargetType
from openssm.iam.org_units import OrgUnit


def _unit_out(conn: Connection, org: Organization, unit: OrgUnit) -> dict[str, Any]:
    path = "/".join([org.org_id, *org_units.path_from_root(conn, org, unit.unit_id)]) + "/"
    return {**ou_out(org, unit), "Path": path}


def create_ou(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        org = management(ctx, conn)
        unit = orgs.create_ou(conn, org, p["ParentId"], p["Name"], tags_in(p))
        return {"OrganizationalUnit": _unit_out(conn, org, unit)}


def describe_ou(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        org = management(ctx, conn)
        return {"OrganizationalUnit": _unit_out(conn, org, org_units.get_ou(conn, org, p["OrganizationalUnitId"]))}


def update_ou(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        org = management(ctx, conn)
        unit = org_units.get_ou(conn, org, p["OrganizationalUnitId"])
        if p.get("Name"):
            unit = org_units.rename_ou(conn, org, unit.unit_id, p["Name"])
        return {"OrganizationalUnit": _unit_out(conn, org, unit)}


def delete_ou(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        orgs.delete_ou(conn, management(ctx, conn), p["OrganizationalUnitId"])
    return {}


def list_ous_for_parent(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        org = management(ctx, conn)
        units = org_units.child_units(conn, org, p["ParentId"])
        return page(p, "OrganizationalUnits", [_unit_out(conn, org, u) for u in units])


def list_parents(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        org = management(ctx, conn)
        parent = org_units.parent_of(conn, org, p["ChildId"])
    return page(p, "Parents", [{"Id": parent, "Type": org.target_type(parent).value}])


def list_children(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        org = management(ctx, conn)
        if p["ChildType"] == TargetType.ACCOUNT:
            children = [m.account_id for m in org_units.members(conn, org, p["ParentId"])]
        else:
            children = [u.unit_id for u in org_units.child_units(conn, org, p["ParentId"])]
    return page(p, "Children", [{"Id": c, "Type": p["ChildType"]} for c in children])


def tag_resource(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        org_tags.tag(conn, management(ctx, conn), p["ResourceId"], tags_in(p))
    return {}


def untag_resource(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        org_tags.untag(conn, management(ctx, conn), p["ResourceId"], p["TagKeys"])
    return {}


def list_tags_for_resource(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        tags = org_tags.tags_of(conn, management(ctx, conn), p["ResourceId"])
    return page(p, "Tags", tags_out(tags))


OPERATIONS = [
    op("CreateOrganizationalUnit", create_ou), op("DescribeOrganizationalUnit", describe_ou, True),
    op("UpdateOrganizationalUnit", update_ou), op("DeleteOrganizationalUnit", delete_ou),
    op("ListOrganizationalUnitsForParent", list_ous_for_parent, True), op("ListParents", list_parents, True),
    op("ListChildren", list_children, True), op("TagResource", tag_resource), op("UntagResource", untag_resource),
    op("ListTagsForResource", list_tags_for_resource, True),
]
