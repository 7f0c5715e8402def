"""The one place that reads the environment: where the lake, landing folder and Dagster home live.

Read at run time (by resources and the CLI), never at import time of an asset module. The one
exception is partitions_start: the partitions definition is part of the code location, so the
first day is read when the definitions load.
"""

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

SUPPORTED_LAKE_SCHEMES = ("file", "s3", "s3a", "gs", "gcs", "abfss", "az", "azure")

# Environment variables copied into Delta storage options when the lake is on object storage.
_STORAGE_OPTION_PREFIXES = ("AWS_", "GOOGLE_", "AZURE_")


DEFAULT_ECB_BASE_URL = "https://www.ecb.europa.eu/stats/eurofxref"
DEFAULT_UI_PORT = 3000

# Provider API options (Cost Explorer, Azure Query API), parsed by their resources.
_API_OPTION_PREFIXES = ("FINOPS_CE_", "FINOPS_AZURE_")

# FINOPS_SOURCE_AWS_CUR=s3://bucket/prefix, FINOPS_SOURCE_AWS_COST_EXPLORER=api, ...
_SOURCE_PREFIX = "FINOPS_SOURCE_"


class SettingsError(ValueError):
    """A setting has a value the platform cannot use; the message says which and what to do."""


@dataclass(frozen=True)
class Settings:
    """Where everything lives for one deployment."""

    home: Path
    lake_uri: str
    landing_dir: Path
    dagster_home: Path
    base_currency: str = "USD"
    storage_options: Mapping[str, str] = field(default_factory=dict)
    quarantine_max_share: Decimal = Decimal("0.01")
    # Absolute limit per day, currency and money column (None: the share limit only).
    quarantine_max_amount: Decimal | None = None
    # Files of one source-day that may be refused as unreadable before the day fails.
    quarantine_max_refused_files: int = 1
    # source name -> where its payloads come from ("landing", "api", s3://, gs://, az://, ...)
    source_locations: Mapping[str, str] = field(default_factory=dict)
    # Where the ECB's daily reference rates are fetched from (FINOPS_ECB_BASE_URL; "off" = the
    # shipped seed only), and how long a day whose rate is not published yet waits.
    ecb_base_url: str = DEFAULT_ECB_BASE_URL
    fx_wait_seconds: int = 3600
    fx_wait_retries: int = 24
    # FINOPS_UI_PORT: where `finops dev` (make dev) serves the Dagster UI on 127.0.0.1
    ui_port: int = DEFAULT_UI_PORT
    # FINOPS_AWS_PAYER_ACCOUNT_ID: the AWS payer (management) account whose bill Cost Explorer
    # reports; FOCUS BillingAccountId of Cost Explorer rows. Unset: STS GetCallerIdentity when
    # Cost Explorer is read through its API (resources/aws_payer.py).
    aws_payer_account_id: str | None = None
    # FINOPS_OUTBOX_DATABASE: "sqlite" (embedded: <home>/events/outbox/outbox.sqlite3) or
    # "postgres" (the instance's PostgreSQL, DAGSTER_PG_*, in schema FINOPS_OUTBOX_SCHEMA).
    outbox_database: str = "sqlite"
    # FINOPS_PROFILE: "embedded" (local twins: landing folder, SQLite outbox) or "production"
    # (the real resources, configured through dg.EnvVar; the outbox in the instance's PostgreSQL).
    profile: str = "embedded"
    outbox_postgres: Mapping[str, str] = field(default_factory=dict, repr=False)
    outbox_schema: str = "finops_outbox"
    # FINOPS_RESTATEMENT_DAYS / _CLOSE_DAY: the API sources' daily re-ingestion window.
    restatement_days: int = 3
    restatement_close_day: int = 5
    # FINOPS_CE_* and FINOPS_AZURE_*: the provider API options, parsed by their resources.
    api_options: Mapping[str, str] = field(default_factory=dict)
    # AZURE_STORAGE_CONNECTION_STRING / _ACCOUNT_URL / _ACCOUNT_NAME: az:// export files.
    azure_storage: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def lake_is_local(self) -> bool:
        return lake_scheme(self.lake_uri) == "file"

    def table_uri(self, table_name: str) -> str:
        """Each Delta table lives at <lake root>/<asset name>."""
        return f"{self.lake_uri.rstrip('/')}/{table_name}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        """Build settings from FINOPS_* variables, defaulting to the embedded layout under ./.finops."""
        env = os.environ if env is None else env
        home = Path(env.get("FINOPS_HOME", ".finops")).expanduser().resolve()
        lake_uri = env.get("FINOPS_LAKE_URI") or str(home / "lake")
        scheme = lake_scheme(lake_uri)
        if scheme not in SUPPORTED_LAKE_SCHEMES:
            raise SettingsError(
                f"FINOPS_LAKE_URI={lake_uri!r} has the unknown scheme {scheme!r}; use a local path "
                "or one of s3://, gs://, abfss://"
            )
        if scheme == "file":
            lake_uri = str(Path(lake_uri.removeprefix("file://")).expanduser().resolve())
        base_currency = env.get("FINOPS_BASE_CURRENCY", "USD").strip().upper()
        if len(base_currency) != 3 or not base_currency.isalpha():
            raise SettingsError(
                f"FINOPS_BASE_CURRENCY={base_currency!r} is not an ISO 4217 code such as USD or EUR"
            )
        options = {}
        if scheme != "file":
            options = {k: v for k, v in env.items() if k.startswith(_STORAGE_OPTION_PREFIXES)}
        max_share, max_amount, max_files = _quarantine_limits(env)
        locations = {
            key.removeprefix(_SOURCE_PREFIX).lower(): value
            for key, value in env.items()
            if key.startswith(_SOURCE_PREFIX) and value
        }
        profile = _profile(env)
        outbox_database, outbox_postgres, outbox_schema = _outbox(env, profile)
        return cls(
            profile=profile,
            restatement_days=_non_negative_int(env, "FINOPS_RESTATEMENT_DAYS", 3),
            restatement_close_day=_non_negative_int(env, "FINOPS_RESTATEMENT_CLOSE_DAY", 5),
            api_options={k: v for k, v in env.items() if k.startswith(_API_OPTION_PREFIXES)},
            azure_storage={k: v for k, v in env.items() if k.startswith("AZURE_STORAGE_") and v},
            outbox_database=outbox_database,
            outbox_postgres=outbox_postgres,
            outbox_schema=outbox_schema,
            ecb_base_url=env.get("FINOPS_ECB_BASE_URL", DEFAULT_ECB_BASE_URL).strip().rstrip("/"),
            fx_wait_seconds=_non_negative_int(env, "FINOPS_FX_WAIT_SECONDS", 3600),
            fx_wait_retries=_non_negative_int(env, "FINOPS_FX_WAIT_RETRIES", 24),
            ui_port=_ui_port(env.get("FINOPS_UI_PORT", "")),
            aws_payer_account_id=_aws_account_id(env, "FINOPS_AWS_PAYER_ACCOUNT_ID"),
            source_locations=locations,
            quarantine_max_share=max_share,
            quarantine_max_amount=max_amount,
            quarantine_max_refused_files=max_files,
            home=home,
            lake_uri=lake_uri,
            landing_dir=Path(env.get("FINOPS_LANDING_DIR", str(home / "landing"))).resolve(),
            dagster_home=Path(env.get("DAGSTER_HOME", str(home / "dagster"))).resolve(),
            base_currency=base_currency,
            storage_options=options,
        )


def _aws_account_id(env: Mapping[str, str], name: str) -> str | None:
    """An AWS account id setting: exactly 12 digits, or None when unset."""
    value = env.get(name, "").strip()
    if not value:
        return None
    if len(value) != 12 or not value.isdigit():
        raise SettingsError(f"{name}={value!r} must be a 12-digit AWS account id")
    return value


def _non_negative_int(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit():
        raise SettingsError(f"{name}={value!r} must be a whole number of 0 or more")
    return int(value)


def _quarantine_limits(env: Mapping[str, str]) -> tuple[Decimal, Decimal | None, int]:
    """FINOPS_QUARANTINE_MAX_SHARE (0.01), _MAX_AMOUNT (unset) and _MAX_REFUSED_FILES (1)."""
    try:
        max_share = Decimal(env.get("FINOPS_QUARANTINE_MAX_SHARE", "0.01"))
        amount_text = env.get("FINOPS_QUARANTINE_MAX_AMOUNT", "").strip()
        max_amount = Decimal(amount_text) if amount_text else None
    except InvalidOperation as error:
        raise SettingsError(
            "FINOPS_QUARANTINE_MAX_SHARE and FINOPS_QUARANTINE_MAX_AMOUNT must be decimals "
            "such as 0.01 and 500"
        ) from error
    if not Decimal(0) <= max_share <= Decimal(1):
        raise SettingsError("FINOPS_QUARANTINE_MAX_SHARE must be between 0 and 1, such as 0.01")
    if max_amount is not None and max_amount < 0:
        raise SettingsError("FINOPS_QUARANTINE_MAX_AMOUNT must not be negative")
    files_text = env.get("FINOPS_QUARANTINE_MAX_REFUSED_FILES", "1").strip()
    if not files_text.isdigit():
        raise SettingsError("FINOPS_QUARANTINE_MAX_REFUSED_FILES must be a whole number such as 1")
    return max_share, max_amount, int(files_text)


_PG_SETTINGS = {"host": "DAGSTER_PG_HOST", "port": "DAGSTER_PG_PORT", "user": "DAGSTER_PG_USER",
                "password": "DAGSTER_PG_PASSWORD", "dbname": "DAGSTER_PG_DB"}  # fmt: skip


def _profile(env: Mapping[str, str]) -> str:
    profile = env.get("FINOPS_PROFILE", "").strip().lower() or "embedded"
    if profile not in ("embedded", "production"):
        raise SettingsError(f"FINOPS_PROFILE={profile!r} must be embedded or production")
    return profile


def _outbox(env: Mapping[str, str], profile: str) -> tuple[str, dict[str, str], str]:
    """FINOPS_OUTBOX_DATABASE (sqlite|postgres), the PostgreSQL parameters, FINOPS_OUTBOX_SCHEMA.

    The production profile keeps the outbox in the instance's PostgreSQL (pods share no disk).
    """
    default = "postgres" if profile == "production" else "sqlite"
    kind = env.get("FINOPS_OUTBOX_DATABASE", "").strip().lower() or default
    if profile == "production" and kind == "sqlite":
        raise SettingsError(
            "FINOPS_OUTBOX_DATABASE=sqlite: the production profile (FINOPS_PROFILE) keeps the "
            "outbox in the instance's PostgreSQL; pods share no disk"
        )
    schema = env.get("FINOPS_OUTBOX_SCHEMA", "").strip() or "finops_outbox"
    if not schema.replace("_", "").isalnum() or not schema[0].isalpha():
        raise SettingsError(f"FINOPS_OUTBOX_SCHEMA={schema!r} is not a plain SQL name")
    if kind == "sqlite":
        return kind, {}, schema
    if kind != "postgres":
        raise SettingsError(f"FINOPS_OUTBOX_DATABASE={kind!r} must be sqlite or postgres")
    params = {key: env.get(name, "").strip() for key, name in _PG_SETTINGS.items()}
    params["port"] = params["port"] or "5432"
    missing = [_PG_SETTINGS[k] for k in ("host", "user", "dbname") if not params[k]]
    if missing:
        raise SettingsError(
            f"FINOPS_OUTBOX_DATABASE=postgres needs {', '.join(missing)} (the instance's database)"
        )
    return kind, params, schema


def _ui_port(value: str) -> int:
    """FINOPS_UI_PORT as a TCP port number (default 3000)."""
    value = value.strip() or str(DEFAULT_UI_PORT)
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise SettingsError(f"FINOPS_UI_PORT={value!r} is not a TCP port such as 3000")
    return int(value)


def lake_scheme(uri: str) -> str:
    """The URI scheme of a lake root; plain paths are 'file'."""
    if "://" not in uri:
        return "file"
    return uri.split("://", 1)[0].lower()


# The first day of the sample estate; a deployment sets its first export's day.
DEFAULT_PARTITIONS_START = "2026-10-01"


def partitions_start(env: Mapping[str, str] | None = None) -> str:
    """FINOPS_PARTITIONS_START: the first charge day of every daily partitioned asset."""
    env = os.environ if env is None else env
    value = env.get("FINOPS_PARTITIONS_START", "").strip() or DEFAULT_PARTITIONS_START
    try:
        day = dt.date.fromisoformat(value)
    except ValueError as error:
        raise SettingsError(
            f"FINOPS_PARTITIONS_START={value!r} is not a day such as 2025-01-01"
        ) from error
    if day > dt.datetime.now(dt.UTC).date():
        raise SettingsError(f"FINOPS_PARTITIONS_START={value!r} is in the future")
    return day.isoformat()


def sensor_interval_seconds(env: Mapping[str, str] | None = None) -> int:
    """FINOPS_SENSOR_INTERVAL_SECONDS: how often the landing and re-allocation sensors look.

    Read when the code location loads (a sensor's interval is part of its definition).
    """
    env = os.environ if env is None else env
    value = env.get("FINOPS_SENSOR_INTERVAL_SECONDS", "").strip() or "30"
    if not value.isdigit() or int(value) < 1:
        raise SettingsError(
            f"FINOPS_SENSOR_INTERVAL_SECONDS={value!r} is not a whole number of seconds >= 1"
        )
    return int(value)


def admission_events_token(env: Mapping[str, str] | None = None) -> str:
    """FINOPS_ADMISSION_EVENTS_TOKEN: the bearer token the admission webhook's /events needs."""
    env = os.environ if env is None else env
    return env.get("FINOPS_ADMISSION_EVENTS_TOKEN", "")
