"""Japanese postal codes (郵便番号): 〒 and 3-4 digits."""

from __future__ import annotations

from typing import ClassVar

from mamoru.scan.recognizer import Pattern, Recognizer
from mamoru.scan.text import AFTER_FIRST, NUM_END


class PostalCodeRecognizer(Recognizer):
    entity = "postal_code"
    label: ClassVar[dict[str, str]] = {"ja": "郵便番号", "en": "Postal code"}
    patterns = (
        Pattern("after 〒", r"〒 ?(?P<v>\d{3}-?\d{4})" + NUM_END, 0.9, requires=("〒",)),
        Pattern(
            "NNN-NNNN",
            r"\d" + AFTER_FIRST + r"(?<!〒\d)(?<!〒 \d)\d{2}-\d{4}" + NUM_END,
            0.3,
            requires=("-",),
        ),
        # Written straight after an address, without 〒: "…5-23-14 596-1364", "…394号室 146-9291".
        Pattern(
            "after an address block",
            r"(?:(?:丁目|番地?|-)\d{1,4}|\d{1,4}(?:号室|号|F|階))[ ,;\u3000]{1,4}(?P<v>\d{3}-\d{4})"
            + NUM_END,
            0.75,
            requires=("-",),
        ),
        Pattern(
            "under a JSON postal code key",
            r'"(?i:postal_?code|post_?code|zip_?code|zip)" ?: ?"(?P<v>\d{3}-?\d{4}|\d{5}(?:-\d{4})?)"',
            0.85,
            requires=("postal", "postcode", "post_code", "zip"),
        ),
        # A US ZIP code after the state: "Springfield, MA 01234", a vCard's ";MA;01234;USA" (a capitalised
        # word before, the city; not "Employee, ID 12345": ID, Idaho, only between semicolons).
        Pattern(
            "US ZIP code after the state",
            r"(?:(?<![A-Za-z])[A-Z][a-z]+, (?!ID )|;)(?:A[KLRZ]|C[AOT]|D[CE]|FL|GA|HI|I[ADLN]|K[SY]|LA|M[ADEINOST]|N[CDEHJMVY]|O[HKR]|PA|RI"
            r"|S[CD]|T[NX]|UT|V[AT]|W[AIVY])[ ;](?P<v>\d{5}(?:-\d{4})?)(?![0-9-])",
            0.75,
            requires=(", ", ";"),
        ),
    )
    context = (
        "郵便",
        "〒",
        "postal",
        "zip",
        "post code",
        "postcode",
        "住所",
        "所在地",
        "address",
        "japan",
        "tokyo",
        "osaka",
        "-ku",
        "-shi",
        "-cho",
        "-machi",
        "-ken",
        "-fu",
        "hokkaido",
    )
    negative_context = ("電話", "tel", "fax", "phone", "携帯")
    context_boost = 0.4
    window_after = 6
