"""Language choice and the labels of the pages' own chrome, in Japanese and English."""

from __future__ import annotations

from fastapi import Request

from mamoru.policy.notice import Lang

LANG_COOKIE = "mamoru_lang"

LABELS: dict[str, dict[Lang, str]] = {
    "portal": {"ja": "個人情報保護ポータル", "en": "Privacy portal"},
    "notice": {"ja": "個人情報保護方針", "en": "Privacy policy"},
    "versions": {"ja": "過去の版", "en": "Earlier versions"},
    "version": {"ja": "版", "en": "Version"},
    "effective_from": {"ja": "施行日", "en": "In force from"},
    "revised_on": {"ja": "改定日", "en": "Revised on"},
    "published_at": {"ja": "公表日時 (UTC)", "en": "Published at (UTC)"},
    "hash": {"ja": "SHA-256", "en": "SHA-256"},
    "current": {"ja": "現行版", "en": "current"},
    "archived": {"ja": "この版は現在の方針ではありません。", "en": "This is not the policy in force."},
    "back": {"ja": "現行の方針へ", "en": "Back to the current policy"},
    "not_published": {"ja": "方針はまだ公表されていません。", "en": "No policy has been published yet."},
    "switch": {"ja": "English", "en": "日本語"},
    "not_found": {"ja": "ページが見つかりません。", "en": "Page not found."},
    "audit": {"ja": "監査ログの状態", "en": "Audit log status"},
    "console": {"ja": "管理コンソール", "en": "Staff console"},
    "sign_in": {"ja": "サインイン", "en": "Sign in"},
    "sign_out": {"ja": "サインアウト", "en": "Sign out"},
    "login": {"ja": "ログインID", "en": "Login"},
    "password": {"ja": "パスワード", "en": "Password"},
    "dashboard": {"ja": "ダッシュボード", "en": "Dashboard"},
    "ledger": {"ja": "個人情報管理台帳", "en": "Personal-information ledger"},
    "subject": {"ja": "本人の情報", "en": "Data subject"},
    "signed_in_as": {"ja": "サインイン中", "en": "Signed in as"},
    "roles": {"ja": "役割", "en": "Roles"},
    "ledger_entries": {"ja": "台帳項目", "en": "Ledger entries"},
    "review_overdue": {"ja": "見直し期限超過", "en": "Reviews overdue"},
    "notifications_due": {"ja": "利用目的の通知待ち（うち期限超過）", "en": "Purpose notices due (overdue)"},
    "subjects_held": {"ja": "保有している本人の数", "en": "Data subjects held"},
    "code": {"ja": "管理番号", "en": "Code"},
    "name": {"ja": "名称", "en": "Name"},
    "purposes_col": {"ja": "利用目的", "en": "Purposes"},
    "flags": {"ja": "区分", "en": "Flags"},
    "last_review": {"ja": "最終見直し", "en": "Last review"},
    "review": {"ja": "見直し済みにする", "en": "Mark reviewed"},
    "export_xlsx": {"ja": "Excel で出力", "en": "Export to Excel"},
    "export_csv": {"ja": "CSV で出力", "en": "Export to CSV"},
    "special_care": {"ja": "要配慮", "en": "special care"},
    "my_number_flag": {"ja": "個人番号", "en": "My Number"},
    "choose_purpose": {"ja": "利用目的を選んで表示", "en": "Choose the purpose to view for"},
    "show": {"ja": "表示", "en": "Show"},
    "denied": {"ja": "利用できません", "en": "Not allowed"},
    "reasons": {"ja": "理由", "en": "Reasons"},
    "rule": {"ja": "規則", "en": "Rule"},
    "nothing_for_purpose": {
        "ja": "この利用目的で扱う情報は保存されていません。",
        "en": "Nothing is stored for this purpose.",
    },
    "verify_now": {"ja": "今すぐ検証", "en": "Verify now"},
    "save": {"ja": "保存", "en": "Save"},
    "edit": {"ja": "編集", "en": "Edit"},
    "audit_lead": {
        "ja": "個人データの利用と状態の変更はすべて、改ざんを検知できる監査ログに記録しています。下記は直近の検証結果と署名付きチェックポイントです。",
        "en": "Every use of personal data and every change of state is written to a tamper-evident audit log. "
        "Below are the latest verification and the latest signed checkpoint.",
    },
    "entries": {"ja": "記録件数", "en": "Entries"},
    "last_verified": {"ja": "直近の検証", "en": "Last verification"},
    "intact": {"ja": "改ざんなし", "en": "intact"},
    "broken": {"ja": "不整合あり（番号", "en": "NOT intact (entry"},
    "never_verified": {"ja": "まだ検証していません。", "en": "Not verified yet."},
    "checkpoint": {"ja": "最新の署名付きチェックポイント", "en": "Latest signed checkpoint"},
    "no_checkpoint": {"ja": "まだありません。", "en": "None yet."},
    "size": {"ja": "件数", "en": "Size"},
    "root": {"ja": "Merkle ルート", "en": "Merkle root"},
    "key": {"ja": "署名鍵 ID", "en": "Signing key id"},
    "witness": {
        "ja": "第三者は /api/v1/audit/checkpoints から公開鍵とチェックポイントを取得して保管できます。",
        "en": "Anyone may fetch and keep the public key and checkpoints from /api/v1/audit/checkpoints.",
    },
}


def choose_lang(request: Request) -> Lang:
    """``?lang=`` first, then the cookie, then Accept-Language; Japanese by default."""
    for candidate in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate == "ja":
            return "ja"
        if candidate == "en":
            return "en"
    accept = request.headers.get("accept-language", "").lower()
    return "en" if accept.startswith("en") else "ja"


def labels(lang: Lang) -> dict[str, str]:
    return {key: value[lang] for key, value in LABELS.items()}
