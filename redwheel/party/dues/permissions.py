"""Party dues (党费): its models in the one permission mechanism (redwheel.core.permissions)."""


def register() -> None:
    pass
