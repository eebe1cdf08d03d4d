"""Deskwatch: workstation health and equipment monitor for customer-service clerks."""

__version__ = "0.1.0"
