"""The kernel: what every layer may import and that imports nothing of ours above it.

The data model (devices, indicators, levels, readings), bilingual text,
declared settings, the monitor contract, the shared call state and private
file paths. Services (``app.core``), monitors and sensors build on it; it
imports none of them.
"""
