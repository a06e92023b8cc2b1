"""Journal event types of citizen reports: ids, kinds and statuses only.

Descriptions and notes are free text that may name people, so they stay in
the tables and never reach the journal.
"""

from kotacerdas.journal.events import EventSchema, event_type


@event_type("wastereports.report.filed")
class ReportFiled(EventSchema):
    report_id: int
    kind: str
    kelurahan_code: str | None
    building_id: int | None
    container_id: int | None
    lat: str
    lng: str
    has_photo: bool
    reporter_id: int
    sla_due_at: str


@event_type("wastereports.report.followed")
class ReportFollowed(EventSchema):
    report_id: int
    follower_id: int


@event_type("wastereports.report.updated")
class ReportUpdated(EventSchema):
    report_id: int
    update_id: int
    from_status: str
    to_status: str
    assignee_id: int | None
    duplicate_of: int | None
    public: bool
    actor_id: int
