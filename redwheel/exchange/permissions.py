"""Exchange's part of the one permission mechanism (`redwheel.core.permissions`).

Every row came from one platform's feed and is owned by that platform: its own tokens and
feed, and grants covering its party organisation or its licensing city, see it. Rows about a
driver are also owned by the driver's units (their branch, membership branch or mobile
branch) and by the driver themself, exactly like the driver. Facts are written only by
ingestion, so platforms may read their own rows but change nothing through the mechanism.
"""

from redwheel.core import permissions
from redwheel.drivers.permissions import DRIVER_UNITS
from redwheel.exchange.models import (
    Complaint,
    CreditLevel,
    DriverFeedRecord,
    DriverMonthMetric,
    DriverMonthStat,
    IngestBatch,
    LatestPosition,
    OnlineEvent,
    PositionSample,
    Punishment,
    Rating,
    Rejection,
    TrainingRecord,
    Trip,
    UnknownDriver,
)

# Rows with a `driver` column: owned by the platform, the driver's units and the driver.
DRIVER_ROWS = (
    Trip,
    Punishment,
    CreditLevel,
    TrainingRecord,
    DriverMonthStat,
    OnlineEvent,
    LatestPosition,
    PositionSample,
    DriverMonthMetric,
    DriverFeedRecord,
)
# Rows that name no driver (an unknown licence, or facts joined to a trip by OrderId).
PLATFORM_ROWS = (IngestBatch, UnknownDriver, Rating, Complaint)

DRIVER_ROW_UNITS = tuple(f"driver__{lookup}" for lookup in DRIVER_UNITS)


def register() -> None:
    for model in DRIVER_ROWS:
        permissions.register(
            model,
            platforms=("platform_id",),
            units=DRIVER_ROW_UNITS,
            owners=("driver__user_id",),
            platform_actions=("view",),
        )
    for model in PLATFORM_ROWS:
        permissions.register(model, platforms=("platform_id",), platform_actions=("view",))
    permissions.register(Rejection, via="batch")
