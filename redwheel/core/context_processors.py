from redwheel.accounts.permissions import home_kind


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"home_kind": None}
    return {"home_kind": home_kind(user)}
