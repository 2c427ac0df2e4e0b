"""HPO campaigns: an Optuna study and the trials it launched as experiments."""

from __future__ import annotations

from sqlalchemy import select

from bearing_workbench.config.arguments import AnyMapping, Text, checked
from bearing_workbench.store.json_values import to_jsonable
from bearing_workbench.store.records import CampaignRecord
from bearing_workbench.store.repositories.arguments import statuses
from bearing_workbench.store.repositories.database import Database, get_row, get_row_for_update
from bearing_workbench.store.tables import CampaignRow, utcnow


class CampaignRepository:
    """HPO campaigns, read and written for the `Store` facade."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @checked
    def create(self, name: Text, study_name: Text, config: AnyMapping | None = None) -> int:
        """Record an HPO campaign (status pending); return its id."""
        row = CampaignRow(
            name=name,
            study_name=study_name,
            config=to_jsonable(config or {}, "campaign config"),
            status="pending",
            created_at=utcnow(),
        )
        with self._db.transaction() as session:
            session.add(row)
            session.flush()
            return row.id

    def get(self, campaign_id: int) -> CampaignRecord:
        """One campaign by id."""
        with self._db.reading() as session:
            return CampaignRecord.from_row(get_row(session, CampaignRow, campaign_id, "campaign"))

    def all(self) -> list[CampaignRecord]:
        """Every campaign, newest first."""
        with self._db.reading() as session:
            rows = session.scalars(
                select(CampaignRow).order_by(CampaignRow.created_at.desc(), CampaignRow.id.desc())
            )
            return [CampaignRecord.from_row(r) for r in rows]

    def set_status(self, campaign_id: int, status: str) -> None:
        """Set a campaign's status (pending, running, completed, stopped, failed)."""
        value = statuses(status)[0].value
        with self._db.transaction() as session:
            get_row_for_update(session, CampaignRow, campaign_id, "campaign").status = value
