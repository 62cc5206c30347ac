"""The age of digital consent by country: under it, a person may not consent alone to their personal data
being kept by an online service, so a commitment made younger is counted without any (no email, no name).

Sources, as of 2026:

- GDPR Art. 8(1): 16, unless a member state sets a lower age, never below 13. The national choices are those
  of the member states' implementing acts, as collected by Bird & Bird's "GDPR Tracker: Children"
  (https://www.twobirds.com/en/capabilities/practices/privacy-and-data-protection/general-data-protection-regulation/gdpr-tracker/children)
  and Milkaite and Lievens (Ghent University), "The age of consent in the GDPR: mapping", Better Internet for
  Kids (https://www.betterinternetforkids.eu/). Member states that set no age of their own keep Art. 8's 16
  (Croatia, Germany, Hungary, Luxembourg, the Netherlands, Poland, Romania, Slovakia; Ireland by s. 31 of
  its Data Protection Act 2018). The EEA states apply the GDPR too (Iceland, Liechtenstein, Norway).
- United Kingdom: 13, Data Protection Act 2018 s. 9 (UK GDPR Art. 8).
- United States: 13, the Children's Online Privacy Protection Act (COPPA), 15 U.S.C. 6501(1).
- Brazil: 12, LGPD Art. 14 s. 1 (a child is under 12 by the Statute of the Child, ECA Art. 2).
- China: 14, Personal Information Protection Law Art. 31.
- South Korea: 14, Personal Information Protection Act Art. 22-2.
- India: 18, Digital Personal Data Protection Act 2023 s. 2(f) and s. 9.
- South Africa: 18, Protection of Personal Information Act s. 1 ("child") and s. 35.

Every other country: ``DEFAULT_AGE``, 16, the GDPR's own rule. Where a country's law gives no age, erring
high only means that more young people are counted without their email or name, never that a child's data
is kept.
"""

from __future__ import annotations

from types import MappingProxyType

DEFAULT_AGE = 16

CONSENT_AGES = MappingProxyType({
    # European Union (GDPR Art. 8 and the member states' choices)
    "AT": 14, "BE": 13, "BG": 14, "HR": 16, "CY": 14, "CZ": 15, "DK": 13, "EE": 13, "FI": 13, "FR": 15,
    "DE": 16, "GR": 15, "HU": 16, "IE": 16, "IT": 14, "LV": 13, "LT": 14, "LU": 16, "MT": 13, "NL": 16,
    "PL": 16, "PT": 13, "RO": 16, "SK": 16, "SI": 15, "ES": 14, "SE": 13,
    # European Economic Area
    "IS": 13, "LI": 16, "NO": 13,
    # Elsewhere
    "GB": 13, "US": 13, "BR": 12, "CN": 14, "KR": 14, "IN": 18, "ZA": 18,
})


def consent_age(country_code: str | None) -> int:
    """The age from which a person in ``country_code`` (ISO 3166-1 alpha-2) may consent alone; ``DEFAULT_AGE``
    for a country not in the table, or none."""
    return CONSENT_AGES.get((country_code or "").upper(), DEFAULT_AGE)
