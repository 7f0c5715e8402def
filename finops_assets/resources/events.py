"""Where budget events go: the outbox and the configured sinks (embedded default: a local log)."""

from pathlib import Path

from dagster import ConfigurableResource

from finops_assets.resources.event_sinks import EventSink, LocalEventLogSink, Outbox
from finops_assets.settings import Settings


class EventSinksResource(ConfigurableResource):
    """The outbox folder and the sinks; by default only a JSON-lines event log under FINOPS_HOME."""

    events_dir: str = ""
    retries: int = 3
    backoff_seconds: float = 0.5

    def folder(self) -> Path:
        return Path(self.events_dir) if self.events_dir else Settings.from_env().home / "events"

    def outbox(self) -> Outbox:
        return Outbox(self.folder() / "outbox")

    def sinks(self) -> list[EventSink]:
        return [LocalEventLogSink(self.folder() / "budget_events.jsonl")]
