"""Organisation life (组织生活): its models in the one permission mechanism (redwheel.core.permissions)."""


def register() -> None:
    pass
