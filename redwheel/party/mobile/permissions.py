"""Mobile members (流动党员): its models in the one permission mechanism (redwheel.core.permissions)."""


def register() -> None:
    pass
