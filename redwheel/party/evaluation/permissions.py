"""Member evaluation (民主评议): its models in the one permission mechanism (redwheel.core.permissions)."""


def register() -> None:
    pass
