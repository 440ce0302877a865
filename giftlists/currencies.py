"""ISO 4217 currency codes: which prices a family's lists may be written in.

The list is the standard's active codes (funds and precious metals left out):
a code outside it would make the browser's ``Intl.NumberFormat`` throw.
"""

from django.conf import settings
from django.core.exceptions import ValidationError

#: Active ISO 4217 codes, 2026.
CURRENCY_CODES = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB
    BRL BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP
    DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF
    IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK
    LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN
    NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF
    SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND
    TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF
    YER ZAR ZMW ZWG
    """.split()
)


def validate_currency(code: str) -> None:
    """Refuse anything but an active ISO 4217 code in capitals ("EUR", "GBP")."""
    if code not in CURRENCY_CODES:
        raise ValidationError(
            "Enter a three-letter ISO 4217 currency code, such as EUR or USD.",
            code="invalid_currency",
        )


def default_currency() -> str:
    """A new family's currency: ``GIFTLISTS_DEFAULT_CURRENCY``, else EUR."""
    return getattr(settings, "GIFTLISTS_DEFAULT_CURRENCY", "EUR")
