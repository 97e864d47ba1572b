"""What management commands share. A command is not a page: a service's refusal ends it with
its message on stderr and a non-zero exit, which is what `CommandError` does."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.management.base import CommandError

from redwheel.core.errors import DomainError


@contextmanager
def command_errors() -> Iterator[None]:
    try:
        yield
    except DomainError as exc:
        raise CommandError(str(exc.message)) from exc
