"""Request and response bodies of the staff review-request queue."""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from bookbay.domain.review_requests import EndedBy, ReviewRequest, ReviewStatus
from bookbay.modeling import BaseModel

REQUEST_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


class ReviewRequestOut(BaseModel):
    id: str = Field(description="The review request's id (the completed appointment's id)")
    appointment_id: str
    customer_id: str
    location_id: str
    service_id: str
    status: ReviewStatus = Field(
        description="active (e-mails going out), done (the customer left a review), opted_out, "
        "stopped (by staff, or review requests turned off), finished (every e-mail sent)"
    )
    first_name: str
    email: str = Field(description="Where the e-mails go (the appointment's contact e-mail)")
    visit_start: AwareDatetime = Field(description="The appointment's start, in the store's time zone")
    completed_at: AwareDatetime
    steps_days: list[int] = Field(description="Days after completion of each e-mail (fixed at the start)")
    steps_sent: int = Field(description="E-mails sent so far")
    next_step_at: AwareDatetime | None = Field(description="When the next e-mail goes out (UTC)")
    last_sent_at: AwareDatetime | None
    created_at: AwareDatetime
    updated_at: AwareDatetime
    ended_at: AwareDatetime | None
    ended_by: EndedBy | None = Field(description="customer, staff or system (the sequence's end)")
    end_reason: str | None

    @classmethod
    def of(cls, request: ReviewRequest) -> ReviewRequestOut:
        return cls.model_validate(request.model_dump())


class ReviewRequestsResponse(BaseModel):
    review_requests: list[ReviewRequestOut] = Field(description="Newest first")
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null: no more")


class ReviewRequestResponse(BaseModel):
    review_request: ReviewRequestOut
