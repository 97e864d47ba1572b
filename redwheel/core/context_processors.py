from redwheel.accounts.permissions import home_kind
from redwheel.core.selectors import can_read_audit_log


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"home_kind": None}
    return {"home_kind": home_kind(user), "can_read_audit_log": can_read_audit_log(user)}
