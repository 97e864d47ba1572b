"""Recruitment (发展党员): its models in the one permission mechanism (redwheel.core.permissions)."""


def register() -> None:
    pass
