"""Writing a message to a customer about an appointment that does not change it (the
e-confirmation sent by hand, a reminder): ONE TransactWriteItems of the outbox item, the fresh
manage-link token, for a reminder its receipt, and a condition check that the appointment is
still the version (and in a status) the message was rendered from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bookbay.domain.audit import AuditEntry
from bookbay.domain.effects import NewLink
from bookbay.domain.messages import OutboundMessage
from bookbay.exceptions import StaleWrite
from bookbay.models import keys
from bookbay.models.appointments import AppointmentItem
from bookbay.models.reminders import ReminderSentItem
from bookbay.models.table import bind_table
from bookbay.repositories import audit as audit_trail
from bookbay.repositories.appointments import StoredAppointment, put_all
from bookbay.repositories.transactions import LabelledTransaction, Refused, write_transaction

WriteOutcome = Literal["written", "already_sent", "changed"]
# A receipt is kept a while after the appointment (then the TTL removes it).
RECEIPT_KEEP_AFTER_END = timedelta(days=30)


@dataclass(frozen=True)
class ReminderReceipt:
    """The reminder of the appointment's version ``sequence`` goes out (once)."""

    sequence: int
    channel: str  # "sms" | "email" | "phone" (nothing sent)


class CustomerMessageRepository:
    def __init__(self, table_name: str, region: str) -> None:
        bind_table(table_name, region)

    def write(
        self,
        appointment: StoredAppointment,
        *,
        statuses: Sequence[str],
        message: OutboundMessage | None,
        link: NewLink | None,
        receipt: ReminderReceipt | None = None,
        now: datetime,
        audit: AuditEntry | None = None,
    ) -> WriteOutcome:
        """Enqueue ``message`` with ``link`` (and ``receipt``) if the appointment is unchanged since
        it was read and in one of ``statuses``.

        ``already_sent``: the receipt exists (this reminder went out before); ``changed``: the
        appointment changed or left ``statuses`` (nothing written either way). Raises StaleWrite
        when other writes kept colliding with this one (retry later).
        """

        def build(tx: LabelledTransaction) -> None:
            tx.check(
                AppointmentItem,
                keys.appointment_pk(appointment.id),
                keys.APPOINTMENT_SK,
                (AppointmentItem.version == appointment.version) & AppointmentItem.status.is_in(*statuses),
                "appointment",
            )
            put_all(tx, [message] if message else (), [link] if link else ())
            if audit is not None:
                audit_trail.add_to(tx, keys.appointment_pk(appointment.id), audit)
            if receipt is not None:
                item = ReminderSentItem(
                    keys.appointment_pk(appointment.id),
                    keys.reminder_sk(receipt.sequence),
                    message_id=message.id if message else None,
                    channel=receipt.channel,
                    sent_at=now,
                    expires_at=appointment.end + RECEIPT_KEEP_AFTER_END,
                )
                tx.save(item, ReminderSentItem.pk.does_not_exist(), "reminder")

        try:
            write_transaction(build, Refused)
        except Refused as exc:
            if "reminder" in exc.failed:
                return "already_sent"
            if not exc.failed:
                raise StaleWrite("The appointment is being changed right now; try again.") from exc
            return "changed"
        return "written"
