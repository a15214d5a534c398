"""What people read about requests, in Japanese and English: kinds, grounds, outcomes, statuses."""

from __future__ import annotations

KINDS: dict[str, dict[str, str]] = {
    "disclosure": {"ja": "保有個人データの開示", "en": "Disclosure of the data we hold about you"},
    "provision_record_disclosure": {
        "ja": "第三者提供記録の開示",
        "en": "Disclosure of the records of provision to and receipt from third parties",
    },
    "purpose_notification": {"ja": "利用目的の通知", "en": "Notification of the purposes of use"},
    "correction": {"ja": "内容の訂正・追加・削除", "en": "Correction, addition or deletion of untrue data"},
    "stop_use": {"ja": "利用の停止", "en": "Cessation of use"},
    "erase": {"ja": "消去", "en": "Erasure"},
    "stop_provision": {"ja": "第三者提供の停止", "en": "Cessation of provision to third parties"},
    "access_history": {
        "ja": "利用履歴の開示（誰が・いつ・何の目的で利用したか）",
        "en": "Access history (who used your data, when, and for what)",
    },
}

LAW: dict[str, str] = {
    "disclosure": "Art. 33(1)",
    "provision_record_disclosure": "Art. 33(5)",
    "purpose_notification": "Art. 32(2)",
    "correction": "Art. 34",
    "stop_use": "Art. 35(1)",
    "erase": "Art. 35(1)",
    "stop_provision": "Art. 35(3)",
    "access_history": "",
}

CESSATION_GROUNDS: dict[str, dict[str, str]] = {
    "beyond_purpose": {
        "ja": "利用目的の範囲を超えて利用されている（法第18条）",
        "en": "Used beyond the purpose (Art. 18)",
    },
    "improper_use": {"ja": "不適正に利用されている（法第19条）", "en": "Used improperly (Art. 19)"},
    "improper_acquisition": {"ja": "不正に取得された（法第20条）", "en": "Acquired improperly (Art. 20)"},
    "provision_without_consent": {
        "ja": "本人の同意なく第三者に提供された（法第27条第1項・第28条）",
        "en": "Provided to a third party without consent (Arts. 27(1), 28)",
    },
    "no_longer_needed": {
        "ja": "利用する必要がなくなった（法第35条第5項）",
        "en": "No longer needed (Art. 35(5))",
    },
    "reportable_breach": {
        "ja": "報告対象となる漏えい等が生じた（法第35条第5項）",
        "en": "A reportable breach involved the data (Art. 35(5))",
    },
    "rights_harmed": {
        "ja": "本人の権利又は正当な利益が害されるおそれがある（法第35条第5項）",
        "en": "Your rights or legitimate interests may be harmed (Art. 35(5))",
    },
}

REFUSAL_GROUNDS: dict[str, dict[str, str]] = {
    "harm_to_person": {
        "ja": "本人又は第三者の生命、身体、財産その他の権利利益を害するおそれがあるため（法第33条第2項第1号）",
        "en": "It could harm the life, body, property or other rights of you or another person (Art. 33(2)(i))",
    },
    "business_hindrance": {
        "ja": "当機構の業務の適正な実施に著しい支障を及ぼすおそれがあるため（法第33条第2項第2号）",
        "en": "It would seriously hinder the proper conduct of our business (Art. 33(2)(ii))",
    },
    "other_law": {
        "ja": "他の法令に違反することとなるため（法第33条第2項第3号）",
        "en": "It would violate another law (Art. 33(2)(iii))",
    },
    "not_untrue": {
        "ja": "調査の結果、内容が事実でないとは認められなかったため（法第34条）",
        "en": "Our investigation did not find the content untrue (Art. 34)",
    },
    "ground_not_established": {
        "ja": "法第35条に定める請求の事由が認められなかったため",
        "en": "None of the grounds of Art. 35 was found to apply",
    },
    "alternative_measure": {
        "ja": "多額の費用を要する等のため、代わりの措置をとりました（法第35条ただし書）",
        "en": "It would cost a great deal or be difficult; we took another measure instead (Art. 35, proviso)",
    },
    "statutory_hold": {
        "ja": "法令により保存が義務付けられている情報があるため（法第36条）",
        "en": "A law requires us to keep some of the data (Art. 36)",
    },
    "purpose_exempt": {
        "ja": "利用目的が明らかであるか、通知により権利利益を害するおそれがあるため（法第32条第2項ただし書）",
        "en": "The purpose is evident, or notifying it could harm rights and interests (Art. 32(2), proviso)",
    },
    "identity_not_verified": {
        "ja": "ご本人又は代理人であることを確認できなかったため（法第37条）",
        "en": "We could not verify that the request came from you or your agent (Art. 37)",
    },
}

