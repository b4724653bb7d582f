"""Application statuses and the only table of legal transitions."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    PRINTED = "printed"
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    COMPLETED = "completed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.DRAFT: frozenset({Status.SUBMITTED, Status.CANCELLED}),
    Status.SUBMITTED: frozenset({Status.IN_REVIEW, Status.CANCELLED}),
    # in_review -> submitted: the clerk releases the claim back to the queue
    Status.IN_REVIEW: frozenset(
        {Status.APPROVED, Status.REJECTED, Status.SUBMITTED, Status.CANCELLED}
    ),
    Status.APPROVED: frozenset({Status.PRINTED, Status.CANCELLED}),
    # printed -> completed only for fee-free applications (checked by the service)
    Status.PRINTED: frozenset({Status.AWAITING_PAYMENT, Status.COMPLETED, Status.CANCELLED}),
    Status.AWAITING_PAYMENT: frozenset({Status.PAID, Status.CANCELLED}),
    # paid -> cancelled only with the refund (PaymentService.refund)
    Status.PAID: frozenset({Status.COMPLETED, Status.CANCELLED}),
    Status.COMPLETED: frozenset(),
    Status.REJECTED: frozenset(),
    Status.CANCELLED: frozenset(),
}

OPEN_FOR_STAFF: tuple[Status, ...] = (
    Status.SUBMITTED,
    Status.IN_REVIEW,
    Status.APPROVED,
    Status.PRINTED,
    Status.AWAITING_PAYMENT,
    Status.PAID,
)


def can_transition(current: Status, target: Status) -> bool:
    return target in TRANSITIONS[current]
