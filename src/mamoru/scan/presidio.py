"""mamoru's recognizers offered to Presidio users (the optional extra ``mamoru[presidio]``).

    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from mamoru.scan.presidio import recognizers

    registry = RecognizerRegistry(supported_languages=["ja"])
    for r in recognizers("ja"):
        registry.add_recognizer(r)

Each adapter runs one mamoru recognizer on the folded text and returns Presidio results with an
explanation (pattern, validation, context word). They need no NLP artifacts: context is read from
raw characters, so they work with any NLP engine, a blank one included.
"""

from __future__ import annotations

from typing import Any

from mamoru.scan.recognizer import Recognizer
from mamoru.scan.recognizers import REGISTERED
from mamoru.scan.text import fold

# mamoru entity -> Presidio entity name (Presidio's own names where they mean the same thing).
PRESIDIO_ENTITIES: dict[str, str] = {
    "my_number": "JP_MY_NUMBER",
    "corporate_number": "JP_CORPORATE_NUMBER",
    "phone": "PHONE_NUMBER",
    "postal_code": "JP_POSTAL_CODE",
    "address": "JP_ADDRESS",
    "person": "PERSON",
    "email": "EMAIL_ADDRESS",
    "credit_card": "CREDIT_CARD",
    "bank_account": "JP_BANK_ACCOUNT",
    "passport": "JP_PASSPORT",
    "drivers_license": "JP_DRIVER_LICENSE",
    "health_insurance": "JP_HEALTH_INSURANCE",
    "birth_date": "DATE_OF_BIRTH",
    "special_care": "JP_SPECIAL_CARE",
    "invoice_registration": "JP_INVOICE_REGISTRATION",
}


def recognizers(language: str = "ja", entities: list[str] | None = None) -> list[Any]:
    """Presidio ``EntityRecognizer``s, one for each mamoru recognizer (or for ``entities`` only)."""
    from presidio_analyzer import AnalysisExplanation, EntityRecognizer, RecognizerResult

    class MamoruRecognizer(EntityRecognizer):
        def __init__(self, recognizer: type[Recognizer]) -> None:
            self._inner = recognizer()
            self._entity = PRESIDIO_ENTITIES[recognizer.entity]
            self._label = f"mamoru.{recognizer.__name__}"
            super().__init__(
                supported_entities=[self._entity],
                supported_language=language,
                name=self._label,
                context=list(recognizer.context),
            )

        def load(self) -> None:
            """Nothing to load: patterns compile in the constructor."""

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:
            if entities and self._entity not in entities:
                return []
            results = []
            for f in self._inner.analyze(fold(text), text):
                explanation = AnalysisExplanation(
                    recognizer=self._label,
                    original_score=f.explanation.base_score,
                    pattern_name=f.explanation.pattern,
                )
                if f.explanation.validation is not None:
                    explanation.validation_result = f.explanation.validation
                if f.explanation.context_word:
                    explanation.textual_explanation = f"context word {f.explanation.context_word!r}"
                results.append(
                    RecognizerResult(self._entity, f.start, f.end, f.score, analysis_explanation=explanation)
                )
            return results

    return [MamoruRecognizer(r) for r in REGISTERED if entities is None or r.entity in entities]
