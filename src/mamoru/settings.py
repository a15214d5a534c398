"""Settings: environment variables prefixed ``MAMORU_`` over ``mamoru.toml`` in the workspace."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, IPvAnyNetwork, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_HOME = ".mamoru"
CONFIG_FILE = "mamoru.toml"
DEFAULT_BASE_URL = "http://127.0.0.1:8600"
#: A public base URL: http(s), a host, an optional path; no query, fragment or white space.
BASE_URL_PATTERN = r"^https?://[^\s/?#@]+(/[^\s?#]*)?$"


def _home_from_env() -> Path:
    return Path(os.environ.get("MAMORU_HOME", DEFAULT_HOME))


class Settings(BaseSettings):
    """Where the workspace is and how to reach the database, the keys and the policy."""

    model_config = SettingsConfigDict(env_prefix="MAMORU_", extra="ignore")

    home: Path = Field(default_factory=_home_from_env, description="Workspace folder.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; SQLite in the workspace if unset."
    )
    keystore_url: str | None = Field(
        default=None, description="Key store URL; SQLite keys.db in the workspace if unset."
    )
    key_file: Path | None = Field(default=None, description="Master key file; <home>/master.key if unset.")
    master_key: SecretStr | None = Field(default=None, description="Master key, base64; overrides key_file.")
    signing_key_file: Path | None = Field(
        default=None, description="Audit checkpoint signing key; <home>/audit-signing.key."
    )
    policy_file: Path | None = Field(default=None, description="Policy YAML; <home>/policy.yaml if unset.")
    mynumber_key_file: Path | None = Field(
        default=None, description="The My Number vault's own master key; <home>/mynumber.key if unset."
    )
    mynumber_keystore_url: str | None = Field(
        default=None, description="The My Number vault's own key store; <home>/mynumber-keys.db if unset."
    )
    base_url: str | None = Field(
        default=None,
        pattern=BASE_URL_PATTERN,
        description="Public address of the portal, for links in e-mails (https://privacy.example.jp); "
        "unset: `serve` uses its own host and port.",
    )
    smtp_host: str | None = Field(
        default=None, description="SMTP server for mail; unset: .eml files in <home>/outbox (development)."
    )
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout: float = Field(
        default=10.0, gt=0, le=300, description="Seconds each SMTP step may take before the try is given up."
    )
    mail_from: str | None = Field(
        default=None, description="Sender address; the policy's inquiry e-mail if unset."
    )
    request_escalate_days: int = Field(
        default=10, ge=1, description="Days after receipt a request escalates."
    )
    request_due_days: int = Field(
        default=14, ge=1, description="Days after receipt a request is late (APPI Art. 39)."
    )
    transfer_opt_out_enabled: bool = Field(
        default=False,
        description="Allow provision by opt-out (APPI Art. 27(2)); off unless filed with the PPC.",
    )
    transfer_partial: Literal["refuse", "filter"] = Field(
        default="refuse",
        description="A provision where some subjects may not be provided: refuse it whole, or leave them out.",
    )
    broker_url: str | None = Field(
        default=None,
        description="Task queue (amqp:// RabbitMQ or redis:// Redis) for `mamoru worker`; unset: work runs in-process.",
    )
    portal_submissions_per_minute: int = Field(
        default=10, ge=1, description="Portal form submissions accepted per client address per minute."
    )
    queue_name: str = Field(
        default="mamoru", pattern=r"^[a-z][a-z0-9_.-]{0,62}$", description="Queue on the broker."
    )
    db_pool_size: int = Field(
        default=5, ge=1, le=100, description="Connections kept per process (PostgreSQL)."
    )
    request_ack_business_days: int = Field(
        default=2, ge=0, description="Business days to acknowledge a request."
    )
    trusted_proxies: list[IPvAnyNetwork] = Field(
        default_factory=list,
        description="Reverse proxies (addresses or networks) whose X-Forwarded-For is believed; none by default.",
    )
    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="Largest request body, refused with 413 before anything else.",
    )
    max_upload_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=1024,
        description="Largest body for the routes that take uploads or batches (portal form, door events).",
    )
    docs_enabled: bool = Field(
        default=False,
        description="Serve the interactive API page /docs (Swagger UI shipped in the package, under the CSP).",
    )
    audit_checkpoint_seconds: int = Field(
        default=60,
        ge=5,
        le=86400,
        description="`serve` and the worker sign an audit checkpoint this often when the log has grown.",
    )
    audit_verify_seconds: int = Field(
        default=3600,
        ge=60,
        le=604800,
        description="`serve` and the worker verify the whole audit log this often.",
    )
    guard_state_check_ms: int = Field(
        default=10,
        ge=0,
        le=1000,
        description="How long a process trusts the guard-state version it last read before reading it again "
        "(another process's change is seen within this; 0: at every decision).",
    )
    token_lifetime_days: int = Field(
        default=90, ge=1, le=3650, description="Days an API token lives; a shorter one may be asked for."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_home_from_env() / CONFIG_FILE)
        return (init_settings, env_settings, toml)

    @property
    def link_base(self) -> str:
        """Where links in e-mails start: ``base_url``, else the address ``serve`` listens on."""
        return (self.base_url or DEFAULT_BASE_URL).rstrip("/")

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'mamoru.db').resolve()}"

    @property
    def resolved_keystore_url(self) -> str:
        return self.keystore_url or f"sqlite:///{(self.home / 'keys.db').resolve()}"

    @property
    def resolved_key_file(self) -> Path:
        return self.key_file or self.home / "master.key"

    @property
    def resolved_signing_key_file(self) -> Path:
        return self.signing_key_file or self.home / "audit-signing.key"

    @property
    def resolved_mynumber_key_file(self) -> Path:
        return self.mynumber_key_file or self.home / "mynumber.key"

    @property
    def resolved_mynumber_keystore_url(self) -> str:
        return self.mynumber_keystore_url or f"sqlite:///{(self.home / 'mynumber-keys.db').resolve()}"

    @property
    def outbox(self) -> Path:
        return self.home / "outbox"

    @property
    def packages(self) -> Path:
        return self.home / "packages"

    @property
    def resolved_policy_file(self) -> Path:
        return self.policy_file or self.home / "policy.yaml"


def served_base_url(settings: Settings, host: str, port: int) -> tuple[str, str | None]:
    """The public base URL of a server listening on ``host``:``port``, and a warning, if any.

    ``base_url`` wins when set. Otherwise the server's own address is used (a wildcard address as
    ``localhost``); behind a reverse proxy (``trusted_proxies`` set) that address is not the one people
    reach, so a warning says to set ``base_url``.
    """
    if settings.base_url:
        return settings.base_url.rstrip("/"), None
    shown = "localhost" if host in ("0.0.0.0", "::", "") else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    derived = f"http://{shown}:{port}"
    warning = None
    if settings.trusted_proxies:
        warning = (
            f"base_url is not set: links in e-mails will point at {derived}, this server's own address, "
            "not the reverse proxy people reach; set MAMORU_BASE_URL (or base_url in mamoru.toml)"
        )
    return derived, warning
