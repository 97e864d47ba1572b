from django import template

from redwheel.dispatch.selectors import may_use_sandbox as _may_use_sandbox

register = template.Library()


@register.filter
def may_use_sandbox(user) -> bool:
    """For the nav: show the sandbox link only to those who may open it."""
    return _may_use_sandbox(user)
