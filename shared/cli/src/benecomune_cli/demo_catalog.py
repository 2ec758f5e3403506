"""The Biella demo catalogue, loaded through the catalog service's public HTTP API as the
territory's operator and each provider would do it, with their own development tokens.

What it holds: six social cooperatives (type A, which run care and education services, and type
B, which employ disadvantaged workers), an association and a company, each with its VAT number
or fiscal code, the municipalities it serves and its certifications; their offerings, in Italian
and English, paid from the wallet's welfare categories, with slots for the coming four weeks; the
"dimissioni protette" package across three providers; and the three shops of the vouchers demo
as merchants. One cooperative has only applied, so the operator has an application to review
(``GET /providers?status=applied``); another was suspended and reinstated; the home-care price
changed once, so it has a history. Every provider gives its seat, switchboard, website and a
contact person (personal data the API shows only to the operator and the provider itself); the
meals cooperative later names a new contact person, so its history shows a contacts update and
the previous person's data is erased.

Phone numbers are of the form 015 000 0xxx: Biella's area code with a subscriber number that
starts with 0, which Italian numbering never assigns, so the demo never rings anyone real.

Slots are relative to the moment of loading (they start tomorrow; the summer camp's weeks are
next summer's), so the demo always has a future. A refused call stops the load with the API's
answer (:class:`CatalogDemoError`); the load is not idempotent (a second run collides on the
provider ids), which the caller's once-only marker takes care of.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from servicekit.auth import DevIssuer
from servicekit.italian_ids import vat_number_check_digit

# The voucher shops are the same in both demos: a merchant is one party across services.
from benecomune_cli.demo_territory import BIELLA, SHOPS, Shop

# Slots are laid out in the territory's local time (a care visit is "at 8 in the morning" all
# year round, across daylight-saving changes) and sent to the API as UTC.
LOCAL_TIME = ZoneInfo("Europe/Rome")
WEEKS_OF_SLOTS = 4

# Municipalities of the territory (ISTAT codes, as in territories/biella.toml).
ANDORNO_MICCA = "096002"
CANDELO = "096012"
CAVAGLIA = "096016"
COSSATO = "096020"
GAGLIANICO = "096026"
LESSONA = "096085"
MONGRANDO = "096035"
OCCHIEPPO_INFERIORE = "096040"
PONDERANO = "096047"
SANDIGLIANO = "096059"
VALDILANA = "096088"
VIGLIANO_BIELLESE = "096077"
WHOLE_TERRITORY = (
    BIELLA,
    ANDORNO_MICCA,
    CANDELO,
    CAVAGLIA,
    COSSATO,
    GAGLIANICO,
    LESSONA,
    MONGRANDO,
    OCCHIEPPO_INFERIORE,
    PONDERANO,
    SANDIGLIANO,
    VALDILANA,
    VIGLIANO_BIELLESE,
)

MON, TUE, WED, THU, FRI, SAT = range(6)
MON_TO_FRI = (MON, TUE, WED, THU, FRI)
MON_TO_SAT = (*MON_TO_FRI, SAT)

# National holidays on a fixed date (month, day): no weekly appointments on these days. Easter
# Monday moves every year and is left out: a demo can live with one slot too many.
FIXED_HOLIDAYS = (
    (1, 1),
    (1, 6),
    (4, 25),
    (5, 1),
    (6, 2),
    (8, 15),
    (11, 1),
    (12, 8),
    (12, 25),
    (12, 26),
)


def tax_number(body: str) -> str:
    """A partita IVA (or an entity's 11-digit fiscal code, which has the same check digit) from
    its first 10 digits: 7 of progressive number and 096, the tax office of Biella."""
    return body + vat_number_check_digit(body)


# --- what the demo holds -------------------------------------------------------------------------


@dataclass(frozen=True)
class Weekly:
    """A weekly availability (the API's weekly-slots call): these local start times on these
    weekdays, for the coming weeks, fixed national holidays excepted."""

    weekdays: tuple[int, ...]
    starts: tuple[time, ...]
    minutes: int
    capacity: int


@dataclass(frozen=True)
class Periods:
    """Explicit slots (the API's one-slot call) for what is not a weekly appointment, such as a
    week of summer camp or 30 days of tele-assistance: ``count`` periods one every
    ``every_days`` days, each from ``start`` local time for ``length``. The first is at least
    ``first_in_days`` days from today, not before the next ``season`` (month, day) if given,
    and on ``weekday`` if given."""

    count: int
    every_days: int
    start: time
    length: timedelta
    capacity: int
    first_in_days: int = 1
    season: tuple[int, int] | None = None
    weekday: int | None = None


@dataclass(frozen=True)
class Offer:
    key: str  # how the rest of the demo (the package, the price change) names it
    title_it: str
    title_en: str
    description_it: str
    description_en: str
    category: str  # one of the wallet's credit categories (TUIR art. 51)
    delivery_mode: str
    price_cents: int
    unit: str
    slots: Weekly | Periods

    def draft_body(self) -> dict[str, Any]:
        return {
            "title_it": self.title_it,
            "title_en": self.title_en,
            "description_it": self.description_it,
            "description_en": self.description_en,
            "category": self.category,
            "delivery_mode": self.delivery_mode,
            "price_cents": self.price_cents,
            "unit": self.unit,
        }


@dataclass(frozen=True)
class Seat:
    """Where a provider has its seat (sede) and its switchboard."""

    street: str
    municipality: str  # ISTAT code
    postcode: str  # CAP
    phone: str

    def address(self) -> dict[str, str]:
        return {
            "street": self.street,
            "municipality_istat": self.municipality,
            "postcode": self.postcode,
        }


@dataclass(frozen=True)
class Contact:
    """A provider's contact person (personal data: fictional people)."""

    name: str
    role: str
    phone: str

    def body(self) -> dict[str, str]:
        return {"name": self.name, "role": self.role, "phone": self.phone}


@dataclass(frozen=True)
class DemoProvider:
    provider_id: str
    legal_name: str
    kind: str
    municipalities: tuple[str, ...]
    contact_email: str  # under the reserved .example domain: the demo never mails anyone real
    offers: tuple[Offer, ...]
    seat: Seat
    contact: Contact
    vat_number: str | None = None
    fiscal_code: str | None = None
    certifications: tuple[str, ...] = ()
    # Recorded by the provider itself after accreditation, as a certificate obtained later.
    later_certification: str | None = None
    # False: the provider has only applied; its offerings stay drafts until the operator
    # accredits it (the API refuses to publish them before).
    accredited: bool = True

    @property
    def website(self) -> str:
        return f"https://www.{self.contact_email.partition('@')[2]}"

    def application_body(self) -> dict[str, Any]:
        return {
            "provider_id": self.provider_id,
            "legal_name": self.legal_name,
            "kind": self.kind,
            "vat_number": self.vat_number,
            "fiscal_code": self.fiscal_code,
            "municipalities": list(self.municipalities),
            "certifications": list(self.certifications),
            "contact_email": self.contact_email,
            "phone": self.seat.phone,
            "website": self.website,
            "address": self.seat.address(),
            "contact_person": self.contact.body(),
        }


HOME_CARE = Offer(
    "home-care",
    "Assistenza domiciliare per anziani",
    "Home care for older people",
    "Operatori socio-sanitari (OSS) qualificati a casa della persona anziana: igiene personale, "
    "aiuto ad alzarsi e a coricarsi, preparazione dei pasti, compagnia e piccole commissioni. "
    "Un coordinatore concorda il piano di assistenza con la famiglia e lo rivede ogni tre mesi.",
    "Qualified care workers (OSS) at the older person's home: personal hygiene, help getting up "
    "and going to bed, meal preparation, company and small errands. A coordinator agrees the "
    "care plan with the family and reviews it every three months.",
    "elderly_care",
    "at_home",
    2_350,
    "hour",
    Weekly(MON_TO_FRI, (time(8), time(10), time(15), time(17)), 120, capacity=4),
)
NURSE_AT_HOME = Offer(
    "nurse",
    "Infermiere a domicilio",
    "Nurse visits at home",
    "Prestazioni infermieristiche a casa: medicazioni, gestione di cateteri e stomie, prelievi, "
    "terapie iniettive e controllo dei parametri vitali. Indicato dopo un ricovero, in accordo "
    "con il medico di famiglia.",
    "Nursing care at home: wound dressing, catheter and stoma care, blood samples, injections "
    "and monitoring of vital signs. Suited to the weeks after a hospital stay, in agreement with "
    "the family doctor.",
    "services_no_cap",
    "at_home",
    3_500,
    "session",
    Weekly(MON_TO_SAT, (time(8, 30), time(11), time(15)), 45, capacity=2),
)
AFTER_SCHOOL = Offer(
    "after-school",
    "Doposcuola per la scuola primaria e secondaria di primo grado",
    "After-school club for primary and middle school",
    "Dal lunedì al venerdì, dalle 14:30 alle 17:00: aiuto nei compiti in piccoli gruppi con "
    "educatori professionali, merenda, laboratori di lettura e gioco. Percorsi personalizzati "
    "per bambini e ragazzi con DSA.",
    "Monday to Friday, 2:30 to 5 pm: homework help in small groups with professional educators, "
    "an afternoon snack, reading and play workshops. Tailored support for children with "
    "specific learning disorders.",
    "education_childcare",
    "at_provider",
    16_000,
    "month",
    Weekly(MON_TO_FRI, (time(14, 30),), 150, capacity=15),
)
SUMMER_CAMP = Offer(
    "summer-camp",
    "Centro estivo in cascina",
    "Summer day camp on the farm",
    "Una settimana all'aria aperta per bambini dai 6 agli 11 anni: escursioni, orto, giochi "
    "d'acqua, laboratori creativi e inglese giocando. Dalle 8:30 alle 16:30, pranzo incluso.",
    "A week outdoors for children aged 6 to 11: walks, the vegetable garden, water games, craft "
    "workshops and English through play. From 8:30 am to 4:30 pm, lunch included.",
    "education_childcare",
    "at_provider",
    11_000,
    "package",
    # Monday 8:30 to Friday 16:30, the six weeks from mid-June, when schools close: next
    # summer's, which families book months ahead.
    Periods(
        6,
        7,
        time(8, 30),
        timedelta(days=4, hours=8),
        capacity=25,
        season=(6, 15),
        weekday=MON,
    ),
)
MEALS_AT_HOME = Offer(
    "meals",
    "Pasti a domicilio",
    "Meals delivered at home",
    "Il pranzo consegnato a casa dal lunedì al sabato: primo, secondo, contorno, pane e frutta, "
    "cucinati nella nostra cucina di Biella. Su richiesta diete per diabetici, iposodiche e a "
    "consistenza modificata. Le consegne sono fatte da persone in percorso di inserimento "
    "lavorativo.",
    "Lunch delivered to your home from Monday to Saturday: first course, main course, side "
    "dish, bread and fruit, cooked in our kitchen in Biella. Diabetic, low-salt and "
    "texture-modified diets on request. Deliveries are made by people on a work-integration "
    "path.",
    "elderly_care",
    "at_home",
    850,
    "session",
    Weekly(MON_TO_SAT, (time(11, 30),), 90, capacity=40),
)
PHYSIO_AT_HOME = Offer(
    "physio-home",
    "Fisioterapia a domicilio",
    "Physiotherapy at home",
    "Fisioterapisti iscritti all'albo a casa tua: riabilitazione dopo fratture, protesi d'anca "
    "e di ginocchio o ictus, rieducazione al cammino e prevenzione delle cadute. Su "
    "prescrizione o consiglio del medico.",
    "Registered physiotherapists at your home: rehabilitation after fractures, hip and knee "
    "replacement or stroke, walking re-education and fall prevention. On a doctor's "
    "prescription or advice.",
    "services_no_cap",
    "at_home",
    4_500,
    "session",
    Weekly(MON_TO_FRI, (time(9), time(11), time(14, 30), time(16, 30)), 60, capacity=2),
)
PHYSIO_CLINIC = Offer(
    "physio-clinic",
    "Fisioterapia e ginnastica posturale in studio",
    "Physiotherapy and postural exercise at our clinic",
    "Sedute individuali nel nostro studio di Biella: terapia manuale, esercizio terapeutico, "
    "mal di schiena e cervicalgia. Studio senza barriere architettoniche, parcheggio riservato.",
    "One-to-one sessions at our clinic in Biella: manual therapy, therapeutic exercise, back "
    "and neck pain. Step-free access and reserved parking.",
    "services_no_cap",
    "at_provider",
    3_800,
    "session",
    Weekly(
        MON_TO_FRI,
        (time(8, 30), time(9, 30), time(10, 30), time(14), time(15), time(16)),
        45,
        capacity=1,
    ),
)
SOCIAL_TRANSPORT = Offer(
    "transport",
    "Accompagnamento e trasporto sociale",
    "Social transport and accompaniment",
    "Accompagniamo anziani e persone con disabilità a visite mediche, terapie e commissioni con "
    "mezzi attrezzati per le carrozzine. L'autista attende e riaccompagna a casa.",
    "We take older and disabled people to medical appointments, therapy and errands in "
    "wheelchair-accessible vehicles. The driver waits and brings you back home.",
    "transport",
    "at_home",
    1_800,
    "session",
    Weekly(MON_TO_FRI, (time(8, 30), time(14)), 180, capacity=2),
)
LAUNDRY = Offer(
    "laundry",
    "Lavanderia e stireria con ritiro a domicilio",
    "Laundry and ironing with home pick-up",
    "Ritiriamo a casa un sacco di biancheria fino a 5 kg e lo riconsegniamo lavato e stirato "
    "entro tre giorni. Il servizio dà lavoro a persone in percorso di inserimento.",
    "We collect a bag of laundry of up to 5 kg from your home and bring it back washed and "
    "ironed within three days. The service employs people on a work-integration path.",
    "fringe_purchase",
    "at_home",
    1_200,
    "package",
    Weekly((TUE, FRI), (time(9),), 240, capacity=10),
)
GENTLE_EXERCISE = Offer(
    "gentle-exercise",
    "Ginnastica dolce over 65",
    "Gentle exercise for over-65s",
    "Un'ora di movimento in gruppo con un laureato in scienze motorie: equilibrio, mobilità "
    "articolare e respirazione, per restare in forma e stare in compagnia.",
    "An hour of group exercise led by a sports science graduate: balance, joint mobility and "
    "breathing, to keep fit and meet people.",
    "services_no_cap",
    "at_provider",
    500,
    "session",
    Weekly((TUE, THU), (time(10),), 60, capacity=20),
)
SMARTPHONE_COURSE = Offer(
    "smartphone-course",
    "Corso di smartphone per over 65",
    "Smartphone course for over-65s",
    "Sei incontri con volontari pazienti: videochiamate con i nipoti, fascicolo sanitario "
    "elettronico, SPID e prenotazioni online, difendersi dalle truffe.",
    "Six meetings with patient volunteers: video calls with the grandchildren, the electronic "
    "health record, SPID digital identity and online bookings, staying safe from scams.",
    "services_no_cap",
    "at_provider",
    4_000,
    "package",
    # Two groups, so that a holiday never leaves a week without a meeting.
    Weekly((MON, THU), (time(15),), 90, capacity=12),
)
TELE_ASSISTANCE = Offer(
    "tele-assistance",
    "Teleassistenza 24 ore su 24",
    "24-hour tele-assistance",
    "Un pulsante da portare al polso o al collo, collegato alla nostra centrale operativa di "
    "Biella attiva 24 ore su 24, 365 giorni l'anno: dopo una caduta o un malore l'operatore "
    "risponde e chiama i familiari o il 112. Installazione del dispositivo e telefonata di "
    "controllo settimanale incluse.",
    "A button worn on the wrist or around the neck, connected to our control room in Biella, "
    "staffed 24 hours a day, 365 days a year: after a fall or an illness the operator answers "
    "and calls your family or 112. Device installation and a weekly check-in call included.",
    "elderly_care",
    "remote",
    2_900,
    "month",
    # A 30-day service period may start any day (a discharge is not planned weeks ahead).
    Periods(28, 1, time(9), timedelta(days=30), capacity=10),
)
MUSIC_THERAPY = Offer(
    "music-therapy",
    "Musicoterapia per persone con disabilità",
    "Music therapy for people with disabilities",
    "Sedute individuali o in piccolo gruppo con un musicoterapeuta diplomato, per comunicare ed "
    "esprimersi con la voce, il ritmo e gli strumenti.",
    "One-to-one or small-group sessions with a qualified music therapist, to communicate and "
    "express oneself through voice, rhythm and instruments.",
    "services_no_cap",
    "at_provider",
    4_000,
    "session",
    Weekly((MON, THU), (time(16),), 60, capacity=4),
)

ISO_9001 = "UNI EN ISO 9001:2015"

PROVIDERS = (
    DemoProvider(
        "coop-il-filo",
        "Il Filo Società Cooperativa Sociale ONLUS",
        "coop_a",
        (BIELLA, CANDELO, GAGLIANICO, OCCHIEPPO_INFERIORE, PONDERANO, SANDIGLIANO),
        "segreteria@coopilfilo.example",
        (HOME_CARE, NURSE_AT_HOME),
        Seat("Via Lamarmora 18", BIELLA, "13900", "015 000 0101"),
        Contact("Chiara Bellardone", "coordinatrice dei servizi domiciliari", "015 000 0201"),
        vat_number=tax_number("0187452096"),
        certifications=(ISO_9001, "UNI/PdR 58:2019"),
        later_certification="UNI/PdR 125:2022",
    ),
    DemoProvider(
        "coop-la-bessa",
        "La Bessa Cooperativa Sociale",
        "coop_a",
        (BIELLA, CANDELO, COSSATO, LESSONA, VIGLIANO_BIELLESE),
        "info@labessa.example",
        (AFTER_SCHOOL, SUMMER_CAMP),
        Seat("Via Cernaia 7", CANDELO, "13878", "015 000 0102"),
        Contact("Davide Ramella", "responsabile area educativa", "015 000 0202"),
        vat_number=tax_number("0220937096"),
        certifications=(ISO_9001, "UNI 11034:2003"),
    ),
    DemoProvider(
        "coop-mucrone",
        "Mucrone Servizi Società Cooperativa Sociale",
        "coop_b",
        (
            BIELLA,
            ANDORNO_MICCA,
            CANDELO,
            COSSATO,
            GAGLIANICO,
            OCCHIEPPO_INFERIORE,
            PONDERANO,
            VIGLIANO_BIELLESE,
        ),
        "cucina@mucroneservizi.example",
        (MEALS_AT_HOME,),
        Seat("Via Milano 45", GAGLIANICO, "13894", "015 000 0103"),
        Contact("Elena Boggio", "responsabile della cucina", "015 000 0203"),
        vat_number=tax_number("0176318096"),
        certifications=(ISO_9001, "UNI EN ISO 22000:2018"),
    ),
    DemoProvider(
        "coop-elvo",
        "Elvo Cooperativa Sociale",
        "coop_a",
        (BIELLA, CAVAGLIA, MONGRANDO, OCCHIEPPO_INFERIORE, PONDERANO, SANDIGLIANO),
        "fisioterapia@coopelvo.example",
        (PHYSIO_AT_HOME, PHYSIO_CLINIC),
        Seat("Via Trento 3", OCCHIEPPO_INFERIORE, "13897", "015 000 0104"),
        Contact("Marco Vercellone", "fisioterapista coordinatore", "015 000 0204"),
        vat_number=tax_number("0241695096"),
        certifications=(ISO_9001,),
    ),
    DemoProvider(
        "coop-valle-cervo",
        "Valle Cervo Società Cooperativa Sociale",
        "coop_b",
        (BIELLA, ANDORNO_MICCA, COSSATO, LESSONA, VALDILANA),
        "trasporti@vallecervo.example",
        (SOCIAL_TRANSPORT, LAUNDRY),
        Seat("Via Mazzini 20", ANDORNO_MICCA, "13811", "015 000 0105"),
        Contact("Paola Gianotti", "responsabile dei trasporti", "015 000 0205"),
        vat_number=tax_number("0209174096"),
        certifications=("SA8000:2014",),
    ),
    DemoProvider(
        "coop-trama",
        "Trama Cooperativa Sociale",
        "coop_a",
        (VALDILANA, COSSATO, LESSONA),
        "ciao@cooptrama.example",
        (MUSIC_THERAPY,),
        Seat("Via Roma 5", VALDILANA, "13835", "015 000 0106"),
        Contact("Stefano Cerruti", "presidente", "015 000 0206"),
        vat_number=tax_number("0268530096"),
        accredited=False,
    ),
    DemoProvider(
        "argento-vivo-aps",
        "Associazione Argento Vivo Biella APS",
        "association",
        (BIELLA, CANDELO, GAGLIANICO, VIGLIANO_BIELLESE),
        "argentovivo@biella-aps.example",
        (GENTLE_EXERCISE, SMARTPHONE_COURSE),
        Seat("Via Garibaldi 2", VIGLIANO_BIELLESE, "13856", "015 000 0107"),
        Contact("Anna Maffeo", "presidente", "015 000 0207"),
        # A volunteer association without commercial activity has a fiscal code, no VAT number.
        fiscal_code=tax_number("9006482096"),
    ),
    DemoProvider(
        "telecura-biellese",
        "Telecura Biellese S.r.l.",
        "company",
        WHOLE_TERRITORY,
        "centrale@telecura.example",
        (TELE_ASSISTANCE,),
        Seat("Via Martiri della Libertà 60", COSSATO, "13836", "015 000 0108"),
        Contact("Roberto Fila", "responsabile della centrale operativa", "015 000 0208"),
        vat_number=tax_number("0259046096"),
        certifications=(ISO_9001, "UNI CEI EN ISO/IEC 27001:2017"),
    ),
)

# The wage rise of the social cooperatives' national agreement (CCNL), passed on to the hourly
# price of home care: the offering then shows two prices in its history.
PRICE_CHANGE = ("home-care", 2_450, "hour")

# The meals cooperative's kitchen manager retired: it names her successor as its contact person
# (her own data is erased) and a direct line for the kitchen.
CONTACT_CHANGE = (
    "coop-mucrone",
    {
        "phone": "015 000 0113",
        "contact_person": Contact(
            "Giorgio Botta", "responsabile della cucina", "015 000 0213"
        ).body(),
    },
)

# The transport cooperative's vehicle insurance certificate lapsed; the operator suspended it
# until the renewal arrived, then reinstated it.
SUSPENSION = (
    "coop-valle-cervo",
    "insurance_expired",
    "Certificato assicurativo RC auto dei mezzi attrezzati scaduto; rinnovo in corso.",
)


@dataclass(frozen=True)
class PackagePart:
    offer: str  # an Offer's key
    order: int  # the booking saga books the parts in this order
    offset_days: int  # days after the package starts (the day of discharge)
    duration_days: int
    required: bool  # a required part that cannot be booked cancels the whole package


# Protected hospital discharge: ten nurse visits, lunch at home and tele-assistance, for one
# price below the parts' sum (10 x 35.00 + 29 x 8.50 + 29.00 = 625.50 EUR).
PROTECTED_DISCHARGE = {
    "title_it": "Dimissioni protette: 30 giorni a casa dopo il ricovero",
    "title_en": "Protected hospital discharge: 30 days at home after a hospital stay",
    "description_it": (
        "Per tornare a casa dall'ospedale in sicurezza: dieci visite dell'infermiere nelle prime "
        "due settimane, il pranzo a domicilio dal giorno dopo il rientro e la teleassistenza 24 "
        "ore su 24 per 30 giorni. Tre cooperative e imprese del territorio coordinate in un "
        "unico acquisto."
    ),
    "description_en": (
        "To come home from hospital safely: ten nurse visits in the first two weeks, lunch "
        "delivered from the day after the return and 24-hour tele-assistance for 30 days. "
        "Three providers of the territory coordinated in a single purchase."
    ),
    "price_cents": 59_000,
}
PROTECTED_DISCHARGE_PARTS = (
    # The nurse is the scarcest, so the saga asks for it first.
    PackagePart("nurse", 1, offset_days=0, duration_days=14, required=True),
    PackagePart("tele-assistance", 2, offset_days=0, duration_days=30, required=True),
    # If the kitchen is full the family can cook: the package goes ahead without the meals.
    PackagePart("meals", 3, offset_days=1, duration_days=29, required=False),
)

# The voucher shops are all in Biella's neighbourhoods (Piazzo, Riva, Chiavazza).
SHOP_MUNICIPALITIES = (BIELLA,)


# --- loading -------------------------------------------------------------------------------------


class CatalogDemoError(RuntimeError):
    """The catalog API refused a call of the demo; the message carries its answer."""


def holidays_between(first: date, last: date) -> list[date]:
    """The fixed-date national holidays from ``first`` to ``last`` included."""
    found: list[date] = []
    for year in range(first.year, last.year + 1):
        found.extend(date(year, month, day) for month, day in FIXED_HOLIDAYS)
    return [d for d in found if first <= d <= last]


def weekly_body(plan: Weekly, today: date) -> dict[str, Any]:
    first = today + timedelta(days=1)  # from tomorrow: nothing in the past, even at 23:59
    last = today + timedelta(weeks=WEEKS_OF_SLOTS)
    return {
        "from_date": first.isoformat(),
        "to_date": last.isoformat(),
        "weekly": [
            {"weekday": day, "start": start.isoformat(), "duration_minutes": plan.minutes}
            for day in plan.weekdays
            for start in plan.starts
        ],
        "except_dates": [d.isoformat() for d in holidays_between(first, last)],
        "capacity": plan.capacity,
    }


def period_bodies(plan: Periods, today: date) -> list[dict[str, Any]]:
    first = today + timedelta(days=plan.first_in_days)
    if plan.season is not None:
        season = date(first.year, *plan.season)
        first = season if season >= first else date(first.year + 1, *plan.season)
    if plan.weekday is not None:
        first += timedelta(days=(plan.weekday - first.weekday()) % 7)
    bodies: list[dict[str, Any]] = []
    for number in range(plan.count):
        day = first + timedelta(days=number * plan.every_days)
        # Wall-clock arithmetic in local time, then UTC: a period ends at its local hour.
        starts = datetime.combine(day, plan.start, tzinfo=LOCAL_TIME)
        ends = starts + plan.length
        bodies.append(
            {
                "starts_at": starts.astimezone(UTC).isoformat(),
                "ends_at": ends.astimezone(UTC).isoformat(),
                "capacity": plan.capacity,
            }
        )
    return bodies


class CatalogDemo:
    """Drives the catalog API as each role would, with that role's development token."""

    def __init__(self, client: httpx.Client, issuer: DevIssuer) -> None:
        self.client = client
        self.issuer = issuer
        self.today = datetime.now(LOCAL_TIME).date()
        self._tokens: dict[tuple[str, str | None], str] = {}
        self.offering_ids: dict[str, str] = {}  # Offer key -> offering id

    def call(
        self,
        method: str,
        path: str,
        role: str,
        subject_id: str | None = None,
        body: dict[str, Any] | None = None,
    ) -> Any:
        key = (role, subject_id)
        if key not in self._tokens:
            self._tokens[key] = self.issuer.mint(role, subject_id)
        headers = {
            "Authorization": f"Bearer {self._tokens[key]}",
            "X-Correlation-ID": "demo-catalog",
        }
        response = self.client.request(method, path, headers=headers, json=body)
        if response.is_error:
            who = f"{role}:{subject_id}" if subject_id else role
            raise CatalogDemoError(
                f"catalog demo: {method} {path} as {who} -> {response.status_code} {response.text}"
            )
        return response.json()

    def operator(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.call("POST", path, "operator", body=body)

    def provider(self, provider_id: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.call("POST", path, "provider", provider_id, body=body)

    def load(self) -> list[str]:
        created = [self.onboard(p) for p in PROVIDERS]
        self.change_price(*PRICE_CHANGE)
        self.change_contacts(*CONTACT_CHANGE)
        self.suspend_and_reinstate(*SUSPENSION)
        self.compose_package(PROTECTED_DISCHARGE, PROTECTED_DISCHARGE_PARTS)
        created += [self.affiliate_shop(shop) for shop in SHOPS]
        return created

    def onboard(self, spec: DemoProvider) -> str:
        """The provider applies and, when accredited by the operator, publishes its offerings
        and opens their slots; a provider still applying can only draft them."""
        pid = spec.provider_id
        provider_id: str = self.provider(pid, "/providers", spec.application_body())["id"]
        if spec.accredited:
            self.operator(f"/providers/{pid}/accreditation")
        if spec.later_certification:
            body = {"certification": spec.later_certification}
            self.provider(pid, f"/providers/{pid}/certifications", body)
        for offer in spec.offers:
            offering_id = self.provider(pid, f"/providers/{pid}/offerings", offer.draft_body())[
                "offering_id"
            ]
            self.offering_ids[offer.key] = offering_id
            if spec.accredited:
                self.provider(pid, f"/offerings/{offering_id}/publication")
                self.open_slots(pid, offering_id, offer.slots)
        return provider_id

    def open_slots(self, provider_id: str, offering_id: str, plan: Weekly | Periods) -> None:
        if isinstance(plan, Weekly):
            body = weekly_body(plan, self.today)
            self.provider(provider_id, f"/offerings/{offering_id}/weekly-slots", body)
            return
        for body in period_bodies(plan, self.today):
            self.provider(provider_id, f"/offerings/{offering_id}/slots", body)

    def provider_of(self, offer_key: str) -> str:
        return next(p.provider_id for p in PROVIDERS for o in p.offers if o.key == offer_key)

    def change_price(self, offer_key: str, price_cents: int, unit: str) -> None:
        body = {"price_cents": price_cents, "unit": unit}  # effective now
        path = f"/offerings/{self.offering_ids[offer_key]}/price"
        self.provider(self.provider_of(offer_key), path, body)

    def change_contacts(self, provider_id: str, changes: dict[str, Any]) -> None:
        self.call("PATCH", f"/providers/{provider_id}/contacts", "provider", provider_id, changes)

    def suspend_and_reinstate(self, provider_id: str, reason_code: str, reason: str) -> None:
        body = {"reason_code": reason_code, "reason": reason}
        self.operator(f"/providers/{provider_id}/suspension", body)
        self.operator(f"/providers/{provider_id}/reinstatement")

    def compose_package(self, package: dict[str, Any], parts: tuple[PackagePart, ...]) -> str:
        body = {
            **package,
            "parts": [
                {
                    "offering_id": self.offering_ids[part.offer],
                    "order": part.order,
                    "offset_days": part.offset_days,
                    "duration_days": part.duration_days,
                    "required": part.required,
                }
                for part in parts
            ],
        }
        package_id: str = self.operator("/packages", body)["id"]
        return package_id

    def affiliate_shop(self, shop: Shop) -> str:
        """The operator onboards the shop (small shops do not apply online), accredits it and
        affiliates it to the voucher programme with the goods it may sell for vouchers."""
        application = {
            "provider_id": shop.merchant_id,
            "legal_name": shop.name,
            "kind": "shop",
            "vat_number": shop.vat_number,
            "municipalities": list(SHOP_MUNICIPALITIES),
        }
        merchant_id: str = self.operator("/providers", application)["id"]
        self.operator(f"/providers/{merchant_id}/accreditation")
        categories = {"goods_categories": shop.goods_categories}
        self.operator(f"/providers/{merchant_id}/merchant-affiliation", categories)
        return merchant_id


def load(client: httpx.Client, issuer: DevIssuer) -> list[str]:
    """Load the Biella demo catalogue through the catalog API at ``client``'s base URL; returns
    the ids of the providers created (the voucher shops included, last)."""
    return CatalogDemo(client, issuer).load()
