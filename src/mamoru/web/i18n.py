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
    # Data-subject requests: the portal form, the status page, the console queue.
    "requests": {"ja": "開示等の請求", "en": "Requests about your data"},
    "new_request": {"ja": "請求する", "en": "Make a request"},
    "request_lead": {
        "ja": "ご自身の個人情報について、開示・訂正・利用停止・消去などを請求できます。理由を書く必要はありません。"
        "ご入力の電子メールアドレスに確認コードをお送りし、登録されたアドレスと一致する情報を対象とします。",
        "en": "You can ask us to disclose, correct, stop using or erase the personal data we hold about you. "
        "You need not give a reason. We send a code to the e-mail address you enter, and the request covers "
        "the data registered under that address.",
    },
    "kind": {"ja": "請求の種類", "en": "What you ask for"},
    "your_name": {"ja": "お名前", "en": "Your name"},
    "email": {
        "ja": "電子メールアドレス（登録されたもの）",
        "en": "E-mail address (the one registered with us)",
    },
    "phone": {"ja": "電話番号（任意）", "en": "Phone (optional)"},
    "method": {"ja": "開示の方法", "en": "How we disclose"},
    "electronic": {"ja": "電磁的記録（ダウンロード）", "en": "Electronic (download)"},
    "paper": {"ja": "書面（郵送）", "en": "Paper (by post)"},
    "grounds": {
        "ja": "請求の事由（利用停止・消去・提供停止の場合）",
        "en": "Grounds (cessation, erasure, stop of provision)",
    },
    "stop_purposes": {
        "ja": "停止を求める利用目的（未選択ならすべて）",
        "en": "Purposes to stop (none chosen: all)",
    },
    "stop_recipients": {
        "ja": "停止を求める提供先（未選択ならすべて）",
        "en": "Recipients to stop (none chosen: all)",
    },
    "corrections": {"ja": "訂正する項目と正しい内容", "en": "Item to correct and what it should be"},
    "item": {"ja": "項目", "en": "Item"},
    "correct_value": {"ja": "正しい内容", "en": "Correct content"},
    "details": {"ja": "補足（任意）", "en": "Anything else (optional)"},
    "agent": {"ja": "代理人による請求", "en": "Request by an agent"},
    "by_agent": {"ja": "代理人として請求します", "en": "I am applying as an agent"},
    "agent_kind": {"ja": "代理の種類", "en": "Kind of agent"},
    "agent_name": {"ja": "代理人のお名前", "en": "Agent's name"},
    "authority_doc": {
        "ja": "代理権を証する書類（委任状・戸籍謄本等。PDF/PNG/JPEG、5MBまで）",
        "en": "Proof of authority (power of attorney, family register…; PDF/PNG/JPEG, up to 5 MB)",
    },
    "fee_note": {"ja": "手数料", "en": "Fee"},
    "submit": {"ja": "送信する", "en": "Send"},
    "fix_errors": {"ja": "入力内容を確認してください。", "en": "Please check what you entered."},
    "request_status": {"ja": "請求の状況", "en": "Request status"},
    "ref": {"ja": "受付番号", "en": "Reference"},
    "status": {"ja": "状況", "en": "Status"},
    "received": {"ja": "受付日時 (UTC)", "en": "Received (UTC)"},
    "due": {"ja": "回答期限 (UTC)", "en": "Answer due (UTC)"},
    "enter_code": {"ja": "メールでお送りした確認コード", "en": "The code we e-mailed you"},
    "verify": {"ja": "確認する", "en": "Verify"},
    "resend": {"ja": "コードを再送する", "en": "Send a new code"},
    "code_ok": {"ja": "確認できました。", "en": "Verified."},
    "code_wrong": {"ja": "コードが正しくありません。", "en": "That code is not right."},
    "code_expired": {
        "ja": "コードの有効期限が切れました。再送してください。",
        "en": "The code has expired; send a new one.",
    },
    "code_locked": {
        "ja": "誤りが続いたため、オンラインでの確認を停止しました。お問い合わせ窓口にご連絡ください。",
        "en": "Too many wrong codes: online verification has stopped. Please contact our inquiry desk.",
    },
    "code_sent": {"ja": "新しいコードを送信しました。", "en": "We have sent a new code."},
    "keep_link": {
        "ja": "このページのアドレスは、あなただけが知る確認用のリンクです。大切に保管してください。",
        "en": "The address of this page is your private link to the request. Please keep it.",
    },
    "answer": {"ja": "回答", "en": "Answer"},
    "letter": {"ja": "回答書", "en": "Letter"},
    "download": {"ja": "回答資料（ZIP）をダウンロード", "en": "Download the answer (ZIP)"},
    "queue": {"ja": "請求の一覧（期限順）", "en": "Requests by due date"},
    "days_left": {"ja": "残り日数", "en": "Days left"},
    "subjects_matched": {"ja": "該当する本人", "en": "Matched subjects"},
    "documents": {"ja": "提出書類", "en": "Documents"},
    "accept": {"ja": "確認済みにする", "en": "Accept"},
    "reject": {"ja": "不備あり", "en": "Reject"},
    "approve": {"ja": "承認して対応する", "en": "Approve and fulfil"},
    "fee_received": {"ja": "手数料を受領した", "en": "Fee received"},
    "refuse": {"ja": "不開示・不対応とする", "en": "Refuse"},
    "refusal_ground": {"ja": "理由の区分", "en": "Ground"},
    "refusal_reasons": {"ja": "本人への説明（必須）", "en": "Explanation to the person (required)"},
    "resume": {"ja": "処理を再開する", "en": "Resume fulfilment"},
    "steps": {"ja": "処理の記録", "en": "Fulfilment steps"},
    "outcome": {"ja": "結果", "en": "Outcome"},
    "escalated": {"ja": "10日経過", "en": "Escalated (day 10)"},
    "breached": {"ja": "期限超過", "en": "Late (day 14)"},
    "requester": {"ja": "請求者", "en": "Requester"},
    "transfers": {"ja": "委託・第三者提供", "en": "Processors and provision"},
    "processors": {"ja": "委託先と監督の状況", "en": "Processors and their supervision"},
    "recipients": {"ja": "提供先", "en": "Recipients"},
    "country": {"ja": "国", "en": "Country"},
    "supervision": {"ja": "監督・確認", "en": "Supervision"},
    "monitoring_due": {"ja": "次回の確認期限", "en": "Next check due"},
    "cleared": {"ja": "問題なし", "en": "cleared"},
    "basis": {"ja": "根拠", "en": "Basis"},
    "records": {"ja": "提供記録・受領記録", "en": "Provision and receipt records"},
    "party": {"ja": "相手方", "en": "Party"},
    "items": {"ja": "項目", "en": "Items"},
    "date": {"ja": "日付", "en": "Date"},
    "keep_until": {"ja": "保存期限", "en": "Kept until"},
    "processors_flagged": {"ja": "監督に問題のある委託先", "en": "Processors not cleared"},
    "requests_open": {"ja": "対応中の請求（うち期限超過）", "en": "Open requests (late)"},
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
