"""Keyword families: the kinds of news a competitor's page can carry, as data.

Each family names a kind of change (an acquisition, a funding round, a launch...), the grade
and category it earns on its own, and word-boundary regexes in the languages competitors
publish in (English, German, French). The rules classifier counts a family only when it
appears in text the change *added*, so a page that always said "partner" does not keep
scoring. Families never name a company, a product or a page: they describe kinds of news.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from monitor.records import Category, Severity


@dataclass(frozen=True, slots=True)
class Family:
    """One kind of news: its grade, its category, and the patterns that reveal it."""

    name: str
    severity: Severity
    category: Category
    patterns: tuple[str, ...]
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        joined = "|".join(f"(?:{p})" for p in self.patterns)
        # \b on both sides: "partner" must not match inside "partnered-with-no-one" tokens
        # of other words, and "GA" must not match inside "GAAP".
        object.__setattr__(self, "regex", re.compile(rf"(?<!\w)(?:{joined})(?!\w)", re.IGNORECASE))

    def find(self, text: str) -> list[str]:
        """Every verbatim match in ``text``, in order."""
        return [m.group(0) for m in self.regex.finditer(text)]


_F = Family
S, C = Severity, Category

# Order matters only for ties: at equal severity the earlier family names the category.
FAMILIES: tuple[Family, ...] = (
    _F(
        "security-incident",
        S.CRITICAL,
        C.CORPORATE,
        (
            r"security incident",
            r"data breach",
            r"breach(?:ed)?",
            r"unauthori[sz]ed access",
            r"(?:were|was|been) (?:exposed|compromised|leaked)",
            r"suspicious activity",
            r"ransomware",
            r"Sicherheitsvorfall",
            r"Datenpanne",
            r"unbefugten? Zugriff",
            r"Sicherheitshinweis",
            r"incident de sécurité",
            r"violation de données",
            r"accès non autorisé",
            # es, it, nl, pt
            r"incidente de seguridad",
            r"acceso no autorizado",
            r"brecha de (?:datos|seguridad)",
            r"incidente di sicurezza",
            r"accesso non autorizzato",
            r"beveiligingsincident",
            r"datalek",
            r"ongeautoriseerde toegang",
            r"incidente de segurança",
            r"acesso não autorizado",
        ),
    ),
    _F(
        "acquisition",
        S.CRITICAL,
        C.CORPORATE,
        (
            r"acquires?",
            r"acquired",
            r"acquisition of",
            r"agreement to acquire",
            r"merg(?:er|es|ed|ing) with",
            r"übernimmt",
            r"Übernahme",
            r"hat \w+ übernommen",
            r"rach[eè]te",
            r"rachat de",
            r"acquiert",
            r"adquiere",
            r"adquisición de",
            r"acquisisce",
            r"acquisizione di",
            r"neemt \w+ over",
            r"overname van",
            r"adquire",
            r"aquisição d[aeo]",
        ),
    ),
    _F(
        "free-tier",
        S.CRITICAL,
        C.PRICING,
        (
            r"free (?:plan|tier)s? (?:ends|is ending|will end|goes away|is discontinued|is retired)",
            r"no longer offer (?:a|the|our)? ?free",
            r"instead of the free (?:plan|tier)",
            r"changes to (?:our|the) free (?:plan|tier)",
            r"new free (?:plan|tier)",
            r"introduc\w+ a free (?:plan|tier)",
            r"neue[nrs]? kostenlose[nrs]? (?:Tarif|Plan)",
            r"kein(?:en)? kostenlose[nrs]? (?:Tarif|Plan) mehr",
            r"nouveau plan gratuit",
            r"fin du plan gratuit",
            r"ne proposons plus (?:de|d'?) ?(?:plan|offre) gratuite?",
        ),
    ),
    _F(
        "funding",
        S.HIGH,
        C.CORPORATE,
        (
            r"series [a-f]",
            r"raise[sd]? (?:a |an )?(?:[$€£]\s?\d[\d.,]*\s?(?:m|bn?|million|billion))",
            r"[$€£]\s?\d[\d.,]*\s?(?:m|bn?|million|billion) (?:round|series|funding|investment)",
            r"funding round",
            r"(?:secures?|secured|closes?|closed|announces?) (?:a |an )?[$€£]\s?\d[\d.,]*\s?(?:m|bn?|million|billion)",
            r"[$€£]\s?\d[\d.,]*\s?(?:m|bn?|million|billion) in (?:new |growth )?(?:funding|financing|capital)",
            r"Finanzierungsrunde",
            r"levée de fonds",
            r"serie [a-f]",
            r"ronda de (?:financiación|inversión)",
            r"round di finanziamento",
            r"financieringsronde",
            r"rodada de investimento",
            r"lève \d",
        ),
    ),
    _F(
        "certification",
        S.HIGH,
        C.PRODUCT,
        (
            r"SOC ?2(?: Type (?:II|2))",
            r"ISO(?:/IEC)? ?27001(?::\d{4})?",
            r"ISO(?:/IEC)? ?27701",
            r"HIPAA",
            r"Business Associate Agreements?",
            r"BAAs?",
            r"FedRAMP",
            r"PCI[ -]DSS",
            r"C5[- ]Testat",
            r"TISAX",
            r"CSA STAR",
            r"Cyber Essentials(?: Plus)?",
            r"SecNumCloud",
        ),
    ),
    _F(
        "data-residency",
        S.HIGH,
        C.PRODUCT,
        (
            r"data residency",
            r"EU (?:data )?region",
            r"(?:EU|European) hosting region",
            r"hosted in (?:the )?EU",
            r"eu-(?:central|west|north|south)-\d",
            r"Datenresidenz",
            r"résidence des données",
        ),
    ),
    _F(
        "partnership",
        S.HIGH,
        C.PARTNERSHIPS,
        (
            r"partnership",
            r"partner(?:s|ed)? with",
            r"co-sell",
            r"strategic partner",
            r"(?:cloud|app) marketplace",
            r"available (?:on|in|through) the [\w\s]{0,30}marketplace",
            r"resold (?:to|by)",
            r"resell(?:s|er|ers)?",
            r"(?:is|are) now the built-in",
            r"built-in,? one-click",
            r"Partnerschaft",
            r"partenariat",
            r"alianza estratégica",
            r"asociación estratégica",
            r"partnerschap",
            r"parceria",
        ),
    ),
    _F(
        "launch",
        S.HIGH,
        C.PRODUCT,
        (
            r"introducing",
            # news, not the imperative of marketing copy ("Launch campaigns in minutes")
            r"launch(?:es|ed|ing)",
            r"launch of",
            r"launch (?:post|announcement|blog|event|day|week)",
            r"launch(?!\s+(?-i:[a-z]))",
            r"generally available",
            r"general availability",
            r"now (?:generally )?available",
            r"leaves beta",
            r"new module",
            r"neu(?:es|e|er)? Modul",
            r"jetzt verfügbar",
            r"Einführung",
            r"lancement",
            r"nouveau module",
            r"désormais disponible",
            r"lanzamiento",
            r"presentamos",
            r"ya disponible",
            r"presentiamo",
            r"ora disponibile",
            r"lancering",
            r"nu beschikbaar",
            r"lançamento",
            r"apresentamos",
            r"já disponível",
        ),
    ),
    _F(
        "major-integration",
        S.HIGH,
        C.PARTNERSHIPS,
        (
            r"bi-?directional",
            r"two-way sync",
            r"native(?:,)? (?:bi-?directional )?(?:integration|connector|sync)",
            r"native \w+ (?:integration|connector)",
            # an integration that writes into a CRM's records reaches the sales team
            r"sync\w*\b[^.]{0,60}\b(?:accounts|contacts|leads|deals|opportunities)",
        ),
    ),
    _F(
        "executive",
        S.MEDIUM,
        C.CORPORATE,
        (
            r"appoint(?:s|ed)",
            r"names? (?:\w+ ){1,3}as (?:chief|CEO|CTO|CFO|CRO|CMO|COO|president|head)",
            r"chief [a-z]+ officer",
            r"(?:joins|joined) as",
            r"welcomes? (?:\w+ ){1,3}as",
            r"promoted to (?:chief|CEO|CTO|CFO|CRO|CMO|COO|president)",
            r"ernennt",
            r"nomme",
            r"nombra",
            r"nomina",
            r"benoemt",
            r"nomeia",
        ),
    ),
    _F(
        "subprocessor",
        S.MEDIUM,
        C.LEGAL,
        (
            r"sub-?processors?",
            r"Unterauftragsverarbeiter",
            r"sous-traitants?",
            r"Standard Contractual Clauses",
            r"clauses contractuelles types",
            r"Data Privacy Framework",
        ),
    ),
    _F(
        "discount",
        S.MEDIUM,
        C.PRICING,
        (
            r"\d+\s?% (?:discount|off)",
            r"discount(?:s|ed)? (?:on|for)",
            r"non-?profits?",
            r"Rabatt",
            r"remise",
        ),
    ),
    _F(
        "customer-story",
        S.MEDIUM,
        C.CUSTOMERS,
        (
            r"customer stor(?:y|ies)",
            r"case stud(?:y|ies)",
            r"read the story",
            r"Kundenstimme",
            r"Erfolgsgeschichte",
            r"témoignage client",
        ),
    ),
    _F(
        "beta",
        S.MEDIUM,
        C.PRODUCT,
        (r"beta", r"early access", r"preview"),
    ),
    _F(
        "bug-fix",
        S.LOW,
        C.PRODUCT,
        (r"fixed", r"bug ?fix(?:es)?", r"resolved an issue", r"behoben", r"corrigé"),
    ),
    _F(
        "event",
        S.LOW,
        C.CONTENT,
        (
            r"booth",
            r"exhibit(?:s|ing)?",
            r"webinar",
            r"summit",
            r"conference",
            r"meet (?:us|our team)",
            r"Messe",
        ),
    ),
)

FAMILY_BY_NAME: dict[str, Family] = {f.name: f for f in FAMILIES}

# Cookie and consent notices are boilerplate that sites reword at will: a cookie word next
# to a word about the visitor's choice (not product copy such as "without cookies").
_COOKIE_WORD = re.compile(r"(?<!\w)(?:cookies?|tracking-cookies|cookie-hinweis)(?!\w)", re.IGNORECASE)
_CHOICE_WORD = re.compile(
    r"(?<!\w)(?:consent|accept\w*|choice|preferences|remember|notice|auswahl|hinweis|merken|speichern"
    r"|choix|mémoriser|retenir|message)(?!\w)",
    re.IGNORECASE,
)


def is_consent_notice(text: str) -> bool:
    return bool(_COOKIE_WORD.search(text)) and bool(_CHOICE_WORD.search(text))


# Widgets that re-rank the same posts by popularity: their order is not news.
ROTATING_WIDGET = re.compile(
    r"(?<!\w)(?:popular|most read|trending|related (?:posts|articles)|you may also like|beliebt\w*|populaires?)"
    r"(?!\w)",
    re.IGNORECASE,
)

# Add-ons and extras are priced, but are not a core plan's price.
ADD_ON = re.compile(r"(?<!\w)(?:add-?ons?|extra|extension|Zusatz\w*|option(?:nel|al)?)(?!\w)", re.IGNORECASE)

# Legal text whose only change is where to write to is a contact update, not a policy change;
# a postal address that moved is an office move (corporate).
CONTACT_EMAIL = re.compile(r"\S+@\S+\.\w+")
POSTAL_ADDRESS = re.compile(
    r"(?<!\w)(?:street|avenue|suite|floor|road|boulevard|straße|strasse|rue|platz)(?!\w)", re.IGNORECASE
)


def families_in(text: str) -> dict[str, list[str]]:
    """The families found in ``text``, each with its verbatim matches."""
    found: dict[str, list[str]] = {}
    for family in FAMILIES:
        hits = family.find(text)
        if hits:
            found[family.name] = hits
    return found
