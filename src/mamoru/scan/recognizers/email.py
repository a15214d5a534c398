"""E-mail addresses (full-width @ and letters are folded first)."""

from __future__ import annotations

from typing import ClassVar

from mamoru.scan.recognizer import Pattern, Recognizer

_FILE_EXTENSIONS = frozenset({"png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "pdf", "css", "js"})
# Role addresses: a mailbox of a function, not of a person (support@, info@, noreply@ …).
ROLE_ACCOUNTS = frozenset(
    {
        "support", "info", "information", "noreply", "no-reply", "donotreply", "do-not-reply", "sales",
        "contact", "admin", "administrator", "help", "helpdesk", "webmaster", "postmaster", "hostmaster",
        "abuse", "customer", "customers", "service", "inquiry", "inquiries", "press", "billing", "office",
        "mailer-daemon", "notifications", "notification", "newsletter", "marketing",
    }
)  # fmt: skip


class EmailRecognizer(Recognizer):
    entity = "email"
    label: ClassVar[dict[str, str]] = {"ja": "電子メールアドレス", "en": "E-mail address"}
    patterns = (
        Pattern(
            "local@domain.tld",
            r"[A-Za-z0-9](?<![A-Za-z0-9._%+-][A-Za-z0-9])[A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z]{2,24}(?![A-Za-z0-9-])",
            0.9,
        ),
    )
    context = ("mail", "メール", "e-mail", "連絡先", "宛先", "from", "to")

    def applies(self, folded: str, lowered: str | None = None) -> bool:
        return "@" in folded

    def validate(self, value: str) -> bool | None:
        local, _, domain = value.partition("@")
        if domain.rsplit(".", 1)[-1].lower() in _FILE_EXTENSIONS:
            return False  # icon@2x.png is an image file, not an address
        if local.lower() in ROLE_ACCOUNTS:
            return False  # support@example.jp is a function's mailbox, not a person's
        # A dot at the end of the local part or two in a row break RFC 5322, but Japanese mobile carriers
        # issued such addresses for years (taro..yamada.@docomo.ne.jp): they are still people's.
        return ".." not in domain
