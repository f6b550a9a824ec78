"""Zoho's own Python SDK (zohocrmsdk8-0), unmodified, against the emulator: it signs in with a
grant code, makes three leads, gives the first to another user (change owner of one record, with
its open tasks), the other two in one call (change owner of several), then sets the Lead Status
of all three at once (mass update by ids), and prints what it made as JSON for the Rust test that
runs it to check.

Environment: ZOHO_BASE (the emulator's base URL), ZOHO_CODE (a grant code for ada, with the
change_owner and mass_update scopes), ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET, ZOHO_REDIRECT,
ZOHO_WORK_DIR (where the SDK keeps its token file and caches), ZOHO_NEW_OWNER (the CRM user id
of the new owner).
"""

import json
import os
import sys

from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken
from zohocrmsdk.src.com.zoho.api.authenticator.store import FileStore
from zohocrmsdk.src.com.zoho.crm.api import change_owner
from zohocrmsdk.src.com.zoho.crm.api.dc.data_center import DataCenter
from zohocrmsdk.src.com.zoho.crm.api.initializer import Initializer
from zohocrmsdk.src.com.zoho.crm.api.record import (
    ActionWrapper,
    APIException,
    BodyWrapper,
    Field,
    MassUpdateActionWrapper,
    MassUpdateBodyWrapper,
    MassUpdateSuccessResponse,
    Record,
    RecordOperations,
    SuccessResponse,
)
from zohocrmsdk.src.com.zoho.crm.api.sdk_config import SDKConfig
from zohocrmsdk.src.com.zoho.crm.api.util.choice import Choice


def create(module, record):
    """Creates one record of `module` with the SDK; its id, or exits saying why not."""
    body = BodyWrapper()
    body.set_data([record])
    response = RecordOperations(module).create_records(body)
    if response is None:
        sys.exit(f"{module}: no response")
    answer = response.get_object()
    if isinstance(answer, ActionWrapper):
        item = answer.get_data()[0]
        if isinstance(item, SuccessResponse):
            return str(item.get_details()["id"])
        sys.exit(f"{module}: {item.get_code().get_value()} {item.get_details()} {item.get_message()}")
    if isinstance(answer, APIException):
        sys.exit(f"{module}: {answer.get_code().get_value()} {answer.get_details()}")
    sys.exit(f"{module}: HTTP {response.get_status_code()}")


def check_owner_change(what, response, expected):
    """Exits unless the change-owner `response` moved `expected` records."""
    if response is None:
        sys.exit(f"{what}: no response")
    answer = response.get_object()
    if not isinstance(answer, change_owner.ActionWrapper):
        detail = answer.get_code().get_value() if isinstance(answer, change_owner.APIException) else answer
        sys.exit(f"{what}: {detail!r} HTTP {response.get_status_code()}")
    items = answer.get_data()
    moved = [i for i in items if isinstance(i, change_owner.SuccessResponse)]
    if len(moved) != expected or response.get_status_code() != 200:
        codes = [i.get_code().get_value() for i in items]
        sys.exit(f"{what}: HTTP {response.get_status_code()} {codes}")


def main():
    base = os.environ["ZOHO_BASE"]
    work = os.environ["ZOHO_WORK_DIR"]
    new_owner = int(os.environ["ZOHO_NEW_OWNER"])
    env = DataCenter.Environment(
        f"{base}/us/api", f"{base}/us/accounts/oauth/v2/token", f"{base}/us/api"
    )
    token = OAuthToken(
        client_id=os.environ["ZOHO_CLIENT_ID"],
        client_secret=os.environ["ZOHO_CLIENT_SECRET"],
        grant_token=os.environ["ZOHO_CODE"],
        redirect_url=os.environ["ZOHO_REDIRECT"],
    )
    Initializer.initialize(
        environment=env,
        token=token,
        store=FileStore(os.path.join(work, "sdk_tokens.txt")),
        sdk_config=SDKConfig(),
        resource_path=work,
    )

    leads = []
    for name in ["SDK Owner One", "SDK Owner Two", "SDK Owner Three"]:
        lead = Record()
        lead.add_field_value(Field.Leads.last_name(), name)
        lead.add_field_value(Field.Leads.company(), "SDK Owners")
        leads.append(create("Leads", lead))

    owner = change_owner.Owner()
    owner.set_id(new_owner)

    # One record, and its open tasks with it.
    one = change_owner.BodyWrapper()
    one.set_owner(owner)
    one.set_notify(False)
    tasks = change_owner.RelatedModules()
    tasks.set_api_name("Tasks")
    one.set_related_modules([tasks])
    check_owner_change(
        "change owner of one",
        change_owner.ChangeOwnerOperations("Leads").single_update(int(leads[0]), one),
        1,
    )

    # Several in one call: the SDK sends their ids as numbers.
    several = change_owner.MassWrapper()
    several.set_ids([int(leads[1]), int(leads[2])])
    several.set_owner(owner)
    several.set_notify(False)
    check_owner_change(
        "change owner of several",
        change_owner.ChangeOwnerOperations("Leads").mass_update(several),
        2,
    )

    # One field on all three at once.
    status = Record()
    status.add_field_value(Field.Leads.lead_status(), Choice("Contacted"))
    mass = MassUpdateBodyWrapper()
    mass.set_data([status])
    mass.set_ids([str(i) for i in leads])
    response = RecordOperations("Leads").mass_update_records(mass)
    answer = response.get_object() if response is not None else None
    if not isinstance(answer, MassUpdateActionWrapper):
        sys.exit(f"mass update: {answer!r} HTTP {response.get_status_code() if response else None}")
    updated = [i for i in answer.get_data() if isinstance(i, MassUpdateSuccessResponse)]
    if len(updated) != len(leads):
        codes = [i.get_code().get_value() for i in answer.get_data()]
        sys.exit(f"mass update: HTTP {response.get_status_code()} {codes}")

    print(json.dumps({"leads": leads, "updated": [str(i.get_details()["id"]) for i in updated]}))


if __name__ == "__main__":
    main()
