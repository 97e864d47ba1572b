"""Writes for party dues. Every function checks permission itself, runs in a transaction and
writes one audit entry. Split by topic (`common` holds what they share; `rulebook`,
`assessments`, `payments`, `hardship`); import from this package.
"""

from redwheel.party.dues.services.assessments import assessment_save
from redwheel.party.dues.services.common import NotAMember, rules_for
from redwheel.party.dues.services.hardship import (
    HARDSHIP,
    allowed_actions,
    hardship_agree,
    hardship_approve,
    hardship_refuse,
    hardship_request,
    hardship_withdraw,
)
from redwheel.party.dues.services.hardship import _may_take as may_take
from redwheel.party.dues.services.payments import payment_record, payment_reverse
from redwheel.party.dues.services.rulebook import may_manage_rules, rules_publish

__all__ = [
    "HARDSHIP",
    "NotAMember",
    "allowed_actions",
    "assessment_save",
    "hardship_agree",
    "hardship_approve",
    "hardship_refuse",
    "hardship_request",
    "hardship_withdraw",
    "may_manage_rules",
    "may_take",
    "payment_record",
    "payment_reverse",
    "rules_for",
    "rules_publish",
]
