"""Ingestion of exchange records: the one write path for the HTTP API, files and the demo.

`ingest()` validates a batch (validation.py), then, in one transaction, merges the valid
records into the facts and stores the batch outcome, its rejections and one audit entry.

How records become facts (see docs/exchange.md):
- Every fact has a natural key (e.g. Trip: platform + OrderId). Existing rows for the batch's
  keys are fetched in one query; each record is applied in order to an in-memory copy of its
  row; a record that changes nothing is counted `unchanged`; changed rows are written with one
  upsert (`bulk_create(update_conflicts=True)`), deletions (Flag=3) with one DELETE.
- A Trip is joined from several record types. Each stage owns its columns (set when the field
  is present) and may fill shared ones only while they are empty, so the result does not
  depend on the order in which stages arrive.
- Drivers are resolved with one query per batch, and only those affiliated with the sending
  platform: operating data about any other LicenseId is kept with `driver` empty and counted
  in `UnknownDriver`; when that platform's baseInfoDriver for the licence arrives, the driver
  is created (or the platform affiliated) and the platform's facts are back-filled.
- Feed ownership (feed_ownership.py): only the feed that created a driver changes the
  driver's name, phone and vehicles; every feed's report is kept per platform, and the ones
  that differ are conflicts for the city committee.

Permission: the caller must act for the batch's platform (its token or feed) or hold `import`
on it; anyone else gets NotFound. Driver, affiliation and vehicle writes go through
`redwheel.drivers.services` with `SystemActor.for_platform` labelled after the platform's
feed, so those services check that platform's scope and keep their own audit entries; the
batch itself gets one audit entry with the caller as actor.

Split by topic: `common` (batch context, keyed merge), `facts` (trips and keyed facts),
`positions`, `base_data` (drivers and vehicles) and `batches` (the `ingest` service and the
handler of each record type); import from this package.
"""

from redwheel.exchange.services.base_data import DRIVER_FACTS, feed_conflict_resolve
from redwheel.exchange.services.batches import HANDLERS, IngestResult, ingest
from redwheel.exchange.services.common import ACCEPTED, UNCHANGED
from redwheel.exchange.services.facts import TRIPS
from redwheel.exchange.services.positions import position_samples_purge

__all__ = [
    "ACCEPTED",
    "DRIVER_FACTS",
    "HANDLERS",
    "TRIPS",
    "UNCHANGED",
    "IngestResult",
    "feed_conflict_resolve",
    "ingest",
    "position_samples_purge",
]
