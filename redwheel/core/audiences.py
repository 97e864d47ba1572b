"""Where a page lives says who it is for: staff pages under `/staff/<capability>/`, a driver's
own pages under `/me/<capability>/`. Each app's urls.py mounts its pattern lists with these, and
config/urls.py includes the app at the root, so an app's URL names and namespace do not depend
on where its pages are mounted. The menus (core.menus) and the audience tests read the same
prefixes."""

from django.urls import include, path

STAFF = "staff/"
ME = "me/"


def staff(prefix: str, patterns: list):
    """The staff pages of one capability, under /staff/<prefix>."""
    return path(STAFF + prefix, include(patterns))


def me(prefix: str, patterns: list):
    """A driver's own pages of one capability, under /me/<prefix>."""
    return path(ME + prefix, include(patterns))
