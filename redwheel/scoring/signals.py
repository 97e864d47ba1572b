"""Keep the look-up endpoints' token cache honest (see `redwheel.scoring.auth`).

Badge and score answers are read from the database on every look-up (`lookup.py`), so consent,
membership and affiliation changes need no cache invalidation. The short-lived cache of
authenticated platform tokens does: saving (revoking) or deleting a `PlatformToken` drops its
entry at once and again after commit.
"""

from django.db.models.signals import post_delete, post_save

from redwheel.accounts.models import PlatformToken
from redwheel.scoring import auth


def _token_changed(sender, instance: PlatformToken, **kwargs):
    auth.forget(instance.key_hash)


def connect() -> None:
    post_save.connect(_token_changed, sender=PlatformToken, dispatch_uid="scoring.token.save")
    post_delete.connect(_token_changed, sender=PlatformToken, dispatch_uid="scoring.token.delete")
