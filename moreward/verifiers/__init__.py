"""Verifiers: each scores one objective of a sample (math, code, format, text, judges)."""
