"""Zoho's own Python SDK (zohocrmsdk8-0), unmodified, against the emulator: it signs in with a
grant code, makes a lead, then a task and a logged call tied to the lead through What_Id and
$se_module, then converts a second lead into a contact, an account and a deal, and prints what it
made as JSON for the Rust test that runs it to check.

Environment: ZOHO_BASE (the emulator's base URL), ZOHO_CODE (a grant code for ada), ZOHO_CLIENT_ID,
ZOHO_CLIENT_SECRET, ZOHO_REDIRECT, ZOHO_WORK_DIR (where the SDK keeps its token file and caches).
"""

import datetime
import json
import os
import sys

from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken
from zohocrmsdk.src.com.zoho.api.authenticator.store import FileStore
from zohocrmsdk.src.com.zoho.crm.api import convert_lead
from zohocrmsdk.src.com.zoho.crm.api.dc.data_center import DataCenter
from zohocrmsdk.src.com.zoho.crm.api.initializer import Initializer
from zohocrmsdk.src.com.zoho.crm.api.record import (
    ActionWrapper,
    APIException,
    BodyWrapper,
    Field,
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


def main():
    base = os.environ["ZOHO_BASE"]
    work = os.environ["ZOHO_WORK_DIR"]
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

    lead = Record()
    lead.add_field_value(Field.Leads.last_name(), "SDK Lead")
    lead.add_field_value(Field.Leads.company(), "SDK Company")
    lead_id = create("Leads", lead)

    parent = Record()
    parent.set_id(int(lead_id))

    task = Record()
    task.add_field_value(Field.Tasks.subject(), "SDK follow-up")
    task.add_field_value(Field.Tasks.due_date(), datetime.date.today())
    task.add_field_value(Field.Tasks.priority(), Choice("High"))
    task.add_field_value(Field.Tasks.what_id(), parent)
    task.add_key_value("$se_module", "Leads")
    task_id = create("Tasks", task)

    call = Record()
    call.add_field_value(Field.Calls.subject(), "SDK logged call")
    call.add_field_value(Field.Calls.call_type(), Choice("Inbound"))
    start = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(hours=1)
    call.add_field_value(Field.Calls.call_start_time(), start)
    call.add_field_value(Field.Calls.call_duration(), "00:10")
    call.add_field_value(Field.Calls.what_id(), parent)
    call.add_key_value("$se_module", "Leads")
    call_id = create("Calls", call)

    second = Record()
    second.add_field_value(Field.Leads.last_name(), "SDK Convert")
    second.add_field_value(Field.Leads.company(), "SDK Convert Co")
    second_id = create("Leads", second)
    deal = Record()
    deal.add_field_value(Field.Deals.deal_name(), "SDK Deal")
    deal.add_field_value(Field.Deals.stage(), Choice("Qualification"))
    deal.add_field_value(Field.Deals.closing_date(), datetime.date.today() + datetime.timedelta(days=30))
    converter = convert_lead.LeadConverter()
    converter.set_overwrite(False)
    converter.set_notify_lead_owner(False)
    converter.set_notify_new_entity_owner(False)
    converter.set_deals(deal)
    body = convert_lead.BodyWrapper()
    body.set_data([converter])
    response = convert_lead.ConvertLeadOperations(int(second_id)).convert_lead(body)
    answer = response.get_object() if response is not None else None
    if not isinstance(answer, convert_lead.ActionWrapper):
        sys.exit(f"convert: {answer!r} HTTP {response.get_status_code() if response else None}")
    item = answer.get_data()[0]
    if not isinstance(item, convert_lead.SuccessResponse):
        sys.exit(f"convert: {item.get_code().get_value()} {item.get_details()}")
    details = item.get_details()

    def ref(value):
        # The SDK reads `{name, id}` into a record-like object or leaves a dict or an id.
        if value is None:
            return None
        if isinstance(value, dict):
            return str(value.get("id"))
        getter = getattr(value, "get_id", None)
        return str(getter()) if getter else str(value)

    print(
        json.dumps(
            {
                "lead": lead_id,
                "task": task_id,
                "call": call_id,
                "converted": second_id,
                "contact": ref(details.get("Contacts")),
                "deal": ref(details.get("Deals")),
            }
        )
    )


if __name__ == "__main__":
    main()
