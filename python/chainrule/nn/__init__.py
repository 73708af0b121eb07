"""Neural-network building blocks."""
from chainrule.nn import functional  # noqa: F401
