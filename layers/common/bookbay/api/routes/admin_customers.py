"""Staff API: customers and the proposed-change queue (Cognito authorizer + staff group).

GET /v1/admin/customers?q (search by phone, e-mail or name; cursor pages), GET and PATCH
/v1/admin/customers/{customer_id} (read everything; edit Do Not Service, the preferred channel and
the contact data), POST /v1/admin/customers/{customer_id}/source-links (a known-source booking
link), GET /v1/admin/proposed-changes (the pending queue) and POST
/v1/admin/proposed-changes/{change_id}/{decision} (accept | reject). Every change is audited.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from http import HTTPStatus
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from bookbay.api.auth import STAFF_SECURITY, staff_actor
from bookbay.api.customers import (
    CustomerDetail,
    CustomerOut,
    CustomerPatch,
    CustomerResponse,
    CustomersResponse,
    ProposedChangeDecision,
    ProposedChangeOut,
    ProposedChangesResponse,
    SourceLinkCreate,
    SourceLinkResponse,
)
from bookbay.api.errors import error_responses
from bookbay.api.paging import DEFAULT_LIMIT, MAX_LIMIT
from bookbay.services import customer_admin
from bookbay.services.customer_admin import CustomerAdminDeps, CustomerEdit

CustomerId = Annotated[str, Path(max_length=64, description="The customer's id (an unknown one is a 404)")]
Cursor = Annotated[str | None, Query(max_length=4000, description="`next_cursor` of the previous page")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")]


def register(app: APIGatewayRestResolver, deps: CustomerAdminDeps, *, now: Callable[[], datetime]) -> None:
    """The customer and proposed-change routes on ``app`` (the staff group is checked by the
    handler's middleware)."""
    customers, admin = deps.customers, deps.admin

    def _customer(customer_id: str) -> CustomerDetail:
        return CustomerDetail.of_record(customer_admin.read(admin, customer_id))

    @app.get(
        "/v1/admin/customers",
        summary="Find customers",
        description="`q` is a phone number (any usual format), an e-mail address, or a name: the start "
        "of the last name (`smi`), or last and first name in either order (`smith john`, `John Smith`, "
        "`Smith, J`), whatever the case and accents. A phone or e-mail finds its one owner; a name "
        "answers cursor pages in name order (pass `next_cursor` as `cursor`). A phone or e-mail that is "
        "not one is a 422.",
        tags=["admin"],
        security=STAFF_SECURITY,
        responses={200: {"description": "Matching customers"}, **error_responses(400, 401, 403)},
    )
    def search_customers(
        q: Annotated[str, Query(min_length=1, max_length=120, description="Phone, e-mail or name")],
        cursor: Cursor = None,
        limit: Limit = DEFAULT_LIMIT,
    ) -> CustomersResponse:
        found = customer_admin.search(admin, customers, q, limit=limit, cursor=cursor)
        return CustomersResponse(
            customers=[CustomerOut.of(c) for c in found.customers],
            next_cursor=found.next_cursor,
            matched_by=found.matched_by,
        )

    @app.get(
        "/v1/admin/customers/<customer_id>",
        summary="A customer",
        description="The profile with its `version`, every phone and e-mail on file, vehicles, addresses, "
        "the latest appointments, pending proposed changes and the history of staff changes.",
        tags=["admin"],
        security=STAFF_SECURITY,
        responses={200: {"description": "The customer"}, **error_responses(401, 403, 404)},
    )
    def get_customer(customer_id: CustomerId) -> CustomerResponse:
        return CustomerResponse(customer=_customer(customer_id))

    @app.patch(
        "/v1/admin/customers/<customer_id>",
        summary="Change a customer",
        description="Any of `first_name`, `last_name`, `phone`, `email`, `do_not_service`, "
        "`preferred_channel`. The profile and every phone / e-mail lookup the booking reads change "
        "together; a new phone or e-mail replaces the old one (another customer's is a 409 "
        "`contact_in_use`). With `version` (from the read), a customer changed meanwhile is a 409 "
        "`concurrent_update` and nothing is written.",
        tags=["admin"],
        security=STAFF_SECURITY,
        responses={
            200: {"description": "The customer after the change"},
            **error_responses(400, 401, 403, 404, 409, 415),
        },
    )
    def patch_customer(customer_id: CustomerId, body: Annotated[CustomerPatch, Body()]) -> CustomerResponse:
        customer_admin.edit_customer(
            customers,
            customer_id,
            CustomerEdit(
                first_name=body.first_name,
                last_name=body.last_name,
                phone=body.phone,
                email=body.email,
                do_not_service=body.do_not_service,
                preferred_channel=body.preferred_channel,
            ),
            version=body.version,
            actor=staff_actor(app),
            now=now(),
        )
        return CustomerResponse(customer=_customer(customer_id))

    @app.post(
        "/v1/admin/customers/<customer_id>/source-links",
        summary="A known-source booking link for a customer",
        description="`<public base URL>/book?src=<token>`: the customer books after entering ONE phone "
        "number or e-mail on their profile, without a code (and, with `vehicle_id`, without choosing "
        "the vehicle). The token is shown once; only its hash is stored. Valid 180 days.",
        tags=["admin"],
        security=STAFF_SECURITY,
        responses={
            201: {"description": "The link", "content": {"application/json": {"model": SourceLinkResponse}}},
            **error_responses(400, 401, 403, 404, 415, 503),
        },
    )
    def create_source_link(
        customer_id: CustomerId, body: Annotated[SourceLinkCreate, Body()]
    ) -> Response[SourceLinkResponse]:
        created = customer_admin.create_link(
            deps,
            customer_id=customer_id,
            vehicle_id=body.vehicle_id,
            campaign=body.campaign,
            actor=staff_actor(app),
            now=now(),
        )
        return Response(
            status_code=HTTPStatus.CREATED,
            content_type=content_types.APPLICATION_JSON,
            body=SourceLinkResponse(
                url=created.url, source_token=created.source_token, expires_at=created.expires_at
            ),
        )

    @app.get(
        "/v1/admin/proposed-changes",
        summary="Pending proposed changes",
        description="What customers entered that differs from the record, oldest first. Accept one to "
        "apply it to the customer (as a staff edit of that field), or reject it.",
        tags=["admin"],
        security=STAFF_SECURITY,
        responses={200: {"description": "A page of pending changes"}, **error_responses(400, 401, 403)},
    )
    def list_proposed_changes(cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT) -> ProposedChangesResponse:
        page = customer_admin.pending_proposals(admin, limit=limit, cursor=cursor)
        return ProposedChangesResponse(
            proposed_changes=[ProposedChangeOut.of(p) for p in page.proposals], next_cursor=page.next_cursor
        )

    @app.post(
        "/v1/admin/proposed-changes/<change_id>/<decision>",
        summary="Accept or reject a proposed change",
        description="`accept` changes the customer's field to the proposed value (a phone or e-mail that "
        "is another customer's by now is a 409 `contact_in_use`); `reject` leaves the record as it is. "
        "Only a pending change can be decided: otherwise a 409 `invalid_transition`.",
        tags=["admin"],
        security=STAFF_SECURITY,
        responses={200: {"description": "The change, decided"}, **error_responses(401, 403, 404, 409)},
    )
    def decide_proposed_change(
        change_id: Annotated[str, Path(max_length=400, description="The proposed change's id")],
        decision: Annotated[Literal["accept", "reject"], Path(description="accept or reject")],
    ) -> ProposedChangeDecision:
        if decision == "accept":
            accepted, written = customer_admin.accept_proposal(
                customers, admin, change_id, actor=staff_actor(app), now=now()
            )
            return ProposedChangeDecision(
                proposed_change=ProposedChangeOut.of(accepted),
                customer=CustomerOut.of(written.profile.summary()),
            )
        rejected = customer_admin.reject_proposal(admin, change_id, actor=staff_actor(app), now=now())
        return ProposedChangeDecision(proposed_change=ProposedChangeOut.of(rejected))
