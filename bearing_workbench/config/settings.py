"""Every ``BEARING_WORKBENCH_*`` environment variable, in one pydantic-settings `Settings` object.

`settings()` reads the environment each time it is called (a test that sets a variable, or a Voilà
kernel started with another workspace, sees it at once); the modules that depend on a variable ask it
instead of reading ``os.environ``. A bad value is refused with a `SettingsError` naming the variable.

| variable | what |
|---|---|
| ``BEARING_WORKBENCH_WORKSPACE`` | the workspace folder (default ``./workspace``) |
| ``BEARING_WORKBENCH_DB_URL`` | the store's SQLAlchemy URL (default: SQLite file in the workspace) |
| ``BEARING_WORKBENCH_SCHEDULER`` | a Dask scheduler address (default: a local cluster) |
| ``BEARING_WORKBENCH_TOKEN`` | the access token of ``bearing-workbench serve`` (default: a random one) |
| ``BEARING_WORKBENCH_WEBHOOK_URL`` | an http(s) URL told about every run's end (default: none) |
| ``BEARING_WORKBENCH_LOST_AFTER_S`` | seconds without a heartbeat after which a run is lost (default 60) |
| ``BEARING_WORKBENCH_HEARTBEAT_S`` | seconds between a running task's heartbeats (default 5) |
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

ENV_PREFIX = "BEARING_WORKBENCH_"
WORKSPACE_ENV = f"{ENV_PREFIX}WORKSPACE"
DB_URL_ENV = f"{ENV_PREFIX}DB_URL"
SCHEDULER_ENV = f"{ENV_PREFIX}SCHEDULER"
TOKEN_ENV = f"{ENV_PREFIX}TOKEN"
WEBHOOK_ENV = f"{ENV_PREFIX}WEBHOOK_URL"
LOST_AFTER_ENV = f"{ENV_PREFIX}LOST_AFTER_S"
HEARTBEAT_ENV = f"{ENV_PREFIX}HEARTBEAT_S"
MIN_TOKEN_LENGTH = 8
# Never repeated in a message: a token, a webhook URL (Slack's carries its secret) or a database URL
# (its password) must not reach a log.
SECRET_FIELDS = frozenset({"token", "webhook_url", "db_url"})

_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# True while `settings(environ)` builds from a given mapping: the process environment is not read.
_GIVEN_ONLY: ContextVar[bool] = ContextVar("bearing_workbench_settings_given_only", default=False)


class SettingsError(ValueError):
    """An environment variable with a value the workbench cannot use; the message names it."""


class Settings(BaseSettings):
    """The workbench's settings from the environment; an empty variable counts as unset."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", frozen=True, str_strip_whitespace=True, env_ignore_empty=True
    )

    workspace: Path | None = None
    db_url: str | None = None
    scheduler: str = ""
    token: str = ""
    webhook_url: str | None = None
    # A run's worker writes a heartbeat every heartbeat_s; one silent for lost_after_s is lost. The
    # grace outlasts Dask's own patience with a vanished scheduler (a worker closes once its connection
    # breaks, its client gives up after distributed.comm.timeouts.connect, 30 s), so a run is never
    # called lost while its worker may still come back.
    lost_after_s: float = 60.0
    heartbeat_s: float = 5.0

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment only: no .env file or secrets folder changes a run behind the user's back.
        return (init_settings,) if _GIVEN_ONLY.get() else (init_settings, env_settings)

    @field_validator("workspace", "db_url", "webhook_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("db_url")
    @classmethod
    def _db_url(cls, value: str | None) -> str | None:
        if value is not None and not _URL_SCHEME.match(value):
            raise ValueError(
                "must be a SQLAlchemy URL such as sqlite:///path/workbench.db or postgresql+psycopg://..."
            )
        return value

    @field_validator("scheduler")
    @classmethod
    def _scheduler(cls, value: str) -> str:
        if any(c.isspace() for c in value):
            raise ValueError("must be a scheduler address such as tcp://host:8786 (no spaces)")
        return value

    @field_validator("token")
    @classmethod
    def _token(cls, value: str) -> str:
        if value and (len(value) < MIN_TOKEN_LENGTH or not value.isprintable() or " " in value):
            raise ValueError(f"must be at least {MIN_TOKEN_LENGTH} printable characters without spaces")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https"):
            raise ValueError("must be an http:// or https:// URL")
        if not parts.hostname:
            raise ValueError("must name a host (https://host/path)")
        return value

    @field_validator("lost_after_s", "heartbeat_s")
    @classmethod
    def _positive_seconds(cls, value: float) -> float:
        if not value > 0 or value == float("inf"):
            raise ValueError("must be a positive number of seconds")
        return value

    @model_validator(mode="after")
    def _beats_within_the_grace(self) -> Settings:
        if self.heartbeat_s * 2 > self.lost_after_s:
            raise ValueError(
                f"{HEARTBEAT_ENV} ({self.heartbeat_s:g} s) must be at most half of {LOST_AFTER_ENV} "
                f"({self.lost_after_s:g} s): a run would be called lost between two heartbeats"
            )
        return self


def env_name(field: str) -> str:
    """The environment variable of a `Settings` field."""
    return f"{ENV_PREFIX}{field.upper()}"


def _refused(error: ValidationError) -> SettingsError:
    problems = []
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else ""
        message = str(item["msg"]).removeprefix("Value error, ")
        if not field:  # a check across variables names them itself
            problems.append(message)
            continue
        shown = "" if field in SECRET_FIELDS else f"={item.get('input')!r}"
        problems.append(f"{env_name(field)}{shown}: {message}")
    return SettingsError("; ".join(problems))


def settings(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings from the process environment now, or from `environ` alone (tests, child processes).

    Raises:
        SettingsError: a variable has a value that cannot be used (the message names it).
    """
    if environ is None:
        try:
            return Settings()
        except ValidationError as error:
            raise _refused(error) from None
    values = {name: environ[env_name(name)] for name in Settings.model_fields if env_name(name) in environ}
    given_only = _GIVEN_ONLY.set(True)
    try:
        return Settings(**{k: v for k, v in values.items() if v.strip()})
    except ValidationError as error:
        raise _refused(error) from None
    finally:
        _GIVEN_ONLY.reset(given_only)