OUTCOMES: dict[str, dict[str, str]] = {
    "fulfilled": {"ja": "ご請求のとおり対応しました。", "en": "We have done what you asked."},
    "partial": {
        "ja": "ご請求の一部に対応しました。対応できなかった部分とその理由は以下のとおりです。",
        "en": "We have done part of what you asked. What we could not do, and why, is set out below.",
    },
    "refused": {
        "ja": "誠に恐れ入りますが、ご請求には応じられません。理由は以下のとおりです。",
        "en": "We regret that we cannot do what you asked. Our reasons are set out below.",
    },
    "no_data": {
        "ja": "ご請求に係る保有個人データは存在しません。",
        "en": "We hold no personal data about you that the request concerns.",
    },
}

SHORT_OUTCOMES: dict[str, dict[str, str]] = {
    "fulfilled": {"ja": "対応済み", "en": "done"},
    "partial": {"ja": "一部対応", "en": "partly done"},
    "refused": {"ja": "不対応", "en": "refused"},
    "no_data": {"ja": "該当データなし", "en": "no data held"},
}

STATUSES: dict[str, dict[str, str]] = {
    "awaiting_code": {"ja": "確認コードの入力待ち", "en": "Waiting for the code we e-mailed"},
    "locked": {"ja": "確認コードの誤りが続いたため停止中", "en": "Stopped after too many wrong codes"},
    "pending_verification": {"ja": "本人確認書類・委任状の確認中", "en": "We are checking the documents"},
    "verified": {"ja": "受付済み・対応を検討中", "en": "Verified; we are deciding"},
    "approved": {"ja": "対応中", "en": "In progress"},
    "needs_attention": {"ja": "対応中（担当者の確認が必要）", "en": "Needs attention"},
    "completed": {"ja": "回答済み", "en": "Answered"},
}

#: Why a request stopped in "needs attention" (the office reads it in the console and the CLI).
ATTENTION: dict[str, dict[str, str]] = {
    "connector_refused": {
        "ja": "外部データベースの消去を、外部キーとの整合が取れないため、何も変更せずに中止しました",
        "en": "The erasure in an organization datastore was refused before anything changed: it would break a foreign key",
    },
    "connector_failed": {
        "ja": "外部データベースでの処理に失敗し、変更は取り消されました。本人のデータはそのまま残っています",
        "en": "A step in an organization datastore failed and was rolled back; the person's data is still whole",
    },
    "connector_config": {
        "ja": "外部データベースの設定（データセットマップ又は接続先）に問題があるため、処理を始めませんでした",
        "en": "A datastore's map or connection setting is wrong, so the step did not start",
    },
}

AGENT_KINDS: dict[str, dict[str, str]] = {
    "legal_representative": {"ja": "法定代理人", "en": "Legal representative"},
    "appointed": {"ja": "本人が委任した代理人", "en": "Agent appointed by the person"},
}


def text(table: dict[str, dict[str, str]], key: str | None, lang: str) -> str:
    if key is None:
        return ""
    entry = table.get(key)
    return entry[lang if lang in ("ja", "en") else "en"] if entry else key
