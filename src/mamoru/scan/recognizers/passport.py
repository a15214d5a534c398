"""Japanese passport numbers: two letters and seven digits, reported only under a passport label."""

from __future__ import annotations

from typing import ClassVar

from mamoru.scan.recognizer import Pattern, Recognizer
from mamoru.scan.text import NUM_END


class PassportRecognizer(Recognizer):
    entity = "passport"
    label: ClassVar[dict[str, str]] = {"ja": "旅券番号", "en": "Passport number"}
    patterns = (Pattern("two letters, seven digits", r"[A-Z](?<![0-9A-Za-z][A-Z])[A-Z]\d{7}" + NUM_END, 0.3),)
    context = ("旅券", "パスポート", "passport")
    needs_context = True
    context_boost = 0.6
    window_before = 24
