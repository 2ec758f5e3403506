"""Texts of the booking notices, in Italian and English (merged into :data:`TEMPLATES`). The
family's notices go to ``beneficiary:<id>``, the provider's to ``provider:<id>``; a
compensated booking's reason arrives as its code (``reason_code``) and is told in words."""

from __future__ import annotations

BOOKING_TEMPLATES: dict[str, dict[str, str]] = {
    "booking_confirmed": {
        "it": "La tua prenotazione è confermata: {amount} in totale, tutti i fornitori hanno "
        "accettato.",
        "en": "Your booking is confirmed: {amount} in total, every provider accepted.",
    },
    "booking_compensated": {
        "it": "La tua prenotazione non è andata a buon fine: {reason} Quanto era stato "
        "riservato (posti, credito, buoni) è stato liberato.",
        "en": "Your booking did not go through: {reason} Everything reserved for it (places, "
        "credit, vouchers) has been released.",
    },
    "booking_cancelled": {
        "it": "La tua prenotazione è stata annullata; penale di annullamento: {amount}.",
        "en": "Your booking was cancelled; cancellation fee: {amount}.",
    },
    "booking_cancelled_by_provider": {
        "it": "Il fornitore ha annullato la tua prenotazione, senza alcun costo per te.",
        "en": "The provider cancelled your booking, at no cost to you.",
    },
    "component_delivered": {
        "it": "Il servizio {component} della tua prenotazione risulta svolto: confermalo "
        "oppure contestalo entro il {due_on} alle {due_time}, poi sarà confermato da sé.",
        "en": "Service {component} of your booking was marked delivered: confirm or dispute it "
        "by {due_on} at {due_time}; after that it is confirmed on its own.",
    },
    "acceptance_requested": {
        "it": "Nuova prenotazione da accettare (servizio del {starts_on} alle {starts_time}): "
        "rispondi entro il {due_on} alle {due_time}, poi sarà annullata.",
        "en": "A new booking awaits your acceptance (service on {starts_on} at {starts_time}): "
        "answer by {due_on} at {due_time}, or it is cancelled.",
    },
}

# Why a booking was compensated, as its requester is told.
REASONS: dict[str, dict[str, str]] = {
    "slot_unavailable": {
        "it": "il posto richiesto non è più disponibile.",
        "en": "the slot asked for is no longer available.",
    },
    "funds_refused": {
        "it": "il pagamento non è stato autorizzato (credito o buono insufficiente o non valido).",
        "en": "the payment was not authorised (credit or voucher insufficient or not valid).",
    },
    "provider_declined": {
        "it": "il fornitore non può accettare la prenotazione.",
        "en": "the provider cannot accept the booking.",
    },
    "provider_no_answer": {
        "it": "il fornitore non ha risposto entro il termine.",
        "en": "the provider did not answer in time.",
    },
    "holds_unanswered": {
        "it": "non è stato possibile riservare il posto e il pagamento in tempo.",
        "en": "the slot and the payment could not be reserved in time.",
    },
    "hold_expired": {
        "it": "la prenotazione non è stata confermata prima della scadenza.",
        "en": "the booking was not confirmed before its hold expired.",
    },
    "cancelled_by_requester": {
        "it": "è stata annullata su richiesta.",
        "en": "it was cancelled on request.",
    },
}
OTHER_REASON = {"it": "motivo {reason_code}.", "en": "reason {reason_code}."}


def reason_text(reason_code: str, language: str) -> str:
    texts = REASONS.get(reason_code, OTHER_REASON)
    return (texts.get(language) or texts["it"]).format(reason_code=reason_code)
