"""Texts of the notices, in Italian and English. Amounts arrive in cents and are shown in euros,
dates as ISO dates and shown as each language writes them (``*_on`` parameters)."""

from __future__ import annotations

from datetime import date

from notifications.domain.booking_templates import BOOKING_TEMPLATES, reason_text

TEMPLATES: dict[str, dict[str, str]] = {
    "fund_allocated": {
        "it": "Nuovo fondo di {amount} assegnato al comune {municipality} ({source}).",
        "en": "New fund of {amount} allocated to municipality {municipality} ({source}).",
    },
    "fund_topped_up": {
        "it": "Il fondo {fund} è stato integrato di {amount} ({source}).",
        "en": "Fund {fund} was topped up by {amount} ({source}).",
    },
    # --- a household's vouchers (recipient household:<id>) ---------------------------------
    "vouchers_issued": {
        "it": "I tuoi buoni spesa sono pronti: {voucher_count} buoni per un totale di {amount}, "
        "da spendere nei negozi aderenti entro il {expires_on} alle {expires_time}.",
        "en": "Your food vouchers are ready: {voucher_count} vouchers worth {amount} in total, "
        "to spend at the participating shops by {expires_on} at {expires_time}.",
    },
    "vouchers_issued_from_waitlist": {
        "it": "Si sono liberati dei fondi e la tua domanda in lista d'attesa è stata accolta: "
        "{voucher_count} buoni spesa per un totale di {amount}, da spendere nei negozi "
        "aderenti entro il {expires_on} alle {expires_time}.",
        "en": "Money came back to the round and your waitlisted application has been served: "
        "{voucher_count} food vouchers worth {amount} in total, to spend at the participating "
        "shops by {expires_on} at {expires_time}.",
    },
    "vouchers_issued_briefly": {  # served before the figures were published
        "it": "Ti sono stati assegnati {voucher_count} buoni spesa: importi e scadenza sono "
        "nella sezione dei tuoi buoni.",
        "en": "You have been given {voucher_count} food vouchers: their amounts and expiry are "
        "in the section of your vouchers.",
    },
    "application_rejected": {
        "it": "La tua domanda di buoni spesa non è stata accolta (motivo: {reason_code}). Per "
        "conoscere le ragioni o chiedere un riesame, rivolgiti ai servizi sociali del comune.",
        "en": "Your application for food vouchers was not accepted (reason: {reason_code}). To "
        "know why or to ask for a review, contact your municipality's social services.",
    },
    # --- a shop's reimbursements (recipient merchant:<id>) --------------------------------
    "claim_approved": {
        "it": "La tua richiesta di rimborso di {amount} per i buoni spesa è stata approvata: "
        "il pagamento è previsto entro il {payment_due_on}.",
        "en": "Your reimbursement claim of {amount} for food vouchers was approved: payment is "
        "due by {payment_due_on}.",
    },
    "claim_paid": {
        "it": "Il rimborso di {amount} per i buoni spesa è stato pagato (riferimento del "
        "pagamento: {payment_reference}).",
        "en": "Your reimbursement of {amount} for food vouchers was paid (payment reference: "
        "{payment_reference}).",
    },
    "credit_expiring": {
        "it": "Il tuo credito welfare di {amount} scade il {expires_on} (entro "
        "{threshold_days} giorni): usalo entro quella data, altrimenti torna al datore di lavoro.",
        "en": "Your welfare credit of {amount} expires on {expires_on} (within "
        "{threshold_days} days): use it by then, or it goes back to your employer.",
    },
    **BOOKING_TEMPLATES,
}

ENGLISH_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def format_date(iso: str, language: str) -> str:
    day = date.fromisoformat(iso)
    if language == "it":
        return f"{day.day:02d}/{day.month:02d}/{day.year}"
    return f"{day.day} {ENGLISH_MONTHS[day.month - 1]} {day.year}"


def format_euros(cents: int, language: str) -> str:
    euros, rest = divmod(abs(cents), 100)
    sign = "-" if cents < 0 else ""
    if language == "it":
        grouped = f"{euros:,}".replace(",", ".")
        return f"{sign}{grouped},{rest:02d} €"
    return f"{sign}€{euros:,}.{rest:02d}"


def render(template: str, params: dict[str, str], language: str) -> str:
    texts = TEMPLATES[template]
    text = texts.get(language) or texts["it"]
    values = dict(params)
    if "amount_cents" in values:
        values["amount"] = format_euros(int(values["amount_cents"]), language)
    if template == "booking_compensated":
        values["reason"] = reason_text(values.get("reason_code", ""), language)
    for name in ("expires_on", "payment_due_on", "due_on", "starts_on"):
        if name in values:
            values[name] = format_date(values[name], language)
    return text.format(**values)
