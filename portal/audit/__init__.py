"""Clauses, audit programme, audits, findings, corrective actions."""
