"""Internals of chainrule.utils.data: collation, fetchers and the worker loop."""

from chainrule.utils.data._utils import collate, fetch, worker
from chainrule.utils.data._utils.worker import ExceptionWrapper

__all__ = ["ExceptionWrapper", "collate", "fetch", "worker"]
