"""Where each subcommand of `mamoru` lives and its help, readable without importing any of them: the
command loads a subcommand only when it runs, so `mamoru --help` and `mamoru version` answer at once."""

from __future__ import annotations

#: Subcommand -> (module, attribute). The attribute is a Typer app (a group) or a function (a command).
WHERE: dict[str, tuple[str, str]] = {
    "policy": ("mamoru.cli.policy", "app"),
    "audit": ("mamoru.cli.audit", "app"),
    "ledger": ("mamoru.cli.ledger", "app"),
    "retention": ("mamoru.cli.ledger", "retention_app"),
    "keys": ("mamoru.cli.keys", "app"),
    "guard": ("mamoru.cli.guard", "app"),
    "tokens": ("mamoru.cli.tokens", "app"),
    "staff": ("mamoru.cli.staff", "app"),
    "training": ("mamoru.cli.people", "training_app"),
    "rules": ("mamoru.cli.people", "rules_app"),
    "zones": ("mamoru.cli.people", "zones_app"),
    "inquiries": ("mamoru.cli.people", "inquiries_app"),
    "pms": ("mamoru.cli.pms", "app"),
    "connectors": ("mamoru.cli.connectors", "app"),
    "work": ("mamoru.cli.work", "work_app"),
    "requests": ("mamoru.cli.requests", "app"),
    "transfers": ("mamoru.cli.transfers", "app"),
    "incidents": ("mamoru.cli.incidents", "app"),
    "mynumber": ("mamoru.cli.mynumber", "app"),
    "worker": ("mamoru.cli.work", "worker"),
    "backup": ("mamoru.cli.backup", "backup"),
    "restore": ("mamoru.cli.backup", "restore"),
    "scan": ("mamoru.cli.scan", "scan"),
    "deid": ("mamoru.cli.deid", "app"),
}
#: Each subcommand's help: its module builds its Typer app (or its command) with it, and `mamoru --help`
#: lists it without loading the module.
HELP: dict[str, str] = {
    "policy": "Check, show, render and publish the privacy policy. / 個人情報保護方針の検査・表示・公表。",
    "audit": "Verify and query the tamper-evident audit log. / 改ざん検知可能な監査ログの検証と照会。",
    "ledger": "The personal-information management ledger. / 個人情報管理台帳。",
    "retention": "Retention and disposal. / 保存期間と廃棄。",
    "keys": "Key management. / 鍵の管理。",
    "guard": "Purpose-bound decisions. / 利用目的に基づく利用可否の判定。",
    "tokens": "API tokens. / APIトークン。",
    "staff": "The staff register and accounts (APPI Art. 24). / 従業者の登録とアカウント。",
    "training": "Staff training: plans, sessions, attendance (JIS-7). / 教育。",
    "rules": "Internal rules: register, approval, acknowledgement (JIS-6). / 内部規程。",
    "zones": "Controlled zones and entry/exit events (APPI-23-phys). / 入退室管理。",
    "inquiries": "Inquiries and complaints (APPI Art. 40). / 苦情・相談。",
    "pms": "The PMS cycle of JIS Q 15001: register, risks, controls, audits, review. / PMSの運用。",
    "connectors": "Dataset maps: requests reach the organization's databases. / 外部データベースとの連携。",
    "work": "Background work: run a task now or put it on the queue. / バックグラウンド処理。",
    "requests": "Data-subject requests (APPI Arts. 32-39). / 開示等の請求。",
    "transfers": "Processors, recipients and provision records (APPI Arts. 25, 27-30). / 委託・第三者提供。",
    "incidents": "Incidents and breach reports (APPI Art. 26, JIS Q 15001). / 漏えい等の事故と報告。",
    "mynumber": "The My Number vault (番号法). / 特定個人情報の管理。",
    "worker": "Run queued work from MAMORU_BROKER_URL (RabbitMQ or Redis) until stopped; any number of workers\non any machines may share the queue and the database.",
    "backup": "Back up the database in one consistent snapshot (SQLite or PostgreSQL); keys are kept apart.",
    "restore": "Restore a backup into the configured, empty database, bring it to the current schema and verify the\naudit log (exit 1 if it does not verify).",
    "scan": "Find personal information and report the ledger gaps; exit 1 when there is a gap.\n/ 個人情報を探し、台帳との差異を報告します（差異があれば終了コード 1）。\n\nOnly counts and masked samples are shown: never a whole value.",
    "deid": "Pseudonymized and anonymized information (APPI Arts. 41-46). / 仮名加工情報・匿名加工情報。",
}
