"""Deskwatch's Qt-free core: indicators, levels, thresholds, alerts, config, history.

Nothing under ``app.core`` may import PySide6 (enforced by an import-linter
contract and a test), so every rule here runs in plain Python tests.
"""
